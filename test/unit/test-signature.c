/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signature partition parsing and PKCS#7 verification against pinned certificates.
 * Keys, certificates and blobs are made with test/lib/mkcert.sh and test/lib/mksig.sh. */
#include "testlib.h"

#include <json-c/json.h>

#include "signature.h"

#define WHAT "partition 4 (root-verity-sig) on disk.img"
#define H1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H2 "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SIG_TYPE "41092B05-9FC8-4523-994F-2DEF0408B176"

static char keys[512], trust[512];

/* alpha (RSA-2048), beta (EC P-256), gamma (RSA-4096) are trusted; rogue is not, and
 * impostor copies alpha's subject and serial number with a key of its own. */
static int group_setup(void **state) {
        snprintf(keys, sizeof(keys), "%s/keys", test_tmpdir());
        snprintf(trust, sizeof(trust), "%s/trust", test_tmpdir());
        test_sh("mkdir -p %s %s", keys, trust);
        test_sh("test/lib/mkcert.sh %s alpha rsa2048", keys);
        test_sh("test/lib/mkcert.sh %s beta ec256", keys);
        test_sh("test/lib/mkcert.sh %s gamma rsa4096", keys);
        test_sh("test/lib/mkcert.sh %s rogue rsa2048", keys);
        test_sh("cd %s && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out impostor.key 2>/dev/null && "
                "openssl req -new -x509 -key impostor.key -out impostor.crt -subj /CN=alpha -days 30 "
                "-set_serial 0x$(openssl x509 -in alpha.crt -noout -serial | cut -d= -f2)",
                keys);
        test_sh("cp %s/alpha.crt %s/beta.crt %s/gamma.crt %s/", keys, keys, keys, trust);
        return 0;
}

static int group_teardown(void **state) {
        test_sh("rm -rf %s", test_tmpdir());
        return 0;
}

/* A blob signed by keys/NAME over root_hash; caller frees. */
static unsigned char *make_sig(const char *name, const char *root_hash, bool fingerprint, size_t *ret_len) {
        char out[600];
        snprintf(out, sizeof(out), "%s/%s-%s%s.sig", test_tmpdir(), name, root_hash, fingerprint ? "" : "-nofp");
        test_sh("test/lib/mksig.sh %s/%s.key %s/%s.crt %s %s%s", keys, name, keys, name, root_hash, out,
                fingerprint ? "" : " --no-fingerprint");
        return test_slurp(out, ret_len);
}

static void replace_once(unsigned char *buf, size_t len, const char *old, const char *new) {
        assert_int_equal(strlen(old), strlen(new));
        unsigned char *p = memmem(buf, len, old, strlen(old));
        assert_non_null(p);
        memcpy(p, new, strlen(new));
}

static int parse_str(const char *json, struct vr_signature *s) {
        return vr_signature_parse(json, strlen(json), WHAT, s);
}

static void load_trust(struct vr_trust_store *ts) {
        assert_int_equal(vr_trust_store_load(trust, ts), 0);
        assert_int_equal(ts->n, 3);
}

static void assert_verifies_as(const struct vr_signature *s, const char *cn) {
        struct vr_trust_store ts;
        char *signer = NULL, expected[700];

        load_trust(&ts);
        assert_int_equal(vr_signature_verify(s, &ts, WHAT, &signer), 0);
        snprintf(expected, sizeof(expected), "CN=%s (%s/%s.crt)", cn, trust, cn);
        assert_string_equal(signer, expected);
        free(signer);
        vr_trust_store_done(&ts);
}

static void assert_verify_fails(const struct vr_signature *s, int error, const char *needle) {
        struct vr_trust_store ts;
        char *signer = (char *) "unchanged";

        load_trust(&ts);
        vr_log_clear_last_error();
        assert_int_equal(vr_signature_verify(s, &ts, WHAT, &signer), error);
        assert_null(signer);
        assert_last_error_contains(WHAT ": ");
        assert_last_error_contains(needle);
        vr_trust_store_done(&ts);
}

static void assert_parse_fails(const char *json, const char *needle) {
        struct vr_signature s;
        vr_log_clear_last_error();
        assert_int_equal(parse_str(json, &s), -EBADMSG);
        assert_null(s.root_hash);
        assert_last_error_contains(WHAT ": ");
        assert_last_error_contains(needle);
}

