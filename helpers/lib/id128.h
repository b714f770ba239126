/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* 128-bit ids (GPT type and partition UUIDs) as a value type, parsed and printed with
 * libuuid, which libcryptsetup already brings into every initrd (libsystemd would add
 * 845 KB there for the same few functions). */
#pragma once

#include <stdbool.h>
#include <string.h>

typedef struct {
        unsigned char bytes[16];
} vr_id128;

#define VR_ID128_NULL ((const vr_id128) {})
/* Bytes as two-digit hex pairs, in on-disk (big-endian, RFC 4122) order. */
#define VR_ID128_MAKE(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15)                  \
        ((const vr_id128) { .bytes = { 0x##v0, 0x##v1, 0x##v2, 0x##v3, 0x##v4, 0x##v5, 0x##v6, 0x##v7, 0x##v8, \
                                       0x##v9, 0x##v10, 0x##v11, 0x##v12, 0x##v13, 0x##v14, 0x##v15 } })

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" plus the NUL. */
#define VR_ID128_STRING_MAX 37
#define VR_ID128_FORMAT_STR "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x"
#define VR_ID128_FORMAT_VAL(x)                                                                               \
        (x).bytes[0], (x).bytes[1], (x).bytes[2], (x).bytes[3], (x).bytes[4], (x).bytes[5], (x).bytes[6],   \
                (x).bytes[7], (x).bytes[8], (x).bytes[9], (x).bytes[10], (x).bytes[11], (x).bytes[12],      \
                (x).bytes[13], (x).bytes[14], (x).bytes[15]

static inline bool vr_id128_equal(vr_id128 a, vr_id128 b) {
        return memcmp(a.bytes, b.bytes, sizeof(a.bytes)) == 0;
}

static inline bool vr_id128_is_null(vr_id128 a) {
        return vr_id128_equal(a, VR_ID128_NULL);
}

/* Accepts the UUID form (any case) and 32 plain hex digits; -EINVAL otherwise. */
int vr_id128_from_string(const char *s, vr_id128 *ret);

/* Lowercase UUID form into buf (VR_ID128_STRING_MAX bytes); returns buf. */
char *vr_id128_to_string(vr_id128 id, char buf[static VR_ID128_STRING_MAX]);
#define VR_ID128_TO_STRING(id) vr_id128_to_string((id), (char[VR_ID128_STRING_MAX]) {})
