/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vr_escape on arbitrary bytes: the result is printable ASCII that fits the buffer, and
 * escaping it again (as the logger does) changes nothing.
 *
 * Input: byte 0 = buffer size, byte 1 bit 0 = VR_ESCAPE_QUOTED, the rest = the string
 * (cut at its first NUL, as C strings are). */
#include <assert.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char buf[256], again[256];

        if (size < 2)
                return 0;
        size_t len = data[0];
        unsigned flags = data[1] & 1 ? VR_ESCAPE_QUOTED : 0;
        _cleanup_free_ char *s = strndup((const char *) data + 2, size - 2);
        if (!s)
                return 0;

        assert(vr_escape(s, flags, buf, len) == buf);
        if (len == 0)
                return 0;
        assert(strlen(buf) < len);
        for (const unsigned char *p = (const unsigned char *) buf; *p; p++)
                assert(*p >= 0x20 && *p < 0x7f);
        assert(streq(vr_escape(buf, 0, again, sizeof(again)), buf));

        _cleanup_free_ char *all = vr_escape_alloc(s, flags);
        assert(all);
        /* A cut result is the start of the whole one, up to its "..." mark. */
        size_t n = strlen(buf);
        assert(strlen(all) >= n);
        if (strlen(all) > n && n >= 3 && streq(buf + n - 3, "..."))
                n -= 3;
        assert(strncmp(all, buf, n) == 0);
        return 0;
}
