/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Decoding and locating the dm-verity superblock that veritysetup writes. */
#include <blkid/blkid.h>
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
/* veritysetup --hash-offset must be 512-aligned; appended images round data up to 4096. */
#define SB_ALIGN 512u
#define APPENDED_ROUNDING 4096u

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

/* The appended search probes candidates; only the caller's final verdict is an error. */
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

/* A file system's own idea of its size, read from the few bytes libblkid does not report
 * (2.38 gives no FSSIZE for these types). Returns 0 and *ret, or -ENOENT. */
static int fs_size_ext(const struct vr_region *r, uint64_t *ret) {
        unsigned char sb[0x158];
        uint64_t blocks;
        uint32_t log_bs;

        if (vr_region_read(r, sb, sizeof(sb), 1024) < 0)
                return -ENOENT;
        log_bs = le32(sb + 0x18);
        if (log_bs > 6)
                return -ENOENT;
        blocks = le32(sb + 0x04);
        if (le32(sb + 0x60) & 0x80) /* INCOMPAT_64BIT: s_blocks_count_hi is valid */
                blocks |= (uint64_t) le32(sb + 0x150) << 32;
        *ret = blocks << (10 + log_bs);
        return 0;
}

static int fs_size_erofs(const struct vr_region *r, uint64_t *ret) {
        unsigned char sb[0x28];

        if (vr_region_read(r, sb, sizeof(sb), 1024) < 0 || sb[0x0c] < 9 || sb[0x0c] > 16)
                return -ENOENT;
        *ret = (uint64_t) le32(sb + 0x24) << sb[0x0c];
        return 0;
}

static int fs_size_squashfs(const struct vr_region *r, uint64_t *ret) {
        unsigned char sb[0x30];

        if (vr_region_read(r, sb, sizeof(sb), 0) < 0)
                return -ENOENT;
        *ret = le64(sb + 0x28); /* bytes_used */
        return 0;
}

static inline void blkid_free_probep(blkid_probe *pr) {
        if (*pr)
                blkid_free_probe(*pr);
}

/* Which file system starts the region, by libblkid, limited to the types whose size we
 * can read: probing costs a few fixed reads, whatever the region's size. */
static int fs_size(const struct vr_region *r, char type[static 16], uint64_t *ret) {
        static const char *const types[] = { "ext2", "ext3", "ext4", "erofs", "squashfs", NULL };
        _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe();
        const char *t = NULL;

        type[0] = 0;
        vr_region_note_reading(r->what);
        if (!pr || blkid_probe_set_device(pr, r->fd, (blkid_loff_t) r->offset, (blkid_loff_t) r->size) < 0)
                return -ENOENT;
        blkid_probe_enable_partitions(pr, 0);
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
        blkid_probe_filter_superblocks_type(pr, BLKID_FLTR_ONLYIN, (char **) types);
        if (blkid_do_safeprobe(pr) != 0 || blkid_probe_lookup_value(pr, "TYPE", &t, NULL) < 0 || !t)
                return -ENOENT;
        snprintf(type, 16, "%s", t);
        if (startswith(t, "ext"))
                return fs_size_ext(r, ret);
        if (streq(t, "erofs"))
                return fs_size_erofs(r, ret);
        return fs_size_squashfs(r, ret);
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

/* One candidate: a superblock at off that describes data ending there and a tree that fits. */
static int try_appended(const struct vr_region *r, uint64_t off, struct vr_verity_params *out) {
        unsigned char buf[VR_SUPERBLOCK_SIZE];
        struct vr_verity_params p;

        if (off == 0 || off % SB_ALIGN != 0 || off > r->size || r->size - off < sizeof(buf))
                return -ENOENT;
        if (vr_region_read(r, buf, sizeof(buf), off) < 0 || superblock_decode(buf, r->what, true, &p) < 0)
                return -ENOENT;
        p.hash_offset = off;
        if (!appended_match(r, off, &p)) {
                log_debug("Superblock at offset %" PRIu64 " of %s does not describe an appended layout", off, r->what);
                return -ENOENT;
        }
        *out = p;
        return 0;
}

int vr_superblock_find_appended(const struct vr_region *r, struct vr_verity_params *out) {
        uint64_t size, cand[2];
        char type[16];

        /* The superblock follows the file system, at its end rounded up to 4096 (or, for
         * data in 512-byte blocks, at its very end): two reads, however large r is. */
        if (fs_size(r, type, &size) < 0)
                return log_error_errno(ENOENT, "No appended dm-verity superblock in %s: it does not start with a file "
                                       "system whose size is known (ext4, erofs, squashfs)", r->what);
        if (size == 0 || size > r->size)
                return log_error_errno(ENOENT, "No appended dm-verity superblock in %s: its %s file system claims %" PRIu64
                                       " bytes of %" PRIu64, r->what, type, size, r->size);
        cand[0] = (size + APPENDED_ROUNDING - 1) / APPENDED_ROUNDING * APPENDED_ROUNDING;
        cand[1] = size;
        for (size_t i = 0; i < ELEMENTSOF(cand); i++)
                if ((i == 0 || cand[i] != cand[0]) && try_appended(r, cand[i], out) == 0)
                        return 0;

        return log_error_errno(ENOENT,
                               "No appended dm-verity superblock in %s: none after its %s file system of %" PRIu64
                               " bytes (at %" PRIu64 ") ends the data and is followed by its hash tree",
                               r->what, type, size, cand[0]);
}
