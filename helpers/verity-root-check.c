/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verity-root-check NAME DATA: after systemd-veritysetup attached NAME, read what mount
 * will read and ask the kernel for the dm-verity status, so corruption stops the boot now. */
#include "cmdline.h"
#include "devcheck.h"
#include "util.h"

int main(int argc, char **argv) {
        struct vr_cmdline cmdline;
        int r;

        vr_log_set_prefix("verity-root");
        if (argc != 3) {
                fprintf(stderr, "Usage: %s NAME DATA-DEVICE\n", program_invocation_short_name);
                return 2;
        }
        vr_cmdline_init(&cmdline);
        r = vr_cmdline_read(NULL, &cmdline);
        if (r >= 0)
                r = vr_check_active(argv[1], argv[2], cmdline.check_full);
        vr_cmdline_done(&cmdline);
        return r < 0 ? 1 : 0;
}
