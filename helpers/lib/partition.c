/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GPT (and MBR) partitions from libblkid (image files, whole disks, the kernel's disks at boot). */
#include <blkid/blkid.h>
#include <inttypes.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dps.h"
#include "partition.h"
#include "util.h"

#define SECTOR_SIZE UINT64_C(512)

static inline void blkid_free_probep(blkid_probe *pr) {
        if (*pr)
                blkid_free_probe(*pr);
}

void vr_partition_done(struct vr_partition *p) {
        free(p->node);
        free(p->disk);
        free(p->label);
        *p = (struct vr_partition) {};
}

void vr_partition_list_done(struct vr_partition_list *list) {
        for (size_t i = 0; i < list->n; i++)
                vr_partition_done(&list->items[i]);
        free(list->items);
        *list = (struct vr_partition_list) {};
}

static int list_reserve(struct vr_partition_list *list, size_t extra) {
        if (extra > SIZE_MAX / sizeof(struct vr_partition) - list->n)
                return -ENOMEM;
        /* Grow by doubling so appending one by one stays linear. */
        size_t want = list->n + extra, cap = 8;
        while (cap < want)
                cap *= 2;
        struct vr_partition *items = realloc(list->items, cap * sizeof(struct vr_partition));
        if (!items)
                return -ENOMEM;
        list->items = items;
        return 0;
}

int vr_partition_list_append(struct vr_partition_list *list, struct vr_partition *p) {
        int r = list_reserve(list, 1);
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        list->items[list->n++] = *p;
        *p = (struct vr_partition) {};
        return 0;
}

int vr_partition_list_move(struct vr_partition_list *dst, struct vr_partition_list *src) {
        if (src->n == 0)
                return 0;
        int r = list_reserve(dst, src->n);
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        memcpy(dst->items + dst->n, src->items, src->n * sizeof(struct vr_partition));
        dst->n += src->n;
        free(src->items);
        *src = (struct vr_partition_list) {};
        return 0;
}

static int sectors_to_bytes(uint64_t start, uint64_t size, uint64_t *ret_offset, uint64_t *ret_size) {
        if (start > UINT64_MAX / SECTOR_SIZE || size > UINT64_MAX / SECTOR_SIZE ||
            start * SECTOR_SIZE > UINT64_MAX - size * SECTOR_SIZE)
                return -EOVERFLOW;
        *ret_offset = start * SECTOR_SIZE;
        *ret_size = size * SECTOR_SIZE;
        return 0;
}

/* An MBR entry: its system id and the disk signature (from the kernel-style PARTUUID
 * "ssssssss-pp" libblkid gives it); GPT-only fields stay zero. */
static int mbr_entry_from_blkid(blkid_partition par, const char *path, struct vr_partition *p) {
        const char *uuid = blkid_partition_get_uuid(par);
        int type = blkid_partition_get_type(par);
        char *end;

        p->table = VR_TABLE_MBR;
        if (type < 0 || type > 0xff)
                return log_warning_errno(EINVAL, "Skipping MBR partition %u on %s: invalid system id %d", p->partno,
                                         path, type);
        p->mbr_type = (uint8_t) type;
        errno = 0;
        unsigned long id = uuid ? strtoul(uuid, &end, 16) : 0;
        if (!uuid || errno != 0 || end != uuid + 8 || *end != '-' || id > UINT32_MAX)
                return log_warning_errno(EINVAL, "Skipping MBR partition %u on %s: invalid PARTUUID \"%s\"", p->partno,
                                         path, uuid ?: "");
        p->mbr_id = (uint32_t) id;
        return 0;
}

static int gpt_entry_from_blkid(blkid_partition par, const char *path, struct vr_partition *p) {
        const char *type = blkid_partition_get_type_string(par), *uuid = blkid_partition_get_uuid(par),
                   *name = blkid_partition_get_name(par);

        if (!type || vr_id128_from_string(type, &p->type) < 0)
                return log_warning_errno(EINVAL, "Skipping partition %u on %s: invalid type UUID \"%s\"", p->partno,
                                         path, type ?: "");
        if (!uuid || vr_id128_from_string(uuid, &p->uuid) < 0)
                return log_warning_errno(EINVAL, "Skipping partition %u on %s: invalid PARTUUID \"%s\"", p->partno,
                                         path, uuid ?: "");
        p->flags = blkid_partition_get_flags(par);
        if (name && name[0]) {
                p->label = strdup(name);
                if (!p->label)
                        return -ENOMEM;
        }
        return 0;
}

/* Fills every field but node and disk from one libblkid entry; -EINVAL (warned) to skip it. */
static int partition_from_blkid(blkid_partition par, bool mbr, const char *path, struct vr_partition *p) {
        int partno = blkid_partition_get_partno(par);
        blkid_loff_t start = blkid_partition_get_start(par), size = blkid_partition_get_size(par);

        if (partno <= 0)
                return log_warning_errno(EINVAL, "Skipping a partition table entry on %s without a valid number", path);
        p->partno = (unsigned) partno;
        if (start < 0 || size < 0 ||
            sectors_to_bytes((uint64_t) start, (uint64_t) size, &p->offset, &p->size) < 0)
                return log_warning_errno(EINVAL, "Skipping partition %d on %s: invalid extent (%lld+%lld sectors)",
                                         partno, path, (long long) start, (long long) size);
        return mbr ? mbr_entry_from_blkid(par, path, p) : gpt_entry_from_blkid(par, path, p);
}

static int errno_or(int fallback) {
        return errno > 0 ? -errno : fallback;
}

/* Opens path and checks that it can hold a partition table, for a message naming the cause. */
static int open_disk(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;

        if (fd < 0)
                return log_error_errno(errno, "Cannot open %s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Cannot stat %s: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return log_error_errno(ENOMEDIUM, "No partition table on %s: not a disk image (neither a regular file nor a block device)",
                                       path);
        if (S_ISREG(st.st_mode) && st.st_size == 0)
                return log_error_errno(ENOMEDIUM, "No partition table on %s: the file is empty", path);
        return TAKE_FD(fd);
}

int vr_partitions_from_images(char *const *paths, size_t n, struct vr_partition_list *list) {
        for (size_t i = 0; i < n; i++) {
                int r = vr_partitions_from_image(paths[i], list);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vr_partitions_probe(int fd, const char *what, int nogpt_level, int error_level,
                        struct vr_partition_list *list) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        _cleanup_(vr_partition_list_done) struct vr_partition_list found = {};
        const char *pttype = NULL;
        int r;

        pr = blkid_new_probe();
        if (!pr)
                return log_error_errno(ENOMEM, "Out of memory");
        errno = 0;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0) {
                r = errno_or(-EIO);
                return log_full_errno(error_level, r, "Cannot probe %s: %s", what, strerror(-r));
        }

        /* Only partition tables: a filesystem found on the whole image is irrelevant here. */
        if (blkid_probe_enable_superblocks(pr, 0) < 0 || blkid_probe_enable_partitions(pr, 1) < 0 ||
            blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS) < 0)
                return log_full_errno(error_level, EIO, "Failed to set up libblkid probing of %s", what);

        errno = 0;
        r = blkid_do_safeprobe(pr);
        if (r == 1)
                return log_full_errno(nogpt_level, ENOMEDIUM,
                                      "No partition table on %s: neither a GPT (with its protective MBR) nor an MBR found",
                                      what);
        if (r == -2)
                return log_full_errno(nogpt_level, ENOMEDIUM,
                                      "No partition table on %s: conflicting partition table signatures", what);
        if (r < 0) {
                r = errno_or(-EIO);
                return log_full_errno(error_level, r, "Failed to probe the partition table of %s: %s", what,
                                      strerror(-r));
        }
        (void) blkid_probe_lookup_value(pr, "PTTYPE", &pttype, NULL);
        /* libblkid reports "PMBR" when neither the primary nor the backup header is usable. */
        if (streq_ptr(pttype, "PMBR"))
                return log_full_errno(nogpt_level, ENOMEDIUM,
                                      "No partition table on %s: protective MBR found, but neither the primary nor the backup GPT header is valid",
                                      what);
        bool mbr = streq_ptr(pttype, "dos");
        if (!mbr && !streq_ptr(pttype, "gpt"))
                return log_full_errno(nogpt_level, ENOMEDIUM,
                                      "No partition table on %s: found a \"%s\" partition table, neither a GPT nor an MBR",
                                      what, pttype ?: "unknown");

        errno = 0;
        blkid_partlist pl = blkid_probe_get_partitions(pr);
        blkid_parttable tab = pl ? blkid_partlist_get_table(pl) : NULL;
        if (!tab) {
                r = errno_or(-EIO);
                return log_full_errno(error_level, r, "Failed to read the %s of %s: %s", mbr ? "MBR" : "GPT", what,
                                      strerror(-r));
        }

        int n = blkid_partlist_numof_partitions(pl);
        if (n < 0)
                return log_full_errno(error_level, EIO, "Failed to read the %s partition entries of %s",
                                      mbr ? "MBR" : "GPT", what);

        for (int i = 0; i < n; i++) {
                blkid_partition par = blkid_partlist_get_partition(pl, i);
                /* libblkid also lists tables nested inside partitions (BSD labels, ...): not ours.
                 * An MBR's logical partitions belong to its table; the extended partition that
                 * holds them is only a container. */
                if (!par || blkid_partition_get_table(par) != tab || blkid_partition_is_extended(par))
                        continue;

                _cleanup_(vr_partition_done) struct vr_partition p = {};
                r = partition_from_blkid(par, mbr, what, &p);
                if (r == -EINVAL)
                        continue;
                if (r < 0)
                        return log_error_errno(r, "Out of memory");

                r = vr_partition_list_append(&found, &p);
                if (r < 0)
                        return r;
        }

        return vr_partition_list_move(list, &found);
}

