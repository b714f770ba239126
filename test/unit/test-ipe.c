/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The IPE policy text `verity-root ipe-policy` prints, and what the initrd reads from a
 * signed policy before it hands it to the kernel (its name). Signed policies are made with
 * the openssl command that dracut.verity-root(7) documents. */
#include "testlib.h"

#include "ipe.h"

#define H1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static char dir[512];

static int group_setup(void **state) {
        snprintf(dir, sizeof(dir), "%s/ipe", test_tmpdir());
        test_sh("mkdir -p %s && test/lib/mkcert.sh %s signer rsa2048", dir, dir);
        return 0;
}

static int group_teardown(void **state) {
        test_sh("rm -rf %s", test_tmpdir());
        return 0;
}

/* text signed into dir/NAME.p7s (detached: without -nodetach); returns the DER. */
static unsigned char *sign(const char *name, const char *text, bool detached, size_t *ret_len) {
        char path[600];
        snprintf(path, sizeof(path), "%s/%s.pol", dir, name);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        test_sh("openssl smime -sign %s -binary -noattr -outform der -md sha256 -in %s/%s.pol "
                "-signer %s/signer.crt -inkey %s/signer.key -out %s/%s.p7s",
                detached ? "" : "-nodetach", dir, name, dir, dir, dir, name);
        snprintf(path, sizeof(path), "%s/%s.p7s", dir, name);
        return test_slurp(path, ret_len);
}

static void test_policy_root(void **state) {
        _cleanup_free_ char *text = NULL;
        struct vr_ipe_policy_spec spec = {
                .name = "verity-root", .version = "1.0.0",
                .hashes = { { "root", "sha256", H1 } }, .n_hashes = 1,
        };

        assert_int_equal(vr_ipe_policy_text(&spec, &text), 0);
        assert_string_equal(text,
                            "policy_name=verity-root policy_version=1.0.0\n"
                            "# Written by verity-root ipe-policy: execute only from the verified volumes below.\n"
                            "DEFAULT action=ALLOW\n"
                            "DEFAULT op=EXECUTE action=DENY\n"
                            "# The initramfs (switch-root empties it).\n"
                            "op=EXECUTE boot_verified=TRUE action=ALLOW\n"
                            "# The verified root.\n"
                            "op=EXECUTE dmverity_roothash=sha256:" H1 " action=ALLOW\n");
}

static void test_policy_usr_kernel_sig(void **state) {
        _cleanup_free_ char *text = NULL;
        struct vr_ipe_policy_spec spec = {
                .name = "site.policy_2", .version = "65535.0.7",
                .hashes = { { "root", "sha256", H1 }, { "usr", "sha512", H2 } }, .n_hashes = 2,
                .kernel_sig = true,
        };

        assert_int_equal(vr_ipe_policy_text(&spec, &text), 0);
        assert_non_null(strstr(text, "policy_name=site.policy_2 policy_version=65535.0.7\n"));
        assert_non_null(strstr(text, "# The verified root.\nop=EXECUTE dmverity_roothash=sha256:" H1 " action=ALLOW\n"
                                     "# The verified usr.\nop=EXECUTE dmverity_roothash=sha512:" H2 " action=ALLOW\n"));
        assert_non_null(strstr(text, "\nop=EXECUTE dmverity_signature=TRUE action=ALLOW\n"));
        /* Only the kernel's signature check, no root hash: still a policy that boots. */
        spec.n_hashes = 0;
        free(text);
        text = NULL;
        assert_int_equal(vr_ipe_policy_text(&spec, &text), 0);
        assert_null(strstr(text, "dmverity_roothash"));
}

