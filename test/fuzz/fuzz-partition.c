/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The input is a whole disk image, probed for its GPT or MBR through libblkid. */
#include <sys/mman.h>

#include "partition.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static int fd = -1;
        static char path[64];
        struct vr_partition_list list = {};

        /* One memfd for the whole run: libblkid opens it again by path like any image file. */
        if (fd < 0) {
                vr_log_set_level(0);
                fd = memfd_create("fuzz-partition", MFD_CLOEXEC);
                if (fd < 0)
                        abort();
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        }
        if (ftruncate(fd, 0) < 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t) size))
                abort();

        if (vr_partitions_from_image(path, &list) >= 0)
                for (size_t i = 0; i < list.n; i++) {
                        const struct vr_partition *p = &list.items[i];
                        char what[256], uuid[VR_PARTUUID_MAX];
                        vr_partition_describe(p, what, sizeof(what));
                        vr_partition_partuuid(p, uuid);
                        /* MBR entries carry no GPT identity: nothing may match them as DPS. */
                        if (p->table == VR_TABLE_MBR && (!vr_id128_is_null(p->type) || p->flags != 0 || p->label))
                                abort();
                        /* What libblkid accepted must lie inside 64-bit byte arithmetic. */
                        if (p->node_offset != p->offset || p->offset > UINT64_MAX - p->size || p->partno == 0)
                                abort();
                }
        vr_partition_list_done(&list);
        return 0;
}
