/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Decoding and locating the dm-verity superblock that veritysetup writes. */
#include <inttypes.h>
#include <openssl/evp.h>

#include "hashtree.h"
#include "roothash.h"
#include "superblock.h"
#include "util.h"

#define SB_MAGIC "verity\0\0"
#define SB_OFF_VERSION 8
#define SB_OFF_HASH_TYPE 12
#define SB_OFF_UUID 16
#define SB_OFF_ALGORITHM 32
#define SB_ALGORITHM_LEN 32
#define SB_OFF_DATA_BLOCK_SIZE 64
#define SB_OFF_HASH_BLOCK_SIZE 68
#define SB_OFF_DATA_BLOCKS 72
#define SB_OFF_SALT_SIZE 80
#define SB_OFF_SALT 88
#define SB_SALT_MAX 256
#define SB_BLOCK_MIN 512u
#define SB_BLOCK_MAX (512u * 1024u)
/* veritysetup --hash-offset must be 512-aligned; the appended scan rounds data up to this. */
#define SB_ALIGN 512u
#define APPENDED_ROUNDING 4096u
#define SCAN_CHUNK (1024u * 1024u)

static uint16_t le16(const unsigned char *p) { return (uint16_t) (p[0] | p[1] << 8); }
static uint32_t le32(const unsigned char *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}
static uint64_t le64(const unsigned char *p) { return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32; }

static bool block_size_ok(uint32_t bs) {
        return bs >= SB_BLOCK_MIN && bs <= SB_BLOCK_MAX && (bs & (bs - 1)) == 0;
}

static bool algorithm_chars_ok(const char *s) {
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      *s == '-' || *s == '_'))
                        return false;
        return true;
}

/* The appended scan probes many candidates; only the caller's final verdict is an error. */
static int superblock_decode(const unsigned char *buf, const char *what, bool quiet, struct vr_verity_params *out) {
        int lvl = quiet ? VR_LOG_DEBUG : VR_LOG_ERR;
        struct vr_verity_params p = {};
        uint32_t version;

        if (memcmp(buf, SB_MAGIC, 8) != 0)
                return log_full_errno(lvl, EINVAL, "No dm-verity superblock in %s: magic is not \"verity\"", what);

        version = le32(buf + SB_OFF_VERSION);
        if (version != 1)
                return log_full_errno(lvl, EOPNOTSUPP, "Unsupported superblock version %" PRIu32 " in %s (only 1 is known)",
                                      version, what);

        p.hash_type = le32(buf + SB_OFF_HASH_TYPE);
        if (p.hash_type > 1)
                return log_full_errno(lvl, EOPNOTSUPP, "Unsupported hash type %" PRIu32 " in the superblock of %s (0 or 1)",
                                      p.hash_type, what);

        if (!memchr(buf + SB_OFF_ALGORITHM, 0, SB_ALGORITHM_LEN))
                return log_full_errno(lvl, EINVAL, "Hash algorithm field in the superblock of %s is not NUL-terminated", what);
        memcpy(p.algorithm, buf + SB_OFF_ALGORITHM, SB_ALGORITHM_LEN);
        if (!p.algorithm[0] || !algorithm_chars_ok(p.algorithm))
                return log_full_errno(lvl, EINVAL, "Hash algorithm field in the superblock of %s is empty or not a name", what);
        if (vr_hash_algorithm_size(p.algorithm) == 0)
                return log_full_errno(lvl, EOPNOTSUPP, "Unknown hash algorithm \"%s\" in the superblock of %s",
                                      p.algorithm, what);

        p.data_block_size = le32(buf + SB_OFF_DATA_BLOCK_SIZE);
        if (!block_size_ok(p.data_block_size))
                return log_full_errno(lvl, EINVAL,
                                      "Data block size %" PRIu32 " in the superblock of %s is not a power of two in 512..524288",
                                      p.data_block_size, what);
        p.hash_block_size = le32(buf + SB_OFF_HASH_BLOCK_SIZE);
        if (!block_size_ok(p.hash_block_size))
                return log_full_errno(lvl, EINVAL,
                                      "Hash block size %" PRIu32 " in the superblock of %s is not a power of two in 512..524288",
                                      p.hash_block_size, what);

        p.data_blocks = le64(buf + SB_OFF_DATA_BLOCKS);
        if (p.data_blocks == 0)
                return log_full_errno(lvl, EINVAL, "Data block count in the superblock of %s is 0", what);
        /* Byte offsets end up in off_t. */
        if (p.data_blocks > (uint64_t) INT64_MAX / p.data_block_size)
                return log_full_errno(lvl, EINVAL,
                                      "Data block count %" PRIu64 " in the superblock of %s overflows with block size %" PRIu32,
                                      p.data_blocks, what, p.data_block_size);

        p.salt_size = le16(buf + SB_OFF_SALT_SIZE);
        if (p.salt_size > SB_SALT_MAX)
                return log_full_errno(lvl, EINVAL, "Salt size %u in the superblock of %s is larger than 256",
                                      (unsigned) p.salt_size, what);
        memcpy(p.salt, buf + SB_OFF_SALT, p.salt_size);
        memcpy(p.uuid, buf + SB_OFF_UUID, sizeof(p.uuid));

        *out = p;
        return 0;
}