int vr_partitions_from_image(const char *path, struct vr_partition_list *list) {
        _cleanup_close_ int fd = -1;
        _cleanup_(vr_partition_list_done) struct vr_partition_list found = {};
        int r;

        fd = open_disk(path);
        if (fd < 0)
                return fd;
        r = vr_partitions_probe(fd, path, VR_LOG_ERR, VR_LOG_ERR, &found);
        if (r < 0)
                return r;

        for (size_t i = 0; i < found.n; i++) {
                struct vr_partition *p = &found.items[i];
                p->node = strdup(path);
                p->disk = strdup(path);
                if (!p->node || !p->disk)
                        return log_error_errno(ENOMEM, "Out of memory");
                p->node_offset = p->offset;
        }
        return vr_partition_list_move(list, &found);
}

const char *vr_partition_partuuid(const struct vr_partition *p, char buf[static VR_PARTUUID_MAX]) {
        if (p->table == VR_TABLE_MBR)
                snprintf(buf, VR_PARTUUID_MAX, "%08" PRIx32 "-%02x", p->mbr_id, p->partno);
        else
                vr_id128_to_string(p->uuid, buf);
        return buf;
}

const char *vr_partition_describe(const struct vr_partition *p, char *buf, size_t len) {
        char uuid[VR_PARTUUID_MAX], type[64], label[80];
        const char *arch;
        enum vr_part_role role;

        if (p->table == VR_TABLE_MBR)
                snprintf(type, sizeof(type), "MBR type 0x%02x", p->mbr_type);
        else if (vr_dps_lookup(p->type, &arch, &role) >= 0)
                snprintf(type, sizeof(type), "%s-%s", vr_part_role_to_string(role), arch);
        else {
                char t[VR_ID128_STRING_MAX];
                snprintf(type, sizeof(type), "type %s", vr_id128_to_string(p->type, t));
        }
        /* The label is the attacker's: escaped, and cut short so PARTUUID and disk always fit. */
        if (p->label)
                vr_escape(p->label, VR_ESCAPE_QUOTED, label, sizeof(label));
        snprintf(buf, len, "partition %u%s%s%s (%s, PARTUUID=%s) on %s", p->partno, p->label ? " \"" : "",
                 p->label ? label : "", p->label ? "\"" : "", type, vr_partition_partuuid(p, uuid),
                 p->disk ?: "?");
        return buf;
}

