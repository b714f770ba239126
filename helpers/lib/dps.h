/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Discoverable Partitions Specification: partition type UUIDs by architecture. */
#pragma once

#include <stdbool.h>
#include "id128.h"

enum vr_part_role {
        VR_ROLE_ROOT,
        VR_ROLE_ROOT_VERITY,
        VR_ROLE_ROOT_VERITY_SIG,
        VR_ROLE_USR,
        VR_ROLE_USR_VERITY,
        VR_ROLE_USR_VERITY_SIG,
        _VR_ROLE_MAX,
        VR_ROLE_NONE = -1,
};

/* DPS architecture name of the running system ("x86-64", "arm64", ...), compile-time. */
const char *vr_dps_native_arch(void);

/* Looks up a partition type for any architecture. Returns 0 and fills arch/role,
 * or -ENOENT when the type is not one of the verity-relevant DPS types. */
int vr_dps_lookup(vr_id128 type, const char **ret_arch, enum vr_part_role *ret_role);

/* Type UUID for (arch, role); -ENOENT when the spec defines none. */
int vr_dps_type(const char *arch, enum vr_part_role role, vr_id128 *ret);

/* 0 if the DPS defines partition types for arch; otherwise logs naming option and arch, -EINVAL. */
int vr_dps_check_arch(const char *arch, const char *option);

/* "root", "root-verity", "root-verity-sig", "usr", ... */
const char *vr_part_role_to_string(enum vr_part_role role);

/* GPT attribute bits (DPS). */
#define VR_GPT_FLAG_NO_AUTO   (UINT64_C(1) << 63)
#define VR_GPT_FLAG_READ_ONLY (UINT64_C(1) << 60)
#define VR_GPT_FLAG_GROWFS    (UINT64_C(1) << 59)
