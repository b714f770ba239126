/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "testlib.h"

#include <libcryptsetup.h>
#include <sys/sysmacros.h>

#include "activate.h"
#include "dmtable.h"

/* A table as the kernel prints it for a device systemd-veritysetup opened. */
#define DIGEST "8a7f2c0de5b3f1a49c6e0d2b7a4f918e3c5d6b7a8f9e0d1c2b3a4f5e6d7c8b9a"
#define OTHER_DIGEST "0a7f2c0de5b3f1a49c6e0d2b7a4f918e3c5d6b7a8f9e0d1c2b3a4f5e6d7c8b9a"
#define SALT "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc"
#define KERNEL_LINE "1 254:2 254:3 4096 4096 2560 1 sha256 " DIGEST " " SALT

static struct vr_verity_table verified(void) {
        struct vr_verity_table t = {
                .version = 1,
                .data_dev = makedev(254, 2),
                .hash_dev = makedev(254, 3),
                .data_block_size = 4096,
                .hash_block_size = 4096,
                .data_blocks = 2560,
                .hash_start = 1,
        };
        strcpy(t.algorithm, "sha256");
        strcpy(t.digest, DIGEST);
        strcpy(t.salt, SALT);
        return t;
}

static int setup(void **state) {
        vr_log_clear_last_error();
        return 0;
}

static void test_parse_kernel_line(void **state) {
        struct vr_verity_table t, want = verified();
        char why[256];
        assert_int_equal(vr_verity_table_parse(KERNEL_LINE, &t), 0);
        assert_null(vr_verity_table_diff(&want, &t, why, sizeof(why)));
}

static void test_parse_options(void **state) {
        struct vr_verity_table t;
        assert_int_equal(vr_verity_table_parse(KERNEL_LINE " 4 restart_on_corruption root_hash_sig_key_desc "
                                               "cryptsetup:x-root ignore_zero_blocks", &t), 0);
        assert_int_equal(t.options,
                         VR_TABLE_RESTART_ON_CORRUPTION | VR_TABLE_ROOT_HASH_SIG | VR_TABLE_IGNORE_ZERO_BLOCKS);
        assert_int_equal(vr_verity_table_parse(KERNEL_LINE " 8 use_fec_from_device 254:4 fec_roots 2 fec_blocks 10 "
                                               "fec_start 0", &t), 0);
        assert_int_equal(t.options, VR_TABLE_FEC);
}

/* An option nobody can vouch for, a short option list, a stray word: not a table we trust. */
static void test_parse_refuses(void **state) {
        static const char *const bad[] = {
                KERNEL_LINE " 1 try_verify_in_tasklet",
                KERNEL_LINE " 2 restart_on_corruption",
                KERNEL_LINE " 1 root_hash_sig_key_desc",
                KERNEL_LINE " 0 extra",
                "1 254:2 254:3 4096 4096 2560 1 sha256 " DIGEST,
                "2 254:2 254:3 4096 4096 2560 1 sha256 " DIGEST " -",
                "1 vda2 254:3 4096 4096 2560 1 sha256 " DIGEST " -",
                "1 254:2 254:3 4096 4096 -1 1 sha256 " DIGEST " -",
                "1 254:2 254:3 4096 4096 2560 1 sha256 " DIGEST "XY -",
                "1 254:2 254:3 4096 4096 2560 1 sha256 " DIGEST " salt",
                "",
        };
        struct vr_verity_table t;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (vr_verity_table_parse(bad[i], &t) != -EINVAL)
                        fail_msg("accepted: \"%s\"", bad[i]);
        }
}

static void test_format_roundtrip(void **state) {
        struct vr_verity_table want = verified(), back;
        char line[1024], why[256];
        want.options = VR_TABLE_PANIC_ON_CORRUPTION | VR_TABLE_ROOT_HASH_SIG | VR_TABLE_FEC;
        assert_int_equal(vr_verity_table_format(&want, line, sizeof(line)), 0);
        assert_int_equal(vr_verity_table_parse(line, &back), 0);
        assert_null(vr_verity_table_diff(&want, &back, why, sizeof(why)));
        strcpy(want.salt, "-");
        want.options = 0;
        assert_int_equal(vr_verity_table_format(&want, line, sizeof(line)), 0);
        assert_string_equal(line, "1 254:2 254:3 4096 4096 2560 1 sha256 " DIGEST " -");
}

/* Each field on its own: a device that differs in any of them is not the verified one,
 * and the message names that field with both values. */
