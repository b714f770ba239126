/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* After activation: make corruption visible now, with a clear line, not as a stalled boot. */
#pragma once

#include <stdbool.h>

#include "dmtable.h"

/* Proves that /dev/mapper/NAME is the dm-verity device want describes (vr_dm_verify_verity),
 * reads what udev and mount read first (the head and tail of it), or every block with
 * full, then asks the kernel whether dm-verity saw corruption.
 * data names the data partition for messages. Returns 0 when the device is verified
 * (dm-verity status V), -EBADMSG (logged with the block number) when corrupted. */
int vr_check_active(const char *name, const char *data, const struct vr_verity_table *want, bool full);

/* 1 when dm-verity has seen corrupted data on the active device NAME, 0 when not, -errno. */
int vr_dm_verity_corrupted(const char *name);

/* Whether the kernel has a device-mapper device of that name. */
bool vr_dm_is_active(const char *name);
