/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "testlib.h"

#include "cmdline.h"

static struct vr_cmdline c;

/* Well-formed sha256 root hashes: roothash= and usrhash= are checked at parse time. */
#define HASH_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HASH_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static int setup(void **state) {
        vr_cmdline_init(&c);
        vr_log_clear_last_error();
        return 0;
}

static int teardown(void **state) {
        vr_cmdline_done(&c);
        return 0;
}

/* Warnings are not kept by the logger: run the parse with stderr in a file. */
static char captured[4096];

static int parse_capturing_stderr(const char *line) {
        char path[512];
        int saved, fd, r;
        ssize_t n;

        snprintf(path, sizeof(path), "%s/stderr", test_tmpdir());
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        assert_true(saved >= 0);
        assert_true(dup2(fd, STDERR_FILENO) >= 0);

        r = vr_cmdline_parse(line, &c);

        fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        n = pread(fd, captured, sizeof(captured) - 1, 0);
        assert_true(n >= 0);
        captured[n] = 0;
        close(fd);
        unlink(path);
        return r;
}

static void test_defaults(void **state) {
        assert_int_equal(vr_cmdline_parse("", &c), 0);
        assert_int_equal(c.root_mode, VR_ROOT_UNSET);
        assert_null(c.root);
        assert_int_equal(c.verity, -1);
        assert_null(c.roothash);
        assert_int_equal(c.sig, VR_SIG_OPTIONAL);
        assert_int_equal(c.timeout_sec, VR_DEFAULT_TIMEOUT_SEC);
        assert_int_equal(c.corruption, VR_CORRUPTION_EIO);
        assert_false(c.check_full);
        assert_false(c.kernel_sig);
        assert_true(c.userspace_verity);
}

static void test_plain_keys(void **state) {
        assert_int_equal(vr_cmdline_parse("BOOT_IMAGE=/vmlinuz ro quiet root=/dev/vda2 roothash=" HASH_A " "
                                          "usrhash=" HASH_B " console=ttyS0\n", &c), 0);
        assert_string_equal(c.root, "/dev/vda2");
        assert_string_equal(c.roothash, HASH_A);
        assert_string_equal(c.usrhash, HASH_B);
        assert_int_equal(c.root_mode, VR_ROOT_OTHER);
}

static void test_quoting_value(void **state) {
        assert_int_equal(vr_cmdline_parse("systemd.verity_root_options=\"panic-on-corruption, hash=sha256\" ro",
                                          &c), 0);
        assert_string_equal(c.root_options, "panic-on-corruption, hash=sha256");
}

static void test_quoting_whole_word(void **state) {
        assert_int_equal(vr_cmdline_parse("\"systemd.verity_root_data=/dev/disk/by-label/my root\" x=1", &c), 0);
        assert_string_equal(c.root_data, "/dev/disk/by-label/my root");
}

static void test_quoting_single(void **state) {
        assert_int_equal(vr_cmdline_parse("systemd.verity_usr_options='a b'\tusrhash=" HASH_A, &c), 0);
        assert_string_equal(c.usr_options, "a b");
        assert_string_equal(c.usrhash, HASH_A);
}

static void test_quoting_mid_word(void **state) {
        assert_int_equal(vr_cmdline_parse("root=/dev/\"disk one\"/x", &c), 0);
        assert_string_equal(c.root, "/dev/disk one/x");
}

static void test_quoting_unbalanced(void **state) {
        assert_int_equal(vr_cmdline_parse("roothash=" HASH_A " root=\"/dev/a b roothash=bb", &c), 0);
        /* The open quote swallows the rest of the line into root=. */
        assert_string_equal(c.root, "/dev/a b roothash=bb");
        assert_string_equal(c.roothash, HASH_A);
}

static void test_quote_only(void **state) {
        assert_int_equal(vr_cmdline_parse("\"", &c), 0);
        assert_int_equal(vr_cmdline_parse("\"\" '' =", &c), 0);
        assert_null(c.root);
}