int vr_superblock_parse(const unsigned char buf[VR_SUPERBLOCK_SIZE], const char *what, struct vr_verity_params *out) {
        return superblock_decode(buf, what, false, out);
}

int vr_superblock_read(const struct vr_region *r, uint64_t offset, struct vr_verity_params *out) {
        unsigned char buf[VR_SUPERBLOCK_SIZE];
        int k;

        if (offset % SB_ALIGN != 0)
                return log_error_errno(EINVAL, "Superblock offset %" PRIu64 " in %s is not a multiple of 512", offset, r->what);
        k = vr_region_read(r, buf, sizeof(buf), offset);
        if (k < 0)
                return k;
        k = vr_superblock_parse(buf, r->what, out);
        if (k < 0)
                return k;
        out->hash_offset = offset;
        return 0;
}

/* Largest tree any valid superblock can describe for data of the given size: 64-byte
 * digests in 512-byte blocks give 1/8 per level plus 1/64, ... plus one partial block
 * per level (at most 22 levels of 512 bytes, or a handful of 512K blocks). */
static uint64_t max_tree_bytes(uint64_t data_bytes) {
        return data_bytes / 7 + 8u * SB_BLOCK_MAX;
}

static bool appended_match(const struct vr_region *r, uint64_t off, const struct vr_verity_params *p) {
        uint64_t data_bytes = p->data_blocks * p->data_block_size, start, size;

        if (data_bytes > off || off - data_bytes >= APPENDED_ROUNDING)
                return false;
        if (off != data_bytes && off != (data_bytes + APPENDED_ROUNDING - 1) / APPENDED_ROUNDING * APPENDED_ROUNDING)
                return false;
        start = vr_hashtree_start(p);
        size = vr_hashtree_size(p);
        return start != UINT64_MAX && size != 0 && start <= r->size && size <= r->size - start;
}

int vr_superblock_find_appended(const struct vr_region *r, struct vr_verity_params *out) {
        _cleanup_free_ unsigned char *buf = NULL;
        uint64_t lowest, end;
        int k;

        if (r->size < 2 * SB_ALIGN)
                return log_error_errno(ENOENT, "No appended dm-verity superblock in %s: it is only %" PRIu64 " bytes",
                                       r->what, r->size);

        /* Candidates lie at 512-byte multiples below end, each with its 512 bytes inside r. */
        end = (r->size - VR_SUPERBLOCK_SIZE) / SB_ALIGN * SB_ALIGN + SB_ALIGN;
        lowest = r->size > max_tree_bytes(r->size) ? (r->size - max_tree_bytes(r->size)) / SB_ALIGN * SB_ALIGN : 0;
        if (lowest == 0)
                lowest = SB_ALIGN; /* data_blocks > 0, so offset 0 cannot match */

        buf = malloc(SCAN_CHUNK);
        if (!buf)
                return log_error_errno(ENOMEM, "Out of memory");

        while (end > lowest) {
                uint64_t chunk_start = end - lowest > SCAN_CHUNK - SB_ALIGN ? end - (SCAN_CHUNK - SB_ALIGN) : lowest;
                size_t len = (size_t) (end - chunk_start);

                k = vr_region_read(r, buf, len, chunk_start);
                if (k < 0)
                        return k;

                for (size_t i = len; i >= SB_ALIGN;) {
                        struct vr_verity_params p;
                        i -= SB_ALIGN;
                        if (memcmp(buf + i, SB_MAGIC, 8) != 0)
                                continue;
                        if (superblock_decode(buf + i, r->what, true, &p) < 0)
                                continue;
                        p.hash_offset = chunk_start + i;
                        if (!appended_match(r, p.hash_offset, &p)) {
                                log_debug("Superblock at offset %" PRIu64 " of %s does not describe an appended layout",
                                          p.hash_offset, r->what);
                                continue;
                        }
                        *out = p;
                        return 0;
                }
                end = chunk_start;
        }

        return log_error_errno(ENOENT,
                               "No appended dm-verity superblock in %s: none in its last %" PRIu64
                               " bytes ends the data and is followed by its hash tree",
                               r->what, r->size - lowest);
}
