/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The dm-verity hash tree: its layout as the kernel computes it, and checks against it. */
#include <inttypes.h>
#include <openssl/evp.h>

#include "hashtree.h"
#include "util.h"

#define TREE_MAX_LEVELS 63
#define READ_CHUNK (1024u * 1024u)

struct tree_layout {
        size_t digest_size;
        size_t stride;          /* bytes per digest slot in a hash block */
        unsigned per_block_bits;
        unsigned levels;        /* 0: the root hash is the digest of the only data block */
        uint64_t level_block[TREE_MAX_LEVELS]; /* first hash block of level i, 0 = lowest */
        uint64_t level_count[TREE_MAX_LEVELS];
        uint64_t start_block, end_block;        /* in hash blocks from the start of the hash region */
};

static size_t digest_size_of(const char *algorithm) {
        const EVP_MD *md = EVP_get_digestbyname(algorithm);
        int size = md ? EVP_MD_get_size(md) : 0;
        return size > 0 ? (size_t) size : 0;
}

/* Mirrors the kernel's dm-verity constructor: levels stored top first, each level
 * holding ceil(blocks below / digests per block) blocks. Logs nothing: callers name the device. */
static int tree_layout(const struct vr_verity_params *p, struct tree_layout *t) {
        uint64_t hbs = p->hash_block_size, start, pos, n;

        *t = (struct tree_layout) {};
        if (hbs == 0 || (hbs & (hbs - 1)) != 0 || p->data_block_size == 0 || p->data_blocks == 0)
                return -EINVAL;
        t->digest_size = digest_size_of(p->algorithm);
        if (t->digest_size == 0 || t->digest_size > hbs / 2)
                return -EINVAL;
        while ((hbs / t->digest_size) >> (t->per_block_bits + 1))
                t->per_block_bits++;
        t->stride = t->digest_size;
        if (p->hash_type == 1)
                while (t->stride & (t->stride - 1))
                        t->stride += t->stride & -t->stride;

        while (t->per_block_bits * t->levels < 64 && (p->data_blocks - 1) >> (t->per_block_bits * t->levels))
                t->levels++;
        if (t->levels > TREE_MAX_LEVELS)
                return -EINVAL;

        if (p->hash_offset > (uint64_t) INT64_MAX)
                return -ERANGE;
        start = p->no_superblock ? p->hash_offset / hbs : (p->hash_offset + VR_SUPERBLOCK_SIZE + hbs - 1) / hbs;

        n = p->data_blocks;
        for (unsigned i = 0; i < t->levels; i++) {
                n = (n >> t->per_block_bits) + !!(n & ((UINT64_C(1) << t->per_block_bits) - 1));
                t->level_count[i] = n;
        }
        pos = start;
        for (unsigned i = t->levels; i-- > 0;) {
                t->level_block[i] = pos;
                if (pos + t->level_count[i] < pos)
                        return -ERANGE;
                pos += t->level_count[i];
        }
        if (pos > (uint64_t) INT64_MAX / hbs)
                return -ERANGE;
        t->start_block = start;
        t->end_block = pos;
        return 0;
}

uint64_t vr_hashtree_start(const struct vr_verity_params *p) {
        struct tree_layout t;
        return tree_layout(p, &t) < 0 ? UINT64_MAX : t.start_block * p->hash_block_size;
}

uint64_t vr_hashtree_size(const struct vr_verity_params *p) {
        struct tree_layout t;
        return tree_layout(p, &t) < 0 ? 0 : (t.end_block - t.start_block) * p->hash_block_size;
}

struct hasher {
        EVP_MD *md;
        EVP_MD_CTX *ctx;
        const struct vr_verity_params *params;
};

static void hasher_done(struct hasher *h) {
        EVP_MD_CTX_free(h->ctx);
        EVP_MD_free(h->md);
}

static int hasher_init(struct hasher *h, const struct vr_verity_params *p, const char *what) {
        /* An explicit fetch once, so per-block DigestInit does no algorithm lookup. */
        *h = (struct hasher) { .md = EVP_MD_fetch(NULL, p->algorithm, NULL), .ctx = EVP_MD_CTX_new(), .params = p };
        if (!h->md || !h->ctx) {
                hasher_done(h);
                return log_error_errno(EOPNOTSUPP, "Cannot compute %s digests for %s with OpenSSL", p->algorithm, what);
        }
        return 0;
}

static int hash_block(struct hasher *h, const void *block, size_t len, unsigned char *out) {
        const struct vr_verity_params *p = h->params;
        bool ok = EVP_DigestInit_ex(h->ctx, h->md, NULL) == 1;

        ok = ok && (p->hash_type != 1 || EVP_DigestUpdate(h->ctx, p->salt, p->salt_size) == 1);
        ok = ok && EVP_DigestUpdate(h->ctx, block, len) == 1;
        ok = ok && (p->hash_type != 0 || EVP_DigestUpdate(h->ctx, p->salt, p->salt_size) == 1);
        ok = ok && EVP_DigestFinal_ex(h->ctx, out, NULL) == 1;
        return ok ? 0 : log_error_errno(EIO, "OpenSSL failed to compute a %s digest", p->algorithm);
}

