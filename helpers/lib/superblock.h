/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The dm-verity superblock as veritysetup writes it (cryptsetup's on-disk format). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "partition.h"

#define VR_SUPERBLOCK_SIZE 512u

struct vr_verity_params {
        uint32_t hash_type;          /* 0 = Chrome OS, 1 = normal */
        char algorithm[32];          /* "sha256" */
        uint32_t data_block_size;
        uint32_t hash_block_size;
        uint64_t data_blocks;
        unsigned char salt[256];
        uint16_t salt_size;
        unsigned char uuid[16];
        uint64_t hash_offset;        /* byte offset of the superblock inside the hash region */
        bool no_superblock;          /* params from elsewhere (cmdline): the tree starts at hash_offset */
};

/* Validates and decodes 512 bytes. Every field is checked (magic, version, hash type,
 * algorithm known, block sizes powers of two in 512..512K, salt size <= 256, no
 * overflow of data_blocks * data_block_size); errors name the field and `what`. */
int vr_superblock_parse(const unsigned char buf[VR_SUPERBLOCK_SIZE], const char *what,
                        struct vr_verity_params *out);
/* Reads and parses the superblock at offset inside r (offset must be a multiple of 512). */
int vr_superblock_read(const struct vr_region *r, uint64_t offset, struct vr_verity_params *out);

/* Appended layout: finds a superblock inside a single partition whose data_blocks
 * end exactly where the superblock starts (hash offset = data size, or data size
 * rounded up to 4096), right after the file system that starts the partition (ext4,
 * erofs or squashfs, found by libblkid; its size from its own superblock). Only the
 * file system's end rounded up to 4096 (or the end itself) is tried: the cost does not
 * depend on the partition's size. The tree must fit in r. Returns 0 with
 * out->hash_offset set, -ENOENT (logged) if none. */
int vr_superblock_find_appended(const struct vr_region *r, struct vr_verity_params *out);
