/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Root hashes: parsed from hex, checked against the digest size of the algorithm. */
#pragma once

#include <stddef.h>

#define VR_ROOTHASH_MAX 64 /* sha512 */

struct vr_roothash {
        unsigned char bytes[VR_ROOTHASH_MAX];
        size_t len;
};

/* Digest size in bytes of a dm-verity hash algorithm name ("sha256"), 0 if unknown. */
size_t vr_hash_algorithm_size(const char *algorithm);

/* Parses hex (either case). With algorithm, the length must match its digest size
 * exactly; without, any supported size of at least 32 bytes (so two PARTUUIDs can be
 * derived). Logs a clear error naming `what` (e.g. "roothash=") and returns -EINVAL. */
int vr_roothash_parse(const char *hex, const char *algorithm, const char *what, struct vr_roothash *out);

/* Lowercase hex, buf must hold 2*VR_ROOTHASH_MAX+1. */
char *vr_roothash_to_string(const struct vr_roothash *h, char *buf);

/* DPS / systemd rule: data PARTUUID = first 16 bytes, verity PARTUUID = last 16 bytes. */
void vr_roothash_data_uuid(const struct vr_roothash *h, unsigned char out[16]);
void vr_roothash_verity_uuid(const struct vr_roothash *h, unsigned char out[16]);
