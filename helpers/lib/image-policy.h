/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd.image_policy= (systemd.image-policy(7)): which DPS partitions may be used, and
 * with what protection. Parsed with systemd's syntax and derivation rules, so that a
 * policy string means the same to this module as to systemd-dissect. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dps.h"

/* The DPS partition designators a policy or filter may name (arch-agnostic). */
enum vr_designator {
        VR_DESIGNATOR_ROOT,
        VR_DESIGNATOR_USR,
        VR_DESIGNATOR_HOME,
        VR_DESIGNATOR_SRV,
        VR_DESIGNATOR_ESP,
        VR_DESIGNATOR_XBOOTLDR,
        VR_DESIGNATOR_SWAP,
        VR_DESIGNATOR_ROOT_VERITY,
        VR_DESIGNATOR_ROOT_VERITY_SIG,
        VR_DESIGNATOR_USR_VERITY,
        VR_DESIGNATOR_USR_VERITY_SIG,
        VR_DESIGNATOR_TMP,
        VR_DESIGNATOR_VAR,
        _VR_DESIGNATOR_MAX,
        VR_DESIGNATOR_INVALID = -1,
};

/* The designator named by the first n bytes of s (a rule's "designator=" part). */
enum vr_designator vr_designator_from_prefix(const char *s, size_t n);
const char *vr_designator_to_string(enum vr_designator d);
/* The designator of one of the verity-relevant roles dps.c knows. */
enum vr_designator vr_designator_from_role(enum vr_part_role role);

/* Policy flags; a field with none of its bits set means "any" (systemd's extension). */
enum {
        VR_POLICY_VERITY = 1u << 0,
        VR_POLICY_SIGNED = 1u << 1,
        VR_POLICY_ENCRYPTED = 1u << 2,
        VR_POLICY_UNPROTECTED = 1u << 3,
        VR_POLICY_UNUSED = 1u << 4,
        VR_POLICY_ABSENT = 1u << 5,
        VR_POLICY_ENCRYPTED_INTEGRITY = 1u << 6,
        VR_POLICY_USE_MASK = (1u << 7) - 1,
        VR_POLICY_OPEN = VR_POLICY_USE_MASK,
        VR_POLICY_IGNORE = VR_POLICY_UNUSED | VR_POLICY_ABSENT,
        VR_POLICY_READ_ONLY_ON = 1u << 7,
        VR_POLICY_READ_ONLY_OFF = 1u << 8,
        VR_POLICY_READ_ONLY_MASK = VR_POLICY_READ_ONLY_ON | VR_POLICY_READ_ONLY_OFF,
        VR_POLICY_GROWFS_ON = 1u << 9,
        VR_POLICY_GROWFS_OFF = 1u << 10,
        VR_POLICY_GROWFS_MASK = VR_POLICY_GROWFS_ON | VR_POLICY_GROWFS_OFF,
        /* File system types (systemd 258+). */
        VR_POLICY_BTRFS = 1u << 11,
        VR_POLICY_EROFS = 1u << 12,
        VR_POLICY_EXT4 = 1u << 13,
        VR_POLICY_F2FS = 1u << 14,
        VR_POLICY_SQUASHFS = 1u << 15,
        VR_POLICY_VFAT = 1u << 16,
        VR_POLICY_XFS = 1u << 17,
        VR_POLICY_FSTYPE_MASK = ((1u << 18) - 1) & ~((1u << 11) - 1),
};

struct vr_image_policy {
        uint32_t flags[_VR_DESIGNATOR_MAX];
        bool listed[_VR_DESIGNATOR_MAX];
        uint32_t default_flags;
};

/* Parses s ("*", "-", "~", or "designator=flag+flag:...:=default"). Errors are logged
 * naming what is wrong: -EBADSLT unknown designator, -EBADRQC unknown flag, -ENOTUNIQ
 * a designator (or the default) twice, -EINVAL malformed. */
int vr_image_policy_parse(const char *s, struct vr_image_policy *ret);

/* The effective flags for d, every unspecified field filled in, meaningless bits masked
 * off, and for verity/signature partitions without a rule of their own, derived from
 * the data partition's rule (systemd's image_policy_get_exhaustively()). */
uint32_t vr_image_policy_get(const struct vr_image_policy *p, enum vr_designator d);

/* "verity+signed+unused" into buf, each flag set spelled out (mask what is wanted); "-" when none. */
const char *vr_image_policy_flags_to_string(uint32_t flags, char *buf, size_t len);

/* The policy flag for a file system type name ("ext4"), 0 for a type policies cannot name. */
uint32_t vr_image_policy_fstype_flag(const char *fstype);

/* Checks a partition's GPT read-only and growfs bits against flags. Returns 0, or
 * -EPERM with which bit is wrong in why. */
int vr_image_policy_check_gpt_flags(uint32_t flags, uint64_t gpt_flags, char *why, size_t len);
