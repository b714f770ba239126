/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* At boot: re-evaluate the binding rules on each burst of block device events until a verdict. */
#pragma once

#include "discover.h"

/* PARTUUID of the boot partition from the EFI variable LoaderDevicePartUUID, if set. */
int vr_loader_device_partuuid(vr_id128 *ret);

/* The disk of the partition with the boot loader's PARTUUID: *ret NULL when there is none
 * (yet); -ENOTUNIQ, v refused naming the PARTUUID and every partition holding it, when
 * several have it. *ret points into parts. */
int vr_boot_disk_find(const struct vr_partition_list *parts, vr_id128 loader_uuid, const char **ret,
                      struct vr_verdict *v);

/* Reads the partitions of every disk the kernel has announced (vr_partitions_from_kernel(),
 * not waiting for udev) and applies vr_discover(); if the verdict is only "incomplete",
 * waits for more partitions (kernel and udev netlink events, no polling) up to
 * timeout_sec, then refuses with a message that says it timed out and what is missing.
 * Any other verdict is final once every announced block device has been read. parts
 * keeps the partitions the verdict points into. Returns v->error. */
int vr_wait_for_verdict(const struct vr_discover_config *cfg, unsigned timeout_sec, struct vr_partition_list *parts,
                        struct vr_verdict *v);

/* The line logged while waiting: what is awaited and what has been seen so far (partitions,
 * disks, the target's DPS types found), never the interim refusal, which reads like a
 * verdict that may be undone a moment later. Returns buf. */
const char *vr_wait_message(const struct vr_discover_config *cfg, const struct vr_partition_list *parts,
                            const struct vr_verdict *v, unsigned timeout_sec, char *buf, size_t size);

/* Starts the kernel's random number generator in the background, if it is not yet: the
 * first blocking read (libcryptsetup's, OpenSSL's, systemd-veritysetup's) otherwise waits
 * for it after the disks are there. Without a hardware source (VMs without virtio-rng)
 * that is a second or more of jitter entropy; begun here, it overlaps the wait for the
 * disks. Never fails: without a thread the first reader pays, as before. */
void vr_random_warm_up(void);

/* How long the kernel must have announced nothing (no uevent of any device) before a
 * verdict on the disks it has announced is final: the next disk of a driver that is
 * probing several comes that long after the previous one at most. */
#define VR_KERNEL_QUIET_MSEC 500u

/* Seconds past rd.verity.timeout= for a last look at the partitions present then. */
#define VR_DEADLINE_GRACE_SEC 5u

/* rd.verity.timeout= bounds the whole search, reads included: a read that blocks (or an
 * evaluation that runs) past timeout_sec + VR_DEADLINE_GRACE_SEC ends the process with
 * exit status 1 and one line on stderr naming the target and what it was reading
 * (vr_region_reading()). vr_deadline_disarm() before work whose length is not the
 * attacker's to choose (rd.verity.check=full reads the whole verified device). */
void vr_deadline_arm(const char *target, unsigned timeout_sec);
void vr_deadline_disarm(void);