static void test_later_overrides(void **state) {
        assert_int_equal(vr_cmdline_parse("roothash=" HASH_A " root=/dev/sda roothash=" HASH_B " root=gpt-auto "
                                          "rd.verity.sig=off rd.verity.sig=required", &c), 0);
        assert_string_equal(c.roothash, HASH_B);
        assert_string_equal(c.root, "gpt-auto");
        assert_int_equal(c.root_mode, VR_ROOT_AUTO);
        assert_int_equal(c.sig, VR_SIG_REQUIRED);
}

static void test_empty_value_resets(void **state) {
        assert_int_equal(vr_cmdline_parse("roothash=" HASH_A " roothash=", &c), 0);
        assert_null(c.roothash);
}

/* root= and rootfstype= describe someone else's root: a bare one is only noted. */
static void test_bare_root_key_ignored(void **state) {
        assert_int_equal(parse_capturing_stderr("root=/dev/vda1 root rootfstype"), 0);
        assert_string_equal(c.root, "/dev/vda1");
        assert_non_null(strstr(captured, "Missing value for kernel command line key root,"));
        assert_non_null(strstr(captured, "Missing value for kernel command line key rootfstype"));
}

/* line alone on a fresh command line is refused with -EINVAL, and the message names it. */
static void expect_refused(const char *line, const char *message) {
        vr_cmdline_done(&c);
        vr_log_clear_last_error();
        if (vr_cmdline_parse(line, &c) != -EINVAL)
                fail_msg("\"%s\" accepted", line);
        assert_last_error_contains(message);
}

/* A bare key of ours would silently drop what it meant to say. */
static void test_bare_own_keys_invalid(void **state) {
        static const char *const bare[] = {
                "roothash", "usrhash", "systemd.verity_root_data", "rd.systemd.verity_root_hash",
                "systemd.verity_root_options", "systemd.verity_usr_data", "systemd.verity_usr_hash",
                "rd.systemd.verity_usr_options",
        };
        char line[128], message[128];

        for (size_t i = 0; i < ELEMENTSOF(bare); i++) {
                snprintf(line, sizeof(line), "roothash=%s %s", HASH_A, bare[i]);
                snprintf(message, sizeof(message), "Invalid value for %s: \"\"", bare[i]);
                expect_refused(line, message);
        }
}

static void test_hash_invalid(void **state) {
        static const struct {
                const char *line, *message;
        } cases[] = {
                { "roothash=zz", "Invalid value for roothash: \"zz\": 'z' at position 1 is not a hex digit" },
                { "usrhash=abcd", "Invalid value for usrhash: \"abcd\": 4 hex digits" },
                { "roothash=" HASH_A "0", "Invalid value for roothash: \"" HASH_A "0\": 65 hex digits" },
                /* sha1 leaves no room for two PARTUUIDs. */
                { "roothash=0123456789abcdef0123456789abcdef01234567", "40 hex digits (sha1)" },
                { "usrhash=" HASH_A "x" HASH_B, "'x' at position 65" },
                { "roothash=" HASH_A " roothash=-", "Invalid value for roothash: \"-\"" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                expect_refused(cases[i].line, cases[i].message);
}

static void test_hash_sizes(void **state) {
        assert_int_equal(vr_cmdline_parse("roothash=" HASH_A HASH_B, &c), 0);
        assert_int_equal(strlen(c.roothash), 128);
        assert_int_equal(vr_cmdline_parse("usrhash=" HASH_A "0123456789ABCDEF0123456789ABCDEF", &c), 0);
        assert_int_equal(strlen(c.usrhash), 96);
}

/* A value too long to print whole is cut, not dropped from the message. */
static void test_hash_invalid_long_value(void **state) {
        char line[1100];

        memcpy(line, "roothash=", 9);
        memset(line + 9, 'g', 1000);
        line[1009] = 0;
        assert_int_equal(vr_cmdline_parse(line, &c), -EINVAL);
        assert_last_error_contains("Invalid value for roothash: \"gggg");
        assert_last_error_contains("ggg...\"");
}

static void test_parse_twice_accumulates(void **state) {
        assert_int_equal(vr_cmdline_parse("roothash=" HASH_A, &c), 0);
        assert_int_equal(vr_cmdline_parse("root=/dev/mapper/root", &c), 0);
        assert_string_equal(c.roothash, HASH_A);
        assert_int_equal(c.root_mode, VR_ROOT_MAPPER);
}

static void test_rd_prefix_wins_after(void **state) {
        assert_int_equal(vr_cmdline_parse("systemd.verity_root_data=/dev/plain "
                                          "rd.systemd.verity_root_data=/dev/rd", &c), 0);
        assert_string_equal(c.root_data, "/dev/rd");
}

static void test_rd_prefix_wins_before(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.systemd.verity_root_hash=/dev/rd-hash rd.systemd.verity=0 "
                                          "systemd.verity_root_hash=/dev/plain-hash systemd.verity=1", &c), 0);
        assert_string_equal(c.root_hash_device, "/dev/rd-hash");
        assert_int_equal(c.verity, 0);
}

