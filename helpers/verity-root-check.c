/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verity-root-check NAME DATA: after systemd-veritysetup attached NAME, read what mount
 * will read and ask the kernel for the dm-verity status, so corruption stops the boot now.
 * verity-root-check --failed NAME: as ExecStopPost=, explain why the attach failed.
 * verity-root-check --sysroot DIR: before switch-root, refuse a verified root mounted on
 * DIR (and a verified /usr on DIR/usr) that is not this machine's root of the chosen version.
 * verity-root-check --ipe-policy FILE DIR: then load and activate the signed IPE policy
 * FILE, and prove it lets the kernel execute the init of the root on DIR. */
#include <limits.h>
#include <sys/stat.h>

#include "activate.h"
#include "cmdline.h"
#include "devcheck.h"
#include "image-policy.h"
#include "ipe.h"
#include "kernel-sig.h"
#include "sysroot.h"
#include "util.h"

/* Why the kernel said no, from the environment file (VERITY_KERNEL_SIG, VERITY_SIGNER);
 * how: what systemd-veritysetup did about it. */
static int log_kernel_refusal(const char *name, const char *how) {
        const char *signer = getenv("VERITY_SIGNER");
        char keyrings[256];

        vr_kernel_keyrings_describe(NULL, keyrings, sizeof(keyrings));
        return log_error_errno(EKEYREJECTED, "the kernel refused to open /dev/mapper/%s (%s): with %s it checks the "
                               "root hash signature itself, and none of its keyrings trusts the signer %s (%s)",
                               name, how, getenv("VERITY_KERNEL_SIG"), signer ?: "(unknown)", keyrings);
}

/* systemd-veritysetup (262) retries a signature the kernel refused without it: the device
 * is then there, unsigned. The table check would refuse it too, but not say why. */
static bool opened_without_signature(const char *name, const struct vr_verity_table *want) {
        _cleanup_(vr_dm_device_done) struct vr_dm_device d = {};
        struct vr_verity_table got;

        if (!(want->options & VR_TABLE_ROOT_HASH_SIG) || !getenv("VERITY_KERNEL_SIG"))
                return false;
        if (vr_dm_query(name, &d) < 0 || d.target_count != 1 || !streq(d.target_type, "verity") ||
            vr_verity_table_parse(d.params, &got) < 0)
                return false;
        return !(got.options & VR_TABLE_ROOT_HASH_SIG);
}

/* systemd passes the result of the service and our environment file to ExecStopPost=. */
static int explain_failure(const char *name) {
        const char *result = getenv("SERVICE_RESULT"), *status = getenv("EXIT_STATUS");
        char how[128];

        /* Attached but refused by our own check: that check has said why already. */
        if (!result || streq(result, "success") || vr_dm_is_active(name))
                return 0;
        if (getenv("VERITY_KERNEL_SIG")) {
                snprintf(how, sizeof(how), "systemd-veritysetup: %s, status %s", result, status ?: "?");
                (void) log_kernel_refusal(name, how);
        } else
                log_error("systemd-veritysetup could not open /dev/mapper/%s from %s and %s (%s, status %s)", name,
                          getenv("VERITY_DATA") ?: "?", getenv("VERITY_HASH") ?: "?", result, status ?: "?");
        return 0;
}

/* The table verity-root-setup verified for NAME (VR_RUNDIR/NAME.table). */
static int load_verified_table(const char *name, struct vr_verity_table *ret) {
        char table[PATH_MAX];
        snprintf(table, sizeof(table), VR_RUNDIR "/%s.table", name);
        return vr_verity_table_load(table, ret);
}

/* The dev_t of /dev/mapper/NAME once its table is proven to be the verified one. */
static int verified_devnum(const char *name, dev_t *ret) {
        struct vr_verity_table want;
        int r = load_verified_table(name, &want);
        return r < 0 ? r : vr_dm_verify_verity(name, &want, ret);
}

