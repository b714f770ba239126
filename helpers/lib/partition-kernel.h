/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* At boot: GPT partitions of the disks the kernel has announced (sysfs), each table read
 * with libblkid from the disk's device node, without waiting for udev to process it. */
#pragma once

#include "partition.h"

struct vr_kernel_scan {
        const char *sysfs;  /* NULL: "/sys" */
        const char *devdir; /* NULL: "/dev" */
        /* Whether udev has processed the whole disk called sysname in sysfs: it got the
         * disk's ADD event, which the kernel sends once its partition scan is over. NULL:
         * never. */
        bool (*disk_processed)(const char *sysname, void *userdata);
        void *userdata;
        /* Unit tests only: regular files stand in for device nodes, whose device number
         * is then not checked. */
        bool nodes_may_be_files;
};

/* Appends the GPT partitions of every whole disk in sysfs that can carry partitions: node
 * and disk under devdir, the partition's devnum (vr_partition_open() checks the node
 * against it), node_offset 0. An entry counts only when the kernel has a partition device of
 * the same number, start and size. Returns 0 when every announced block device was read
 * completely, 1 when one is still being announced (*ret_pending, if not NULL, then says
 * which and why: its sysfs name and what is missing), -errno (logged) on failure. */
int vr_partitions_from_kernel(const struct vr_kernel_scan *scan, struct vr_partition_list *list, char **ret_pending);
