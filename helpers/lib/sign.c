/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "pkcs11-key.h"
#include "sign.h"
#include "util.h"

static void X509_freep(X509 **x) { X509_free(*x); }
static void EVP_PKEY_freep(EVP_PKEY **k) { EVP_PKEY_free(*k); }
static void PKCS7_freep(PKCS7 **p) { PKCS7_free(*p); }
static void BIO_freep(BIO **b) { BIO_free(*b); }
static void json_object_putp(json_object **o) { json_object_put(*o); }
static void OPENSSL_freep(unsigned char **p) { OPENSSL_free(*p); }

static const char *openssl_reason(void) {
        unsigned long e = ERR_peek_last_error();
        const char *reason = e ? ERR_reason_error_string(e) : NULL;
        ERR_clear_error();
        return reason ?: "unknown error";
}

int vr_sign_load_cert(const char *path, X509 **ret) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return log_error_errno(errno, "cannot open certificate %s: %s", path, strerror(errno));
        *ret = PEM_read_X509(f, NULL, NULL, NULL);
        if (!*ret)
                return log_error_errno(EBADMSG, "%s is not a PEM certificate", path);
        return 0;
}

static int load_pem_key(const char *path, EVP_PKEY **ret) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return log_error_errno(errno, "cannot open private key %s: %s", path, strerror(errno));
        *ret = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        if (!*ret)
                return log_error_errno(EBADMSG, "%s is not a PEM private key (or it is encrypted)", path);
        return 0;
}

int vr_sign_load(const char *key, const char *cert_path, EVP_PKEY **ret_key, X509 **ret_cert) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        _cleanup_(X509_freep) X509 *c = NULL;
        _cleanup_free_ char *shown = NULL;
        int r;

        /* The certificate first: a typo in its path is found before a token asks for a PIN. */
        r = vr_sign_load_cert(cert_path, &c);
        if (r < 0)
                return r;
        if (vr_pkcs11_is_uri(key)) {
                r = vr_pkcs11_load_key(key, &k);
                shown = vr_pkcs11_uri_redact(key);
        } else {
                r = load_pem_key(key, &k);
                shown = strdup(key);
        }
        if (r < 0)
                return r;
        if (!shown)
                return log_error_errno(ENOMEM, "out of memory");
        if (X509_check_private_key(c, k) != 1)
                return log_error_errno(EKEYREJECTED, "private key %s does not belong to certificate %s", shown, cert_path);
        *ret_key = TAKE_PTR(k);
        *ret_cert = TAKE_PTR(c);
        return 0;
}

int vr_sign_pkcs7(EVP_PKEY *key, X509 *cert, const char *roothash_hex, unsigned char **ret_der, size_t *ret_len) {
        _cleanup_(PKCS7_freep) PKCS7 *p7 = NULL;
        _cleanup_(BIO_freep) BIO *in = NULL;
        unsigned char *der = NULL;

        in = BIO_new_mem_buf(roothash_hex, (int) strlen(roothash_hex));
        if (!in)
                return log_error_errno(ENOMEM, "out of memory");
        /* The flags of systemd-repart's sign_verity_roothash(): same bytes for the same RSA key. */
        p7 = PKCS7_sign(cert, key, NULL, in, PKCS7_DETACHED | PKCS7_NOATTR | PKCS7_BINARY);
        if (!p7)
                return log_error_errno(EIO, "OpenSSL cannot sign the root hash: %s", openssl_reason());
        int len = i2d_PKCS7(p7, &der);
        if (len <= 0)
                return log_error_errno(EIO, "cannot encode the PKCS#7 signature");
        *ret_der = der;
        *ret_len = (size_t) len;
        return 0;
}

int vr_signature_json(X509 *cert, const char *roothash_hex, const unsigned char *der, size_t der_len, size_t size,
                      void **ret) {
        _cleanup_(OPENSSL_freep) unsigned char *cert_der = NULL;
        _cleanup_(json_object_putp) json_object *doc = NULL;
        _cleanup_free_ char *b64 = NULL;

        if (der_len > INT_MAX / 2)
                return log_error_errno(E2BIG, "the signature is %zu bytes, far more than a signature partition holds", der_len);
        b64 = malloc(4 * ((der_len + 2) / 3) + 1);
        if (!b64)
                return log_error_errno(ENOMEM, "out of memory");
        EVP_EncodeBlock((unsigned char *) b64, der, (int) der_len);

        int cert_len = i2d_X509(cert, &cert_der);
        unsigned char fp[EVP_MAX_MD_SIZE];
        unsigned fp_len = 0;
        if (cert_len <= 0 || !EVP_Digest(cert_der, (size_t) cert_len, fp, &fp_len, EVP_sha256(), NULL))
                return log_error_errno(EIO, "cannot compute the fingerprint of the certificate");
        char fp_hex[2 * EVP_MAX_MD_SIZE + 1];
        vr_hex_encode(fp, fp_len, fp_hex);

        /* Field order and compact form as systemd-repart writes them. */
        doc = json_object_new_object();
        if (!doc)
                return log_error_errno(ENOMEM, "out of memory");
        json_object_object_add(doc, "rootHash", json_object_new_string(roothash_hex));
        json_object_object_add(doc, "certificateFingerprint", json_object_new_string(fp_hex));
        json_object_object_add(doc, "signature", json_object_new_string(b64));
        const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t len = strlen(text);
        if (len + 1 > size)
                return log_error_errno(E2BIG, "the signature JSON is %zu bytes, the signature partition holds %zu", len + 1,
                                       size);
        char *buf = calloc(1, size);
        if (!buf)
                return log_error_errno(ENOMEM, "out of memory");
        memcpy(buf, text, len);
        *ret = buf;
        return 0;
}

char *vr_cert_common_name(X509 *cert) {
        char subject[256] = "";
        char *s;
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, subject, sizeof(subject));
        return asprintf(&s, "CN=%s", subject) < 0 ? NULL : s;
}

int vr_sign_roothash(const char *key, const char *cert_path, const char *roothash_hex, size_t size, void **ret,
                     char **ret_signer) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(OPENSSL_freep) unsigned char *der = NULL;
        _cleanup_free_ void *buf = NULL;
        size_t der_len = 0;
        int r;

        r = vr_sign_load(key, cert_path, &k, &cert);
        if (r < 0)
                return r;
        r = vr_sign_pkcs7(k, cert, roothash_hex, &der, &der_len);
        if (r < 0)
                return r;
        r = vr_signature_json(cert, roothash_hex, der, der_len, size, &buf);
        if (r < 0)
                return r;
        if (ret_signer) {
                *ret_signer = vr_cert_common_name(cert);
                if (!*ret_signer)
                        return log_error_errno(ENOMEM, "out of memory");
        }
        *ret = TAKE_PTR(buf);
        return 0;
}
