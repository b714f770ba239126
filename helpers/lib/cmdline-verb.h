/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel command lines that boot a verdict: UKI fragment, or dm-mod.create= (CONFIG_DM_INIT). */
#pragma once

#include "discover.h"

/* "roothash=HEX" (usrhash= for VR_TARGET_USR); the appended layout adds the
 * systemd.verity_root_data=/_hash=/_options=hash-offset=N that systemd >= 254 needs
 * (this project's module finds the appended tree by itself). v must be bootable. */
int vr_cmdline_fragment(const struct vr_verdict *v, enum vr_target target, char **ret);

/* dm-mod.create="vroot,,,ro,0 SECTORS verity VERSION PARTUUID=DATA PARTUUID=HASH DATA_BS
 * HASH_BS DATA_BLOCKS HASH_START ALG DIGEST SALT|-" root=/dev/dm-0 (kernel verity target
 * field order). HASH_START is in hash blocks from the start of the hash partition, after
 * the superblock; with the appended layout both devices are the data partition. */
int vr_dm_mod_create(const struct vr_verdict *v, char **ret);
