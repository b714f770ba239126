/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <uuid/uuid.h>

#include "id128.h"
#include "util.h"

int vr_id128_from_string(const char *s, vr_id128 *ret) {
        vr_id128 id;

        if (!s)
                return -EINVAL;
        if (strlen(s) == 32) {
                if (vr_hex_decode(s, 32, id.bytes, sizeof(id.bytes)) < 0)
                        return -EINVAL;
        } else if (strlen(s) != VR_ID128_STRING_MAX - 1 || uuid_parse(s, id.bytes) < 0)
                return -EINVAL;
        *ret = id;
        return 0;
}

char *vr_id128_to_string(vr_id128 id, char buf[static VR_ID128_STRING_MAX]) {
        uuid_unparse_lower(id.bytes, buf);
        return buf;
}