static void test_valid_with_fingerprint(void **state) {
        struct vr_signature s;
        size_t len;
        unsigned char *blob = make_sig("alpha", H1, true, &len);
        char fp[65];

        assert_int_equal(len % 4096, 0);
        struct vr_region r = test_region_from_bytes(blob, len, WHAT);
        assert_int_equal(vr_signature_read(&r, &s), 0);
        close(r.fd);

        assert_string_equal(s.root_hash, H1);
        assert_true(s.has_fingerprint);
        vr_hex_encode(s.fingerprint, sizeof(s.fingerprint), fp);
        assert_non_null(strstr((char *) blob, fp));
        assert_non_null(strstr((char *) blob, s.pkcs7_base64));
        /* Exact decoded length: a DER SEQUENCE with a two-byte long-form length. */
        assert_true(s.pkcs7_len > 4);
        assert_int_equal(s.pkcs7[0], 0x30);
        assert_int_equal(s.pkcs7[1], 0x82);
        assert_int_equal(s.pkcs7_len, 4u + ((size_t) s.pkcs7[2] << 8 | s.pkcs7[3]));

        assert_verifies_as(&s, "alpha");
        vr_signature_done(&s);
        free(blob);
}

static void test_valid_without_fingerprint_tries_each(void **state) {
        struct vr_signature s;
        size_t len;
        unsigned char *blob = make_sig("beta", H1, false, &len);

        assert_null(strstr((char *) blob, "certificateFingerprint"));
        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        assert_false(s.has_fingerprint);
        /* alpha.crt is tried (and fails) before beta.crt. */
        assert_verifies_as(&s, "beta");
        vr_signature_done(&s);
        free(blob);
}

static void test_valid_ecdsa_p256(void **state) {
        struct vr_signature s;
        size_t len;
        unsigned char *blob = make_sig("beta", H2, true, &len);

        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        assert_verifies_as(&s, "beta");
        vr_signature_done(&s);
        free(blob);
}

static void test_valid_rsa4096(void **state) {
        struct vr_signature s;
        size_t len;
        unsigned char *blob = make_sig("gamma", H1, true, &len);

        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        assert_verifies_as(&s, "gamma");
        vr_signature_done(&s);
        free(blob);
}

static void test_fingerprint_uppercase_accepted(void **state) {
        struct vr_signature s;
        size_t len;
        unsigned char *blob = make_sig("alpha", H1, true, &len);
        char fp[65], upper[65];

        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        vr_hex_encode(s.fingerprint, sizeof(s.fingerprint), fp);
        vr_signature_done(&s);
        for (size_t i = 0; i < sizeof(fp); i++)
                upper[i] = (char) (fp[i] >= 'a' && fp[i] <= 'f' ? fp[i] - 'a' + 'A' : fp[i]);
        replace_once(blob, len, fp, upper);
        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        assert_verifies_as(&s, "alpha");
        vr_signature_done(&s);
        free(blob);
}

static void test_unknown_fingerprint(void **state) {
        struct vr_signature s;
        size_t len;
        unsigned char *blob = make_sig("rogue", H1, true, &len);
        char fp[65], needle[800];

        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        vr_hex_encode(s.fingerprint, sizeof(s.fingerprint), fp);
        snprintf(needle, sizeof(needle), "signed by certificate with fingerprint %s which is not in %s", fp, trust);
        assert_verify_fails(&s, -ENOKEY, needle);
        vr_signature_done(&s);
        free(blob);
}

static void test_untrusted_without_fingerprint(void **state) {
        struct vr_signature s;
        size_t len;
        unsigned char *blob = make_sig("rogue", H1, false, &len);

        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        assert_verify_fails(&s, -EKEYREJECTED, "does not verify with any of the 3 trusted certificates in");
        vr_signature_done(&s);
        free(blob);
}

/* The impostor's PKCS#7 names alpha's issuer and serial and embeds its own certificate:
 * only the pinned certificate's key may count. */
