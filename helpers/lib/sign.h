/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Producing the DPS root-verity-sig partition content (the signing side of signature.h). */
#pragma once

#include <stddef.h>

/* Signs the hex root hash string with key/cert (PEM) as a detached DER PKCS#7 without
 * signed attributes (so RSA signatures are reproducible; ECDSA ones are not) and returns
 * the JSON systemd-repart writes, NUL-padded to a multiple of 4096, in *ret / *ret_size.
 * *ret_signer (may be NULL) gets the certificate subject, "CN=...". Errors name the files. */
int vr_sign_roothash(const char *key_path, const char *cert_path, const char *roothash_hex,
                     void **ret, size_t *ret_size, char **ret_signer);
