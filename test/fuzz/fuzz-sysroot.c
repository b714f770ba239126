/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Arbitrary bytes as the head of init (ELF header or "#!" line), as a whole ELF file whose
 * interpreter and libraries are followed, and as os-release text: what
 * verity-root-check --sysroot reads from a verified but otherwise untrusted image. */
#include "sysroot.h"
#include "util.h"
#include "version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char interp[256], *image_version = NULL;
        struct vr_elf_deps deps;
        struct vr_elf_id id;

        vr_log_set_level(0);
        if (size > 64 * 1024)
                return 0;
        (void) vr_elf_identify(data, size, &id);
        if (vr_elf_deps(data, size, &deps) == 0) {
                /* Every name points into the file and ends inside it. */
                const char *names[VR_ELF_NEEDED_MAX + 2] = { deps.interp, deps.runpath };
                if (deps.n_needed > VR_ELF_NEEDED_MAX)
                        abort();
                memcpy(names + 2, deps.needed, deps.n_needed * sizeof(char *));
                for (size_t i = 0; i < deps.n_needed + 2; i++) {
                        const uint8_t *p = (const uint8_t *) names[i];
                        if (!p)
                                continue;
                        if (p < data || p >= data + size || !memchr(p, 0, (size_t) (data + size - p)) || !*p)
                                abort();
                }
        }
        if (vr_shebang_interpreter((const char *) data, size, interp, sizeof(interp)) > 0 && strlen(interp) == 0)
                abort();
        if (vr_os_release_image_version((const char *) data, size, &image_version) == 0 && image_version) {
                if (!vr_version_is_valid(image_version))
                        abort();
                (void) vr_version_compare(image_version, vr_label_version(image_version));
                (void) vr_image_version_check("fuzz", image_version, image_version, "fuzz", image_version, "fuzz");
        }
        free(image_version);
        return 0;
}
