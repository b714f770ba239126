/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "sign.h"
#include "util.h"

static void X509_freep(X509 **x) { X509_free(*x); }
static void EVP_PKEY_freep(EVP_PKEY **k) { EVP_PKEY_free(*k); }
static void PKCS7_freep(PKCS7 **p) { PKCS7_free(*p); }
static void BIO_freep(BIO **b) { BIO_free(*b); }
static void json_object_putp(json_object **o) { json_object_put(*o); }
static void OPENSSL_freep(unsigned char **p) { OPENSSL_free(*p); }

static int load_pem(const char *key_path, const char *cert_path, EVP_PKEY **ret_key, X509 **ret_cert) {
        _cleanup_fclose_ FILE *kf = fopen(key_path, "re");
        if (!kf)
                return log_error_errno(errno, "cannot open private key %s: %s", key_path, strerror(errno));
        _cleanup_fclose_ FILE *cf = fopen(cert_path, "re");
        if (!cf)
                return log_error_errno(errno, "cannot open certificate %s: %s", cert_path, strerror(errno));
        *ret_key = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
        if (!*ret_key)
                return log_error_errno(EBADMSG, "%s is not a PEM private key (or it is encrypted)", key_path);
        *ret_cert = PEM_read_X509(cf, NULL, NULL, NULL);
        if (!*ret_cert)
                return log_error_errno(EBADMSG, "%s is not a PEM certificate", cert_path);
        if (X509_check_private_key(*ret_cert, *ret_key) != 1)
                return log_error_errno(EKEYREJECTED, "private key %s does not belong to certificate %s", key_path, cert_path);
        return 0;
}

int vr_sign_roothash(const char *key_path, const char *cert_path, const char *roothash_hex,
                     void **ret, size_t *ret_size, char **ret_signer) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(PKCS7_freep) PKCS7 *p7 = NULL;
        _cleanup_(BIO_freep) BIO *in = NULL;
        _cleanup_(OPENSSL_freep) unsigned char *der = NULL, *cert_der = NULL;
        _cleanup_free_ char *b64 = NULL;
        _cleanup_(json_object_putp) json_object *doc = NULL;
        int r;

        r = load_pem(key_path, cert_path, &key, &cert);
        if (r < 0)
                return r;

        in = BIO_new_mem_buf(roothash_hex, (int) strlen(roothash_hex));
        if (!in)
                return log_error_errno(ENOMEM, "out of memory");
        p7 = PKCS7_sign(cert, key, NULL, in, PKCS7_DETACHED | PKCS7_NOATTR | PKCS7_BINARY);
        if (!p7)
                return log_error_errno(EIO, "OpenSSL cannot sign with %s", key_path);
        int der_len = i2d_PKCS7(p7, &der);
        if (der_len <= 0)
                return log_error_errno(EIO, "cannot encode the PKCS#7 signature");
        b64 = malloc(4 * ((size_t) der_len + 2) / 3 + 1);
        if (!b64)
                return log_error_errno(ENOMEM, "out of memory");
        EVP_EncodeBlock((unsigned char *) b64, der, der_len);

        int cert_len = i2d_X509(cert, &cert_der);
        unsigned char fp[EVP_MAX_MD_SIZE];
        unsigned fp_len = 0;
        if (cert_len <= 0 || !EVP_Digest(cert_der, (size_t) cert_len, fp, &fp_len, EVP_sha256(), NULL))
                return log_error_errno(EIO, "cannot compute the fingerprint of %s", cert_path);
        char fp_hex[2 * EVP_MAX_MD_SIZE + 1];
        vr_hex_encode(fp, fp_len, fp_hex);

        doc = json_object_new_object();
        if (!doc)
                return log_error_errno(ENOMEM, "out of memory");
        json_object_object_add(doc, "rootHash", json_object_new_string(roothash_hex));
        json_object_object_add(doc, "certificateFingerprint", json_object_new_string(fp_hex));
        json_object_object_add(doc, "signature", json_object_new_string(b64));
        const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t len = strlen(text), padded = (len + 1 + 4095) / 4096 * 4096;
        char *buf = calloc(1, padded);
        if (!buf)
                return log_error_errno(ENOMEM, "out of memory");
        memcpy(buf, text, len);

        if (ret_signer) {
                char subject[256];
                X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, subject, sizeof(subject));
                if (asprintf(ret_signer, "CN=%s", subject) < 0) {
                        free(buf);
                        return log_error_errno(ENOMEM, "out of memory");
                }
        }
        *ret = buf;
        *ret_size = padded;
        return 0;
}