static void test_rd_prefix_every_key(void **state) {
        assert_int_equal(vr_cmdline_parse(
                "rd.systemd.verity_root_data=A systemd.verity_root_data=a "
                "rd.systemd.verity_root_hash=B systemd.verity_root_hash=b "
                "rd.systemd.verity_root_options=C systemd.verity_root_options=c "
                "rd.systemd.verity_usr_data=D systemd.verity_usr_data=d "
                "rd.systemd.verity_usr_hash=E systemd.verity_usr_hash=e "
                "rd.systemd.verity_usr_options=F systemd.verity_usr_options=f", &c), 0);
        assert_string_equal(c.root_data, "A");
        assert_string_equal(c.root_hash_device, "B");
        assert_string_equal(c.root_options, "C");
        assert_string_equal(c.usr_data, "D");
        assert_string_equal(c.usr_hash_device, "E");
        assert_string_equal(c.usr_options, "F");
}

static void test_plain_systemd_keys(void **state) {
        assert_int_equal(vr_cmdline_parse(
                "systemd.verity_root_data=a systemd.verity_root_hash=b systemd.verity_root_options=c "
                "systemd.verity_usr_data=d systemd.verity_usr_hash=e systemd.verity_usr_options=f", &c), 0);
        assert_string_equal(c.root_data, "a");
        assert_string_equal(c.root_hash_device, "b");
        assert_string_equal(c.root_options, "c");
        assert_string_equal(c.usr_data, "d");
        assert_string_equal(c.usr_hash_device, "e");
        assert_string_equal(c.usr_options, "f");
}

static void test_dash_underscore_equivalent(void **state) {
        assert_int_equal(vr_cmdline_parse("systemd.verity-root-data=/dev/x rd.verity.kernel-sig", &c), 0);
        assert_string_equal(c.root_data, "/dev/x");
        assert_true(c.kernel_sig);
}

static void test_verity_booleans(void **state) {
        static const char *const on[] = { "1", "yes", "true", "on", "YES", "True" };
        static const char *const off[] = { "0", "no", "false", "off", "OFF" };
        char line[64];

        for (size_t i = 0; i < ELEMENTSOF(on); i++) {
                snprintf(line, sizeof(line), "systemd.verity=0 systemd.verity=%s", on[i]);
                assert_int_equal(vr_cmdline_parse(line, &c), 0);
                assert_int_equal(c.verity, 1);
        }
        for (size_t i = 0; i < ELEMENTSOF(off); i++) {
                snprintf(line, sizeof(line), "systemd.verity=1 systemd.verity=%s", off[i]);
                assert_int_equal(vr_cmdline_parse(line, &c), 0);
                assert_int_equal(c.verity, 0);
        }
}

static void test_verity_bare_is_true(void **state) {
        assert_int_equal(vr_cmdline_parse("systemd.verity=0 systemd.verity", &c), 0);
        assert_int_equal(c.verity, 1);
}

static void test_verity_invalid(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.systemd.verity=maybe", &c), -EINVAL);
        assert_last_error_contains("rd.systemd.verity");
        assert_last_error_contains("\"maybe\"");
}

