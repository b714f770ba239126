/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <elf.h>
#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>

#include "sysroot.h"
#include "util.h"
#include "version.h"

#define OS_RELEASE_SIZE_MAX (64u * 1024u)
#define INIT_HEAD_SIZE 4096u

int vr_elf_identify(const void *buf, size_t len, struct vr_elf_id *ret) {
        const unsigned char *ident = buf;
        uint16_t machine;

        if (len < EI_NIDENT || memcmp(ident, ELFMAG, SELFMAG) != 0)
                return -ENOEXEC;
        if (ident[EI_CLASS] != ELFCLASS32 && ident[EI_CLASS] != ELFCLASS64)
                return -ENOEXEC;
        if (ident[EI_DATA] != ELFDATA2LSB && ident[EI_DATA] != ELFDATA2MSB)
                return -ENOEXEC;
        if (len < (ident[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
                return -ENOEXEC;
        /* e_machine sits at the same offset in both classes. */
        memcpy(&machine, ident + offsetof(Elf64_Ehdr, e_machine), sizeof(machine));
        *ret = (struct vr_elf_id) {
                .class = ident[EI_CLASS],
                .data = ident[EI_DATA],
                .machine = ident[EI_DATA] == ELFDATA2LSB ? le16toh(machine) : be16toh(machine),
        };
        return 0;
}

int vr_shebang_interpreter(const char *buf, size_t len, char *ret, size_t size) {
        size_t i = 2, start;

        if (len < 2 || buf[0] != '#' || buf[1] != '!')
                return 0;
        while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
                i++;
        start = i;
        while (i < len && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\0')
                i++;
        /* The kernel reads the line from a bounded buffer too: no newline, no interpreter. */
        if (i == start || i == len || i - start >= size)
                return -ENOEXEC;
        memcpy(ret, buf + start, i - start);
        ret[i - start] = 0;
        return 1;
}

/* One os-release value: quoted ('...' literally, "..." with \-escapes) or bare. */
static int os_release_value(const char *p, const char *end, char *out, size_t size) {
        size_t n = 0;
        char quote = 0;

        for (; p < end && *p != '\n'; p++) {
                char ch = *p;
                if (!quote && (ch == '"' || ch == '\'')) {
                        quote = ch;
                        continue;
                }
                if (quote && ch == quote) {
                        quote = 0;
                        continue;
                }
                if (quote != '\'' && ch == '\\' && p + 1 < end && p[1] != '\n')
                        ch = *++p;
                else if (!quote && (ch == ' ' || ch == '\t'))
                        break;
                if (ch == '\0' || n + 1 >= size)
                        return -EBADMSG;
                out[n++] = ch;
        }
        if (quote)
                return -EBADMSG;
        out[n] = 0;
        return 0;
}

int vr_os_release_image_version(const char *buf, size_t len, char **ret) {
        static const char key[] = "IMAGE_VERSION=";
        const char *p = buf, *end = buf + len;
        char value[256];
        bool found = false;

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                const char *line_end = eol ?: end;
                while (p < line_end && (*p == ' ' || *p == '\t'))
                        p++;
                if ((size_t) (line_end - p) >= sizeof(key) - 1 && memcmp(p, key, sizeof(key) - 1) == 0) {
                        if (os_release_value(p + sizeof(key) - 1, line_end, value, sizeof(value)) < 0)
                                return -EBADMSG;
                        found = true;
                }
                p = eol ? eol + 1 : end;
        }
        if (!found || !value[0]) {
                *ret = NULL;
                return 0;
        }
        if (!vr_version_is_valid(value))
                return -EBADMSG;
        *ret = strdup(value);
        return *ret ? 0 : -ENOMEM;
}

int vr_image_version_check(const char *device, const char *image_version, const char *label_version,
                           const char *label_device, const char *min_version, const char *min_source) {
        if (label_version && !image_version)
                return log_error_errno(EKEYREJECTED, "refusing to boot: %s has no IMAGE_VERSION in its os-release, but "
                                       "its partition label (%s) says %s", device, label_device ?: "?", label_version);
        if (label_version && vr_version_compare(image_version, label_version) != 0)
                return log_error_errno(EKEYREJECTED, "refusing to boot: %s has IMAGE_VERSION=%s but its partition "
                                       "label (%s) says %s", device, image_version, label_device ?: "?", label_version);
        if (min_version && !image_version)
                return log_error_errno(EKEYREJECTED, "refusing to boot: %s has no IMAGE_VERSION in its os-release, "
                                       "but the minimum is %s (%s)", device, min_version, min_source);
        if (min_version && vr_version_compare(image_version, min_version) < 0)
                return log_error_errno(EKEYREJECTED, "refusing to boot: image version %s of %s is older than the "
                                       "minimum %s (%s)", image_version, device, min_version, min_source);
        return 0;
}

/* Opens path inside the tree at rootfd: absolute symlinks and ".." stay inside it. */
static int open_in_root(int rootfd, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC | O_NOCTTY),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : (int) fd;
}

/* At most max bytes of a regular file inside the root; -EFBIG when it holds more. */
static int read_in_root(int rootfd, const char *where, const char *path, char *buf, size_t max, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t n = 0;

        /* O_NONBLOCK: a FIFO in the image must not stall the boot. */
        fd = open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK);
        if (fd == -ENOSYS)
                return log_error_errno(ENOSYS, "cannot look inside %s: openat2() needs Linux 5.6 or newer", where);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EBADMSG, "refusing to boot: %s%s%s is not a regular file", where,
                                       *path == '/' ? "" : "/", path);
        while (n < max) {
                ssize_t k = read(fd, buf + n, max - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return log_error_errno(errno, "cannot read %s/%s: %s", where, path, strerror(errno));
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        *ret_len = n;
        return 0;
}

/* os-release as systemd looks for it; its IMAGE_VERSION (NULL when none). */
static int read_os_release(int rootfd, const char *where, const char *const *paths, char **ret_version) {
        _cleanup_free_ char *buf = malloc(OS_RELEASE_SIZE_MAX + 1);
        size_t len;
        int r = -ENOENT;

        if (!buf)
                return log_error_errno(ENOMEM, "out of memory");
        for (const char *const *p = paths; *p; p++) {
                r = read_in_root(rootfd, where, *p, buf, OS_RELEASE_SIZE_MAX + 1, &len);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r == -EBADMSG ? r : log_error_errno(r, "cannot open %s/%s: %s", where, *p, strerror(-r));
                if (len > OS_RELEASE_SIZE_MAX)
                        return log_error_errno(EFBIG, "refusing to boot: %s/%s is larger than %u bytes", where, *p,
                                               OS_RELEASE_SIZE_MAX);
                r = vr_os_release_image_version(buf, len, ret_version);
                if (r < 0)
                        return log_error_errno(r, "refusing to boot: %s/%s has an IMAGE_VERSION that is not a "
                                               "version ([a-zA-Z0-9._~+^-])", where, *p);
                return 0;
        }
        return log_error_errno(ENOENT, "refusing to boot: %s has no %s%s%s: a verified image without os-release is "
                               "not an operating system tree", where, paths[0], paths[1] ? " or " : "", paths[1] ?: "");
}

/* A system extension (sysext) carries extension-release files instead of being an OS. */
static int check_no_extension_release(int rootfd, const char *where, const char *dir_path) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int fd;

        fd = open_in_root(rootfd, dir_path, O_RDONLY | O_DIRECTORY);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return log_error_errno(fd, "refusing to boot: cannot inspect %s/%s: %s", where, dir_path, strerror(-fd));
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return log_error_errno(errno, "cannot read %s/%s: %s", where, dir_path, strerror(errno));
        }
        while ((de = readdir(d)))
                if (startswith(de->d_name, "extension-release."))
                        return log_error_errno(EMEDIUMTYPE, "refusing to boot: %s/%s/%s exists: the verified image "
                                               "is a system extension, not a root", where, dir_path, de->d_name);
        return 0;
}

