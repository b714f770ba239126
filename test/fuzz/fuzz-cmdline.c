/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Arbitrary bytes as a kernel command line, and as a root hash with and without an algorithm. */
#include "cmdline.h"
#include "roothash.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const algorithms[] = { NULL, "sha1", "sha256", "sha512", "bogus" };
        _cleanup_free_ char *s = NULL;
        struct vr_cmdline c;
        struct vr_roothash h;
        char buf[2 * VR_ROOTHASH_MAX + 1];
        unsigned char uuid[16];

        vr_log_set_level(0);

        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;

        vr_cmdline_init(&c);
        (void) vr_cmdline_parse(s, &c);
        (void) vr_cmdline_wants_root(&c);
        (void) vr_cmdline_wants_usr(&c);
        if (c.roothash && vr_roothash_parse(c.roothash, NULL, "roothash=", &h) >= 0) {
                vr_roothash_to_string(&h, buf);
                vr_roothash_data_uuid(&h, uuid);
                vr_roothash_verity_uuid(&h, uuid);
        }
        vr_cmdline_done(&c);

        for (size_t i = 0; i < ELEMENTSOF(algorithms); i++)
                if (vr_roothash_parse(s, algorithms[i], "fuzz", &h) >= 0)
                        vr_roothash_to_string(&h, buf);
        return 0;
}
