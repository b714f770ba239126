/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Arbitrary bytes as a Kiwi metadata block, and as a whole partition whose last 4 KiB
 * are the block: parsed, layout-checked, and (when they parse) its tree verified. */
#include <sys/mman.h>

#include "hashtree.h"
#include "kiwi.h"
#include "util.h"

#define FUZZ_MAX_INPUT (256u * 1024u)

static void check_partition(const uint8_t *data, size_t size) {
        struct vr_kiwi_meta *m = malloc(sizeof(*m));
        struct vr_trust_store empty = {};
        struct vr_region r;
        uint64_t bad;
        int fd;

        if (!m)
                return;
        fd = memfd_create("fuzz-kiwi", MFD_CLOEXEC);
        if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size))
                goto out;
        r = (struct vr_region) { .fd = fd, .offset = 0, .size = size, .what = "fuzz partition" };
        if (vr_kiwi_read(&r, m) < 0)
                goto out;
        (void) vr_kiwi_verify_signature(m, &empty, "fuzz partition", NULL);
        (void) vr_hashtree_check_root(&m->params, &r, &m->roothash);
        if (m->params.data_blocks <= 4096)
                (void) vr_hashtree_verify_all(&m->params, &r, &r, &m->roothash, NULL, NULL, &bad);
out:
        if (fd >= 0)
                close(fd);
        free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static unsigned char block[VR_KIWI_BLOCK_SIZE];
        struct vr_kiwi_meta *m;

        vr_log_set_level(0);
        if (size > FUZZ_MAX_INPUT)
                return 0;

        /* The block alone: the input's first 4 KiB, zero-padded as a fresh disk would be. */
        memset(block, 0, sizeof(block));
        memcpy(block, data, size < sizeof(block) ? size : sizeof(block));
        m = malloc(sizeof(*m));
        if (!m)
                return 0;
        (void) vr_kiwi_parse(block, sizeof(block), "fuzz block", m);
        free(m);

        check_partition(data, size);
        return 0;
}