static void test_diff_each_field(void **state) {
        static const struct {
                const char *line, *expect;
        } cases[] = {
                { "1 254:2 254:3 4096 4096 2560 1 sha256 " OTHER_DIGEST " " SALT, "root hash is 0a7f" },
                { "1 254:9 254:3 4096 4096 2560 1 sha256 " DIGEST " " SALT, "data device is 254:9, not the verified 254:2" },
                { "1 254:2 254:9 4096 4096 2560 1 sha256 " DIGEST " " SALT, "hash device is 254:9, not the verified 254:3" },
                { "1 254:2 254:3 4096 4096 2560 0 sha256 " DIGEST " " SALT, "hash start block is 0, not the verified 1" },
                { "1 254:2 254:3 4096 4096 2559 1 sha256 " DIGEST " " SALT, "number of data blocks is 2559, not the verified 2560" },
                { "1 254:2 254:3 512 4096 2560 1 sha256 " DIGEST " " SALT, "data block size is 512, not the verified 4096" },
                { "1 254:2 254:3 4096 1024 2560 1 sha256 " DIGEST " " SALT, "hash block size is 1024, not the verified 4096" },
                { "1 254:2 254:3 4096 4096 2560 1 sha512 " DIGEST " " SALT, "hash algorithm is sha512, not the verified sha256" },
                { "1 254:2 254:3 4096 4096 2560 1 sha256 " DIGEST " -", "salt is -, not the verified c0ffee" },
                { "0 254:2 254:3 4096 4096 2560 1 sha256 " DIGEST " " SALT, "hash format version is 0, not the verified 1" },
                { KERNEL_LINE " 1 ignore_corruption", "options are ignore_corruption, not the verified none" },
                { KERNEL_LINE " 1 check_at_most_once", "options are check_at_most_once, not the verified none" },
        };
        struct vr_verity_table want = verified(), got;
        char why[512];
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(vr_verity_table_parse(cases[i].line, &got), 0);
                const char *d = vr_verity_table_diff(&want, &got, why, sizeof(why));
                if (!d || !strstr(d, cases[i].expect))
                        fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, d ?: "(equal)", cases[i].expect);
        }
}

static void test_save_load(void **state) {
        struct vr_verity_table want = verified(), back;
        char path[512], why[256];
        want.options = VR_TABLE_RESTART_ON_CORRUPTION;
        snprintf(path, sizeof(path), "%s/root.table", test_tmpdir());
        assert_int_equal(vr_verity_table_save(path, &want), 0);
        assert_int_equal(vr_verity_table_load(path, &back), 0);
        assert_null(vr_verity_table_diff(&want, &back, why, sizeof(why)));
        unlink(path);
        assert_true(vr_verity_table_load(path, &back) < 0);
}

/* The expected table follows the verdict and the options the command line asks for. */
static void test_expected_from_verdict(void **state) {
        struct vr_partition data = { .node = (char *) "/dev/vda2", .devnum = makedev(254, 2) };
        struct vr_partition hash = { .node = (char *) "/dev/vda3", .devnum = makedev(254, 3) };
        struct vr_verdict v = { .data = &data, .hash = &hash };
        struct vr_cmdline c;
        struct vr_verity_table t, want = verified();
        char why[256];

        v.params = (struct vr_verity_params) { .hash_type = 1, .data_block_size = 4096, .hash_block_size = 4096,
                                               .data_blocks = 2560, .salt_size = 32 };
        strcpy(v.params.algorithm, "sha256");
        assert_int_equal(vr_hex_decode(SALT, 64, v.params.salt, 32), 0);
        strcpy(v.roothash_hex, DIGEST);
        vr_cmdline_init(&c);
        c.corruption = VR_CORRUPTION_PANIC;
        assert_int_equal(vr_expected_table(&v, &c, "check-at-most-once,hash-offset=0", &t), 0);
        want.options = VR_TABLE_PANIC_ON_CORRUPTION | VR_TABLE_CHECK_AT_MOST_ONCE;
        assert_null(vr_verity_table_diff(&want, &t, why, sizeof(why)));

        /* Appended: one partition, the tree after the superblock at the end of the data. */
        v.hash = &data;
        v.params.hash_offset = 2560 * 4096;
        c.corruption = VR_CORRUPTION_EIO;
        assert_int_equal(vr_expected_table(&v, &c, NULL, &t), 0);
        assert_int_equal(t.hash_dev, makedev(254, 2));
        assert_int_equal(t.hash_start, 2561);

        data.devnum = 0;
        assert_true(vr_expected_table(&v, &c, NULL, &t) < 0);
}

/* systemd.allow_userspace_verity=0: the signature goes to the kernel (root_hash_sig_key_desc
 * in the table). What is refused is tested with vr_kernel_sig_decide (test-kernel-sig). */
static void test_userspace_verity_off(void **state) {
        struct vr_partition data = { .node = (char *) "/dev/vda2", .disk = (char *) "/dev/vda", .partno = 2,
                                     .devnum = makedev(254, 2) };
        struct vr_partition hash = { .node = (char *) "/dev/vda3", .devnum = makedev(254, 3) };
        struct vr_verdict v = { .data = &data, .hash = &hash, .source = VR_HASH_SOURCE_SIGNATURE };
        struct vr_cmdline c;
        struct vr_verity_table t;

        v.params = (struct vr_verity_params) { .hash_type = 1, .data_block_size = 4096, .hash_block_size = 4096,
                                               .data_blocks = 2560 };
        strcpy(v.params.algorithm, "sha256");
        strcpy(v.roothash_hex, DIGEST);
        vr_cmdline_init(&c);
        v.signature_base64 = (char *) "MIIB";
        assert_int_equal(vr_expected_table(&v, &c, NULL, &t), 0);
        assert_int_equal(t.options, 0);

        c.userspace_verity = false;
        assert_int_equal(vr_expected_table(&v, &c, NULL, &t), 0);
        assert_int_equal(t.options, VR_TABLE_ROOT_HASH_SIG);
}