/* Every key this module reads: the message names the key and the value. */
static void test_every_key_invalid(void **state) {
        static const struct {
                const char *line, *message;
        } cases[] = {
                { "systemd.verity=maybe", "Invalid value for systemd.verity: \"maybe\"" },
                { "rd.systemd.verity=2", "Invalid value for rd.systemd.verity: \"2\"" },
                /* Overridden by the rd. form, but still a mistake. */
                { "rd.systemd.verity=1 systemd.verity=maybe", "Invalid value for systemd.verity: \"maybe\"" },
                { "rd.systemd.verity_root_data=/dev/a systemd.verity_root_data",
                  "Invalid value for systemd.verity_root_data: \"\"" },
                { "rd.verity.sig=Required", "Invalid value for rd.verity.sig: \"Required\"" },
                { "rd.verity.timeout=0", "Invalid value for rd.verity.timeout: \"0\"" },
                { "rd.verity.corruption=", "Invalid value for rd.verity.corruption: \"\"" },
                { "rd.verity.check=FULL", "Invalid value for rd.verity.check: \"FULL\"" },
                { "rd.verity.kernel-sig=maybe", "Invalid value for rd.verity.kernel-sig: \"maybe\"" },
                { "systemd.allow_userspace_verity=2", "Invalid value for systemd.allow_userspace_verity: \"2\"" },
                { "rd.verity.sigg=required", "Unknown kernel command line key rd.verity.sigg=\"required\"" },
                { "roothash=xyz", "Invalid value for roothash: \"xyz\"" },
                { "usrhash=" HASH_A HASH_A "00", "Invalid value for usrhash: \"" HASH_A },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                expect_refused(cases[i].line, cases[i].message);
}

static void test_sig_values(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.sig=required", &c), 0);
        assert_int_equal(c.sig, VR_SIG_REQUIRED);
        assert_string_equal(vr_sig_policy_to_string(c.sig), "required");
        assert_int_equal(vr_cmdline_parse("rd.verity.sig=off", &c), 0);
        assert_int_equal(c.sig, VR_SIG_OFF);
        assert_string_equal(vr_sig_policy_to_string(c.sig), "off");
        assert_int_equal(vr_cmdline_parse("rd.verity.sig=optional", &c), 0);
        assert_int_equal(c.sig, VR_SIG_OPTIONAL);
        assert_string_equal(vr_sig_policy_to_string(c.sig), "optional");
}

static void test_sig_invalid(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.sig=always", &c), -EINVAL);
        assert_last_error_contains("Invalid value for rd.verity.sig: \"always\"");
}

static void test_sig_bare_invalid(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.sig", &c), -EINVAL);
        assert_last_error_contains("rd.verity.sig");
}

static void test_timeout_values(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.timeout=1", &c), 0);
        assert_int_equal(c.timeout_sec, 1);
        assert_int_equal(vr_cmdline_parse("rd.verity.timeout=4294967295", &c), 0);
        assert_int_equal(c.timeout_sec, 4294967295u);
        assert_int_equal(vr_cmdline_parse("rd.verity.timeout=90", &c), 0);
        assert_int_equal(c.timeout_sec, 90);
}

static void test_timeout_invalid(void **state) {
        static const char *const bad[] = {
                "rd.verity.timeout=0", "rd.verity.timeout=-5", "rd.verity.timeout=10s",
                "rd.verity.timeout=", "rd.verity.timeout", "rd.verity.timeout=+3",
                "rd.verity.timeout=4294967296", "rd.verity.timeout=99999999999999999999999",
                "rd.verity.timeout=\" 5\"",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                vr_log_clear_last_error();
                assert_int_equal(vr_cmdline_parse(bad[i], &c), -EINVAL);
                assert_last_error_contains("Invalid value for rd.verity.timeout");
                assert_int_equal(c.timeout_sec, VR_DEFAULT_TIMEOUT_SEC);
        }
        assert_int_equal(vr_cmdline_parse("rd.verity.timeout=10s", &c), -EINVAL);
        assert_last_error_contains("\"10s\"");
}

static void test_corruption_values(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.corruption=restart", &c), 0);
        assert_int_equal(c.corruption, VR_CORRUPTION_RESTART);
        assert_string_equal(vr_corruption_to_string(c.corruption), "restart");
        assert_int_equal(vr_cmdline_parse("rd.verity.corruption=panic", &c), 0);
        assert_int_equal(c.corruption, VR_CORRUPTION_PANIC);
        assert_string_equal(vr_corruption_to_string(c.corruption), "panic");
        assert_int_equal(vr_cmdline_parse("rd.verity.corruption=eio", &c), 0);
        assert_int_equal(c.corruption, VR_CORRUPTION_EIO);
        assert_string_equal(vr_corruption_to_string(c.corruption), "eio");
        assert_false(c.error_as_corruption);
}

/* "+error": I/O errors count as corruption; the last value wins, with or without it. */
static void test_corruption_error_values(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.corruption=restart+error", &c), 0);
        assert_int_equal(c.corruption, VR_CORRUPTION_RESTART);
        assert_true(c.error_as_corruption);
        assert_int_equal(vr_cmdline_parse("rd.verity.corruption=panic+error", &c), 0);
        assert_int_equal(c.corruption, VR_CORRUPTION_PANIC);
        assert_true(c.error_as_corruption);
        assert_int_equal(vr_cmdline_parse("rd.verity.corruption=restart+error rd.verity.corruption=panic", &c), 0);
        assert_int_equal(c.corruption, VR_CORRUPTION_PANIC);
        assert_false(c.error_as_corruption);
}

static void test_corruption_error_invalid(void **state) {
        static const char *const bad[] = { "eio+error", "restart+", "restart+errors", "+error", "restart+error+error",
                                           "Restart+error", "restart_on_error" };
        char line[128], message[160];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(line, sizeof(line), "rd.verity.corruption=%s", bad[i]);
                snprintf(message, sizeof(message), "Invalid value for rd.verity.corruption: \"%s\" (expected eio, restart, "
                         "panic, restart+error or panic+error)", bad[i]);
                expect_refused(line, message);
        }
}

