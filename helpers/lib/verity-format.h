/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing a dm-verity superblock and hash tree with libcryptsetup (never by hand). */
#pragma once

#include <stdint.h>
#include "roothash.h"

struct vr_verity_format_config {
        const char *data_path;       /* file holding the data blocks from byte 0 */
        uint64_t data_bytes;         /* multiple of 4096 */
        const char *hash_path;       /* may equal data_path (appended layout) */
        uint64_t hash_offset;        /* where the superblock goes inside hash_path */
        const unsigned char *salt;
        size_t salt_size;
        const unsigned char *uuid;   /* 16 bytes for the superblock */
};

/* sha256, 4096-byte blocks, format 1. Returns the root hash in *ret. */
int vr_verity_format(const struct vr_verity_format_config *c, struct vr_roothash *ret);
