/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building a read-only file system image from a directory with the distribution's mkfs tools. */
#pragma once

#include <stdint.h>

enum vr_fs_type { VR_FS_EROFS, VR_FS_EXT4, VR_FS_SQUASHFS, _VR_FS_MAX };

/* "erofs", "ext4", "squashfs" and back; -EINVAL for anything else. */
const char *vr_fs_type_to_string(enum vr_fs_type t);
int vr_fs_type_from_string(const char *s, enum vr_fs_type *ret);

/* Makes `out` from dir reproducibly: every file owned by root, fixed timestamps and
 * the given file system UUID (ignored by squashfs, which has none). */
int vr_mkfs(enum vr_fs_type t, const char *dir, const char *out, const unsigned char uuid[16], const char *label);