static void test_untrusted_key_with_trusted_fingerprint(void **state) {
        struct vr_signature s;
        size_t alen, len;
        unsigned char *alpha = make_sig("alpha", H1, true, &alen);
        unsigned char *blob = make_sig("impostor", H1, true, &len);
        char alpha_fp[65], fp[65];

        assert_int_equal(vr_signature_parse(alpha, alen, WHAT, &s), 0);
        vr_hex_encode(s.fingerprint, sizeof(s.fingerprint), alpha_fp);
        vr_signature_done(&s);
        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        vr_hex_encode(s.fingerprint, sizeof(s.fingerprint), fp);
        vr_signature_done(&s);
        assert_string_not_equal(fp, alpha_fp);

        replace_once(blob, len, fp, alpha_fp);
        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        assert_verify_fails(&s, -EKEYREJECTED, "does not verify with trusted certificate");
        assert_last_error_contains("/trust/alpha.crt (CN=alpha)");
        vr_signature_done(&s);

        /* Without a fingerprint alpha.crt is tried too, and must not accept it either. */
        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        s.has_fingerprint = false;
        assert_verify_fails(&s, -EKEYREJECTED, "does not verify with any of the 3 trusted certificates");
        vr_signature_done(&s);
        free(alpha);
        free(blob);
}

static void test_root_hash_edited_after_signing(void **state) {
        struct vr_signature s;
        size_t len;
        unsigned char *blob = make_sig("alpha", H1, true, &len);

        replace_once(blob, len, H1, H2);
        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        assert_string_equal(s.root_hash, H2);
        assert_verify_fails(&s, -EKEYREJECTED, "signature of root hash " H2 " does not verify with trusted certificate");
        assert_last_error_contains("alpha.crt");
        vr_signature_done(&s);
        free(blob);
}

static void test_not_detached(void **state) {
        struct vr_signature s;
        size_t len;
        char out[600];

        snprintf(out, sizeof(out), "%s/attached.sig", test_tmpdir());
        test_sh("cd %s && printf %%s %s > data && "
                "openssl smime -sign -nodetach -binary -noattr -in data -signer alpha.crt -inkey alpha.key -outform DER -out att.der && "
                "printf '{\"rootHash\":\"%s\",\"signature\":\"%%s\"}' $(openssl base64 -A -in att.der) > %s",
                keys, H1, H1, out);
        unsigned char *blob = test_slurp(out, &len);
        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        assert_verify_fails(&s, -EBADMSG, "signature is not detached");
        vr_signature_done(&s);
        free(blob);
}

/* An unknown digest algorithm fails cleanly (and, under ASan, without a leak). */
static void test_unknown_digest(void **state) {
        static const unsigned char sha256_oid[] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
        struct vr_signature s;
        size_t len;
        unsigned char *blob = make_sig("alpha", H1, false, &len);

        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        unsigned char *oid = memmem(s.pkcs7, s.pkcs7_len, sha256_oid, sizeof(sha256_oid));
        assert_non_null(oid);
        oid[sizeof(sha256_oid) - 1] = 0x7f;
        assert_verify_fails(&s, -EKEYREJECTED, "does not verify with any of the 3 trusted certificates");
        vr_signature_done(&s);
        free(blob);
}

static void test_signature_not_pkcs7(void **state) {
        struct vr_signature s;
        assert_int_equal(parse_str("{\"rootHash\":\"" H1 "\",\"signature\":\"aGVsbG8=\"}", &s), 0);
        assert_int_equal(s.pkcs7_len, 5);
        assert_memory_equal(s.pkcs7, "hello", 5);
        assert_verify_fails(&s, -EBADMSG, "signature is not a DER PKCS#7 structure");
        vr_signature_done(&s);
}

static void test_extra_fields_ignored(void **state) {
        struct vr_signature s;
        assert_int_equal(parse_str("{\"future\":{\"x\":[1,2]},\"rootHash\":\"" H1 "\",\"signature\":\"aGk=\",\"n\":null}", &s), 0);
        assert_string_equal(s.root_hash, H1);
        assert_false(s.has_fingerprint);
        assert_int_equal(s.pkcs7_len, 2);
        assert_memory_equal(s.pkcs7, "hi", 2);
        assert_string_equal(s.pkcs7_base64, "aGk=");
        vr_signature_done(&s);

        /* Whitespace inside the base64 text is allowed (systemd allows it) and dropped. */
        assert_int_equal(parse_str("{\"rootHash\":\"" H1 "\",\"signature\":\"aGVs\\nbG8=\"}\n", &s), 0);
        assert_int_equal(s.pkcs7_len, 5);
        assert_string_equal(s.pkcs7_base64, "aGVsbG8=");
        vr_signature_done(&s);
}

