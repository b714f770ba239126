/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building a DPS disk image with a dm-verity protected root (or /usr), optionally signed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "id128.h"

#include "mkfs.h"
#include "roothash.h"

struct vr_mkimage_config {
        const char *root;        /* a directory to build from, or a finished file system image */
        const char *out;         /* the disk image to write (replaced atomically) */
        enum vr_fs_type fs;      /* used only when root is a directory */
        bool appended;           /* hash tree after the file system in the data partition */
        const char *key, *cert;  /* PEM or PKCS#11 URI, PEM; both or neither: adds a verity-sig partition */
        bool defer_signature;    /* the verity-sig partition, empty: join-signature fills it later */
        const char *roothash_file; /* where to write the root hash as hex text (what is signed), or NULL */
        const char *arch;        /* DPS architecture; NULL: the running one */
        bool usr;                /* usr partitions instead of root */
        vr_id128 seed;         /* every derived UUID and the salt depend on it; null: built-in */
};

struct vr_mkimage_result {
        struct vr_roothash roothash;
        char roothash_hex[2 * VR_ROOTHASH_MAX + 1];
        vr_id128 disk_guid, data_uuid, verity_uuid, sig_uuid; /* verity/sig null when absent */
        uint64_t fs_size;        /* bytes of file system (before padding to 4096) */
        uint64_t hash_offset;    /* appended layout: superblock offset inside the data partition */
        char *signer;            /* "CN=..." when signed */
        bool sig_deferred;       /* the verity-sig partition is there, empty */
};

/* Reproducible: the same root, options and seed give a byte-identical image (signatures
 * included with RSA keys; ECDSA signatures differ each time). Progress lines go to stderr.
 * Errors are logged once naming the file or step at fault. */
int vr_mkimage(const struct vr_mkimage_config *c, struct vr_mkimage_result *ret);
void vr_mkimage_result_done(struct vr_mkimage_result *r);
