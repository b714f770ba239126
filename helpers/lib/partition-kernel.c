/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GPT (and MBR) partitions of the disks in sysfs, read from their device nodes as soon as the kernel
 * has created them: udev may still be busy with the disk for seconds after that. */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "partition-kernel.h"
#include "util.h"

#define SECTOR_SIZE UINT64_C(512)

/* One partition device the kernel created on a disk. */
struct kernel_partition {
        unsigned partno;
        bool complete; /* sysfs creates the attributes one after the other */
        uint64_t start, size; /* 512-byte sectors */
        dev_t devnum;
        char devname[256];
};

struct kernel_disk {
        const char *sysname;
        char node[PATH_MAX];
        struct kernel_partition *parts;
        size_t n_parts;
        int processed; /* by udev; -1 not asked yet */
};

struct scan_state {
        const struct vr_kernel_scan *scan;
        const char *devdir;
        bool pending;
        char *why; /* the first disk not read completely, and why */
};

static void kernel_disk_done(struct kernel_disk *d) {
        free(d->parts);
}

/* An attribute file whole, NUL-terminated; -errno. */
static int read_file_at(int dirfd, const char *name, char *buf, size_t size) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        size_t len = 0;

        if (fd < 0)
                return -errno;
        while (len < size - 1) {
                ssize_t n = read(fd, buf + len, size - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = 0;
        return 0;
}

/* A one-line attribute without its newline. */
static int read_attr(int dirfd, const char *name, char *buf, size_t size) {
        int r = read_file_at(dirfd, name, buf, size);
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

static int read_u64_attr(int dirfd, const char *name, uint64_t *ret) {
        char buf[32], *end;
        int r = read_attr(dirfd, name, buf, sizeof(buf));

        if (r < 0)
                return r;
        if (buf[0] < '0' || buf[0] > '9')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        if (errno != 0 || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* The dev attribute: "MAJOR:MINOR". */
static int read_devnum_attr(int dirfd, dev_t *ret) {
        char buf[32];
        unsigned maj, min;
        int n = 0, r = read_attr(dirfd, "dev", buf, sizeof(buf));

        if (r < 0)
                return r;
        if (sscanf(buf, "%u:%u%n", &maj, &min, &n) != 2 || buf[n])
                return -EINVAL;
        *ret = makedev(maj, min);
        return 0;
}

/* The node name under devdir: DEVNAME from the uevent attribute (cciss!c0d0 is
 * cciss/c0d0), the sysfs name without one. */
static int read_devname(int dirfd, const char *sysname, char *buf, size_t size) {
        char uevent[4096];
        const char *name = sysname;
        size_t len = strlen(sysname);

        if (read_file_at(dirfd, "uevent", uevent, sizeof(uevent)) >= 0)
                for (char *line = uevent; *line; line += strcspn(line, "\n"), line += *line == '\n') {
                        const char *v = startswith(line, "DEVNAME=");
                        if (v) {
                                name = v;
                                len = strcspn(v, "\n");
                                break;
                        }
                }
        if (len == 0 || len >= size || name[0] == '/')
                return -EINVAL;
        memcpy(buf, name, len);
        buf[len] = 0;
        /* The kernel names nodes, but a name leading out of devdir is never followed. */
        if (streq(buf, "..") || startswith(buf, "../") || strstr(buf, "/../") ||
            (len >= 3 && streq(buf + len - 3, "/..")))
                return -EINVAL;
        return 0;
}

_printf_(3, 4) static int note_pending(struct scan_state *s, const char *sysname, const char *fmt, ...) {
        char reason[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        log_debug("%s: not read completely yet: %s", sysname, reason);
        if (s->pending)
                return 0;
        s->pending = true;
        if (asprintf(&s->why, "%s: %s", sysname, reason) < 0) {
                s->why = NULL;
                return log_error_errno(ENOMEM, "Out of memory");
        }
        return 0;
}

/* Device-mapper devices and disks the kernel does not scan (partscan 0, or a single minor
 * in kernels without that attribute) never get partition devices: nothing on them could
 * be used, and a suspended dm device would block the read. Hidden disks have no node. */
static bool can_carry_partitions(int fd, const char *sysname) {
        char hidden[8];
        uint64_t v;

        if (read_attr(fd, "hidden", hidden, sizeof(hidden)) >= 0 && streq(hidden, "1"))
                return false;
        if (faccessat(fd, "dm", F_OK, 0) >= 0)
                return false;
        if (read_u64_attr(fd, "partscan", &v) >= 0)
                return v != 0;
        if (read_u64_attr(fd, "ext_range", &v) >= 0 || read_u64_attr(fd, "range", &v) >= 0)
                return v > 1;
        return true;
}

static bool node_is(const struct vr_kernel_scan *scan, const struct stat *st, dev_t devnum) {
        if (S_ISBLK(st->st_mode))
                return st->st_rdev == devnum;
        return scan->nodes_may_be_files && S_ISREG(st->st_mode);
}

static int append_kernel_partition(struct kernel_disk *d, const struct kernel_partition *kp) {
        if (d->n_parts >= SIZE_MAX / sizeof(*kp) - 1)
                return -ENOMEM;
        struct kernel_partition *parts = realloc(d->parts, (d->n_parts + 1) * sizeof(*kp));
        if (!parts)
                return -ENOMEM;
        d->parts = parts;
        d->parts[d->n_parts++] = *kp;
        return 0;
}

/* The partition devices under the disk's sysfs directory (subdirectories with a partition
 * attribute). */
static int read_kernel_partitions(int diskfd, struct kernel_disk *d) {
        _cleanup_(closedirp) DIR *dir = NULL;
        struct dirent *de;
        int fd;

        fd = openat(diskfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        dir = fdopendir(fd);
        if (!dir) {
                close(fd);
                return 0;
        }
        while ((de = readdir(dir))) {
                struct kernel_partition kp = {};
                uint64_t partno;

                if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
                        continue;
                _cleanup_close_ int pfd = openat(diskfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (pfd < 0 || read_u64_attr(pfd, "partition", &partno) < 0 || partno == 0 || partno > UINT_MAX)
                        continue;
                kp.partno = (unsigned) partno;
                kp.complete = read_u64_attr(pfd, "start", &kp.start) >= 0 && read_u64_attr(pfd, "size", &kp.size) >= 0 &&
                              read_devnum_attr(pfd, &kp.devnum) >= 0 &&
                              read_devname(pfd, de->d_name, kp.devname, sizeof(kp.devname)) >= 0;
                if (append_kernel_partition(d, &kp) < 0)
                        return log_error_errno(ENOMEM, "Out of memory");
        }
        return 0;
}

static const struct kernel_partition *find_kernel_partition(const struct kernel_disk *d, unsigned partno) {
        for (size_t i = 0; i < d->n_parts; i++)
                if (d->parts[i].partno == partno)
                        return &d->parts[i];
        return NULL;
}

static bool disk_processed(struct scan_state *s, struct kernel_disk *d) {
        if (d->processed < 0)
                d->processed = s->scan->disk_processed && s->scan->disk_processed(d->sysname, s->scan->userdata);
        return d->processed > 0;
}

/* Moves each GPT or MBR entry of the disk that has its kernel partition device into out. */
static int add_entries(struct scan_state *s, struct kernel_disk *d, struct vr_partition_list *entries,
                       struct vr_partition_list *out) {
        int r;

        for (size_t i = 0; i < entries->n; i++) {
                struct vr_partition *p = &entries->items[i];
                const struct kernel_partition *kp = find_kernel_partition(d, p->partno);
                char node[PATH_MAX];
                struct stat st;

                /* The kernel may never create it (an entry number past its limit, a table
                 * its own parser rejects): once udev has the disk, the scan is over. */
                if (!kp && disk_processed(s, d)) {
                        log_warning("Ignoring %s entry %u on %s: the kernel created no partition device for it",
                                    vr_partition_table_name(p), p->partno, d->node);
                        continue;
                }
                if (!kp || !kp->complete) {
                        r = note_pending(s, d->sysname, "partition %u of %s has no kernel device yet", p->partno,
                                         d->node);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (kp->start != p->offset / SECTOR_SIZE || kp->size != p->size / SECTOR_SIZE) {
                        log_warning("Ignoring %s entry %u on %s: it says sectors %" PRIu64 "+%" PRIu64 ", the "
                                    "kernel's partition %s has %" PRIu64 "+%" PRIu64 " (the table changed since the "
                                    "kernel read it)", vr_partition_table_name(p), p->partno, d->node, p->offset / SECTOR_SIZE,
                                    p->size / SECTOR_SIZE, kp->devname, kp->start, kp->size);
                        continue;
                }
                snprintf(node, sizeof(node), "%s/%s", s->devdir, kp->devname);
                if (stat(node, &st) < 0 || !node_is(s->scan, &st, kp->devnum)) {
                        r = note_pending(s, d->sysname, "%s is not the node of partition %u (%u:%u) yet", node,
                                         p->partno, major(kp->devnum), minor(kp->devnum));
                        if (r < 0)
                                return r;
                        continue;
                }

                p->node = strdup(node);
                p->disk = strdup(d->node);
                if (!p->node || !p->disk)
                        return log_error_errno(ENOMEM, "Out of memory");
                p->node_offset = 0;
                p->devnum = kp->devnum;
                r = vr_partition_list_append(out, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* One whole disk: skipped, read (its GPT or MBR entries with kernel devices go to out), or
 * pending. Only running out of memory is an error. */
static int scan_disk(struct scan_state *s, int classfd, const char *sysname, struct vr_partition_list *out) {
        _cleanup_close_ int fd = -1, nodefd = -1;
        _cleanup_(vr_partition_list_done) struct vr_partition_list entries = {};
        _cleanup_(kernel_disk_done) struct kernel_disk d = { .sysname = sysname, .processed = -1 };
        char devname[256], what[PATH_MAX + 32];
        uint64_t sectors;
        dev_t devnum;
        struct stat st;
        int r;

        fd = openat(classfd, sysname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0; /* gone since the listing */
        if (faccessat(fd, "partition", F_OK, 0) >= 0)
                return 0; /* read with its disk */
        if (!can_carry_partitions(fd, sysname)) {
                log_debug("%s: cannot carry partitions, not read", sysname);
                return 0;
        }
        if (read_u64_attr(fd, "size", &sectors) < 0 || read_devnum_attr(fd, &devnum) < 0)
                return note_pending(s, sysname, "its size or device number is not in sysfs yet");
        if (sectors == 0) {
                log_debug("%s: empty (size 0), not read", sysname);
                return 0;
        }
        if (read_devname(fd, sysname, devname, sizeof(devname)) < 0) {
                log_warning("Ignoring block device %s: its device node name is not usable", sysname);
                return 0;
        }
        snprintf(d.node, sizeof(d.node), "%s/%s", s->devdir, devname);

        /* O_NONBLOCK: a removable drive must not hold the open until a medium is inserted. */
        nodefd = open(d.node, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (nodefd < 0 && errno == ENOENT)
                return note_pending(s, sysname, "no device node %s yet", d.node);
        if (nodefd < 0) {
                log_warning("Cannot open %s to read its partition table: %s; it counts as a disk without partitions",
                            d.node, strerror(errno));
                return 0;
        }
        if (fstat(nodefd, &st) < 0) {
                log_warning("Cannot stat %s: %s; it counts as a disk without partitions", d.node, strerror(errno));
                return 0;
        }
        if (!node_is(s->scan, &st, devnum))
                return note_pending(s, sysname, "%s is not block device %u:%u yet", d.node, major(devnum),
                                    minor(devnum));

        snprintf(what, sizeof(what), "the partition table of %s", d.node);
        vr_region_note_reading(what);
        r = vr_partitions_probe(nodefd, d.node, VR_LOG_DEBUG, VR_LOG_WARNING, &entries);
        vr_region_note_reading(NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0; /* no partition table, or unreadable (logged): read, without partitions */

        r = read_kernel_partitions(fd, &d);
        if (r < 0)
                return r;
        return add_entries(s, &d, &entries, out);
}

int vr_partitions_from_kernel(const struct vr_kernel_scan *scan, struct vr_partition_list *list, char **ret_pending) {
        _cleanup_free_ char *classdir = NULL;
        _cleanup_close_ int classfd = -1;
        _cleanup_(vr_partition_list_done) struct vr_partition_list found = {};
        struct scan_state s = { .scan = scan, .devdir = scan->devdir ?: "/dev" };
        struct dirent **names = NULL;
        int n, r = 0;

        if (asprintf(&classdir, "%s/class/block", scan->sysfs ?: "/sys") < 0) {
                classdir = NULL;
                return log_error_errno(ENOMEM, "Out of memory");
        }
        classfd = open(classdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (classfd < 0)
                return log_error_errno(errno, "Cannot list the kernel's block devices in %s: %s", classdir,
                                       strerror(errno));
        /* Sorted, so "first on" in messages does not depend on the order of discovery. */
        n = scandirat(classfd, ".", &names, NULL, versionsort);
        if (n < 0)
                return log_error_errno(errno, "Cannot list the kernel's block devices in %s: %s", classdir,
                                       strerror(errno));
        for (int i = 0; i < n; i++) {
                if (r >= 0 && names[i]->d_name[0] != '.')
                        r = scan_disk(&s, classfd, names[i]->d_name, &found);
                free(names[i]);
        }
        free(names);
        if (r >= 0)
                r = vr_partition_list_move(list, &found);
        if (r < 0) {
                free(s.why);
                return r;
        }
        if (ret_pending)
                *ret_pending = s.why;
        else
                free(s.why);
        return s.pending;
}
