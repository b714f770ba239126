/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Producing the DPS root-verity-sig partition content (the signing side of signature.h). */
#pragma once

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* The size systemd-repart gives a verity-sig partition it creates (VERITY_SIG_SIZE): it
 * is known before anything is signed, so an image signed later (join-signature) has the
 * same layout, byte for byte, as one signed while it was built. */
#define VR_SIGNATURE_PARTITION_SIZE (16u * 1024u)

/* key is a PEM file or a PKCS#11 URI ("pkcs11:...", see pkcs11-key.h); cert_path a PEM
 * certificate that key must belong to. Errors name the file (never a PIN). */
int vr_sign_load(const char *key, const char *cert_path, EVP_PKEY **ret_key, X509 **ret_cert);
/* A PEM certificate; errors name path. */
int vr_sign_load_cert(const char *path, X509 **ret);

/* A detached DER PKCS#7 over the hex root hash string, without signed attributes, as
 * systemd-repart and `openssl smime -sign -binary -noattr` make it: with RSA keys the
 * same inputs give the same bytes (ECDSA signatures differ each time). */
int vr_sign_pkcs7(EVP_PKEY *key, X509 *cert, const char *roothash_hex, unsigned char **ret_der, size_t *ret_len);

/* The JSON systemd-repart writes ({"rootHash","certificateFingerprint","signature"}),
 * NUL-padded to size bytes in *ret. -E2BIG (logged, with both sizes) when it does not fit
 * with at least one NUL after it. */
int vr_signature_json(X509 *cert, const char *roothash_hex, const unsigned char *der, size_t der_len, size_t size,
                      void **ret);

/* All of the above for mkimage: signs the root hash with key/cert and returns the
 * partition content (size bytes). *ret_signer (may be NULL) gets "CN=...". */
int vr_sign_roothash(const char *key, const char *cert_path, const char *roothash_hex, size_t size, void **ret,
                     char **ret_signer);

/* "CN=..." of cert, allocated; NULL when out of memory. */
char *vr_cert_common_name(X509 *cert);