static void test_corruption_invalid(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.corruption=ignore", &c), -EINVAL);
        assert_last_error_contains("Invalid value for rd.verity.corruption: \"ignore\"");
}

static void test_check_values(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.check=full", &c), 0);
        assert_true(c.check_full);
        assert_int_equal(vr_cmdline_parse("rd.verity.check=none", &c), 0);
        assert_false(c.check_full);
}

static void test_check_invalid(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.check=some", &c), -EINVAL);
        assert_last_error_contains("Invalid value for rd.verity.check: \"some\"");
}

static void test_kernel_sig_values(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.kernel_sig=yes", &c), 0);
        assert_true(c.kernel_sig);
        assert_int_equal(vr_cmdline_parse("rd.verity.kernel_sig=off", &c), 0);
        assert_false(c.kernel_sig);
        assert_int_equal(vr_cmdline_parse("rd.verity.kernel_sig", &c), 0);
        assert_true(c.kernel_sig);
}

static void test_kernel_sig_invalid(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.kernel_sig=2", &c), -EINVAL);
        assert_last_error_contains("Invalid value for rd.verity.kernel_sig: \"2\"");
        assert_last_error_contains("a boolean or required");
        assert_int_equal(vr_cmdline_parse("rd.verity.kernel_sig=Required", &c), -EINVAL);
}

/* The kernel's own key: remembered, never refused (its parser decides). */
static void test_dm_verity_require_signatures(void **state) {
        assert_int_equal(vr_cmdline_parse("dm_verity.require_signatures=1", &c), 0);
        assert_true(c.dm_verity_require_signatures);
        assert_int_equal(vr_cmdline_parse("dm-verity.require_signatures=0", &c), 0);
        assert_false(c.dm_verity_require_signatures);
        assert_int_equal(vr_cmdline_parse("dm_verity.require_signatures=maybe", &c), 0);
        assert_true(c.dm_verity_require_signatures);
}

static void test_kernel_sig_required(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.kernel_sig=required", &c), 0);
        assert_int_equal(c.kernel_sig, VR_KERNEL_SIG_REQUIRED);
        assert_true(vr_cmdline_kernel_sig(&c));
        /* The last one wins, as for every key. */
        assert_int_equal(vr_cmdline_parse("rd.verity.kernel_sig=required rd.verity.kernel_sig=1", &c), 0);
        assert_int_equal(c.kernel_sig, VR_KERNEL_SIG_ON);
        assert_int_equal(vr_cmdline_parse("rd.verity.kernel_sig=1 rd.verity.kernel-sig=required", &c), 0);
        assert_int_equal(c.kernel_sig, VR_KERNEL_SIG_REQUIRED);
}

