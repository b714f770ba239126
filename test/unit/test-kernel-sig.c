/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rd.verity.kernel_sig=: what the kernel is found able to check (dm-verity's parameters),
 * the keyrings a refusal names (/proc/keys), and what is handed, refused or only said. */
#include "testlib.h"

#include "kernel-sig.h"

static struct vr_partition data = { .node = (char *) "/dev/vda2", .disk = (char *) "/dev/vda", .partno = 2 };
static struct vr_partition hash = { .node = (char *) "/dev/vda3" };

static int setup(void **state) {
        vr_log_clear_last_error();
        return 0;
}

/* One command line at a time (vr_cmdline_parse adds to what c holds). */
static int parse(const char *line, struct vr_cmdline *c) {
        vr_cmdline_done(c);
        vr_cmdline_init(c);
        return vr_cmdline_parse(line, c);
}

static void write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_probe(void **state) {
        struct vr_kernel_sig_support k;
        char dir[512], path[600];

        /* No parameter: a kernel built without CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG. */
        snprintf(dir, sizeof(dir), "%s/params-none", test_tmpdir());
        assert_int_equal(mkdir(dir, 0755), 0);
        vr_kernel_sig_probe(dir, &k);
        assert_false(k.can_check);
        assert_false(k.requires);
        assert_true(k.release[0] != 0);

        snprintf(dir, sizeof(dir), "%s/params", test_tmpdir());
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(path, sizeof(path), "%s/require_signatures", dir);
        write_text(path, "N\n");
        vr_kernel_sig_probe(dir, &k);
        assert_true(k.can_check);
        assert_false(k.requires);
        write_text(path, "Y\n");
        vr_kernel_sig_probe(dir, &k);
        assert_true(k.can_check);
        assert_true(k.requires);
}

/* As /proc/keys shows them to root on Debian 13's kernel under OVMF, plus keys that are
 * not keyrings and a keyring whose name has a colon. */
static void test_keyrings(void **state) {
        char path[512], buf[256];

        snprintf(path, sizeof(path), "%s/keys", test_tmpdir());
        write_text(path,
                   "0b7a6c1e I------     1 perm 1f0b0000     0     0 keyring   .builtin_trusted_keys: 1\n"
                   "1d1e5d2a I------     1 perm 1f0f0000     0     0 keyring   .secondary_trusted_keys: 2\n"
                   "2a5c3b4d I------     1 perm 1f030000     0     0 asymmetric Debian Secure Boot CA: "
                   "6ccece7e4c6c0d1f6149f3dd27dfcc5cbb419ea1 X509.rsa a7c8f2b1 []\n"
                   "3c4d5e6f I------     1 perm 1f0b0000     0     0 keyring   .platform: empty\n"
                   "4d5e6f70 I--Q---     1 perm 3f030000     0     0 keyring   _uid_ses.0: 1\n"
                   "5e6f7081 I------     1 perm 1f0b0000     0     0 keyring   odd:name: 3\n");
        vr_kernel_keyrings_describe(path, buf, sizeof(buf));
        assert_string_equal(buf, ".builtin_trusted_keys: 1 key, .secondary_trusted_keys: 2 keys, "
                                 ".machine (MOK): none, .platform (UEFI db): empty");

        /* No /proc/keys (CONFIG_KEYS off): every keyring is missing, still one string. */
        snprintf(path, sizeof(path), "%s/no-such-keys", test_tmpdir());
        vr_kernel_keyrings_describe(path, buf, sizeof(buf));
        assert_string_equal(buf, ".builtin_trusted_keys: none, .secondary_trusted_keys: none, "
                                 ".machine (MOK): none, .platform (UEFI db): none");

        /* A short buffer is cut, never overrun. */
        char small[16];
        vr_kernel_keyrings_describe(path, small, sizeof(small));
        assert_int_equal(strlen(small), sizeof(small) - 1);
}

static struct vr_verdict signed_verdict(void) {
        return (struct vr_verdict) { .data = &data, .hash = &hash, .source = VR_HASH_SOURCE_SIGNATURE,
                                     .signature_base64 = (char *) "MIIB" };
}

static void test_decide_handed(void **state) {
        struct vr_kernel_sig_support can = { .can_check = true, .release = "6.12.0" };
        struct vr_verdict v = signed_verdict();
        struct vr_cmdline c;
        bool hand = true;

        vr_cmdline_init(&c);
        /* Nothing asked, the kernel does not insist: the initrd's check only. */
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &can, &hand), 0);
        assert_false(hand);
        assert_int_equal(parse("rd.verity.kernel_sig=1", &c), 0);
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &can, &hand), 0);
        assert_true(hand);
        assert_int_equal(parse("rd.verity.kernel_sig=required", &c), 0);
        assert_int_equal(c.kernel_sig, VR_KERNEL_SIG_REQUIRED);
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &can, &hand), 0);
        assert_true(hand);
        assert_int_equal(parse("systemd.allow_userspace_verity=0", &c), 0);
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &can, &hand), 0);
        assert_true(hand);

        /* dm_verity.require_signatures=1: a signature is always handed, or the table fails. */
        can.requires = true;
        assert_int_equal(parse("", &c), 0);
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &can, &hand), 0);
        assert_true(hand);
        vr_cmdline_done(&c);
}

