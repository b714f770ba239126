/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ENGINE_* is deprecated in OpenSSL 3, but it is the only PKCS#11 bridge Debian 12 ships
 * (pkcs11-provider arrives with Debian 13): silence the deprecation here only. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/err.h>
#include <openssl/opensslconf.h>
#ifndef OPENSSL_NO_ENGINE
#include <openssl/engine.h>
#endif

#include "pkcs11-key.h"
#include "util.h"

bool vr_pkcs11_is_uri(const char *s) {
        return startswith(s, "pkcs11:") != NULL;
}

char *vr_pkcs11_uri_redact(const char *uri) {
        char *s = strdup(uri);
        if (!s)
                return NULL;
        for (char *p = strstr(s, "pin-value="); p; p = strstr(p, "pin-value=")) {
                p += strlen("pin-value=");
                size_t n = strcspn(p, ";&");
                if (n == 0)
                        continue;
                /* Same length or shorter than any PIN worth the name; the rest moves left. */
                const char *mask = n >= 3 ? "***" : "*";
                size_t m = strlen(mask);
                memcpy(p, mask, m);
                memmove(p + m, p + n, strlen(p + n) + 1);
                p += m;
        }
        return s;
}

static const char *openssl_reason(void) {
        unsigned long e = ERR_peek_last_error();
        const char *reason = e ? ERR_reason_error_string(e) : NULL;
        ERR_clear_error();
        return reason ?: "no reason given";
}

int vr_pkcs11_load_key(const char *uri, EVP_PKEY **ret) {
        _cleanup_free_ char *shown = vr_pkcs11_uri_redact(uri);
        if (!shown)
                return log_error_errno(ENOMEM, "out of memory");
#ifdef OPENSSL_NO_ENGINE
        return log_error_errno(EOPNOTSUPP, "--key %s: this OpenSSL is built without engines, so it cannot use PKCS#11 tokens",
                               shown);
#else
        /* Kept for the life of the process: the key signs through the module the engine
         * loaded, and finishing the engine would unload it. */
        static ENGINE *engine = NULL;

        if (!engine) {
                ENGINE *e = ENGINE_by_id("pkcs11");
                if (!e)
                        return log_error_errno(ENOPKG, "--key %s: OpenSSL has no \"pkcs11\" engine (install libengine-pkcs11-openssl): %s",
                                               shown, openssl_reason());
                if (!ENGINE_init(e)) {
                        ENGINE_free(e);
                        return log_error_errno(ENOPKG, "--key %s: the OpenSSL \"pkcs11\" engine cannot load its PKCS#11 module (%s): %s",
                                               shown, getenv("PKCS11_MODULE_PATH") ?: "p11-kit-proxy, or PKCS11_MODULE_PATH",
                                               openssl_reason());
                }
                engine = e;
        }
        EVP_PKEY *k = ENGINE_load_private_key(engine, uri, NULL, NULL);
        if (!k)
                return log_error_errno(ENOKEY, "--key %s: no such private key on any PKCS#11 token (token, object, id or PIN wrong?): %s",
                                       shown, openssl_reason());
        *ret = k;
        return 0;
#endif
}
