/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <time.h>

#include "util.h"

static int log_max_level = VR_LOG_INFO;
static const char *log_prefix = "verity-root";
static char last_error[512];
static int capture_depth;

/* While capturing, messages are kept (errors as the last error) but not printed:
 * the caller turns them into one verdict line of its own. */
void vr_log_capture_begin(void) { capture_depth++; }
void vr_log_capture_end(void) { capture_depth--; }

void vr_log_set_level(int level) { log_max_level = level; }
void vr_log_set_prefix(const char *prefix) { log_prefix = prefix; }
const char *vr_log_last_error(void) { return last_error; }
void vr_log_clear_last_error(void) { last_error[0] = 0; }

int vr_log_internal(int level, int error, const char *fmt, ...) {
        char buf[sizeof(last_error)];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);

        /* Messages carry labels, paths and fields read from disks: no byte of them may reach
         * the console raw. Escaped text is printable ASCII, so this keeps it as it is. */
        char line[sizeof(last_error)];
        vr_escape(buf, 0, line, sizeof(line));
        if (level <= VR_LOG_ERR)
                memcpy(last_error, line, sizeof(line));
        /* In the initrd our units send stderr to the journal and the console. */
        if (level <= log_max_level && capture_depth == 0)
                fprintf(stderr, "%s: %s\n", log_prefix, line);

        error = error < 0 ? -error : error;
        return -error;
}

/* Writes the escaped form of c to out; returns its length (1, 2 or 4). */
static size_t escape_byte(unsigned char c, unsigned flags, char out[static 4]) {
        static const char digits[] = "0123456789abcdef";

        if ((flags & VR_ESCAPE_QUOTED) && (c == '\\' || c == '"')) {
                out[0] = '\\';
                out[1] = (char) c;
                return 2;
        }
        if (c >= 0x20 && c < 0x7f) {
                out[0] = (char) c;
                return 1;
        }
        out[0] = '\\';
        out[1] = 'x';
        out[2] = digits[c >> 4];
        out[3] = digits[c & 15];
        return 4;
}

static size_t escaped_length(const char *s, unsigned flags) {
        char e[4];
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                n += escape_byte(*p, flags, e);
        return n;
}

char *vr_escape(const char *s, unsigned flags, char *buf, size_t len) {
        static const char cut[] = "...";
        const unsigned char *p = (const unsigned char *) s;
        size_t room, n = 0;

        if (len == 0)
                return buf;
        room = len - 1;
        /* A cut string keeps room for the mark, so nobody takes it for the whole value. */
        bool mark = escaped_length(s, flags) > room && room >= strlen(cut);
        if (mark)
                room -= strlen(cut);
        for (; *p; p++) {
                char e[4];
                size_t k = escape_byte(*p, flags, e);
                if (n + k > room)
                        break;
                memcpy(buf + n, e, k);
                n += k;
        }
        if (mark) {
                memcpy(buf + n, cut, strlen(cut));
                n += strlen(cut);
        }
        buf[n] = 0;
        return buf;
}

char *vr_escape_alloc(const char *s, unsigned flags) {
        size_t len = escaped_length(s, flags) + 1;
        char *buf = malloc(len);
        return buf ? vr_escape(s, flags, buf, len) : NULL;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int vr_hex_decode(const char *hex, size_t hexlen, unsigned char *out, size_t outlen) {
        if (hexlen % 2 != 0 || hexlen / 2 != outlen)
                return -EINVAL;
        for (size_t i = 0; i < outlen; i++) {
                int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                out[i] = (unsigned char) (hi << 4 | lo);
        }
        return 0;
}

void vr_hex_encode(const unsigned char *in, size_t len, char *out) {
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < len; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * len] = 0;
}

int vr_pread_full(int fd, void *buf, size_t len, uint64_t offset) {
        unsigned char *p = buf;
        while (len > 0) {
                ssize_t n = pread(fd, p, len, (off_t) offset);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t) n;
                offset += (uint64_t) n;
        }
        return 0;
}

FILE *vr_atomic_begin(const char *path, char **ret_tmp) {
        FILE *f;
        if (asprintf(ret_tmp, "%s.tmp", path) < 0) {
                *ret_tmp = NULL;
                log_error("out of memory");
                return NULL;
        }
        f = fopen(*ret_tmp, "we");
        if (!f) {
                log_error("cannot write %s: %s", *ret_tmp, strerror(errno));
                free(*ret_tmp);
                *ret_tmp = NULL;
        }
        return f;
}

int vr_atomic_commit(FILE *f, char *tmp, const char *path) {
        int r = fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        free(tmp);
        return r < 0 ? log_error_errno(r, "cannot write %s: %s", path, strerror(-r)) : 0;
}

uint64_t vr_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}