static void test_decide_kernel_cannot(void **state) {
        struct vr_kernel_sig_support cannot = { .release = "6.1.0-test" };
        struct vr_verdict v = signed_verdict();
        struct vr_cmdline c;
        bool hand = true;

        vr_cmdline_init(&c);
        assert_int_equal(parse("rd.verity.kernel_sig=required", &c), 0);
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &cannot, &hand), -EOPNOTSUPP);
        assert_false(hand);
        assert_last_error_contains("refusing to boot the root file system on partition 2 ");
        assert_last_error_contains("rd.verity.kernel_sig=required, but kernel 6.1.0-test cannot check root hash "
                                   "signatures (built without CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG)");
        assert_int_equal(parse("systemd.allow_userspace_verity=0", &c), 0);
        assert_int_equal(vr_kernel_sig_decide("usr", &v, &c, &cannot, &hand), -EOPNOTSUPP);
        assert_last_error_contains("the usr file system");
        assert_last_error_contains("systemd.allow_userspace_verity=0, but kernel 6.1.0-test cannot check");

        /* =1 is a wish: the initrd's check stands alone, and one line says so. */
        vr_log_clear_last_error();
        hand = true;
        assert_int_equal(parse("rd.verity.kernel_sig=1", &c), 0);
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &cannot, &hand), 0);
        assert_false(hand);
        assert_string_equal(vr_log_last_error(), ""); /* a warning, not an error */
        vr_cmdline_done(&c);
}

static void test_decide_nothing_to_hand(void **state) {
        struct vr_kernel_sig_support can = { .can_check = true, .release = "6.12.0" };
        struct vr_verdict v = signed_verdict();
        struct vr_cmdline c;
        bool hand = true;

        vr_cmdline_init(&c);
        /* roothash=: trusted by the command line; required wants a signature the kernel checks. */
        v.source = VR_HASH_SOURCE_CMDLINE;
        v.signature_base64 = NULL;
        assert_int_equal(parse("rd.verity.kernel_sig=1", &c), 0);
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &can, &hand), 0);
        assert_false(hand);
        assert_int_equal(parse("systemd.allow_userspace_verity=0", &c), 0);
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &can, &hand), 0);
        assert_int_equal(parse("rd.verity.kernel_sig=required", &c), 0);
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &can, &hand), -EKEYREJECTED);
        assert_last_error_contains("rd.verity.kernel_sig=required, but its root hash came from the kernel command "
                                   "line, with no signature for the kernel to check");
        assert_int_equal(parse("", &c), 0);
        can.requires = true;
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &can, &hand), -EKEYREJECTED);
        assert_last_error_contains("kernel 6.12.0 opens only signed dm-verity devices "
                                   "(dm_verity.require_signatures=1), but its root hash came from the kernel command line");
        can.requires = false;

        /* A Kiwi signature: verified by the initrd, not a PKCS#7 for the kernel. */
        v.source = VR_HASH_SOURCE_SIGNATURE;
        assert_int_equal(parse("rd.verity.kernel_sig=1", &c), 0);
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &can, &hand), 0);
        assert_false(hand);
        assert_int_equal(parse("rd.verity.kernel_sig=required", &c), 0);
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &can, &hand), -EKEYREJECTED);
        assert_last_error_contains("its signature is not a PKCS#7 one the kernel can check");
        assert_int_equal(parse("systemd.allow_userspace_verity=0", &c), 0);
        assert_int_equal(vr_kernel_sig_decide("root", &v, &c, &can, &hand), -EKEYREJECTED);
        assert_last_error_contains("refusing to boot the root file system: systemd.allow_userspace_verity=0 ");
        assert_last_error_contains("partition 2 ");
        assert_last_error_contains(" on /dev/vda ");
        vr_cmdline_done(&c);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_probe),
                T(test_keyrings),
                T(test_decide_handed),
                T(test_decide_kernel_cannot),
                T(test_decide_nothing_to_hand),
        };
        vr_log_set_prefix("test-kernel-sig");
        vr_log_set_level(VR_LOG_DEBUG - 1);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