/* systemd's key: 0 leaves signatures to the kernel, so they are handed to it whatever
 * rd.verity.kernel_sig= says; a bare key is true, the last one wins. */
static void test_allow_userspace_verity(void **state) {
        assert_int_equal(vr_cmdline_parse("", &c), 0);
        assert_true(c.userspace_verity);
        assert_false(vr_cmdline_kernel_sig(&c));
        assert_int_equal(vr_cmdline_parse("systemd.allow_userspace_verity=0", &c), 0);
        assert_false(c.userspace_verity);
        assert_false(c.kernel_sig);
        assert_true(vr_cmdline_kernel_sig(&c));
        assert_int_equal(vr_cmdline_parse("rd.verity.kernel_sig=0", &c), 0);
        assert_true(vr_cmdline_kernel_sig(&c));
        assert_int_equal(vr_cmdline_parse("systemd.allow-userspace-verity=no systemd.allow_userspace_verity", &c), 0);
        assert_true(c.userspace_verity);
        assert_false(vr_cmdline_kernel_sig(&c));
        assert_int_equal(vr_cmdline_parse("systemd.allow_userspace_verity=yes systemd.allow_userspace_verity=off", &c), 0);
        assert_false(c.userspace_verity);
}

static void test_allow_userspace_verity_invalid(void **state) {
        assert_int_equal(vr_cmdline_parse("systemd.allow_userspace_verity=kernel", &c), -EINVAL);
        assert_last_error_contains("Invalid value for systemd.allow_userspace_verity: \"kernel\" (expected a boolean)");
        assert_int_equal(vr_cmdline_parse("systemd.allow_userspace_verity=", &c), -EINVAL);
        assert_last_error_contains("Invalid value for systemd.allow_userspace_verity: \"\"");
}

/* A typo must not drop the policy it meant to set. */
static void test_unknown_own_key_invalid(void **state) {
        assert_int_equal(vr_cmdline_parse("rd.verity.sgi=required roothash=" HASH_A, &c), -EINVAL);
        assert_last_error_contains("Unknown kernel command line key rd.verity.sgi=\"required\"");
        vr_log_clear_last_error();
        assert_int_equal(vr_cmdline_parse("rd.verity.sigg", &c), -EINVAL);
        assert_last_error_contains("rd.verity.sigg=\"\"");
}

static void test_foreign_keys_silent(void **state) {
        assert_int_equal(parse_capturing_stderr("rd.luks.uuid=x rd.verityfoo=1 systemd.verityx=1 quiet"), 0);
        assert_string_equal(captured, "");
        assert_int_equal(c.verity, -1);
}

static void test_root_modes(void **state) {
        static const struct {
                const char *line;
                enum vr_root_mode mode;
        } cases[] = {
                { "quiet", VR_ROOT_UNSET },
                { "root=gpt-auto", VR_ROOT_AUTO },
                { "root=dissect", VR_ROOT_AUTO },
                { "root=/dev/mapper/root", VR_ROOT_MAPPER },
                { "root=/dev/mapper/usr", VR_ROOT_OTHER },
                { "root=PARTUUID=0123", VR_ROOT_OTHER },
                { "root=/dev/sda1 root=", VR_ROOT_UNSET },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                vr_cmdline_done(&c);
                assert_int_equal(vr_cmdline_parse(cases[i].line, &c), 0);
                if (c.root_mode != cases[i].mode)
                        fail_msg("\"%s\": root_mode %d, expected %d", cases[i].line, c.root_mode, cases[i].mode);
        }
}