static void test_malformed_json(void **state) {
        assert_parse_fails("{\"rootHash\": \"ab", "JSON text is truncated");
        assert_parse_fails("{\"rootHash\": }", "is not valid JSON");
        assert_parse_fails("{\"rootHash\":\"" H1 "\",\"signature\":\"aGk=\",}", "is not valid JSON");
        assert_parse_fails("{\"rootHash\":\"" H1 "\",\"signature\":\"aGk=\"} x", "is not valid JSON: unexpected character at offset");
        assert_parse_fails("{\"rootHash\":\"" H1 "\",\"signature\":\"aGk=\"}{}", "is not valid JSON");
        assert_parse_fails("{\"rootHash\":\"\xff\"}", "invalid utf-8");
}

static void test_not_an_object(void **state) {
        assert_parse_fails("[\"" H1 "\"]", "JSON top level is a array, not a JSON object");
        assert_parse_fails("\"" H1 "\"", "JSON top level is a string, not a JSON object");
}

static void test_missing_fields(void **state) {
        struct vr_signature s;
        vr_log_clear_last_error();
        assert_int_equal(parse_str("{\"signature\":\"aGk=\"}", &s), -EBADMSG);
        assert_string_equal(vr_log_last_error(), WHAT ": field \"rootHash\" is missing");
        assert_parse_fails("{\"rootHash\":\"" H1 "\"}", "field \"signature\" is missing");
        assert_parse_fails("{\"roothash\":\"" H1 "\",\"signature\":\"aGk=\"}", "field \"rootHash\" is missing");
}

static void test_bad_root_hash(void **state) {
        assert_parse_fails("{\"rootHash\":\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\",\"signature\":\"aGk=\"}",
                           "field \"rootHash\" is not lowercase hex: character 0x41 at position 10");
        assert_parse_fails("{\"rootHash\":\"g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"signature\":\"aGk=\"}",
                           "field \"rootHash\" is not lowercase hex: character 0x67 at position 0");
        assert_parse_fails("{\"rootHash\":\"0123456789abcdef\",\"signature\":\"aGk=\"}",
                           "field \"rootHash\" is 16 characters long, expected an even number of hex digits from 40 to 128");
        assert_parse_fails("{\"rootHash\":\"" H1 "0\",\"signature\":\"aGk=\"}", "field \"rootHash\" is 65 characters long");
        assert_parse_fails("{\"rootHash\":42,\"signature\":\"aGk=\"}", "field \"rootHash\" is not a string");
        assert_parse_fails("{\"rootHash\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\\u0000\",\"signature\":\"aGk=\"}",
                           "field \"rootHash\" contains a NUL character");
}

static void test_bad_base64(void **state) {
        assert_parse_fails("{\"rootHash\":\"" H1 "\",\"signature\":\"aG$k\"}",
                           "field \"signature\" is not valid base64: unexpected character 0x24 at position 2");
        assert_parse_fails("{\"rootHash\":\"" H1 "\",\"signature\":\"aGk\"}",
                           "field \"signature\" is not valid base64: length 3 is not a multiple of 4");
        assert_parse_fails("{\"rootHash\":\"" H1 "\",\"signature\":\"aG=k\"}",
                           "field \"signature\" is not valid base64: data after padding");
        assert_parse_fails("{\"rootHash\":\"" H1 "\",\"signature\":\"a===\"}", "field \"signature\" is not valid base64: 3 padding characters");
        assert_parse_fails("{\"rootHash\":\"" H1 "\",\"signature\":\"\"}", "field \"signature\" is empty");
        assert_parse_fails("{\"rootHash\":\"" H1 "\",\"signature\":[\"aGk=\"]}", "field \"signature\" is not a string");
}