static const char *elf_class_name(unsigned char c) {
        return c == ELFCLASS64 ? "64-bit" : "32-bit";
}

/* What this program runs as: the architecture whose DPS types were searched. */
static int own_elf_id(struct vr_elf_id *ret) {
        unsigned char buf[sizeof(Elf64_Ehdr)];
        _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return log_error_errno(errno, "cannot open /proc/self/exe: %s", strerror(errno));
        n = read(fd, buf, sizeof(buf));
        if (n < 0 || vr_elf_identify(buf, (size_t) n, ret) < 0)
                return log_error_errno(ENOEXEC, "cannot read this program's own ELF header");
        return 0;
}

/* The ELF file the kernel will run as init: init itself, or its "#!" interpreter. */
static int check_init(int rootfd, const char *where, const char *init) {
        _cleanup_free_ char *buf = malloc(INIT_HEAD_SIZE);
        char path[PATH_MAX], interp[PATH_MAX];
        /* Zeroed: gcc 16 cannot see that own_elf_id() fails with a negative value only. */
        struct vr_elf_id want = {0}, got;
        size_t len;
        int r;

        if (!buf)
                return log_error_errno(ENOMEM, "out of memory");
        r = own_elf_id(&want);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "%s", init ?: "/sbin/init");
        for (int hop = 0;; hop++) {
                r = read_in_root(rootfd, where, path, buf, INIT_HEAD_SIZE, &len);
                if (r == -EBADMSG || r == -ENOSYS)
                        return r;
                if (r < 0)
                        return log_error_errno(r, "refusing to boot: cannot open %s%s (%s): %s", where, path,
                                               hop ? "the interpreter of init" : "init", strerror(-r));
                if (vr_elf_identify(buf, len, &got) >= 0)
                        break;
                r = vr_shebang_interpreter(buf, len, interp, sizeof(interp));
                if (hop > 0 || r <= 0)
                        return log_error_errno(ENOEXEC, "refusing to boot: %s%s is not an ELF executable%s", where, path,
                                               hop ? " (the interpreter of init must be one)" : " or a #! script");
                memcpy(path, interp, sizeof(path));
        }
        if (got.machine != want.machine || got.class != want.class || got.data != want.data)
                return log_error_errno(EMEDIUMTYPE, "refusing to boot: %s%s is a %s ELF file for machine %u, but this "
                                       "machine runs %s machine %u: the verified image is not a root for this "
                                       "architecture", where, path, elf_class_name(got.class), got.machine,
                                       elf_class_name(want.class), want.machine);
        return 0;
}