static void test_wants_root_matrix(void **state) {
        static const struct {
                const char *line;
                bool wants;
        } cases[] = {
                { "", true },
                { "root=gpt-auto", true },
                { "root=dissect", true },
                { "root=/dev/mapper/root", true },
                { "root=/dev/sda1", false },
                { "root=/dev/sda1 roothash=" HASH_A, true },
                { "root=LABEL=x roothash=" HASH_A, true },
                { "systemd.verity=0", false },
                { "systemd.verity=0 roothash=" HASH_A, false },
                { "rd.systemd.verity=0 root=/dev/mapper/root roothash=" HASH_A, false },
                { "systemd.verity=1 root=/dev/sda1", false },
                { "systemd.verity=1 root=/dev/sda1 roothash=" HASH_A, true },
                { "rd.systemd.verity=1 systemd.verity=0 root=gpt-auto", true },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                vr_cmdline_done(&c);
                assert_int_equal(vr_cmdline_parse(cases[i].line, &c), 0);
                if (vr_cmdline_wants_root(&c) != cases[i].wants)
                        fail_msg("\"%s\": wants_root %d, expected %d", cases[i].line, !cases[i].wants,
                                 cases[i].wants);
        }
}

static void test_wants_usr_matrix(void **state) {
        static const struct {
                const char *line;
                bool wants;
        } cases[] = {
                { "", false },
                { "roothash=" HASH_A, false },
                { "usrhash=" HASH_A, true },
                { "systemd.verity_usr_data=/dev/vda3", true },
                { "rd.systemd.verity_usr_data=/dev/vda3", true },
                { "usrhash=" HASH_A " systemd.verity=0", false },
                { "usrhash=" HASH_A " usrhash=", false },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                vr_cmdline_done(&c);
                assert_int_equal(vr_cmdline_parse(cases[i].line, &c), 0);
                if (vr_cmdline_wants_usr(&c) != cases[i].wants)
                        fail_msg("\"%s\": wants_usr %d, expected %d", cases[i].line, !cases[i].wants,
                                 cases[i].wants);
        }
}

/* A /usr without usrhash= is looked for only when nothing on the command line names
 * the root or /usr: anything else is a choice the command line has made. */
static void test_auto_usr_matrix(void **state) {
        static const struct {
                const char *line;
                bool wants;
        } cases[] = {
                { "", true },
                { "quiet rd.verity.sig=required", true },
                { "root=gpt-auto", true },
                { "root=dissect", true },
                { "root=/dev/mapper/root", false },
                { "root=PARTUUID=0b5a0e9e-4d2c-4b1e-9e55-1c8b6c0f3a11", false },
                { "roothash=" HASH_A, false },
                { "usrhash=" HASH_A, false },
                { "systemd.verity_usr_data=/dev/vda3", false },
                { "systemd.verity_root_data=/dev/vda1", false },
                { "systemd.verity=0", false },
                { "mount.usr=dissect", true },
                { "root=dissect mount.usr=gpt-auto", true },
                { "mount.usr=/dev/vda5", false },
                { "mount.usr=PARTUUID=0b5a0e9e-4d2c-4b1e-9e55-1c8b6c0f3a11", false },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                vr_cmdline_done(&c);
                assert_int_equal(vr_cmdline_parse(cases[i].line, &c), 0);
                if (vr_cmdline_auto_usr(&c) != cases[i].wants)
                        fail_msg("\"%s\": auto_usr %d, expected %d", cases[i].line, !cases[i].wants,
                                 cases[i].wants);
        }
}

static void test_read_file(void **state) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/cmdline", test_tmpdir());
        f = fopen(path, "we");
        assert_non_null(f);
        fputs("root=gpt-auto roothash=\"" HASH_A "\" rd.verity.sig=required\n", f);
        fclose(f);

        assert_int_equal(vr_cmdline_read(path, &c), 0);
        unlink(path);

        assert_int_equal(c.root_mode, VR_ROOT_AUTO);
        assert_string_equal(c.roothash, HASH_A);
        assert_int_equal(c.sig, VR_SIG_REQUIRED);
}

static void test_read_explicit_path(void **state) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/cmdline2", test_tmpdir());
        f = fopen(path, "we");
        assert_non_null(f);
        /* Everything after a NUL is not part of the command line. */
        fwrite("usrhash=" HASH_A "\0roothash=34", 1, 8 + 64 + 12, f);
        fclose(f);

        assert_int_equal(vr_cmdline_read(path, &c), 0);
        unlink(path);
        assert_string_equal(c.usrhash, HASH_A);
        assert_null(c.roothash);
}

