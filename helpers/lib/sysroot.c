/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <elf.h>
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>

#include "devcheck.h"
#include "image-policy.h"
#include "sysroot.h"
#include "util.h"
#include "version.h"

#define OS_RELEASE_SIZE_MAX (64u * 1024u)
#define INIT_HEAD_SIZE 4096u
/* What the new root runs first is read whole, within bounds: the files come from the image. */
#define EXEC_FILES_MAX 64u
#define EXEC_BYTES_MAX (256u * 1024u * 1024u)
#define EXEC_PARSE_MAX (64u * 1024u * 1024u)
#define EXEC_CHUNK (1024u * 1024u)
#define EXEC_BLOCK 4096u
#define EXEC_RUNPATH_DIRS_MAX 16u

#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#elif defined(__i386__)
#define MULTIARCH "i386-linux-gnu"
#elif defined(__riscv) && __riscv_xlen == 64
#define MULTIARCH "riscv64-linux-gnu"
#elif defined(__powerpc64__) && __BYTE_ORDER == __LITTLE_ENDIAN
#define MULTIARCH "powerpc64le-linux-gnu"
#elif defined(__s390x__)
#define MULTIARCH "s390x-linux-gnu"
#else
#define MULTIARCH "unknown-linux-gnu"
#endif

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

#if __BYTE_ORDER == __LITTLE_ENDIAN
#define ELFDATA_NATIVE ELFDATA2LSB
#else
#define ELFDATA_NATIVE ELFDATA2MSB
#endif

/* An ELF file of either class, its fields read into the 64-bit structures. */
struct elf_file {
        const unsigned char *buf;
        size_t len;
        bool is64;
        uint64_t phoff;
        size_t phnum;
};

static bool elf_range_ok(const struct elf_file *f, uint64_t off, uint64_t size) {
        return off <= f->len && size <= f->len - off;
}

