/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The dm-verity table of an active device-mapper device, read from the kernel
 * (libdevmapper), and its comparison with the table the verdict calls for. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Table options that change what dm-verity checks or does on a bad block. */
enum {
        VR_TABLE_IGNORE_CORRUPTION = 1u << 0,
        VR_TABLE_RESTART_ON_CORRUPTION = 1u << 1,
        VR_TABLE_PANIC_ON_CORRUPTION = 1u << 2,
        VR_TABLE_IGNORE_ZERO_BLOCKS = 1u << 3,
        VR_TABLE_CHECK_AT_MOST_ONCE = 1u << 4,
        VR_TABLE_ROOT_HASH_SIG = 1u << 5,
        VR_TABLE_RESTART_ON_ERROR = 1u << 6,
        VR_TABLE_PANIC_ON_ERROR = 1u << 7,
        VR_TABLE_FEC = 1u << 8,
};

/* One "verity" target line as the kernel prints it (Documentation/admin-guide/
 * device-mapper/verity.rst): <version> <data_dev> <hash_dev> <data_bs> <hash_bs>
 * <num_data_blocks> <hash_start_block> <alg> <digest> <salt> [<#opts> <opts>...]. */
struct vr_verity_table {
        unsigned version;
        dev_t data_dev, hash_dev;
        uint32_t data_block_size, hash_block_size;
        uint64_t data_blocks, hash_start;
        char algorithm[64];
        char digest[2 * 64 + 1]; /* lowercase hex */
        char salt[2 * 256 + 1];  /* lowercase hex, "-" for none */
        unsigned options;        /* VR_TABLE_* */
};

/* Parses the parameters of a verity target (devices as MAJOR:MINOR, as the kernel prints
 * them). -EINVAL, naming the field, on anything else. */
int vr_verity_table_parse(const char *params, struct vr_verity_table *t);
/* The same line, options as their count and names (no option arguments). */
int vr_verity_table_format(const struct vr_verity_table *t, char *buf, size_t len);

/* NULL when got is the table want describes; otherwise a description of the first field
 * that differs, with both values, in buf. */
const char *vr_verity_table_diff(const struct vr_verity_table *want, const struct vr_verity_table *got, char *buf,
                                 size_t len);

/* What the kernel says about a device-mapper device. */
struct vr_dm_device {
        dev_t devnum;
        char uuid[130];
        unsigned target_count;
        char target_type[32];       /* of the first target */
        uint64_t start, length;     /* of the first target, 512-byte sectors */
        char *params;               /* of the first target */
};
void vr_dm_device_done(struct vr_dm_device *d);

/* The kernel's version of a device-mapper target ("verity"), loading its module if
 * needed. -ENOENT when the kernel has no such target (nothing logged). */
int vr_dm_target_version(const char *target, unsigned ret[3]);

/* -ENOENT when no device of that name exists (nothing logged). */
int vr_dm_query(const char *name, struct vr_dm_device *ret);

/* Proves that /dev/mapper/NAME is the verified device: a single dm-verity target over the
 * whole data area whose table equals want. Logs the mismatch (target type and uuid for a
 * device of another kind, the differing field for a verity device) and returns -EBADMSG,
 * or -ENOENT (logged) when there is no such device. ret_devnum: the device's dev_t. */
int vr_dm_verify_verity(const char *name, const struct vr_verity_table *want, dev_t *ret_devnum);

/* Reads and writes the expected table of NAME in VR_RUNDIR/NAME.table, the record that
 * verity-root-setup leaves for verity-root-check after systemd-veritysetup attached. */
int vr_verity_table_save(const char *path, const struct vr_verity_table *t);
int vr_verity_table_load(const char *path, struct vr_verity_table *t);
