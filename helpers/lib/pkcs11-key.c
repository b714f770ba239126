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

static int unhex(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* RFC 7512 values may be percent-encoded. */
static char *pct_decode(const char *s, size_t n) {
        char *out = malloc(n + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '%' && i + 2 < n && unhex(s[i + 1]) >= 0 && unhex(s[i + 2]) >= 0) {
                        *o++ = (char) (unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
                        i += 2;
                } else
                        *o++ = s[i];
        *o = 0;
        return out;
}

int vr_pkcs11_uri_split_pin(const char *uri, char **ret_uri, char **ret_pin) {
        const char *t = startswith(uri, "pkcs11:");
        _cleanup_free_ char *out = NULL, *pin = NULL;
        bool in_query = false, path_started = false, query_started = false;
        size_t o;

        if (!t)
                return -EINVAL;
        out = malloc(strlen(uri) + 2);
        if (!out)
                return -ENOMEM;
        o = stpcpy(out, "pkcs11:") - out;
        /* Path attributes are separated by ';', query attributes (after '?') by '&'; the
         * PIN may be either (libp11 reads both). The rest is copied as it is. */
        for (;;) {
                size_t n = strcspn(t, in_query ? "&" : ";?");
                if (n >= strlen("pin-value=") && startswith(t, "pin-value=")) {
                        free(pin);
                        pin = pct_decode(t + strlen("pin-value="), n - strlen("pin-value="));
                        if (!pin)
                                return -ENOMEM;
                } else if (n > 0) {
                        if (in_query)
                                out[o++] = query_started ? '&' : '?';
                        else if (path_started)
                                out[o++] = ';';
                        query_started |= in_query;
                        path_started |= !in_query;
                        memcpy(out + o, t, n);
                        o += n;
                }
                if (!t[n])
                        break;
                in_query |= t[n] == '?';
                t += n + 1;
        }
        out[o] = 0;
        *ret_uri = TAKE_PTR(out);
        if (ret_pin)
                *ret_pin = TAKE_PTR(pin);
        return 0;
}

char *vr_pkcs11_uri_redact(const char *uri) {
        char *u = NULL;
        return vr_pkcs11_uri_split_pin(uri, &u, NULL) < 0 ? NULL : u;
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
        /* The PIN goes to the engine on its own: libp11 prints the URI it fails to load. */
        _cleanup_free_ char *bare = NULL, *pin = NULL;
        if (vr_pkcs11_uri_split_pin(uri, &bare, &pin) < 0)
                return log_error_errno(ENOMEM, "out of memory");
        if (pin && !ENGINE_ctrl_cmd_string(engine, "PIN", pin, 0)) {
                explicit_bzero(pin, strlen(pin));
                return log_error_errno(EINVAL, "--key %s: the OpenSSL \"pkcs11\" engine does not take the PIN: %s", shown,
                                       openssl_reason());
        }
        if (pin)
                explicit_bzero(pin, strlen(pin));
        EVP_PKEY *k = ENGINE_load_private_key(engine, bare, NULL, NULL);
        if (!k)
                return log_error_errno(ENOKEY, "--key %s: no such private key on any PKCS#11 token (token, object, id or PIN wrong?): %s",
                                       shown, openssl_reason());
        *ret = k;
        return 0;
#endif
}