static int check_sysroot(const char *where) {
        _cleanup_(vr_cmdline_done) struct vr_cmdline cmdline = {};
        _cleanup_free_ char *floor = NULL, *label_version = NULL, *label_device = NULL, *usr = NULL;
        struct stat st;
        dev_t root_devnum, usr_devnum;
        int r;

        vr_cmdline_init(&cmdline);
        r = vr_cmdline_read(NULL, &cmdline);
        if (r >= 0)
                r = vr_read_version_file(VR_MIN_VERSION_FILE, &floor);
        if (r >= 0)
                r = vr_env_file_get(VR_RUNDIR "/root.env", "VERITY_LABEL_VERSION", &label_version);
        if (r >= 0)
                r = vr_env_file_get(VR_RUNDIR "/root.env", "VERITY_DATA", &label_device);
        if (r >= 0)
                r = verified_devnum("root", &root_devnum);
        if (r < 0)
                return r;

        /* The file systems systemd.image_policy= allows: checked on the verified tree itself. */
        struct vr_image_policy policy;
        uint32_t root_fs = 0, usr_fs = 0;
        if (cmdline.image_policy && vr_image_policy_parse(cmdline.image_policy, &policy) >= 0) {
                root_fs = vr_image_policy_get(&policy, VR_DESIGNATOR_ROOT);
                usr_fs = vr_image_policy_get(&policy, VR_DESIGNATOR_USR);
        }

        struct vr_sysroot_expect e = {
                .fstypes = root_fs,
                .devnum = root_devnum,
                .device = "/dev/mapper/root",
                .label_version = label_version,
                .label_device = label_device,
                .min_version = cmdline.min_version,
                .floor_version = floor,
                .init = cmdline.init,
        };
        r = vr_sysroot_check_root(where, &e);
        if (r < 0)
                return r;
        /* usr.env: verity-root set up /usr too (usrhash=, or found on the root's disk). */
        if (stat(VR_RUNDIR "/usr.env", &st) < 0)
                return 0;
        if (asprintf(&usr, "%s/usr", where) < 0)
                return log_error_errno(ENOMEM, "out of memory");
        r = verified_devnum("usr", &usr_devnum);
        return r < 0 ? r : vr_sysroot_check_usr(usr, "/dev/mapper/usr", usr_devnum, usr_fs);
}

static int load_ipe_policy(const char *path, const char *where) {
        _cleanup_(vr_cmdline_done) struct vr_cmdline cmdline = {};
        int r;

        vr_cmdline_init(&cmdline);
        r = vr_cmdline_read(NULL, &cmdline);
        return r < 0 ? r : vr_ipe_load(path, where, cmdline.init);
}

int main(int argc, char **argv) {
        struct vr_cmdline cmdline;
        int r;

        vr_log_set_prefix("verity-root");
        if (argc == 3 && streq(argv[1], "--failed"))
                return explain_failure(argv[2]) < 0 ? 1 : 0;
        if (argc == 3 && streq(argv[1], "--sysroot"))
                return check_sysroot(argv[2]) < 0 ? 1 : 0;
        if (argc == 4 && streq(argv[1], "--ipe-policy"))
                return load_ipe_policy(argv[2], argv[3]) < 0 ? 1 : 0;
        if (argc != 3) {
                fprintf(stderr, "Usage: %s NAME DATA-DEVICE\n       %s --failed NAME\n       %s --sysroot DIR\n"
                        "       %s --ipe-policy FILE DIR\n",
                        program_invocation_short_name, program_invocation_short_name, program_invocation_short_name,
                        program_invocation_short_name);
                return 2;
        }
        struct vr_verity_table want;
        vr_cmdline_init(&cmdline);
        r = vr_cmdline_read(NULL, &cmdline);
        if (r >= 0)
                r = load_verified_table(argv[1], &want);
        if (r >= 0 && opened_without_signature(argv[1], &want))
                r = log_kernel_refusal(argv[1], "systemd-veritysetup then opened it without the signature: refusing it");
        else if (r >= 0)
                r = vr_check_active(argv[1], argv[2], &want, cmdline.check_full);
        vr_cmdline_done(&cmdline);
        return r < 0 ? 1 : 0;
}
