/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>

#include "util.h"
#include "version.h"

int vr_version_compare(const char *a, const char *b) {
        a = a ?: "";
        b = b ?: "";
        while (*a || *b) {
                if (isdigit((unsigned char) *a) && isdigit((unsigned char) *b)) {
                        while (*a == '0')
                                a++;
                        while (*b == '0')
                                b++;
                        size_t la = 0, lb = 0;
                        while (isdigit((unsigned char) a[la]))
                                la++;
                        while (isdigit((unsigned char) b[lb]))
                                lb++;
                        if (la != lb)
                                return la < lb ? -1 : 1;
                        int c = strncmp(a, b, la);
                        if (c != 0)
                                return c < 0 ? -1 : 1;
                        a += la;
                        b += lb;
                        continue;
                }
                if (*a != *b)
                        return (unsigned char) *a < (unsigned char) *b ? -1 : 1;
                a++;
                b++;
        }
        return 0;
}

bool vr_version_is_valid(const char *v) {
        if (!v || !*v)
                return false;
        for (; *v; v++)
                if (!isascii((unsigned char) *v) || (!isalnum((unsigned char) *v) && !strchr("._~+^-", *v)))
                        return false;
        return true;
}

const char *vr_label_version(const char *label) {
        const char *us = label ? strrchr(label, '_') : NULL;
        return us ? us + 1 : NULL;
}
