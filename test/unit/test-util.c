/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vr_escape and the logger: no byte from a disk reaches the console unescaped. */
#include "testlib.h"

/* True when every byte of s is printable ASCII. */
static bool printable(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p >= 0x7f)
                        return false;
        return true;
}

static void test_escape_bytes(void **state) {
        char buf[128];

        assert_string_equal(vr_escape("root-x86-64 A_1.2", 0, buf, sizeof(buf)), "root-x86-64 A_1.2");
        assert_string_equal(vr_escape("\x1b[31mred\n\xff\x7f\t\x01", 0, buf, sizeof(buf)),
                            "\\x1b[31mred\\x0a\\xff\\x7f\\x09\\x01");
        /* UTF-8 too: strict, one \xNN per byte. */
        assert_string_equal(vr_escape("\xc3\xa9", 0, buf, sizeof(buf)), "\\xc3\\xa9");
        assert_string_equal(vr_escape("", 0, buf, sizeof(buf)), "");
}

static void test_escape_quoted(void **state) {
        char buf[128];

        assert_string_equal(vr_escape("a\\x1b\"b", 0, buf, sizeof(buf)), "a\\x1b\"b");
        assert_string_equal(vr_escape("a\\x1b\"b", VR_ESCAPE_QUOTED, buf, sizeof(buf)), "a\\\\x1b\\\"b");
        /* A real ESC and the four characters \x1b typed into a label look different. */
        char real[32];
        vr_escape("\x1b", VR_ESCAPE_QUOTED, real, sizeof(real));
        assert_string_not_equal(real, vr_escape("\\x1b", VR_ESCAPE_QUOTED, buf, sizeof(buf)));
}

/* The logger escapes what vr_partition_describe and refusals escaped already: unchanged. */
static void test_escape_idempotent(void **state) {
        char once[128], twice[128];

        vr_escape("x\x1b\\\"\n\xff", VR_ESCAPE_QUOTED, once, sizeof(once));
        assert_true(printable(once));
        assert_string_equal(vr_escape(once, 0, twice, sizeof(twice)), once);
}

static void test_escape_cut(void **state) {
        char buf[16];

        /* Never half an escape, and the cut is marked. */
        assert_string_equal(vr_escape("\x1b\x1b\x1b", 0, buf, 10), "\\x1b...");
        assert_string_equal(vr_escape("abcdefghijklmnopqrstuvwxyz", 0, buf, sizeof(buf)), "abcdefghijkl...");
        assert_string_equal(vr_escape("abcdef", 0, buf, 7), "abcdef");
        assert_string_equal(vr_escape("abcdefg", 0, buf, 7), "abc...");
        /* Too small for the mark: cut at an escape boundary all the same. */
        assert_string_equal(vr_escape("a\x1b", 0, buf, 3), "a");
        assert_string_equal(vr_escape("abc", 0, buf, 1), "");
        buf[0] = 'x';
        assert_ptr_equal(vr_escape("abc", 0, buf, 0), buf);
        assert_int_equal(buf[0], 'x');
}

static void test_escape_alloc(void **state) {
        _cleanup_free_ char *e = vr_escape_alloc("\xff\xfe\"\\label\x1b", VR_ESCAPE_QUOTED);

        assert_non_null(e);
        assert_string_equal(e, "\\xff\\xfe\\\"\\\\label\\x1b");
}

/* Every log line, printed and kept as the last error, is escaped whatever the call site. */
static void test_log_escapes(void **state) {
        char path[512], line[512] = "";
        int saved = dup(STDERR_FILENO);

        snprintf(path, sizeof(path), "%s/stderr", test_tmpdir());
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0 && saved >= 0);
        assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
        vr_log_set_level(VR_LOG_ERR);
        assert_int_equal(log_error_errno(EBADMSG, "label \"%s\" on %s", "\x1b]0;owned\a\n\xff", "disk.img"), -EBADMSG);
        fflush(stderr);
        vr_log_set_level(VR_LOG_ERR - 1);
        assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
        close(saved);

        const char *want = "label \"\\x1b]0;owned\\x07\\x0a\\xff\" on disk.img";
        assert_string_equal(vr_log_last_error(), want);
        assert_int_equal(pread(fd, line, sizeof(line) - 1, 0) > 0, true);
        close(fd);
        assert_string_equal(line, "verity-root: label \"\\x1b]0;owned\\x07\\x0a\\xff\" on disk.img\n");
}

static int teardown(void **state) {
        test_sh("rm -rf %s", test_tmpdir());
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escape_bytes),
                cmocka_unit_test(test_escape_quoted),
                cmocka_unit_test(test_escape_idempotent),
                cmocka_unit_test(test_escape_cut),
                cmocka_unit_test(test_escape_alloc),
                cmocka_unit_test(test_log_escapes),
        };

        vr_log_set_level(VR_LOG_ERR - 1);
        return cmocka_run_group_tests(tests, NULL, teardown);
}
