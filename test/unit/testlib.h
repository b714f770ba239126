/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the cmocka unit tests: temp files as regions, running fixture scripts. */
#pragma once

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "partition.h"
#include "util.h"

/* A scratch directory for this test binary, removed by the caller's teardown if wanted. */
static inline const char *test_tmpdir(void) {
        static char dir[256];
        if (!dir[0]) {
                const char *base = getenv("TMPDIR");
                snprintf(dir, sizeof(dir), "%s/vrtest.XXXXXX", base ? base : "/tmp");
                assert_non_null(mkdtemp(dir));
        }
        return dir;
}

/* Writes len bytes to a new file in the scratch dir and returns an open region on it. */
static inline struct vr_region test_region_from_bytes(const void *buf, size_t len, const char *what) {
        static unsigned counter;
        char path[512];
        snprintf(path, sizeof(path), "%s/blob%u", test_tmpdir(), counter++);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        if (len > 0)
                assert_int_equal(write(fd, buf, len), (ssize_t) len);
        return (struct vr_region) { .fd = fd, .offset = 0, .size = len, .what = what };
}

/* An open region over a whole file (fixtures run from the top directory: test/lib/...). */
static inline struct vr_region test_region_from_file(const char *path, const char *what) {
        struct stat st;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        return (struct vr_region) { .fd = fd, .offset = 0, .size = (uint64_t) st.st_size, .what = what };
}

/* The whole file, NUL-terminated (not counted in *ret_len); the caller frees it. */
static inline unsigned char *test_slurp(const char *path, size_t *ret_len) {
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        long n = ftell(f);
        assert_true(n >= 0);
        rewind(f);
        unsigned char *buf = malloc((size_t) n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
        buf[n] = 0;
        fclose(f);
        *ret_len = (size_t) n;
        return buf;
}

/* Runs a shell command (fixture scripts in test/lib), failing the test on non-zero exit. */
static inline void test_sh(const char *fmt, ...) {
        char cmd[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        int r = system(cmd);
        if (r != 0)
                fail_msg("command failed (%d): %s", r, cmd);
}

/* Bytes this process has read so far (every read(2)/pread(2), libblkid's included). */
static inline uint64_t test_bytes_read(void) {
        unsigned long long n = 0;
        FILE *f = fopen("/proc/self/io", "re");
        if (!f)
                fail_msg("cannot open /proc/self/io");
        if (fscanf(f, "rchar: %llu", &n) != 1)
                fail_msg("no rchar in /proc/self/io");
        fclose(f);
        return n;
}

/* The last error logged by the library must contain needle. */
#define assert_last_error_contains(needle)                                                  \
        do {                                                                                \
                const char *_e = vr_log_last_error();                                       \
                if (!strstr(_e, (needle)))                                                  \
                        fail_msg("expected error containing \"%s\", got \"%s\"", (needle), _e); \
        } while (0)
