/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dm-verity hash tree checks in userspace (digests from OpenSSL EVP). */
#pragma once

#include <stdint.h>
#include "partition.h"
#include "roothash.h"
#include "superblock.h"

/* Byte offset in the hash region where the tree starts: the first hash block after the
 * superblock (at hash_offset itself with no_superblock); UINT64_MAX if p is unusable. */
uint64_t vr_hashtree_start(const struct vr_verity_params *p);
/* Total bytes the tree occupies from vr_hashtree_start(); 0 on overflow. */
uint64_t vr_hashtree_size(const struct vr_verity_params *p);

/* Cheap early check: hashes the top-level tree block and compares it with the root
 * hash, so a wrong hash or swapped partition is refused before activation.
 * -EBADMSG (logged naming hash->what) on mismatch; -ERANGE if the tree does not fit;
 * -EINVAL if root->len is not the digest size. With a single data block there is no
 * tree and this returns 0 (only vr_hashtree_verify_all can check that case). */
int vr_hashtree_check_root(const struct vr_verity_params *p, const struct vr_region *hash,
                           const struct vr_roothash *root);

typedef void (*vr_progress_fn)(uint64_t done, uint64_t total, void *userdata);

/* Verifies every data block and every tree block against the root hash, top down, so
 * a corrupted hash block is named rather than the data it covers. Reads 1 MiB at a time;
 * progress (may be NULL) is called about every 1% of data + tree blocks and at the end.
 * On a mismatch returns -EBADMSG, logs the data block (or hash block) number and
 * sets *ret_bad_block (may be NULL) to it: the data block index, or UINT64_MAX - n for
 * hash block n (counted in hash blocks from the start of the hash region; the top
 * block when the root hash itself does not match). -ERANGE if data is too small. */
int vr_hashtree_verify_all(const struct vr_verity_params *p, const struct vr_region *data,
                           const struct vr_region *hash, const struct vr_roothash *root,
                           vr_progress_fn progress, void *userdata, uint64_t *ret_bad_block);