static void test_bad_fingerprint(void **state) {
        assert_parse_fails("{\"rootHash\":\"" H1 "\",\"signature\":\"aGk=\",\"certificateFingerprint\":\"" H1 "0\"}",
                           "field \"certificateFingerprint\" is not 64 hex digits");
        assert_parse_fails("{\"rootHash\":\"" H1 "\",\"signature\":\"aGk=\",\"certificateFingerprint\":\"x123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
                           "field \"certificateFingerprint\" is not 64 hex digits");
        assert_parse_fails("{\"rootHash\":\"" H1 "\",\"signature\":\"aGk=\",\"certificateFingerprint\":1}",
                           "field \"certificateFingerprint\" is not a string");
}

static void test_non_nul_after_json(void **state) {
        static const char json[] = "{\"rootHash\":\"" H1 "\",\"signature\":\"aGk=\"}";
        struct vr_signature s;
        unsigned char *buf = calloc(1, 8192);

        assert_non_null(buf);
        memcpy(buf, json, strlen(json));
        assert_int_equal(vr_signature_parse(buf, 8192, WHAT, &s), 0);
        vr_signature_done(&s);

        buf[5000] = 'x';
        vr_log_clear_last_error();
        assert_int_equal(vr_signature_parse(buf, 8192, WHAT, &s), -EBADMSG);
        assert_last_error_contains(WHAT ": non-NUL byte 0x78 at offset 5000 after the JSON text");
        free(buf);
}

static void test_size_limits(void **state) {
        struct vr_signature s;
        unsigned char *buf = calloc(1, VR_SIGNATURE_MAX_SIZE + 1);

        assert_non_null(buf);
        vr_log_clear_last_error();
        assert_int_equal(vr_signature_parse(buf, VR_SIGNATURE_MAX_SIZE + 1, WHAT, &s), -EFBIG);
        assert_last_error_contains(WHAT ": signature partition is 4194305 bytes, more than the 4194304 allowed");
        /* Exactly 4 MiB is allowed in size (and then found to hold no JSON). */
        vr_log_clear_last_error();
        assert_int_equal(vr_signature_parse(buf, VR_SIGNATURE_MAX_SIZE, WHAT, &s), -EBADMSG);
        assert_last_error_contains("contains no JSON text");
        free(buf);

        /* The region's size is checked before anything is read (fd -1 would fail). */
        struct vr_region big = { .fd = -1, .offset = 0, .size = 1ull << 40, .what = WHAT };
        vr_log_clear_last_error();
        assert_int_equal(vr_signature_read(&big, &s), -EFBIG);
        assert_last_error_contains(WHAT ": signature partition is 1099511627776 bytes");
}

static void test_empty_region(void **state) {
        struct vr_signature s;
        struct vr_region r = test_region_from_bytes("", 0, WHAT);

        vr_log_clear_last_error();
        assert_int_equal(vr_signature_read(&r, &s), -EBADMSG);
        assert_last_error_contains(WHAT ": signature partition is empty");
        close(r.fd);

        /* A region longer than its file is a read error naming it. */
        r = test_region_from_bytes("{}", 2, WHAT);
        r.size = 4096;
        vr_log_clear_last_error();
        assert_int_equal(vr_signature_read(&r, &s), -EIO);
        assert_last_error_contains(WHAT ": failed to read 4096 bytes");
        close(r.fd);
}

/* Runs vr_trust_store_load with stderr captured; the caller frees the text. */
static char *load_capturing_stderr(const char *dir, struct vr_trust_store *ts) {
        char path[600];
        size_t len;

        snprintf(path, sizeof(path), "%s/stderr.txt", test_tmpdir());
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(saved >= 0 && fd >= 0);
        assert_true(dup2(fd, STDERR_FILENO) >= 0);
        close(fd);
        int r = vr_trust_store_load(dir, ts);
        fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        assert_int_equal(r, 0);
        return (char *) test_slurp(path, &len);
}