/* The tree at where must be the file system of the verified device (devnum, proven by
 * its dm-verity table), not whatever else is mounted there. */
static int open_mounted(const char *where, const char *device, dev_t devnum, int *ret_fd) {
        _cleanup_close_ int fd = open(where, O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct stat st_where;

        if (fd < 0)
                return log_error_errno(errno, "refusing to boot: cannot open %s: %s", where, strerror(errno));
        if (fstat(fd, &st_where) < 0)
                return log_error_errno(errno, "cannot stat %s: %s", where, strerror(errno));
        if (st_where.st_dev != devnum)
                return log_error_errno(EXDEV, "refusing to boot: %s is not the file system of the verified %s "
                                       "(device %u:%u, found %u:%u)", where, device, major(devnum), minor(devnum),
                                       major(st_where.st_dev), minor(st_where.st_dev));
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int vr_sysroot_check_root_tree(int rootfd, const char *where, const struct vr_sysroot_expect *e) {
        static const char *const os_release[] = { "etc/os-release", "usr/lib/os-release", NULL };
        _cleanup_free_ char *image_version = NULL;
        int r;

        r = read_os_release(rootfd, where, os_release, &image_version);
        if (r >= 0)
                r = check_no_extension_release(rootfd, where, "usr/lib/extension-release.d");
        if (r >= 0)
                r = check_init(rootfd, where, e->init);
        if (r >= 0)
                r = vr_image_version_check(e->device, image_version, e->label_version, e->label_device,
                                           e->min_version, "rd.verity.min_version=");
        if (r >= 0)
                r = vr_image_version_check(e->device, image_version, NULL, NULL, e->floor_version,
                                           "the initrd's floor " VR_MIN_VERSION_FILE);
        if (r >= 0)
                log_notice("%s on %s looks like this machine's root%s%s", e->device, where,
                           image_version ? ", IMAGE_VERSION=" : "", image_version ?: "");
        return r;
}

int vr_sysroot_check_root(const char *where, const struct vr_sysroot_expect *e) {
        _cleanup_close_ int rootfd = -1;
        int r = open_mounted(where, e->device, e->devnum, &rootfd);
        return r < 0 ? r : vr_sysroot_check_root_tree(rootfd, where, e);
}

int vr_sysroot_check_usr_tree(int usrfd, const char *where) {
        static const char *const os_release[] = { "lib/os-release", NULL };
        _cleanup_free_ char *image_version = NULL;
        int r;

        r = read_os_release(usrfd, where, os_release, &image_version);
        if (r >= 0)
                r = check_no_extension_release(usrfd, where, "lib/extension-release.d");
        return r;
}

int vr_sysroot_check_usr(const char *where, const char *device, dev_t devnum) {
        _cleanup_close_ int fd = -1;
        int r = open_mounted(where, device, devnum, &fd);
        return r < 0 ? r : vr_sysroot_check_usr_tree(fd, where);
}

int vr_read_version_file(const char *path, char **ret) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[256];

        *ret = NULL;
        if (!f && errno == ENOENT)
                return 0;
        if (!f)
                return log_error_errno(errno, "cannot open %s: %s", path, strerror(errno));
        if (!fgets(line, sizeof(line), f))
                line[0] = 0;
        line[strcspn(line, "\n")] = 0;
        if (!vr_version_is_valid(line))
                return log_error_errno(EINVAL, "%s holds no valid version ([a-zA-Z0-9._~+^-])", path);
        *ret = strdup(line);
        return *ret ? 0 : log_error_errno(ENOMEM, "out of memory");
}

int vr_env_file_get(const char *path, const char *key, char **ret) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0, klen = strlen(key);

        *ret = NULL;
        if (!f)
                return log_error_errno(errno, "cannot open %s: %s", path, strerror(errno));
        while (getline(&line, &size, f) >= 0) {
                if (strncmp(line, key, klen) != 0 || line[klen] != '=')
                        continue;
                line[strcspn(line, "\n")] = 0;
                free(*ret);
                *ret = strdup(line + klen + 1);
                if (!*ret)
                        return log_error_errno(ENOMEM, "out of memory");
        }
        return 0;
}
