/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing a GPT into an image file with libfdisk. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include "id128.h"

struct vr_gpt_entry {
        uint64_t offset;   /* bytes, multiple of 512 */
        uint64_t size;     /* bytes, multiple of 512 */
        vr_id128 type;
        vr_id128 uuid;
        const char *name;
        uint64_t attrs;    /* GPT attribute bits (dps.h VR_GPT_FLAG_*) */
};

/* Replaces any partition table of path (which must already be large enough, including
 * room for the backup GPT at its end) by a GPT holding exactly these entries, numbered
 * from 1 in order, with the given disk GUID. Errors name path and the entry. */
int vr_gpt_write(const char *path, vr_id128 disk_guid, const struct vr_gpt_entry *entries, size_t n);
