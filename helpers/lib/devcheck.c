/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libcryptsetup.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/fs.h>

#include "devcheck.h"
#include "util.h"

#define CHUNK (1024u * 1024u)
#define BLOCK 4096u

/* /dev/dm-N for a dm name: the devtmpfs node exists as soon as the kernel has the
 * device, before udev has made /dev/mapper/NAME. */
static int dm_node_by_name(const char *name, char *node, size_t len) {
        _cleanup_(closedirp) DIR *d = opendir("/sys/block");
        struct dirent *de;
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char path[PATH_MAX], buf[256];
                if (!startswith(de->d_name, "dm-"))
                        continue;
                snprintf(path, sizeof(path), "/sys/block/%s/dm/name", de->d_name);
                _cleanup_fclose_ FILE *f = fopen(path, "re");
                if (!f || !fgets(buf, sizeof(buf), f))
                        continue;
                buf[strcspn(buf, "\n")] = 0;
                if (streq(buf, name)) {
                        snprintf(node, len, "/dev/%s", de->d_name);
                        return 0;
                }
        }
        return -ENOENT;
}

bool vr_dm_is_active(const char *name) {
        char node[64];
        return dm_node_by_name(name, node, sizeof(node)) >= 0;
}

/* Reads [start, end) in big chunks; on an I/O error narrows down to the first bad block. */
static int read_range(int fd, unsigned char *buf, uint64_t start, uint64_t end, uint64_t *ret_bad, bool progress,
                      const char *name) {
        uint64_t total = end - start, next_report = 0;
        for (uint64_t off = start; off < end;) {
                size_t len = end - off < CHUNK ? (size_t) (end - off) : CHUNK;
                int r = vr_pread_full(fd, buf, len, off);
                if (r < 0) {
                        for (uint64_t b = off; b < off + len; b += BLOCK) {
                                size_t bl = off + len - b < BLOCK ? (size_t) (off + len - b) : BLOCK;
                                if (vr_pread_full(fd, buf, bl, b) < 0) {
                                        *ret_bad = b / BLOCK;
                                        return -EBADMSG;
                                }
                        }
                        *ret_bad = off / BLOCK;
                        return r;
                }
                off += len;
                if (progress && off - start >= next_report) {
                        log_notice("checking every block of /dev/mapper/%s: %3" PRIu64 "%%", name,
                                   (off - start) * 100 / total);
                        next_report += total / 10 ?: 1;
                }
        }
        return 0;
}

int vr_dm_verity_corrupted(const char *name) {
        struct crypt_device *cd = NULL;
        struct crypt_active_device cad;
        int r = crypt_init_by_name(&cd, name);
        if (r < 0)
                return r;
        r = crypt_get_active_device(cd, name, &cad);
        crypt_free(cd);
        if (r < 0)
                return r;
        return !!(cad.flags & CRYPT_ACTIVATE_CORRUPTED);
}

int vr_check_active(const char *name, const char *data, const struct vr_verity_table *want, bool full) {
        char node[64];
        _cleanup_close_ int fd = -1;
        _cleanup_free_ unsigned char *buf = NULL;
        uint64_t size = 0, bad = 0;
        struct stat st;
        dev_t devnum;
        int r;

        /* Whoever created /dev/mapper/NAME, it must be the device that was verified. */
        r = vr_dm_verify_verity(name, want, &devnum);
        if (r < 0)
                return r;
        /* dm-verity creates no table with root_hash_sig_key_desc whose signature it refused. */
        if (want->options & VR_TABLE_ROOT_HASH_SIG)
                log_notice("the kernel verified the root hash signature of /dev/mapper/%s", name);
        r = dm_node_by_name(name, node, sizeof(node));
        if (r < 0)
                return log_error_errno(r, "/dev/mapper/%s is not active after activation", name);
        fd = open(node, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "cannot open %s (/dev/mapper/%s): %s", node, name, strerror(errno));
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "cannot stat %s: %s", node, strerror(errno));
        if (!S_ISBLK(st.st_mode) || st.st_rdev != devnum)
                return log_error_errno(EBADMSG, "%s is not the device-mapper device %u:%u that was checked as "
                                       "/dev/mapper/%s: refusing it", node, major(devnum), minor(devnum), name);
        if (ioctl(fd, BLKGETSIZE64, &size) < 0)
                return log_error_errno(errno, "cannot get the size of %s: %s", node, strerror(errno));
        buf = malloc(CHUNK);
        if (!buf)
                return log_error_errno(ENOMEM, "out of memory");

        if (full)
                r = read_range(fd, buf, 0, size, &bad, true, name);
        else {
                uint64_t head = size < CHUNK ? size : CHUNK;
                r = read_range(fd, buf, 0, head, &bad, false, name);
                if (r >= 0 && size > head)
                        r = read_range(fd, buf, size - (size - head < CHUNK ? size - head : CHUNK), size, &bad, false,
                                       name);
        }
        if (r == -EBADMSG)
                return log_error_errno(r, "/dev/mapper/%s: data block %" PRIu64 " of %s is corrupted (does not match the "
                                       "hash tree): refusing to boot", name, bad, data);
        if (r < 0)
                return log_error_errno(r, "/dev/mapper/%s: cannot read from %s: %s", name, data, strerror(-r));

        r = vr_dm_verity_corrupted(name);
        if (r < 0)
                return log_error_errno(r, "cannot query dm-verity status of /dev/mapper/%s: %s", name, strerror(-r));
        if (r > 0)
                return log_error_errno(EBADMSG, "/dev/mapper/%s: dm-verity reports corrupted data on %s: refusing to boot",
                                       name, data);
        log_notice("/dev/mapper/%s: dm-verity status V (verified)%s", name,
                   full ? ", every block read and checked" : "");
        return 0;
}
