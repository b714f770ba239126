/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fnmatch.h>

#include "image-filter.h"
#include "util.h"

void vr_image_filter_done(struct vr_image_filter *f) {
        for (enum vr_designator d = 0; d < _VR_DESIGNATOR_MAX; d++) {
                free(f->pattern[d]);
                f->pattern[d] = NULL;
        }
}

int vr_image_filter_parse(const char *s, struct vr_image_filter *ret) {
        struct vr_image_filter f = {};

        for (const char *rule = s ?: ""; *rule;) {
                const char *colon = strchr(rule, ':');
                size_t n = colon ? (size_t) (colon - rule) : strlen(rule);
                const char *eq = memchr(rule, '=', n);
                size_t dn = eq ? (size_t) (eq - rule) : 0;
                enum vr_designator d = vr_designator_from_prefix(rule, dn);
                int r = 0;

                if (!eq || eq + 1 == rule + n)
                        r = log_error_errno(-EINVAL, "Image filter rule \"%.*s\" is not designator=glob",
                                            (int) (n > 64 ? 64 : n), rule);
                else {
                        if (d < 0)
                                r = log_error_errno(-EBADSLT, "Unknown partition designator \"%.*s\" in image filter",
                                                    (int) (dn > 64 ? 64 : dn), rule);
                        else if (f.pattern[d])
                                r = log_error_errno(-ENOTUNIQ, "Image filter names %s twice", vr_designator_to_string(d));
                        else if (!(f.pattern[d] = strndup(eq + 1, n - dn - 1)))
                                r = log_error_errno(-ENOMEM, "Out of memory parsing the image filter");
                }
                if (r < 0) {
                        vr_image_filter_done(&f);
                        return r;
                }
                rule += n + (colon ? 1 : 0);
        }
        *ret = f;
        return 0;
}

bool vr_image_filter_keeps(const struct vr_image_filter *f, const struct vr_partition *p) {
        enum vr_part_role role;
        const char *arch;

        if (vr_dps_lookup(p->type, &arch, &role) < 0)
                return true; /* not a type discovery looks at */
        if (streq_ptr(p->label, "_empty"))
                return false;
        if (!f)
                return true;
        const char *pattern = f->pattern[vr_designator_from_role(role)];
        return !pattern || fnmatch(pattern, p->label ?: "", 0) == 0;
}
