/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small shared helpers: cleanup attributes and errno-style logging. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p) { free(*(void **) p); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void closedirp(DIR **d) { if (*d) closedir(*d); }
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

enum vr_log_level { VR_LOG_ERR = 3, VR_LOG_WARNING = 4, VR_LOG_NOTICE = 5, VR_LOG_INFO = 6, VR_LOG_DEBUG = 7 };

/* Messages go to stderr prefixed with the program name; in the initrd stderr
 * is the journal or the console, which is what users read on failure. */
void vr_log_set_level(int level);
void vr_log_set_prefix(const char *prefix);
/* Captures the last error message, so tests and the --json output can show it. */
const char *vr_log_last_error(void);
void vr_log_clear_last_error(void);
/* Nestable: between begin and end nothing is printed, errors are still recorded. */
void vr_log_capture_begin(void);
void vr_log_capture_end(void);
int vr_log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);

/* All return -abs(error) (or 0 where error is 0), so callers can write
 * `return log_error_errno(r, "...")`. %m is not supported: pass strerror(). */
#define log_full_errno(level, error, ...) vr_log_internal((level), (error), __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(VR_LOG_ERR, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(VR_LOG_WARNING, (error), __VA_ARGS__)
#define log_error(...) (void) log_full_errno(VR_LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) (void) log_full_errno(VR_LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) (void) log_full_errno(VR_LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) (void) log_full_errno(VR_LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) (void) log_full_errno(VR_LOG_DEBUG, 0, __VA_ARGS__)

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
static inline bool streq_ptr(const char *a, const char *b) {
        return a && b ? streq(a, b) : a == b;
}
/* Returns the rest of s after prefix, or NULL. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/* For vr_escape: the value is shown between double quotes, so a backslash and a double
 * quote are escaped too (\\ and \"): a label can neither fake an escape nor end its quotes. */
#define VR_ESCAPE_QUOTED 1u

/* Copies s into buf (len bytes, always NUL-terminated) with every byte that is not printable
 * ASCII (control characters, DEL, bytes >= 0x80) written as \xNN: bytes from a disk must not
 * drive the terminal or start a line of their own. Without VR_ESCAPE_QUOTED a string that is
 * already escaped comes out unchanged. What does not fit is cut at an escape boundary and
 * marked with "...". Returns buf. */
char *vr_escape(const char *s, unsigned flags, char *buf, size_t len);
/* The same, allocated; NULL when out of memory. */
char *vr_escape_alloc(const char *s, unsigned flags);

/* Hex helpers shared by root hashes, salts and fingerprints.
 * vr_hex_decode accepts upper and lower case; returns -EINVAL on any other character
 * or odd length. vr_hex_encode writes lowercase, NUL-terminated (2*len+1 bytes). */
int vr_hex_decode(const char *hex, size_t hexlen, unsigned char *out, size_t outlen);
void vr_hex_encode(const unsigned char *in, size_t len, char *out);

/* Writing a file whole or not at all (readers in other units see the old or the new
 * one): vr_atomic_begin() opens PATH.tmp (NULL, logged, on failure), vr_atomic_commit()
 * flushes and closes it and renames it over PATH, or removes it; logs a failure. */
FILE *vr_atomic_begin(const char *path, char **ret_tmp);
int vr_atomic_commit(FILE *f, char *tmp, const char *path);

/* Reads exactly len bytes at offset; -EIO on short read (names nothing: callers log). */
int vr_pread_full(int fd, void *buf, size_t len, uint64_t offset);

/* CLOCK_MONOTONIC in microseconds: for deadlines and intervals. */
uint64_t vr_now_usec(void);
