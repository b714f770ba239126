/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <libcryptsetup.h>
#include "id128.h"

#include "util.h"
#include "verity-format.h"

static void crypt_freep(struct crypt_device **cd) {
        if (*cd)
                crypt_free(*cd);
}

static void log_crypt(int level, const char *msg, void *userdata) {
        if (level == CRYPT_LOG_ERROR)
                log_debug("libcryptsetup: %s", msg);
}

int vr_verity_format(const struct vr_verity_format_config *c, struct vr_roothash *ret) {
        _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
        char uuid[VR_ID128_STRING_MAX];
        vr_id128 id;
        int r;

        memcpy(id.bytes, c->uuid, 16);
        vr_id128_to_string(id, uuid);

        r = crypt_init(&cd, c->hash_path);
        if (r < 0)
                return log_error_errno(r, "cannot open %s for the hash tree: %s", c->hash_path, strerror(-r));
        crypt_set_log_callback(cd, log_crypt, NULL);

        struct crypt_params_verity p = {
                .hash_name = "sha256",
                .data_device = c->data_path,
                .salt = (const char *) c->salt,
                .salt_size = (uint32_t) c->salt_size,
                .hash_type = 1,
                .data_block_size = 4096,
                .hash_block_size = 4096,
                .data_size = c->data_bytes / 4096,
                .hash_area_offset = c->hash_offset,
                .flags = CRYPT_VERITY_CREATE_HASH,
        };
        r = crypt_format(cd, CRYPT_VERITY, NULL, NULL, uuid, NULL, 0, &p);
        if (r < 0)
                return log_error_errno(r, "cannot write the hash tree of %s into %s at byte %" PRIu64 ": %s",
                                       c->data_path, c->hash_path, c->hash_offset, strerror(-r));

        size_t len = sizeof(ret->bytes);
        r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *) ret->bytes, &len, NULL, 0);
        if (r < 0)
                return log_error_errno(r, "cannot read back the root hash of %s: %s", c->hash_path, strerror(-r));
        ret->len = len;
        return 0;
}
