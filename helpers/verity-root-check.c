/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verity-root-check NAME DATA: after systemd-veritysetup attached NAME, read what mount
 * will read and ask the kernel for the dm-verity status, so corruption stops the boot now.
 * verity-root-check --failed NAME: as ExecStopPost=, explain why the attach failed. */
#include <limits.h>

#include "activate.h"
#include "cmdline.h"
#include "devcheck.h"
#include "util.h"

/* systemd passes the result of the service and our environment file to ExecStopPost=. */
static int explain_failure(const char *name) {
        const char *result = getenv("SERVICE_RESULT"), *status = getenv("EXIT_STATUS");
        const char *signer = getenv("VERITY_SIGNER");

        /* Attached but refused by our own check: that check has said why already. */
        if (!result || streq(result, "success") || vr_dm_is_active(name))
                return 0;
        if (getenv("VERITY_KERNEL_SIG"))
                log_error("the kernel refused to open /dev/mapper/%s (systemd-veritysetup: %s, status %s): with "
                          "rd.verity.kernel_sig=1 the kernel checks the root hash signature itself, and its keyrings "
                          "do not trust the signer %s", name, result, status ?: "?", signer ?: "(unknown)");
        else
                log_error("systemd-veritysetup could not open /dev/mapper/%s from %s and %s (%s, status %s)", name,
                          getenv("VERITY_DATA") ?: "?", getenv("VERITY_HASH") ?: "?", result, status ?: "?");
        return 0;
}

int main(int argc, char **argv) {
        struct vr_cmdline cmdline;
        int r;

        vr_log_set_prefix("verity-root");
        if (argc == 3 && streq(argv[1], "--failed"))
                return explain_failure(argv[2]) < 0 ? 1 : 0;
        if (argc != 3) {
                fprintf(stderr, "Usage: %s NAME DATA-DEVICE\n       %s --failed NAME\n", program_invocation_short_name,
                        program_invocation_short_name);
                return 2;
        }
        struct vr_verity_table want;
        char table[PATH_MAX];
        snprintf(table, sizeof(table), VR_RUNDIR "/%s.table", argv[1]);
        vr_cmdline_init(&cmdline);
        r = vr_cmdline_read(NULL, &cmdline);
        if (r >= 0)
                r = vr_verity_table_load(table, &want);
        if (r >= 0)
                r = vr_check_active(argv[1], argv[2], &want, cmdline.check_full);
        vr_cmdline_done(&cmdline);
        return r < 0 ? 1 : 0;
}