static void test_store_reads_only_crt(void **state) {
        struct vr_trust_store ts;
        struct vr_signature s;
        char dir[600];
        size_t len;

        snprintf(dir, sizeof(dir), "%s/only-crt", test_tmpdir());
        test_sh("mkdir -p %s/dir.crt && cp %s/alpha.crt %s/alpha.pem && cp %s/alpha.crt %s/alpha.crt.bak && "
                "cp %s/alpha.crt %s/alpha.CRT && cp %s/alpha.crt %s/.hidden.crt",
                dir, keys, dir, keys, dir, keys, dir, keys, dir);
        char *err = load_capturing_stderr(dir, &ts);
        assert_non_null(strstr(err, "dir.crt is not a regular file, ignoring"));
        free(err);
        assert_int_equal(ts.n, 0);

        unsigned char *blob = make_sig("alpha", H1, true, &len);
        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        vr_log_clear_last_error();
        assert_int_equal(vr_signature_verify(&s, &ts, WHAT, NULL), -ENOKEY);
        assert_last_error_contains(WHAT ": no trusted certificates in ");
        assert_last_error_contains("/only-crt");
        vr_trust_store_done(&ts);

        test_sh("cp %s/alpha.crt %s/", keys, dir);
        assert_int_equal(vr_trust_store_load(dir, &ts), 0);
        assert_int_equal(ts.n, 1);
        assert_int_equal(vr_signature_verify(&s, &ts, WHAT, NULL), 0);
        vr_trust_store_done(&ts);
        vr_signature_done(&s);
        free(blob);
}

static void test_store_skips_garbage_crt(void **state) {
        struct vr_trust_store ts;
        struct vr_signature s;
        char dir[600], *signer = NULL, expected[700];
        size_t len;

        snprintf(dir, sizeof(dir), "%s/garbage", test_tmpdir());
        test_sh("mkdir -p %s && echo 'not a certificate' > %s/00-garbage.crt && : > %s/01-empty.crt && cp %s/alpha.crt %s/",
                dir, dir, dir, keys, dir);
        char *err = load_capturing_stderr(dir, &ts);
        assert_non_null(strstr(err, "/garbage/00-garbage.crt is not a PEM X.509 certificate, ignoring"));
        assert_non_null(strstr(err, "/garbage/01-empty.crt is not a PEM X.509 certificate, ignoring"));
        free(err);
        assert_int_equal(ts.n, 1);

        unsigned char *blob = make_sig("alpha", H1, false, &len);
        assert_int_equal(vr_signature_parse(blob, len, WHAT, &s), 0);
        assert_int_equal(vr_signature_verify(&s, &ts, WHAT, &signer), 0);
        snprintf(expected, sizeof(expected), "CN=alpha (%s/alpha.crt)", dir);
        assert_string_equal(signer, expected);
        free(signer);
        vr_trust_store_done(&ts);
        vr_signature_done(&s);
        free(blob);
}

static void test_store_missing_dir(void **state) {
        struct vr_trust_store ts;
        char dir[600];

        snprintf(dir, sizeof(dir), "%s/does-not-exist", test_tmpdir());
        assert_int_equal(vr_trust_store_load(dir, &ts), 0);
        assert_int_equal(ts.n, 0);
        assert_string_equal(ts.where, dir);
        vr_trust_store_done(&ts);
}

