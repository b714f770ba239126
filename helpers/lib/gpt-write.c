/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libfdisk.h>

#include "gpt-write.h"
#include "util.h"

static void fdisk_unref_contextp(struct fdisk_context **c) {
        if (*c)
                fdisk_unref_context(*c);
}
static void fdisk_unref_partitionp(struct fdisk_partition **p) {
        if (*p)
                fdisk_unref_partition(*p);
}
static void fdisk_unref_parttypep(struct fdisk_parttype **t) {
        if (*t)
                fdisk_unref_parttype(*t);
}

static int add_entry(struct fdisk_context *cxt, struct fdisk_label *lb, const char *path, size_t i,
                     const struct vr_gpt_entry *e) {
        _cleanup_(fdisk_unref_partitionp) struct fdisk_partition *pa = fdisk_new_partition();
        _cleanup_(fdisk_unref_parttypep) struct fdisk_parttype *type = NULL;
        char type_str[VR_ID128_STRING_MAX], uuid_str[VR_ID128_STRING_MAX];
        int r;

        if (!pa)
                return log_error_errno(ENOMEM, "out of memory");
        type = fdisk_label_get_parttype_from_string(lb, vr_id128_to_string(e->type, type_str));
        if (!type)
                return log_error_errno(EINVAL, "%s: partition type %s not accepted by libfdisk", path, type_str);
        r = fdisk_partition_set_start(pa, e->offset / 512);
        if (r >= 0)
                r = fdisk_partition_set_size(pa, e->size / 512);
        if (r >= 0)
                r = fdisk_partition_set_partno(pa, i);
        if (r >= 0)
                r = fdisk_partition_set_type(pa, type);
        if (r >= 0)
                r = fdisk_partition_set_name(pa, e->name);
        if (r >= 0)
                r = fdisk_partition_set_uuid(pa, vr_id128_to_string(e->uuid, uuid_str));
        if (r >= 0)
                r = fdisk_add_partition(cxt, pa, NULL);
        if (r >= 0 && e->attrs)
                r = fdisk_gpt_set_partition_attrs(cxt, i, e->attrs);
        if (r < 0)
                return log_error_errno(r, "%s: cannot add partition %zu (%s): %s", path, i + 1, e->name, strerror(-r));
        return 0;
}

int vr_gpt_write(const char *path, vr_id128 disk_guid, const struct vr_gpt_entry *entries, size_t n) {
        _cleanup_(fdisk_unref_contextp) struct fdisk_context *cxt = fdisk_new_context();
        char guid[VR_ID128_STRING_MAX];
        int r;

        if (!cxt)
                return log_error_errno(ENOMEM, "out of memory");
        /* libfdisk rounds sizes above its grain (1 MiB) down to it; ours are exact. */
        r = fdisk_save_user_grain(cxt, 4096);
        if (r >= 0)
                r = fdisk_assign_device(cxt, path, 0);
        if (r < 0)
                return log_error_errno(r, "cannot open %s for writing its partition table: %s", path, strerror(-r));
        fdisk_disable_dialogs(cxt, 1);
        r = fdisk_create_disklabel(cxt, "gpt");
        if (r >= 0)
                r = fdisk_set_disklabel_id_from_string(cxt, vr_id128_to_string(disk_guid, guid));
        if (r < 0)
                return log_error_errno(r, "cannot create a GPT on %s: %s", path, strerror(-r));

        struct fdisk_label *lb = fdisk_get_label(cxt, NULL);
        for (size_t i = 0; i < n; i++) {
                r = add_entry(cxt, lb, path, i, &entries[i]);
                if (r < 0)
                        return r;
        }
        r = fdisk_write_disklabel(cxt);
        if (r >= 0)
                r = fdisk_deassign_device(cxt, 0);
        if (r < 0)
                return log_error_errno(r, "cannot write the GPT of %s: %s", path, strerror(-r));
        return 0;
}