static void test_policy_invalid(void **state) {
        char *text = NULL;
        struct vr_ipe_policy_spec spec = {
                .name = "verity-root", .version = "1.0.0",
                .hashes = { { "root", "sha256", H1 } }, .n_hashes = 1,
        };
        const char *bad_names[] = { "", "a b", "a/b", "a#b", "..", "policy\n" };
        const char *bad_versions[] = { "1", "1.0", "1.0.0.0", "65536.0.0", "1..0", "1.0.x", "-1.0.0", "" };

        for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
                spec.name = bad_names[i];
                vr_log_clear_last_error();
                assert_int_equal(vr_ipe_policy_text(&spec, &text), -EINVAL);
                assert_last_error_contains("IPE policy name");
        }
        spec.name = "verity-root";
        for (size_t i = 0; i < ELEMENTSOF(bad_versions); i++) {
                spec.version = bad_versions[i];
                assert_false(vr_ipe_version_valid(bad_versions[i]));
                assert_int_equal(vr_ipe_policy_text(&spec, &text), -EINVAL);
        }
        spec.version = "0.0.0";
        spec.hashes[0].hex = "0123ABCD";
        vr_log_clear_last_error();
        assert_int_equal(vr_ipe_policy_text(&spec, &text), -EINVAL);
        assert_last_error_contains("the root root hash \"sha256:0123ABCD\"");
        spec.n_hashes = 0;
        vr_log_clear_last_error();
        assert_int_equal(vr_ipe_policy_text(&spec, &text), -EINVAL);
        assert_last_error_contains("executes nothing");
        assert_null(text);
}

static void test_policy_name(void **state) {
        char *name = NULL;
        const char *ok = "# comment first\n\n  policy_name=abc policy_version=1.2.3 # trailing\r\nDEFAULT action=ALLOW\n";
        const char *no_header = "DEFAULT action=ALLOW\npolicy_name=abc policy_version=1.2.3\n";
        const char *bad = "policy_name=a/b policy_version=1.2.3\n";

        assert_int_equal(vr_ipe_policy_name(ok, strlen(ok), "p", &name), 0);
        assert_string_equal(name, "abc");
        free(name);
        vr_log_clear_last_error();
        assert_int_equal(vr_ipe_policy_name(no_header, strlen(no_header), "p", &name), -EBADMSG);
        assert_last_error_contains("p: the signed content is no IPE policy");
        vr_log_clear_last_error();
        assert_int_equal(vr_ipe_policy_name(bad, strlen(bad), "p", &name), -EBADMSG);
        assert_last_error_contains("\"a/b\"");
}

/* What the initrd reads from the .p7s the documented command makes: the policy, byte for byte. */
static void test_signed_content(void **state) {
        _cleanup_free_ char *text = NULL, *content = NULL, *name = NULL;
        _cleanup_free_ unsigned char *der = NULL;
        struct vr_ipe_policy_spec spec = {
                .name = "signed-test", .version = "1.0.0",
                .hashes = { { "root", "sha256", H1 } }, .n_hashes = 1,
        };
        size_t len, content_len;

        assert_int_equal(vr_ipe_policy_text(&spec, &text), 0);
        der = sign("attached", text, false, &len);
        assert_int_equal(vr_ipe_signed_content(der, len, "attached.p7s", &content, &content_len), 0);
        assert_int_equal(content_len, strlen(text));
        assert_string_equal(content, text);
        assert_int_equal(vr_ipe_policy_name(content, content_len, "attached.p7s", &name), 0);
        assert_string_equal(name, "signed-test");
}

static void test_signed_content_refused(void **state) {
        _cleanup_free_ unsigned char *detached = NULL;
        char *content = NULL;
        size_t len, content_len;
        const char plain[] = "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\n";

        detached = sign("detached", plain, true, &len);
        vr_log_clear_last_error();
        assert_int_equal(vr_ipe_signed_content(detached, len, "detached.p7s", &content, &content_len), -EBADMSG);
        assert_last_error_contains("detached.p7s holds a detached signature");
        vr_log_clear_last_error();
        assert_int_equal(vr_ipe_signed_content(plain, sizeof(plain) - 1, "plain.pol", &content, &content_len), -EBADMSG);
        assert_last_error_contains("plain.pol is not one DER PKCS#7 signed message");
        /* Trailing bytes after the message: not one message. */
        _cleanup_free_ unsigned char *padded = NULL;
        size_t plen;
        padded = sign("padded", plain, false, &plen);
        unsigned char *grown = realloc(padded, plen + 1);
        assert_non_null(grown);
        padded = grown;
        padded[plen] = 0;
        assert_int_equal(vr_ipe_signed_content(padded, plen + 1, "padded.p7s", &content, &content_len), -EBADMSG);
        assert_null(content);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_policy_root),
                cmocka_unit_test(test_policy_usr_kernel_sig),
                cmocka_unit_test(test_policy_invalid),
                cmocka_unit_test(test_policy_name),
                cmocka_unit_test(test_signed_content),
                cmocka_unit_test(test_signed_content_refused),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
