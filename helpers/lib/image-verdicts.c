/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dps.h"
#include "image-verdicts.h"
#include "util.h"

int vr_image_verdicts(const struct vr_partition_list *parts, const char *roothash, const char *usrhash,
                      const struct vr_trust_store *trust, struct vr_verdict v[2]) {
        struct vr_discover_config cfg = {
                .target = VR_TARGET_ROOT,
                .trusted_hash = roothash,
                .sig = VR_SIG_OPTIONAL,
                .trust = trust,
        };

        if (usrhash && !roothash)
                return log_error_errno(EINVAL, "usrhash= without roothash= leaves the root to another owner");
        if (vr_discover_with_kiwi(parts, &cfg, &v[0]) < 0)
                return log_error_errno(v[0].error, "the root would not boot: %s", v[0].reason);

        cfg.target = VR_TARGET_USR;
        if (usrhash)
                cfg.trusted_hash = usrhash;
        else if (roothash)
                return 1;
        else {
                if (!vr_disk_find_target(parts, v[0].data->disk, vr_dps_native_arch(), VR_TARGET_USR, NULL))
                        return 1;
                cfg.only_disk = v[0].data->disk;
        }
        if (vr_discover(parts, &cfg, &v[1]) < 0)
                return log_error_errno(v[1].error, "the usr partition would not boot: %s", v[1].reason);
        return 2;
}