static int node_size(int fd, uint64_t *ret) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode)) {
                *ret = (uint64_t) st.st_size;
                return 1;
        }
        if (S_ISBLK(st.st_mode)) {
                if (ioctl(fd, BLKGETSIZE64, ret) < 0)
                        return -errno;
                return 1;
        }
        return 0;
}

int vr_partition_open(const struct vr_partition *p, struct vr_region *region, char *what, size_t whatlen) {
        _cleanup_close_ int fd = -1;
        uint64_t size;
        int r;

        vr_partition_describe(p, what, whatlen);
        fd = open(p->node, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open %s for %s: %s", p->node, what, strerror(errno));

        /* What is read here must be the device the kernel table will name later. */
        if (p->devnum != 0) {
                struct stat st;
                if (fstat(fd, &st) < 0)
                        return log_error_errno(errno, "Failed to stat %s: %s", p->node, strerror(errno));
                if (!S_ISBLK(st.st_mode) || st.st_rdev != p->devnum)
                        return log_error_errno(ENXIO, "%s is no longer the block device %u:%u the kernel announced for %s",
                                               p->node, major(p->devnum), minor(p->devnum), what);
        }

        /* A truncated image would otherwise show up later as a bare short read. */
        r = node_size(fd, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to get the size of %s: %s", p->node, strerror(-r));
        if (r > 0 && (p->node_offset > size || p->size > size - p->node_offset))
                return log_error_errno(ERANGE, "%s ends at byte %llu, past the end of %s (%llu bytes)", what,
                                       (unsigned long long) (p->node_offset + p->size), p->node,
                                       (unsigned long long) size);

        *region = (struct vr_region) { .fd = TAKE_FD(fd), .offset = p->node_offset, .size = p->size, .what = what };
        return 0;
}