/* The four directories under a temporary root, by systemd's conf-files rules. */
static void test_store_default_dirs(void **state) {
        struct vr_trust_store ts;
        const char *path, *subject;
        char root[600], expected[700];

        snprintf(root, sizeof(root), "%s/confroot", test_tmpdir());
        test_sh("R=%s && mkdir -p $R/etc/verity.d $R/run/verity.d $R/usr/local/lib/verity.d $R/usr/lib/verity.d", root);
        /* 10-a: /etc wins over /usr/lib; 20-b: /run wins over /usr/local/lib and /usr/lib;
         * 30-c: only in /usr/lib; 40-d: masked in /run by a /dev/null symlink; 50-e: masked
         * in /usr/local/lib by an empty file; 05-z: sorts first although it is in /usr/lib.
         * Neither a directory nor a dangling symlink claims a name (systemd's CONF_FILES_REGULAR). */
        test_sh("R=%s K=%s && cp $K/alpha.crt $R/etc/verity.d/10-a.crt && cp $K/rogue.crt $R/usr/lib/verity.d/10-a.crt && "
                "cp $K/beta.crt $R/run/verity.d/20-b.crt && cp $K/rogue.crt $R/usr/local/lib/verity.d/20-b.crt && "
                "cp $K/rogue.crt $R/usr/lib/verity.d/20-b.crt && cp $K/gamma.crt $R/usr/lib/verity.d/30-c.crt && "
                "ln -s /dev/null $R/run/verity.d/40-d.crt && cp $K/rogue.crt $R/usr/lib/verity.d/40-d.crt && "
                ": > $R/usr/local/lib/verity.d/50-e.crt && cp $K/rogue.crt $R/usr/lib/verity.d/50-e.crt && "
                "cp $K/rogue.crt $R/etc/verity.d/50-e.crt.disabled && cp $K/impostor.crt $R/usr/lib/verity.d/05-z.crt && "
                "mkdir $R/etc/verity.d/30-c.crt && ln -s /nonexistent $R/run/verity.d/30-c.crt",
                root, keys);
        assert_int_equal(vr_trust_store_load_default(root, &ts), 0);
        snprintf(expected, sizeof(expected), "%s/etc/verity.d, %s/run/verity.d, %s/usr/local/lib/verity.d, %s/usr/lib/verity.d",
                 root, root, root, root);
        assert_string_equal(ts.where, expected);
        assert_int_equal(ts.n, 4);

        static const char *const want[][2] = {
                { "/usr/lib/verity.d/05-z.crt", "CN=alpha" }, /* the impostor, by name order */
                { "/etc/verity.d/10-a.crt", "CN=alpha" },
                { "/run/verity.d/20-b.crt", "CN=beta" },
                { "/usr/lib/verity.d/30-c.crt", "CN=gamma" },
        };
        for (size_t i = 0; i < 4; i++) {
                assert_non_null(vr_trust_store_cert(&ts, i, &path, &subject));
                snprintf(expected, sizeof(expected), "%s%s", root, want[i][0]);
                assert_string_equal(path, expected);
                assert_string_equal(subject, want[i][1]);
        }
        vr_trust_store_done(&ts);

        /* Without the masks and the earlier copies, /usr/lib's six count; with all four
         * directories gone the store is empty and says where it looked. */
        test_sh("rm -rf %s/etc %s/run %s/usr/local", root, root, root);
        assert_int_equal(vr_trust_store_load_default(root, &ts), 0);
        assert_int_equal(ts.n, 6);
        vr_trust_store_done(&ts);
        test_sh("rm -rf %s/usr", root);
        assert_int_equal(vr_trust_store_load_default(root, &ts), 0);
        assert_int_equal(ts.n, 0);
        assert_non_null(strstr(ts.where, "/run/verity.d, "));
        vr_trust_store_done(&ts);
}

/* What the initrd and inspect without --certs load, and name in their messages. */
static void test_store_default_root_is_slash(void **state) {
        struct vr_trust_store ts;

        assert_int_equal(vr_trust_store_load_default(NULL, &ts), 0);
        assert_string_equal(ts.where, VR_CERT_DIRS_TEXT);
        vr_trust_store_done(&ts);
        assert_int_equal(vr_trust_store_load_default("/", &ts), 0);
        assert_string_equal(ts.where, VR_CERT_DIRS_TEXT);
        vr_trust_store_done(&ts);
}

/* The signature partition's byte range, from sfdisk's JSON dump of the image. */
static void find_sig_partition(const char *json_path, uint64_t *ret_offset, uint64_t *ret_size) {
        json_object *root = json_object_from_file(json_path), *table, *parts;
        assert_non_null(root);
        assert_true(json_object_object_get_ex(root, "partitiontable", &table));
        assert_true(json_object_object_get_ex(table, "partitions", &parts));
        json_object *ss;
        uint64_t sector = json_object_object_get_ex(table, "sectorsize", &ss) ? (uint64_t) json_object_get_int64(ss) : 512;
        for (size_t i = 0; i < json_object_array_length(parts); i++) {
                json_object *p = json_object_array_get_idx(parts, i), *type, *start, *size;
                assert_true(json_object_object_get_ex(p, "type", &type));
                if (strcasecmp(json_object_get_string(type), SIG_TYPE) != 0)
                        continue;
                assert_true(json_object_object_get_ex(p, "start", &start));
                assert_true(json_object_object_get_ex(p, "size", &size));
                *ret_offset = (uint64_t) json_object_get_int64(start) * sector;
                *ret_size = (uint64_t) json_object_get_int64(size) * sector;
                json_object_put(root);
                return;
        }
        fail_msg("no root-verity-sig partition in %s", json_path);
}