/* Shared preconditions of both checks, each failure named after the region at fault. */
static int prepare(const struct vr_verity_params *p, const struct vr_region *hash, const struct vr_roothash *root,
                   struct tree_layout *t) {
        char hex[2 * VR_ROOTHASH_MAX + 1];
        int k = tree_layout(p, t);

        if (k < 0)
                return log_error_errno(k, "Hash tree parameters for %s are invalid (algorithm %s, %" PRIu64
                                       " data blocks, hash block size %" PRIu32 ")",
                                       hash->what, p->algorithm, p->data_blocks, p->hash_block_size);
        if (root->len != t->digest_size) {
                vr_hex_encode(root->bytes, root->len < VR_ROOTHASH_MAX ? root->len : VR_ROOTHASH_MAX, hex);
                return log_error_errno(EINVAL, "Root hash %s is %zu bytes, but %s digests for %s are %zu bytes",
                                       hex, root->len, p->algorithm, hash->what, t->digest_size);
        }
        if (t->end_block * p->hash_block_size > hash->size)
                return log_error_errno(ERANGE, "Hash tree of %s needs %" PRIu64 " bytes, but it holds only %" PRIu64,
                                       hash->what, t->end_block * p->hash_block_size, hash->size);
        return 0;
}

/* Hashes the top tree block (which holds the digests of the level below) against root. */
static int check_top(const struct vr_verity_params *p, const struct tree_layout *t, struct hasher *h,
                     const struct vr_region *hash, const struct vr_roothash *root) {
        _cleanup_free_ unsigned char *block = malloc(p->hash_block_size);
        unsigned char digest[EVP_MAX_MD_SIZE];
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        int k;

        if (!block)
                return log_error_errno(ENOMEM, "Out of memory");
        k = vr_region_read(hash, block, p->hash_block_size, t->start_block * p->hash_block_size);
        if (k < 0)
                return k;
        k = hash_block(h, block, p->hash_block_size, digest);
        if (k < 0)
                return k;
        if (memcmp(digest, root->bytes, t->digest_size) != 0) {
                vr_hex_encode(digest, t->digest_size, hex);
                return log_error_errno(EBADMSG, "root hash does not match the hash tree in %s (top block hashes to %s)",
                                       hash->what, hex);
        }
        return 0;
}

int vr_hashtree_check_root(const struct vr_verity_params *p, const struct vr_region *hash,
                           const struct vr_roothash *root) {
        struct tree_layout t;
        struct hasher h;
        int k;

        k = prepare(p, hash, root, &t);
        if (k < 0)
                return k;
        if (t.levels == 0) {
                log_debug("Hash tree of %s is empty (one data block); the root hash can only be checked against the data",
                          hash->what);
                return 0;
        }
        k = hasher_init(&h, p, hash->what);
        if (k < 0)
                return k;
        k = check_top(p, &t, &h, hash, root);
        hasher_done(&h);
        return k;
}

struct verify_ctx {
        const struct vr_verity_params *p;
        const struct tree_layout *t;
        struct hasher h;
        const struct vr_region *hash;
        vr_progress_fn progress;
        void *userdata;
        uint64_t done, total, next_report;
        unsigned char *child, *parent;
        size_t parent_size;
};

static void report_progress(struct verify_ctx *c, uint64_t n) {
        c->done += n;
        if (!c->progress || (c->done < c->next_report && c->done < c->total))
                return;
        c->progress(c->done, c->total, c->userdata);
        c->next_report = (c->done * 100 / c->total + 1) * c->total / 100; /* next whole percent */
}

/* Checks count blocks of block_size at src_off in src against the digests in the tree
 * level starting at hash block parent_block. -EBADMSG (not logged) with *ret_index. */
static int verify_level(struct verify_ctx *c, const struct vr_region *src, uint64_t src_off, size_t block_size,
                        uint64_t count, uint64_t parent_block, uint64_t *ret_index) {
        const size_t hbs = c->p->hash_block_size;
        const unsigned bits = c->t->per_block_bits;
        const uint64_t per_chunk = (READ_CHUNK > block_size ? READ_CHUNK : block_size) / block_size;
        unsigned char digest[EVP_MAX_MD_SIZE];
        int k;

        for (uint64_t first = 0; first < count; first += per_chunk) {
                uint64_t n = count - first < per_chunk ? count - first : per_chunk;
                uint64_t pfirst = first >> bits, pcount = ((first + n - 1) >> bits) - pfirst + 1;

                k = vr_region_read(src, c->child, n * block_size, src_off + first * block_size);
                if (k < 0)
                        return k;
                k = vr_region_read(c->hash, c->parent, pcount * hbs, (parent_block + pfirst) * hbs);
                if (k < 0)
                        return k;

                for (uint64_t i = 0; i < n; i++) {
                        uint64_t idx = first + i;
                        const unsigned char *slot = c->parent + ((idx >> bits) - pfirst) * hbs +
                                                    (idx & ((UINT64_C(1) << bits) - 1)) * c->t->stride;

                        k = hash_block(&c->h, c->child + i * block_size, block_size, digest);
                        if (k < 0)
                                return k;
                        if (memcmp(digest, slot, c->t->digest_size) != 0) {
                                *ret_index = idx;
                                return -EBADMSG;
                        }
                }
                report_progress(c, n);
        }
        return 0;
}

