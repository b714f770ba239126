/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kiwi's embed_verity_metadata block: the last 4 KiB of a root partition whose hash
 * tree follows the file system in the same partition (kiwi/utils/veritysetup.py).
 *
 *   "<version> <fstype> <ro|rw> verity" 0xFF
 *   "<hash_type> <data_bs> <hash_bs> <data_blocks> <hash_start_block> <alg> <roothash> <salt>" 0xFF 0x00
 *   [RSA-PSS signature over everything before it: openssl dgst -sha256, MGF1 SHA-256, salt = digest length]
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "partition.h"
#include "roothash.h"
#include "signature.h"
#include "superblock.h"

#define VR_KIWI_BLOCK_SIZE 4096u

struct vr_kiwi_meta {
        unsigned version;               /* 1, the only one Kiwi has written */
        char fstype[32];                /* blkid TYPE of the file system: "ext4", "squashfs", "erofs", ... */
        bool read_only;                 /* "ro"; Kiwi before 9.25.13 wrote "rw" for writable file systems */
        uint64_t hash_start_block;      /* in hash blocks from the start of the partition */
        /* no_superblock = true and hash_offset = hash_start_block * hash_block_size from the
         * block alone; vr_kiwi_read switches to the superblock layout when one is there. */
        struct vr_verity_params params;
        struct vr_roothash roothash;
        unsigned char block[VR_KIWI_BLOCK_SIZE];
        size_t signed_len;              /* the text through its 0xFF 0x00: the bytes Kiwi signs */
        size_t signature_len;           /* after that, up to the last non-zero byte; 0 = unsigned */
        /* Set by vr_kiwi_read only: */
        bool has_superblock;            /* Kiwi >= 10.2.21 formats with a superblock at hash_start_block */
        uint64_t block_offset;          /* where the block starts inside the region */
};

/* Parses one VR_KIWI_BLOCK_SIZE block. Returns -ENOMSG when the block does not start
 * like Kiwi metadata at all ("<n> <fstype> <access> verity" 0xFF), -EOPNOTSUPP for an
 * unknown version, hash type or algorithm, -EBADMSG for any other malformed field; each
 * logged naming `what` and the field. Never reads past len. */
int vr_kiwi_parse(const unsigned char *buf, size_t len, const char *what, struct vr_kiwi_meta *out);

/* Reads and parses the last VR_KIWI_BLOCK_SIZE bytes of r, then checks the layout against
 * r: data, superblock (if any) and tree end before the metadata block, a superblock at
 * the hash offset agrees with every field of the metadata (-EBADMSG naming the field). */
int vr_kiwi_read(const struct vr_region *r, struct vr_kiwi_meta *out);

/* Verifies Kiwi's signature (RSA-PSS, SHA-256) over m->block[0..signed_len) against the
 * public key of each trusted certificate; Kiwi names no signer, so each RSA key is tried.
 * On success returns 0 and, if ret_signer, "subject (path)". Errors, logged naming `what`:
 * -ENODATA (unsigned), -ENOKEY (no trusted certificates, or none with an RSA key),
 * -EKEYREJECTED (verifies with none of them: another key, or altered metadata). */
int vr_kiwi_verify_signature(const struct vr_kiwi_meta *m, const struct vr_trust_store *ts, const char *what,
                             char **ret_signer);