/* Cross-check with the real writer. systemd-repart before v254 has no --offline and
 * always computes the verity hash through a loop device (partition_format_verity_hash),
 * which unit tests must not use: then this is skipped. */
static void test_systemd_repart_image(void **state) {
        const char *t = test_tmpdir();
        struct vr_trust_store ts;
        struct vr_signature s;
        uint64_t offset = 0, size = 0;
        char img[600], json[600], *signer = NULL;

        if (system("systemd-repart --help 2>/dev/null | grep -q -- --offline") != 0) {
                print_message("SKIP: this systemd-repart has no --offline and needs loop devices for Verity=hash\n");
                skip();
        }
        test_sh("mkdir -p %s/repart.d %s/rootdir/etc %s/repart-trust && echo hello > %s/rootdir/etc/hello && "
                "cp %s/alpha.crt %s/repart-trust/",
                t, t, t, t, keys, t);
        test_sh("printf '[Partition]\\nType=root\\nFormat=ext4\\nCopyFiles=/\\nVerity=data\\nVerityMatchKey=root\\n' > %s/repart.d/10-root.conf && "
                "printf '[Partition]\\nType=root-verity\\nVerity=hash\\nVerityMatchKey=root\\n' > %s/repart.d/11-verity.conf && "
                "printf '[Partition]\\nType=root-verity-sig\\nVerity=signature\\nVerityMatchKey=root\\n' > %s/repart.d/12-sig.conf",
                t, t, t);
        snprintf(img, sizeof(img), "%s/repart.img", t);
        snprintf(json, sizeof(json), "%s/repart.json", t);
        test_sh("systemd-repart --offline=yes --definitions=%s/repart.d --root=%s/rootdir --empty=create --size=auto "
                "--dry-run=no --private-key=%s/alpha.key --certificate=%s/alpha.crt %s >/dev/null 2>&1 && "
                "sfdisk -J %s > %s",
                t, t, keys, keys, img, img, json);
        find_sig_partition(json, &offset, &size);

        int fd = open(img, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct vr_region r = { .fd = fd, .offset = offset, .size = size, .what = WHAT };
        assert_int_equal(vr_signature_read(&r, &s), 0);
        close(fd);
        assert_true(s.has_fingerprint);
        assert_int_equal(strlen(s.root_hash), 64);

        char dir[600];
        snprintf(dir, sizeof(dir), "%s/repart-trust", t);
        assert_int_equal(vr_trust_store_load(dir, &ts), 0);
        assert_int_equal(vr_signature_verify(&s, &ts, WHAT, &signer), 0);
        assert_non_null(strstr(signer, "CN=alpha"));
        free(signer);
        vr_trust_store_done(&ts);
        vr_signature_done(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_with_fingerprint),
                cmocka_unit_test(test_valid_without_fingerprint_tries_each),
                cmocka_unit_test(test_valid_ecdsa_p256),
                cmocka_unit_test(test_valid_rsa4096),
                cmocka_unit_test(test_fingerprint_uppercase_accepted),
                cmocka_unit_test(test_unknown_fingerprint),
                cmocka_unit_test(test_untrusted_without_fingerprint),
                cmocka_unit_test(test_untrusted_key_with_trusted_fingerprint),
                cmocka_unit_test(test_root_hash_edited_after_signing),
                cmocka_unit_test(test_not_detached),
                cmocka_unit_test(test_unknown_digest),
                cmocka_unit_test(test_signature_not_pkcs7),
                cmocka_unit_test(test_extra_fields_ignored),
                cmocka_unit_test(test_malformed_json),
                cmocka_unit_test(test_not_an_object),
                cmocka_unit_test(test_missing_fields),
                cmocka_unit_test(test_bad_root_hash),
                cmocka_unit_test(test_bad_base64),
                cmocka_unit_test(test_bad_fingerprint),
                cmocka_unit_test(test_non_nul_after_json),
                cmocka_unit_test(test_size_limits),
                cmocka_unit_test(test_empty_region),
                cmocka_unit_test(test_store_reads_only_crt),
                cmocka_unit_test(test_store_skips_garbage_crt),
                cmocka_unit_test(test_store_missing_dir),
                cmocka_unit_test(test_store_default_dirs),
                cmocka_unit_test(test_store_default_root_is_slash),
                cmocka_unit_test(test_systemd_repart_image),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
