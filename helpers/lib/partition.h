/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Partitions of a disk image or, through partition-kernel.h, of the running system (libblkid). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "id128.h"

/* MBR (dos) tables are read for Kiwi roots, which BIOS builds put on MBR disks; their
 * entries have no type UUID, PARTUUID, name or attribute bits (all zero), so nothing that
 * looks for DPS types or GPT identities ever matches them. */
enum vr_partition_table {
        VR_TABLE_GPT,
        VR_TABLE_MBR,
};

struct vr_partition {
        char *node;            /* what to open: /dev/vda3, or the image file / whole disk */
        uint64_t node_offset;  /* where the partition starts inside node, in bytes */
        char *disk;            /* identity of the whole disk: "/dev/vda" or the image path */
        unsigned partno;       /* 1-based entry number (MBR: 1-4 primary, 5... logical) */
        enum vr_partition_table table;
        vr_id128 type;         /* GPT partition type */
        vr_id128 uuid;         /* GPT PARTUUID */
        char *label;           /* GPT partition name, may be NULL */
        uint64_t flags;        /* GPT attribute bits */
        uint8_t mbr_type;      /* MBR system id (0x83 ...) */
        uint32_t mbr_id;       /* MBR disk signature: the kernel's PARTUUID is "%08x-%02x" of it and partno */
        uint64_t offset;       /* start on the disk, bytes */
        uint64_t size;         /* bytes */
        dev_t devnum;          /* the partition's block device at boot, 0 for images */
};

struct vr_partition_list {
        struct vr_partition *items;
        size_t n;
};

/* A bounded window onto an open file, named for messages ("partition 3 (root-verity) of disk.img"). */
struct vr_region {
        int fd;
        uint64_t offset; /* of byte 0 of the region inside fd */
        uint64_t size;
        const char *what;
};

/* Reads len bytes at off inside the region; -ERANGE (logged, naming r->what) past its end. */
int vr_region_read(const struct vr_region *r, void *buf, size_t len, uint64_t off);
/* The name of the region read last ("" if none since the last note of NULL): a read
 * that blocks past the boot deadline is named in its message. */
void vr_region_note_reading(const char *what);
const char *vr_region_reading(void);

/* Enumerates the GPT (or MBR) of an image file or whole-disk device with libblkid (no
 * root, no loop devices). A disk without either yields -ENOMEDIUM with a message naming
 * path; unreadable or malformed tables a message naming path and the cause. */
int vr_partitions_from_image(const char *path, struct vr_partition_list *list);

/* The libblkid half of vr_partitions_from_image(), shared with the kernel scan: appends
 * the GPT or MBR entries of the disk open at fd (extended-partition containers left out),
 * named what in messages, with every field but node, node_offset, disk and devnum set.
 * No partition table: -ENOMEDIUM, logged at nogpt_level; a failed read at error_level. */
int vr_partitions_probe(int fd, const char *what, int nogpt_level, int error_level,
                        struct vr_partition_list *list);

/* The PARTUUID as the kernel names it: a GPT UUID, or "ssssssss-pp" for MBR entries. */
#define VR_PARTUUID_MAX 37
static inline const char *vr_partition_table_name(const struct vr_partition *p) {
        return p->table == VR_TABLE_MBR ? "MBR" : "GPT";
}
const char *vr_partition_partuuid(const struct vr_partition *p, char buf[static VR_PARTUUID_MAX]);

/* vr_partitions_from_image() for each path, in order (several images stand for several disks). */
int vr_partitions_from_images(char *const *paths, size_t n, struct vr_partition_list *list);

int vr_partition_list_append(struct vr_partition_list *list, struct vr_partition *p); /* takes ownership */
/* Moves every item of src to the end of dst in one allocation, so dst is untouched on failure. */
int vr_partition_list_move(struct vr_partition_list *dst, struct vr_partition_list *src);
void vr_partition_done(struct vr_partition *p);
void vr_partition_list_done(struct vr_partition_list *list);

/* Opens p->node read-only and fills region (offset = node_offset, size = p->size).
 * what is a caller-owned name buffer of at least 256 bytes that the region points to. */
int vr_partition_open(const struct vr_partition *p, struct vr_region *region, char *what, size_t whatlen);

/* "partition 3 "label" (root-verity, PARTUUID=...) on disk.img" into buf; the label escaped
 * with VR_ESCAPE_QUOTED and cut to fit. */
const char *vr_partition_describe(const struct vr_partition *p, char *buf, size_t len);