static int elf_open(const void *buf, size_t len, struct elf_file *ret) {
        struct vr_elf_id id;
        uint16_t phentsize, phnum;

        if (vr_elf_identify(buf, len, &id) < 0 || id.data != ELFDATA_NATIVE)
                return -ENOEXEC;
        *ret = (struct elf_file) { .buf = buf, .len = len, .is64 = id.class == ELFCLASS64 };
        if (ret->is64) {
                Elf64_Ehdr h;
                memcpy(&h, buf, sizeof(h));
                ret->phoff = h.e_phoff;
                phentsize = h.e_phentsize;
                phnum = h.e_phnum;
        } else {
                Elf32_Ehdr h;
                memcpy(&h, buf, sizeof(h));
                ret->phoff = h.e_phoff;
                phentsize = h.e_phentsize;
                phnum = h.e_phnum;
        }
        ret->phnum = phnum;
        if (phnum > 0 && phentsize != (ret->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
                return -ENOEXEC;
        return elf_range_ok(ret, ret->phoff, (uint64_t) phnum * phentsize) ? 0 : -ENOEXEC;
}

static Elf64_Phdr elf_phdr(const struct elf_file *f, size_t i) {
        Elf64_Phdr p;
        Elf32_Phdr q;

        if (f->is64) {
                memcpy(&p, f->buf + f->phoff + i * sizeof(p), sizeof(p));
                return p;
        }
        memcpy(&q, f->buf + f->phoff + i * sizeof(q), sizeof(q));
        return (Elf64_Phdr) { .p_type = q.p_type, .p_offset = q.p_offset, .p_vaddr = q.p_vaddr,
                              .p_filesz = q.p_filesz, .p_memsz = q.p_memsz };
}

/* The file offset of a virtual address, through the PT_LOAD segment that maps it. */
static int elf_vaddr_offset(const struct elf_file *f, uint64_t vaddr, uint64_t *ret) {
        for (size_t i = 0; i < f->phnum; i++) {
                Elf64_Phdr p = elf_phdr(f, i);
                if (p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr - p.p_vaddr < p.p_filesz &&
                    elf_range_ok(f, p.p_offset, vaddr - p.p_vaddr)) {
                        *ret = p.p_offset + (vaddr - p.p_vaddr);
                        return 0;
                }
        }
        return -ENOEXEC;
}

/* A non-empty NUL-terminated string at off, inside [off, off + max) and the file. */
static const char *elf_string(const struct elf_file *f, uint64_t off, uint64_t max) {
        const unsigned char *s;

        if (off >= f->len)
                return NULL;
        if (max > f->len - off)
                max = f->len - off;
        s = f->buf + off;
        return max > 0 && s[0] && memchr(s, 0, max) ? (const char *) s : NULL;
}

/* DT_NEEDED, DT_RUNPATH/DT_RPATH of the PT_DYNAMIC segment p, through DT_STRTAB. */
static int elf_dynamic(const struct elf_file *f, const Elf64_Phdr *p, struct vr_elf_deps *deps) {
        size_t entsize = f->is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
        uint64_t needed[VR_ELF_NEEDED_MAX], strtab = 0, strsz = 0, runpath = 0, rpath = 0, stroff;
        bool have_strtab = false, have_runpath = false, have_rpath = false;
        size_t n = 0;

        if (!elf_range_ok(f, p->p_offset, p->p_filesz))
                return -ENOEXEC;
        for (uint64_t off = p->p_offset; off + entsize <= p->p_offset + p->p_filesz; off += entsize) {
                int64_t tag;
                uint64_t val;
                if (f->is64) {
                        Elf64_Dyn d;
                        memcpy(&d, f->buf + off, sizeof(d));
                        tag = d.d_tag;
                        val = d.d_un.d_val;
                } else {
                        Elf32_Dyn d;
                        memcpy(&d, f->buf + off, sizeof(d));
                        tag = d.d_tag;
                        val = d.d_un.d_val;
                }
                if (tag == DT_NULL)
                        break;
                if (tag == DT_NEEDED && n < VR_ELF_NEEDED_MAX)
                        needed[n++] = val;
                else if (tag == DT_NEEDED)
                        deps->needed_truncated = true;
                else if (tag == DT_STRTAB)
                        strtab = val, have_strtab = true;
                else if (tag == DT_STRSZ)
                        strsz = val;
                else if (tag == DT_RUNPATH)
                        runpath = val, have_runpath = true;
                else if (tag == DT_RPATH)
                        rpath = val, have_rpath = true;
        }
        if (n == 0 && !have_runpath && !have_rpath)
                return 0;
        if (!have_strtab || elf_vaddr_offset(f, strtab, &stroff) < 0)
                return -ENOEXEC;
        for (size_t i = 0; i < n; i++) {
                if (needed[i] >= strsz || !(deps->needed[i] = elf_string(f, stroff + needed[i], strsz - needed[i])))
                        return -ENOEXEC;
        }
        deps->n_needed = n;
        /* ld.so ignores DT_RPATH when DT_RUNPATH is there. */
        if (have_runpath || have_rpath) {
                uint64_t at = have_runpath ? runpath : rpath;
                if (at >= strsz)
                        return -ENOEXEC;
                deps->runpath = elf_string(f, stroff + at, strsz - at);
        }
        return 0;
}

int vr_elf_deps(const void *buf, size_t len, struct vr_elf_deps *ret) {
        struct elf_file f;
        int r = elf_open(buf, len, &f);

        if (r < 0)
                return r;
        *ret = (struct vr_elf_deps) {};
        for (size_t i = 0; i < f.phnum; i++) {
                Elf64_Phdr p = elf_phdr(&f, i);
                if (p.p_type == PT_INTERP) {
                        if (ret->interp || !elf_range_ok(&f, p.p_offset, p.p_filesz))
                                return -ENOEXEC;
                        ret->interp = elf_string(&f, p.p_offset, p.p_filesz);
                        if (!ret->interp)
                                return -ENOEXEC;
                } else if (p.p_type == PT_DYNAMIC) {
                        r = elf_dynamic(&f, &p, ret);
                        if (r < 0)
                                return r;
                }
        }
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

struct exec_file {
        char *path;  /* inside the root, as named by cmdline, "#!", PT_INTERP or the library search */
        char *why;   /* "init", "the interpreter of /sbin/init", ... */
};

struct exec_walk {
        int rootfd;
        const char *where;
        const char *dm_name;  /* the verified device mounted on where, for its corruption status */
        struct exec_file files[EXEC_FILES_MAX];
        size_t n_files;
        struct { dev_t dev; ino_t ino; } seen[EXEC_FILES_MAX];
        size_t n_seen;
        uint64_t bytes;
        bool capped;
};

static void exec_walk_done(struct exec_walk *w) {
        for (size_t i = 0; i < w->n_files; i++) {
                free(w->files[i].path);
                free(w->files[i].why);
        }
}

static int exec_queue(struct exec_walk *w, const char *path, const char *fmt, const char *of) {
        for (size_t i = 0; i < w->n_files; i++)
                if (streq(w->files[i].path, path))
                        return 0;
        if (w->n_files >= EXEC_FILES_MAX) {
                w->capped = true;
                return 0;
        }
        struct exec_file *f = &w->files[w->n_files];
        /* Relative names ("#!bin/sh", a DT_NEEDED with a slash) resolve from / as for init. */
        if (asprintf(&f->path, "%s%s", path[0] == '/' ? "" : "/", path) < 0)
                f->path = NULL;
        if (!f->path || asprintf(&f->why, fmt, of) < 0) {
                free(f->path);
                return log_error_errno(ENOMEM, "out of memory");
        }
        w->n_files++;
        return 0;
}

/* The first directory of the library search that holds name: DT_RUNPATH (absolute
 * entries), then the standard directories; no ld.so.cache, no $ORIGIN. */
static int exec_queue_library(struct exec_walk *w, const char *name, const char *runpath, const char *of) {
        static const char *const std_dirs[] = { "/lib64", "/usr/lib64", "/lib/" MULTIARCH, "/usr/lib/" MULTIARCH,
                                                "/lib", "/usr/lib" };
        const char *dirs[EXEC_RUNPATH_DIRS_MAX + ELEMENTSOF(std_dirs)];
        char rp[PATH_MAX], path[PATH_MAX];
        size_t n = 0;

        if (strchr(name, '/'))
                return exec_queue(w, name, "a library of %s", of);
        snprintf(rp, sizeof(rp), "%s", runpath ?: "");
        for (char *save = NULL, *d = strtok_r(rp, ":", &save); d && n < EXEC_RUNPATH_DIRS_MAX;
             d = strtok_r(NULL, ":", &save))
                if (d[0] == '/' && !strchr(d, '$'))
                        dirs[n++] = d;
        for (size_t i = 0; i < ELEMENTSOF(std_dirs); i++)
                dirs[n++] = std_dirs[i];
        for (size_t i = 0; i < n; i++) {
                if ((size_t) snprintf(path, sizeof(path), "%s/%s", dirs[i], name) >= sizeof(path))
                        continue;
                int fd = open_in_root(w->rootfd, path, O_RDONLY | O_NONBLOCK);
                if (fd >= 0) {
                        close(fd);
                        return exec_queue(w, path, "a library of %s", of);
                }
        }
        log_notice("%s needs %s, which is in none of the library directories of %s: not read", of, name, w->where);
        return 0;
}

/* What running the whole file f (buf, len) makes the kernel and ld.so open next. */
static int exec_queue_deps(struct exec_walk *w, const struct exec_file *f, const char *buf, size_t len) {
        char interp[PATH_MAX];
        struct vr_elf_deps deps;
        int r;

        if (vr_shebang_interpreter(buf, len, interp, sizeof(interp)) > 0)
                return exec_queue(w, interp, "the interpreter of %s", f->path);
        if (vr_elf_deps(buf, len, &deps) < 0) {
                log_notice("%s%s is no ELF file this machine runs: what it loads is not read", w->where, f->path);
                return 0;
        }
        r = deps.interp ? exec_queue(w, deps.interp, "the ELF interpreter of %s", f->path) : 0;
        for (size_t i = 0; r >= 0 && i < deps.n_needed; i++)
                r = exec_queue_library(w, deps.needed[i], deps.runpath, f->path);
        if (deps.needed_truncated)
                w->capped = true;
        return r;
}

/* The first 4 KiB block of [off, off + len) that cannot be read: where the error is. */
static uint64_t first_bad_block(int fd, uint64_t off, size_t len) {
        char block[EXEC_BLOCK];
        for (uint64_t b = off / EXEC_BLOCK * EXEC_BLOCK; b < off + len; b += EXEC_BLOCK)
                if (pread(fd, block, sizeof(block), (off_t) b) < 0)
                        return b / EXEC_BLOCK;
        return off / EXEC_BLOCK;
}

static int exec_read_failed(struct exec_walk *w, const struct exec_file *f, const char *shown, int fd, uint64_t off,
                            size_t len, int error) {
        uint64_t bad = first_bad_block(fd, off, len);
        int corrupted = w->dm_name ? vr_dm_verity_corrupted(w->dm_name) : 0;

        return log_error_errno(error, "refusing to boot: %s (%s) cannot be read: block %" PRIu64 " of the file (bytes "
                               "%" PRIu64 "-%" PRIu64 "): %s%s%s%s", shown, f->why, bad, bad * EXEC_BLOCK,
                               bad * EXEC_BLOCK + EXEC_BLOCK - 1, strerror(error),
                               corrupted > 0 ? "; dm-verity reports corrupted data on /dev/mapper/" : "",
                               corrupted > 0 ? w->dm_name : "", corrupted > 0 ? " (the image does not match its hash tree)" : "");
}

/* Reads every byte of f (within the byte budget); keeps it in *ret when small enough to parse. */
static int exec_read_file(struct exec_walk *w, const struct exec_file *f, int fd, uint64_t size, const char *shown,
                          char **ret, size_t *ret_len) {
        uint64_t budget = EXEC_BYTES_MAX - w->bytes, want = size < budget ? size : budget;
        bool keep = want == size && size <= EXEC_PARSE_MAX;
        _cleanup_free_ char *buf = malloc(keep ? (size ?: 1) : EXEC_CHUNK);
        uint64_t off = 0;

        if (!buf)
                return log_error_errno(ENOMEM, "out of memory");
        w->capped = w->capped || want < size;
        while (off < want) {
                size_t len = want - off < EXEC_CHUNK ? (size_t) (want - off) : EXEC_CHUNK;
                ssize_t k = pread(fd, keep ? buf + off : buf, len, (off_t) off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return exec_read_failed(w, f, shown, fd, off, len, errno);
                if (k == 0)
                        break;
                off += (uint64_t) k;
        }
        w->bytes += off;
        *ret_len = keep ? (size_t) off : 0;
        *ret = keep ? TAKE_PTR(buf) : NULL;
        return 0;
}

/* Opens, reads and follows file i of the walk. */
static int exec_check_file(struct exec_walk *w, size_t i) {
        const struct exec_file *f = &w->files[i];
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -1;
        char proc[64], target[PATH_MAX], shown[PATH_MAX + 64];
        struct stat st;
        size_t len;
        ssize_t n;
        int r;

        fd = open_in_root(w->rootfd, f->path, O_RDONLY | O_NONBLOCK);
        if (fd == -ENOENT || fd == -ENOTDIR) {
                log_notice("%s%s (%s) does not exist: not read", w->where, f->path, f->why);
                return 0;
        }
        if (fd < 0)
                return log_error_errno(fd, "refusing to boot: cannot open %s%s (%s): %s", w->where, f->path, f->why,
                                       strerror(-fd));
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "cannot stat %s%s: %s", w->where, f->path, strerror(errno));
        for (size_t j = 0; j < w->n_seen; j++)
                if (w->seen[j].dev == st.st_dev && w->seen[j].ino == st.st_ino)
                        return 0;
        w->seen[w->n_seen].dev = st.st_dev;
        w->seen[w->n_seen].ino = st.st_ino;
        w->n_seen++;
        /* Name the file the symlinks lead to: that is the one to repair. */
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = 0;
        if (n > 0 && !streq_ptr(startswith(target, w->where), f->path))
                snprintf(shown, sizeof(shown), "%s%s (-> %s)", w->where, f->path, target);
        else
                snprintf(shown, sizeof(shown), "%s%s", w->where, f->path);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EBADMSG, "refusing to boot: %s (%s) is not a regular file", shown, f->why);
        r = exec_read_file(w, f, fd, (uint64_t) st.st_size, shown, &buf, &len);
        if (r < 0 || !buf)
                return r;
        return exec_queue_deps(w, f, buf, len);
}

/* Reads every byte of what the new root runs first: init, following "#!", PT_INTERP and
 * DT_NEEDED, so a block dm-verity refuses stops the boot here, naming the file, and not
 * as "Failed to execute /sbin/init" after switch-root. */
static int check_exec_files(int rootfd, const char *where, const char *device, const char *init) {
        struct exec_walk w = { .rootfd = rootfd, .where = where, .dm_name = device ? startswith(device, "/dev/mapper/") : NULL };
        int r;

        log_info("reading what %s runs first: %s, its interpreters and libraries", where, init ?: "/sbin/init");
        r = exec_queue(&w, init ?: "/sbin/init", "%s", "init");
        for (size_t i = 0; r >= 0 && i < w.n_files; i++)
                r = exec_check_file(&w, i);
        if (r >= 0 && w.capped)
                log_notice("read only the first %zu files and %" PRIu64 " bytes of what %s runs first (at most %u "
                           "files, %u MiB, %u libraries per file): the rest is not checked before switch-root",
                           w.n_seen, w.bytes, where, EXEC_FILES_MAX, EXEC_BYTES_MAX >> 20, VR_ELF_NEEDED_MAX);
        if (r >= 0)
                log_info("read %zu files (%" PRIu64 " bytes) that %s runs first: every block readable", w.n_seen,
                         w.bytes, where);
        exec_walk_done(&w);
        return r;
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

/* statfs() magic numbers (linux/magic.h) of the file systems an image policy can name. */
static const char *fstype_name(unsigned long magic) {
        static const struct {
                unsigned long magic;
                const char *name;
        } types[] = {
                { 0xEF53, "ext4" },        { 0xE0F5E1E2, "erofs" }, { 0x73717368, "squashfs" },
                { 0x9123683E, "btrfs" },   { 0xF2F52010, "f2fs" },  { 0x58465342, "xfs" },
                { 0x4d44, "vfat" },
        };
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (types[i].magic == magic)
                        return types[i].name;
        return NULL;
}

int vr_sysroot_check_fstype(int fd, const char *where, uint32_t fstypes, const char *designator) {
        struct statfs sfs;

        fstypes &= VR_POLICY_FSTYPE_MASK;
        if (fstypes == 0 || fstypes == VR_POLICY_FSTYPE_MASK)
                return 0;
        if (fstatfs(fd, &sfs) < 0)
                return log_error_errno(errno, "refusing to boot: cannot tell the file system type of %s: %s", where,
                                       strerror(errno));
        const char *name = fstype_name((unsigned long) sfs.f_type);
        if (name && (vr_image_policy_fstype_flag(name) & fstypes))
                return 0;
        char allowed[160], magic[32];
        vr_image_policy_flags_to_string(fstypes, allowed, sizeof(allowed));
        snprintf(magic, sizeof(magic), "magic 0x%lx", (unsigned long) sfs.f_type);
        return log_error_errno(EPERM, "refusing to boot: %s is %s, but systemd.image_policy= allows %s only as %s",
                               where, name ?: magic, designator, allowed);
}

int vr_sysroot_check_root_tree(int rootfd, const char *where, const struct vr_sysroot_expect *e) {
        static const char *const os_release[] = { "etc/os-release", "usr/lib/os-release", NULL };
        _cleanup_free_ char *image_version = NULL;
        int r;

        r = vr_sysroot_check_fstype(rootfd, where, e->fstypes, "root");
        if (r >= 0)
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
                r = check_exec_files(rootfd, where, e->device, e->init);
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

int vr_sysroot_check_usr(const char *where, const char *device, dev_t devnum, uint32_t fstypes) {
        _cleanup_close_ int fd = -1;
        int r = open_mounted(where, device, devnum, &fd);
        if (r >= 0)
                r = vr_sysroot_check_fstype(fd, where, fstypes, "usr");
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
