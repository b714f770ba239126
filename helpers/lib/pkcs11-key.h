/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signing keys on a PKCS#11 token (an HSM, a smart card, SoftHSM2), named by RFC 7512 URI. */
#pragma once

#include <stdbool.h>
#include <openssl/evp.h>

/* Whether s names a key on a token ("pkcs11:...") rather than a PEM file. */
bool vr_pkcs11_is_uri(const char *s);

/* Loads the private key uri names through OpenSSL's "pkcs11" engine (Debian package
 * libengine-pkcs11-openssl; OpenSSL 3.0 in Debian 12 has no PKCS#11 provider). The engine
 * loads the module in PKCS11_MODULE_PATH, by default p11-kit-proxy (every registered
 * module). The PIN comes from the URI (pin-value=, pin-source=) or, on a terminal, a
 * prompt. Errors are logged with the URI redacted: -ENOPKG (no engine), -ENOKEY. */
int vr_pkcs11_load_key(const char *uri, EVP_PKEY **ret);

/* Splits a "pkcs11:" URI into the URI without its pin-value= attribute(s) and the PIN
 * (percent-decoded; NULL when there is none; ret_pin may be NULL). -EINVAL for another
 * scheme, -ENOMEM. Every other attribute is copied as it is. */
int vr_pkcs11_uri_split_pin(const char *uri, char **ret_uri, char **ret_pin);
/* The URI without its PIN, for messages; NULL on ENOMEM. */
char *vr_pkcs11_uri_redact(const char *uri);