static int verify_single_block(struct verify_ctx *c, const struct vr_region *data, const struct vr_roothash *root,
                               uint64_t *ret_bad_block) {
        unsigned char digest[EVP_MAX_MD_SIZE];
        int k;

        k = vr_region_read(data, c->child, c->p->data_block_size, 0);
        if (k < 0)
                return k;
        k = hash_block(&c->h, c->child, c->p->data_block_size, digest);
        if (k < 0)
                return k;
        if (memcmp(digest, root->bytes, c->t->digest_size) != 0) {
                if (ret_bad_block)
                        *ret_bad_block = 0;
                return log_error_errno(EBADMSG, "data block 0 of %s does not match the root hash (no hash tree in %s)",
                                       data->what, c->hash->what);
        }
        report_progress(c, 1);
        return 0;
}

static int verify_tree_and_data(struct verify_ctx *c, const struct vr_region *data, const struct vr_roothash *root,
                                uint64_t *ret_bad_block) {
        const struct tree_layout *t = c->t;
        uint64_t bad;
        int k;

        if (t->levels == 0)
                return verify_single_block(c, data, root, ret_bad_block);

        k = check_top(c->p, t, &c->h, c->hash, root);
        if (k < 0) {
                if (k == -EBADMSG && ret_bad_block)
                        *ret_bad_block = UINT64_MAX - t->start_block;
                return k;
        }
        report_progress(c, 1);

        /* Top down, so a corrupted hash block is blamed on itself, not on the data below it. */
        for (unsigned level = t->levels - 1; level > 0; level--) {
                k = verify_level(c, c->hash, t->level_block[level - 1] * c->p->hash_block_size, c->p->hash_block_size,
                                 t->level_count[level - 1], t->level_block[level], &bad);
                if (k == -EBADMSG) {
                        if (ret_bad_block)
                                *ret_bad_block = UINT64_MAX - (t->level_block[level - 1] + bad);
                        return log_error_errno(k, "hash block %" PRIu64 " (tree level %u of %u) of %s is corrupted: "
                                               "it does not match the level above it",
                                               t->level_block[level - 1] + bad, t->levels - level + 1, t->levels,
                                               c->hash->what);
                }
                if (k < 0)
                        return k;
        }

        k = verify_level(c, data, 0, c->p->data_block_size, c->p->data_blocks, t->level_block[0], &bad);
        if (k == -EBADMSG) {
                if (ret_bad_block)
                        *ret_bad_block = bad;
                return log_error_errno(k, "data block %" PRIu64 " of %s does not match the hash tree in %s",
                                       bad, data->what, c->hash->what);
        }
        return k;
}

int vr_hashtree_verify_all(const struct vr_verity_params *p, const struct vr_region *data,
                           const struct vr_region *hash, const struct vr_roothash *root,
                           vr_progress_fn progress, void *userdata, uint64_t *ret_bad_block) {
        _cleanup_free_ unsigned char *child = NULL, *parent = NULL;
        struct tree_layout t;
        struct verify_ctx c;
        size_t child_size;
        int k;

        k = prepare(p, hash, root, &t);
        if (k < 0)
                return k;
        if (p->data_blocks > data->size / p->data_block_size)
                return log_error_errno(ERANGE, "%s holds %" PRIu64 " bytes, fewer than the %" PRIu64
                                       " data blocks of %" PRIu32 " bytes the hash tree in %s covers",
                                       data->what, data->size, p->data_blocks, p->data_block_size, hash->what);

        child_size = READ_CHUNK > p->data_block_size ? READ_CHUNK : p->data_block_size;
        if (child_size < p->hash_block_size)
                child_size = p->hash_block_size;
        child = malloc(child_size);
        /* A chunk of children spans at most this many parent blocks. */
        parent = malloc((child_size / 512 / ((size_t) 1 << t.per_block_bits) + 2) * p->hash_block_size);
        if (!child || !parent)
                return log_error_errno(ENOMEM, "Out of memory");

        c = (struct verify_ctx) {
                .p = p, .t = &t, .hash = hash, .progress = progress, .userdata = userdata,
                .total = p->data_blocks + (t.end_block - t.start_block), .child = child, .parent = parent,
        };
        k = hasher_init(&c.h, p, hash->what);
        if (k < 0)
                return k;
        k = verify_tree_and_data(&c, data, root, ret_bad_block);
        hasher_done(&c.h);
        if (k == 0 && progress && c.done < c.total)
                progress(c.total, c.total, userdata);
        return k;
}
