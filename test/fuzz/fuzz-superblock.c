/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Arbitrary bytes as a superblock, and as a tiny hash + data region pair checked with it.
 *
 * Input: the first 512 bytes are the superblock. Its unused pad bytes steer the rest:
 * pad[0] bit 0 = use the true digest of the top block as root hash (so verification
 * goes past the root), bit 1 = params without superblock; pad[1] * 512 = where the data
 * region starts (the hash region is everything before it). */
#include <openssl/evp.h>
#include <sys/mman.h>

#include "hashtree.h"
#include "superblock.h"
#include "util.h"

#define PAD_OFFSET 82
#define FUZZ_MAX_INPUT (256u * 1024u)

static void top_digest(const struct vr_verity_params *p, const uint8_t *block, size_t len, struct vr_roothash *out) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned n = 0;

        if (ctx && EVP_DigestInit_ex(ctx, EVP_get_digestbyname(p->algorithm), NULL) == 1 &&
            (p->hash_type != 1 || EVP_DigestUpdate(ctx, p->salt, p->salt_size) == 1) &&
            EVP_DigestUpdate(ctx, block, len) == 1 &&
            (p->hash_type != 0 || EVP_DigestUpdate(ctx, p->salt, p->salt_size) == 1) &&
            EVP_DigestFinal_ex(ctx, out->bytes, &n) == 1 && n <= VR_ROOTHASH_MAX)
                out->len = n;
        EVP_MD_CTX_free(ctx);
}

static void check_tree(const uint8_t *data, size_t size, int fd, struct vr_verity_params *p) {
        const uint8_t *pad = data + PAD_OFFSET;
        uint64_t split = (uint64_t) pad[1] * 512, start, tree, bad;
        struct vr_region hash, dat;
        struct vr_roothash root = {};

        if (split > size)
                split = size;
        hash = (struct vr_region) { .fd = fd, .offset = 0, .size = split, .what = "fuzz hash" };
        dat = (struct vr_region) { .fd = fd, .offset = split, .size = size - split, .what = "fuzz data" };
        p->no_superblock = pad[0] & 2;
        start = vr_hashtree_start(p);
        tree = vr_hashtree_size(p);

        /* Root hash from the input itself, or the real digest of the top block when it is there. */
        memcpy(root.bytes, data + 344, VR_ROOTHASH_MAX);
        root.len = 32;
        if (pad[0] & 1) {
                if (tree == 0 && p->data_block_size <= dat.size)
                        top_digest(p, data + split, p->data_block_size, &root);
                else if (start < split && p->hash_block_size <= split - start)
                        top_digest(p, data + start, p->hash_block_size, &root);
        }

        (void) vr_hashtree_check_root(p, &hash, &root);
        if (p->data_blocks <= 4096)
                (void) vr_hashtree_verify_all(p, &dat, &hash, &root, NULL, NULL, &bad);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        unsigned char sb[VR_SUPERBLOCK_SIZE] = {};
        struct vr_verity_params p;
        struct vr_region whole;
        int fd;

        vr_log_set_level(0);
        if (size > FUZZ_MAX_INPUT)
                return 0;
        memcpy(sb, data, size < sizeof(sb) ? size : sizeof(sb));
        if (vr_superblock_parse(sb, "fuzz input", &p) < 0 && size < 1024)
                return 0;

        fd = memfd_create("fuzz-superblock", MFD_CLOEXEC);
        if (fd < 0)
                return 0;
        if (size > 0 && write(fd, data, size) != (ssize_t) size) {
                close(fd);
                return 0;
        }
        whole = (struct vr_region) { .fd = fd, .offset = 0, .size = size, .what = "fuzz input" };
        if (size >= VR_SUPERBLOCK_SIZE && vr_superblock_read(&whole, 0, &p) == 0)
                check_tree(data, size, fd, &p);
        if (vr_superblock_find_appended(&whole, &p) == 0)
                (void) vr_hashtree_check_root(&p, &whole, &(struct vr_roothash) { .len = 32 });
        close(fd);
        return 0;
}