static void test_read_missing_file(void **state) {
        assert_int_equal(vr_cmdline_read("/nonexistent/cmdline", &c), -ENOENT);
        assert_last_error_contains("/nonexistent/cmdline");
}

/* Production code reads /proc/cmdline only: an environment variable cannot redirect it
 * (a shell initrd turns kernel command line words into environment variables). */
static void test_read_ignores_environment(void **state) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/cmdline-env", test_tmpdir());
        f = fopen(path, "we");
        assert_non_null(f);
        fputs("rd.verity.sig=bogus\n", f);
        fclose(f);

        assert_int_equal(setenv("VERITY_ROOT_CMDLINE", path, 1), 0);
        /* The host's /proc/cmdline has no rd.verity.* keys; the file above would not parse. */
        assert_int_equal(vr_cmdline_read(NULL, &c), 0);
        unsetenv("VERITY_ROOT_CMDLINE");
        unlink(path);
}

/* systemd's keys: checked when parsed (a policy that does not parse must stop the boot),
 * kept as given; an empty policy is systemd's "-". */
static void test_image_policy_filter(void **state) {
        assert_int_equal(vr_cmdline_parse("systemd.image_policy=root=signed:usr=verity systemd.image-filter=root=os-*", &c), 0);
        assert_string_equal(c.image_policy, "root=signed:usr=verity");
        assert_string_equal(c.image_filter, "root=os-*");
        assert_int_equal(vr_cmdline_parse("systemd.image_policy=", &c), 0);
        assert_string_equal(c.image_policy, "-");
        assert_int_equal(vr_cmdline_parse("systemd.image_policy=root=verity+bogus", &c), -EINVAL);
        assert_non_null(strstr(vr_log_last_error(), "systemd.image_policy"));
        assert_int_equal(vr_cmdline_parse("systemd.image_policy=rot=verity", &c), -EINVAL);
        assert_int_equal(vr_cmdline_parse("systemd.image_filter=rot=x", &c), -EINVAL);
        assert_non_null(strstr(vr_log_last_error(), "systemd.image_filter"));
        assert_int_equal(vr_cmdline_parse("systemd.image_filter", &c), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_defaults),
                T(test_plain_keys),
                T(test_quoting_value),
                T(test_quoting_whole_word),
                T(test_quoting_single),
                T(test_quoting_mid_word),
                T(test_quoting_unbalanced),
                T(test_quote_only),
                T(test_later_overrides),
                T(test_empty_value_resets),
                T(test_bare_root_key_ignored),
                T(test_bare_own_keys_invalid),
                T(test_hash_invalid),
                T(test_hash_sizes),
                T(test_hash_invalid_long_value),
                T(test_parse_twice_accumulates),
                T(test_rd_prefix_wins_after),
                T(test_rd_prefix_wins_before),
                T(test_rd_prefix_every_key),
                T(test_plain_systemd_keys),
                T(test_dash_underscore_equivalent),
                T(test_verity_booleans),
                T(test_verity_bare_is_true),
                T(test_verity_invalid),
                T(test_every_key_invalid),
                T(test_sig_values),
                T(test_sig_invalid),
                T(test_sig_bare_invalid),
                T(test_timeout_values),
                T(test_timeout_invalid),
                T(test_corruption_values),
                T(test_corruption_invalid),
                T(test_corruption_error_values),
                T(test_corruption_error_invalid),
                T(test_check_values),
                T(test_check_invalid),
                T(test_kernel_sig_values),
                T(test_kernel_sig_invalid),
                T(test_kernel_sig_required),
                T(test_dm_verity_require_signatures),
                T(test_allow_userspace_verity),
                T(test_allow_userspace_verity_invalid),
                T(test_unknown_own_key_invalid),
                T(test_foreign_keys_silent),
                T(test_root_modes),
                T(test_wants_root_matrix),
                T(test_wants_usr_matrix),
                T(test_auto_usr_matrix),
                T(test_read_file),
                T(test_read_explicit_path),
                T(test_read_missing_file),
                T(test_read_ignores_environment),
                T(test_image_policy_filter),
        };
        vr_log_set_prefix("test-cmdline");
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        rmdir(test_tmpdir());
        return r;
}