/* rd.verity.corruption=restart+error|panic+error: the kernel's table carries the error
 * option beside the corruption one, libcryptsetup opens it (no hand-off), and a kernel
 * before dm-verity 1.10 or a libcryptsetup before 2.8 is refused in one line. */
static void test_error_as_corruption(void **state) {
        struct vr_partition data = { .node = (char *) "/dev/vda2", .devnum = makedev(254, 2) };
        struct vr_partition hash = { .node = (char *) "/dev/vda3", .devnum = makedev(254, 3) };
        struct vr_verdict v = { .data = &data, .hash = &hash };
        static const unsigned old_kernel[3] = { 1, 9, 0 }, new_kernel[3] = { 1, 10, 0 }, next[3] = { 2, 0, 0 };
        struct vr_verity_table t, got;
        struct vr_cmdline c;
        char why[256];

        v.params = (struct vr_verity_params) { .hash_type = 1, .data_block_size = 4096, .hash_block_size = 4096,
                                               .data_blocks = 2560 };
        strcpy(v.params.algorithm, "sha256");
        strcpy(v.roothash_hex, DIGEST);
        vr_cmdline_init(&c);
        assert_int_equal(vr_cmdline_parse("rd.verity.corruption=restart+error", &c), 0);
        assert_int_equal(vr_expected_table(&v, &c, NULL, &t), 0);
        assert_int_equal(t.options, VR_TABLE_RESTART_ON_CORRUPTION | VR_TABLE_RESTART_ON_ERROR);
        assert_false(vr_handoff_possible(&v, &c));

        /* As the kernel prints a device opened with it, and without the error option. */
        assert_int_equal(vr_verity_table_parse("1 254:2 254:3 4096 4096 2560 1 sha256 " DIGEST
                                               " - 2 restart_on_corruption restart_on_error", &got), 0);
        assert_null(vr_verity_table_diff(&t, &got, why, sizeof(why)));
        assert_int_equal(vr_verity_table_parse("1 254:2 254:3 4096 4096 2560 1 sha256 " DIGEST
                                               " - 1 restart_on_corruption", &got), 0);
        assert_non_null(vr_verity_table_diff(&t, &got, why, sizeof(why)));

        assert_int_equal(vr_cmdline_parse("rd.verity.corruption=panic+error", &c), 0);
        assert_int_equal(vr_expected_table(&v, &c, NULL, &t), 0);
        assert_int_equal(t.options, VR_TABLE_PANIC_ON_CORRUPTION | VR_TABLE_PANIC_ON_ERROR);

        assert_int_equal(vr_check_error_as_corruption(&c, old_kernel), -EOPNOTSUPP);
        assert_last_error_contains("rd.verity.corruption=panic+error needs dm-verity 1.10 (Linux 6.12) or newer; kernel ");
        assert_last_error_contains(" has dm-verity 1.9.0");
#ifdef CRYPT_ACTIVATE_ERROR_AS_CORRUPTION
        assert_int_equal(vr_check_error_as_corruption(&c, new_kernel), 0);
        assert_int_equal(vr_check_error_as_corruption(&c, next), 0);
#else
        vr_log_clear_last_error();
        assert_int_equal(vr_check_error_as_corruption(&c, new_kernel), -EOPNOTSUPP);
        assert_last_error_contains("rd.verity.corruption=panic+error needs libcryptsetup 2.8 or newer");
        assert_int_equal(vr_check_error_as_corruption(&c, next), -EOPNOTSUPP);
#endif

        /* Without "+error" nothing changes, whatever the kernel. */
        assert_int_equal(vr_cmdline_parse("rd.verity.corruption=panic", &c), 0);
        assert_int_equal(vr_check_error_as_corruption(&c, old_kernel), 0);
        assert_true(vr_handoff_possible(&v, &c));
        assert_int_equal(vr_expected_table(&v, &c, NULL, &t), 0);
        assert_int_equal(t.options, VR_TABLE_PANIC_ON_CORRUPTION);
        vr_cmdline_done(&c);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_parse_kernel_line),
                T(test_parse_options),
                T(test_parse_refuses),
                T(test_format_roundtrip),
                T(test_diff_each_field),
                T(test_save_load),
                T(test_expected_from_verdict),
                T(test_userspace_verity_off),
                T(test_error_as_corruption),
        };
        vr_log_set_prefix("test-dmtable");
        vr_log_set_level(VR_LOG_DEBUG - 1);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
