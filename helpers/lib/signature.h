/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DPS root-verity-sig partition: NUL-padded JSON with a detached PKCS#7 signature. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <openssl/x509.h>
#include "partition.h"

#define VR_SIGNATURE_MAX_SIZE (4u * 1024u * 1024u)
/* Where trusted certificates live, in systemd's conf-files order: a *.crt in an earlier
 * directory hides the same name in the later ones. */
#define VR_CERT_DIRS "/etc/verity.d", "/run/verity.d", "/usr/local/lib/verity.d", "/usr/lib/verity.d"
#define VR_CERT_DIRS_TEXT "/etc/verity.d, /run/verity.d, /usr/local/lib/verity.d, /usr/lib/verity.d"

struct vr_signature {
        char *root_hash;              /* "rootHash" exactly as stored (must be lowercase hex) */
        bool has_fingerprint;
        unsigned char fingerprint[32]; /* "certificateFingerprint": SHA-256 of the DER cert */
        unsigned char *pkcs7;         /* "signature" decoded from base64 (DER) */
        size_t pkcs7_len;
        char *pkcs7_base64;           /* as stored (minus any whitespace), for systemd-veritysetup root-hash-signature=base64: */
};

/* Parses a signature partition's bytes. Rejects: more than 4 MiB, malformed JSON, a
 * non-NUL byte after the JSON text, missing or mistyped rootHash/signature, a rootHash
 * that is not hex, a fingerprint that is not 64 hex digits, bad base64. Each error is
 * logged naming `what` and the field; returns -EBADMSG (-EFBIG for size). */
int vr_signature_parse(const void *buf, size_t len, const char *what, struct vr_signature *out);
/* Reads the whole region (size checked first) and parses it. */
int vr_signature_read(const struct vr_region *r, struct vr_signature *out);
void vr_signature_done(struct vr_signature *s);

struct vr_cert;
struct vr_trust_store {
        struct vr_cert **certs;
        size_t n;
        char *where;                  /* the directories searched, for messages */
};

/* Loads every *.crt (PEM) in dir; other names are ignored. A missing directory is an
 * empty store; an unreadable or non-PEM *.crt file is a warning naming it, and skipped. */
int vr_trust_store_load(const char *dir, struct vr_trust_store *ts);
/* Exactly one certificate, the PEM file path: an unreadable or non-PEM file is an error. */
int vr_trust_store_load_file(const char *path, struct vr_trust_store *ts);
/* Loads *.crt from the VR_CERT_DIRS under root (NULL: /) by systemd's conf-files rules:
 * names sorted across directories, the first directory holding a name wins, and a winner
 * that is empty or a device node (a symlink to /dev/null) masks the name. */
int vr_trust_store_load_default(const char *root, struct vr_trust_store *ts);
void vr_trust_store_done(struct vr_trust_store *ts);

/* The i-th trusted certificate (borrowed, valid until vr_trust_store_done), NULL past the
 * end; ret_path and ret_subject ("CN=...") may be NULL. For signatures that are not PKCS#7. */
X509 *vr_trust_store_cert(const struct vr_trust_store *ts, size_t i, const char **ret_path, const char **ret_subject);

/* The SHA-256 fingerprint of the trusted certificate a verified signature names as its
 * signer ("SUBJECT (PATH)", as vr_signature_verify() returns it); -ENOENT if none. */
int vr_trust_store_signer_fingerprint(const struct vr_trust_store *ts, const char *signer, unsigned char out[32]);

/* Verifies s->pkcs7 as a detached signature over the bytes of s->root_hash, signed by
 * the trusted certificate whose fingerprint matches (or, without a fingerprint, by any
 * trusted certificate). No chain building: trust is the pinned certificate itself.
 * On success returns 0 and, if ret_signer, the signer's subject ("CN=...") and file.
 * Errors, logged naming `what`: -ENOKEY (no trusted certificates / unknown fingerprint),
 * -EKEYREJECTED (signature does not verify), -EBADMSG (not a detached DER PKCS#7 SignedData). */
int vr_signature_verify(const struct vr_signature *s, const struct vr_trust_store *ts, const char *what,
                        char **ret_signer);
