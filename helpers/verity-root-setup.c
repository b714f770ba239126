/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verity-root-setup: at boot, find and verify the partitions of the root (or /usr),
 * then hand them to systemd-veritysetup (systemd initrd) or open them (shell initrd). */
#include <getopt.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "activate.h"
#include "bootwait.h"
#include "devcheck.h"
#include "dps.h"
#include "kernel-sig.h"
#include "measure.h"
#include "spawn.h"
#include "tpm2.h"
#include "udev-util.h"
#include "util.h"
#include "version.h"

/* --wants: the kernel command line could not be read or holds an invalid value of a
 * key this module reads. Distinct from 1 ("not ours") so that callers fail closed. */
#define EXIT_CMDLINE_INVALID 3

static const char *arg_target = "root";
static uint64_t arg_start_usec;
static bool arg_activate;
static bool arg_wants;

static int parse_argv(int argc, char **argv) {
        static const struct option options[] = {
                { "target", required_argument, NULL, 't' },
                { "activate", no_argument, NULL, 'a' },
                { "wants", no_argument, NULL, 'w' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 't':
                        if (!streq(optarg, "root") && !streq(optarg, "usr"))
                                return log_error_errno(EINVAL, "--target: expected root or usr, got \"%s\"", optarg);
                        arg_target = optarg;
                        break;
                case 'a':
                        arg_activate = true;
                        break;
                case 'w':
                        arg_wants = true;
                        break;
                case 'h':
                        printf("Usage: %s [--target root|usr] [--activate] [--wants]\n\n"
                               "Finds the verity partitions of the target by GPT type and root hash, verifies\n"
                               "the trust chain, and writes " VR_RUNDIR "/TARGET.env for systemd-veritysetup@TARGET,\n"
                               "or with --activate opens /dev/mapper/TARGET itself. --wants: exit 0 if the\n"
                               "kernel command line asks for this target, 1 if not, 3 if the command line\n"
                               "is invalid (the key and value at fault are printed): the boot must stop.\n",
                               program_invocation_short_name);
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        return 1;
}

static void log_success(const struct vr_verdict *v) {
        char d1[256], d2[256];
        log_notice("%s verified: data %s, hash %s, root hash %s from %s%s%s", arg_target,
                   vr_partition_describe(v->data, d1, sizeof(d1)),
                   v->appended ? "appended to it" : vr_partition_describe(v->hash, d2, sizeof(d2)), v->roothash_hex,
                   v->source == VR_HASH_SOURCE_CMDLINE ? "the kernel command line"
                   : v->kiwi                           ? "signed Kiwi verity metadata"
                                                       : "a signature partition",
                   v->signature_status[0] ? "; signature: " : "", v->signature_status);
        if (v->choice[0])
                log_notice("%s", v->choice);
}

/* The label's version is compared with the mounted image's IMAGE_VERSION later, through
 * an environment file: a label whose version could not be written there safely is refused. */
static int check_label_version(const struct vr_verdict *v) {
        const char *version = vr_verdict_label_version(v);
        char what[256];

        if (!version || vr_version_is_valid(version))
                return 0;
        return log_error_errno(EINVAL, "refusing to boot the %s file system: the label of %s carries a version with "
                               "characters other than [a-zA-Z0-9._~+^-]", arg_target,
                               vr_partition_describe(v->data, what, sizeof(what)));
}

#define ROOT_DISK_FILE VR_RUNDIR "/root.disk"
/* Why the root's setup set up no /usr, for a /usr unit something else starts anyway. */
#define USR_NONE_FILE VR_RUNDIR "/usr.none"

static void record_no_usr(const char *why) {
        _cleanup_fclose_ FILE *f = fopen(USR_NONE_FILE, "we");
        if (f)
                fprintf(f, "%s\n", why);
}

/* Records the verified root's disk for the auto /usr's setup, by device number: the
 * node name is only what udev calls it, the number is the disk for this boot. */
static int record_root_disk(const char *disk) {
        _cleanup_fclose_ FILE *f = NULL;
        struct stat st;

        if (stat(disk, &st) < 0)
                return log_error_errno(errno, "cannot stat the root's disk %s: %s", disk, strerror(errno));
        if (!S_ISBLK(st.st_mode))
                return log_error_errno(ENOTBLK, "the root's disk %s is not a block device", disk);
        f = fopen(ROOT_DISK_FILE, "we");
        if (!f)
                return log_error_errno(errno, "cannot create " ROOT_DISK_FILE ": %s", strerror(errno));
        fprintf(f, "%u:%u\n", major(st.st_rdev), minor(st.st_rdev));
        if (fflush(f) != 0 || ferror(f))
                return log_error_errno(EIO, "cannot write " ROOT_DISK_FILE);
        return 0;
}

/* The disk record_root_disk() recorded, as the device node udev names partitions' disks by. */
static int read_root_disk(char **ret) {
        _cleanup_fclose_ FILE *f = fopen(ROOT_DISK_FILE, "re");
        _cleanup_(udev_unrefp) struct udev *udev = NULL;
        _cleanup_(udev_device_unrefp) struct udev_device *d = NULL;
        unsigned maj, min;
        const char *node;

        if (!f && errno == ENOENT) {
                char why[1024];
                _cleanup_fclose_ FILE *none = fopen(USR_NONE_FILE, "re");
                if (none && fgets(why, sizeof(why), none)) {
                        why[strcspn(why, "\n")] = 0;
                        return log_error_errno(ENOENT, "refusing to boot the usr file system: /usr was asked for "
                                               "(mount.usr=?), but %s", why);
                }
        }
        if (!f)
                return log_error_errno(errno, "refusing to boot the usr file system: without usrhash= /usr is taken "
                                       "only from the verified root's disk, and none is recorded (" ROOT_DISK_FILE ": %s)",
                                       strerror(errno));
        if (fscanf(f, "%u:%u", &maj, &min) != 2)
                return log_error_errno(EBADMSG, "refusing to boot the usr file system: " ROOT_DISK_FILE " is malformed");
        udev = udev_new();
        if (!udev)
                return log_error_errno(ENOMEM, "cannot connect to udev: %s", strerror(ENOMEM));
        d = udev_device_new_from_devnum(udev, 'b', makedev(maj, min));
        node = d ? udev_device_get_devnode(d) : NULL;
        if (!node)
                return log_error_errno(ENODEV, "refusing to boot the usr file system: the root's disk %u:%u is gone", maj,
                                       min);
        *ret = strdup(node);
        return *ret ? 0 : log_error_errno(ENOMEM, "out of memory");
}

/* Without root or /usr arguments, a /usr that sits on the root's disk is part of the
 * image. With systemd: start its units (written by the generator, wanted by nobody).
 * Without: leave a marker for the shell hook, which runs the usr setup next. Either way
 * the usr setup applies the same trust rules: no usrhash=, so only a signed /usr. */
static int start_usr_if_present(const struct vr_partition_list *parts, const struct vr_verdict *v,
                                const struct vr_image_policy *policy, const struct vr_image_filter *filter) {
        char *const argv[] = { (char *) "systemctl", (char *) "--no-block", (char *) "start",
                               (char *) "sysroot-usr.mount", NULL };
        const struct vr_partition *p = vr_disk_find_target(parts, v->data->disk, vr_dps_native_arch(), VR_TARGET_USR,
                                                           filter);
        char what[256];
        bool use;
        int r;

        struct vr_verdict pv = {};
        r = vr_policy_auto_usr(policy, p, v->data->disk, &use, &pv);
        if (r < 0)
                return log_error_errno(r, "refusing to boot: %s", pv.reason);
        if (!use) {
                if (p)
                        log_notice("%s", pv.reason);
                else
                        snprintf(pv.reason, sizeof(pv.reason), "the root's disk %s holds no usr partition",
                                 v->data->disk);
                record_no_usr(pv.reason);
                return 0;
        }
        log_notice("the root's disk also holds %s: setting up /usr from it",
                   vr_partition_describe(p, what, sizeof(what)));
        r = record_root_disk(v->data->disk);
        if (r < 0)
                return r;
        if (arg_activate) {
                _cleanup_fclose_ FILE *f = fopen(VR_RUNDIR "/usr.wanted", "we");
                if (!f)
                        return log_error_errno(errno, "cannot create " VR_RUNDIR "/usr.wanted: %s", strerror(errno));
                return 0;
        }
        r = vr_spawn(argv, NULL);
        if (r < 0)
                return log_error_errno(r, "systemctl start sysroot-usr.mount failed: /usr cannot be set up");
        return 0;
}

/* An existing /dev/mapper/TARGET is only acceptable when it is the verified device (a
 * restarted unit): returns 1 then, 0 when there is none, <0 (logged) otherwise. */
static int check_existing_device(const struct vr_verity_table *want) {
        _cleanup_(vr_dm_device_done) struct vr_dm_device d = {};
        int r = vr_dm_query(arg_target, &d);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "cannot read the device-mapper table of /dev/mapper/%s: %s", arg_target,
                                       strerror(-r));
        r = vr_dm_verify_verity(arg_target, want, NULL);
        if (r < 0)
                return log_error_errno(r, "refusing to boot: /dev/mapper/%s was created by something other than "
                                       "verity-root", arg_target);
        log_notice("/dev/mapper/%s is already active with the verified dm-verity table", arg_target);
        return 1;
}

/* Written once per boot, by whichever target finds no TPM first: the line is said once. */
#define TPM_ABSENT_FILE VR_RUNDIR "/tpm.absent"
/* The root's measurement is over (measured, or not to be): /usr may extend after it. */
#define ROOT_MEASURED_FILE VR_RUNDIR "/root.measure-done"

static void touch(const char *path) {
        FILE *f = fopen(path, "we");
        if (f)
                fclose(f);
}

/* What is left of rd.verity.timeout= for waiting for a TPM the firmware announces. */
static uint64_t remaining_usec(unsigned timeout_sec) {
        uint64_t elapsed = vr_now_usec() - arg_start_usec, limit = (uint64_t) timeout_sec * 1000000u;
        return elapsed < limit ? limit - elapsed : 0;
}

/* With roothash= and usrhash= the two units run at once: /usr waits for the root's
 * event, so that the PCR gets them in the order predict-pcr replays (root, then usr). A
 * root that never gets that far fails the boot anyway; /usr then stops waiting in time. */
static void wait_for_root_measurement(const struct vr_cmdline *c) {
        uint64_t deadline = vr_now_usec() + remaining_usec(c->timeout_sec);

        while (access(ROOT_MEASURED_FILE, F_OK) < 0) {
                if (vr_now_usec() >= deadline) {
                        log_warning("the root file system was not measured in time: /usr is measured without it");
                        return;
                }
                (void) usleep(20 * 1000);
        }
}

/* After the verdict, before anything is handed on: the target's event into the TPM and
 * systemd's measurement log. rd.verity.measure=required refuses when that cannot be done;
 * otherwise a failure is one line and the boot goes on. Measured once per event, so a
 * restarted unit does not extend again. */
static int measure_verified(const struct vr_cmdline *c, const struct vr_verdict *v, const struct vr_trust_store *trust) {
        bool required = c->measure == VR_MEASURE_REQUIRED;
        enum vr_target target = streq(arg_target, "usr") ? VR_TARGET_USR : VR_TARGET_ROOT;
        _cleanup_free_ char *event = NULL;
        _cleanup_fclose_ FILE *f = NULL, *w = NULL;
        char done_file[128], done[512];
        const char *node;
        int r;

        if (c->measure == VR_MEASURE_OFF)
                return 0;
        snprintf(done_file, sizeof(done_file), VR_RUNDIR "/%s.measured", arg_target);
        if (target == VR_TARGET_USR && vr_cmdline_wants_root(c))
                wait_for_root_measurement(c);

        vr_log_capture_begin();
        r = vr_measure_event_for_verdict(target, v, trust, &event);
        vr_log_capture_end();
        if (r < 0)
                goto failed;

        f = fopen(done_file, "re");
        if (f && fgets(done, sizeof(done), f) && streq(done, event)) {
                log_info("%s already measured into PCR %u: %s", arg_target, c->measure_pcr, event);
                return 0;
        }

        r = vr_tpm2_find_device(remaining_usec(c->timeout_sec), &node);
        if (r < 0 && required)
                return log_error_errno(r, "refusing to boot the %s file system: rd.verity.measure=required, but no TPM "
                                       "answers: no " VR_TPM2_RM_NODE " or " VR_TPM2_RAW_NODE "%s", arg_target,
                                       r == -ETIMEDOUT ? " appeared although the firmware announces a TPM" : "");
        if (r < 0) {
                if (access(TPM_ABSENT_FILE, F_OK) < 0) {
                        log_notice("no TPM (no " VR_TPM2_RM_NODE " or " VR_TPM2_RAW_NODE "%s): the verified file "
                                   "systems are not measured", r == -ETIMEDOUT ? " appeared in time" : "");
                        touch(TPM_ABSENT_FILE);
                }
                return 0;
        }

        vr_log_capture_begin();
        r = vr_tpm2_measure(&(struct vr_tpm2_target) { .driver = "device", .conf = node }, c->measure_pcr, event,
                            VR_MEASURE_LOG_PATH);
        vr_log_capture_end();
        if (r < 0)
                goto failed;
        log_notice("%s measured into PCR %u: %s", arg_target, c->measure_pcr, event);
        w = fopen(done_file, "we");
        if (w)
                fputs(event, w);
        return 0;

failed:
        if (required)
                return log_error_errno(r, "refusing to boot the %s file system: rd.verity.measure=required, but it "
                                       "cannot be measured into PCR %u: %s", arg_target, c->measure_pcr,
                                       vr_log_last_error());
        log_warning("the %s file system is not measured into PCR %u: %s", arg_target, c->measure_pcr,
                    vr_log_last_error());
        return 0;
}

/* Whether the kernel checks the signature too (rd.verity.kernel_sig=, its own
 * dm_verity.require_signatures=): from here on c->kernel_sig says what it gets. */
static int decide_kernel_sig(const struct vr_verdict *v, struct vr_cmdline *c) {
        struct vr_kernel_sig_support k;
        char keyrings[256];
        bool hand;
        int r;

        /* Nothing asked for and dm-verity not loaded yet: it can only come to insist on
         * signatures through the command line. Loading it just to ask would cost the boot
         * a modprobe here (it is loaded when the table is, anyway). */
        if (!vr_cmdline_kernel_sig(c) && !c->dm_verity_require_signatures && access("/sys/module/dm_verity", F_OK) < 0)
                return 0;
        vr_kernel_sig_probe(NULL, &k);
        r = vr_kernel_sig_decide(arg_target, v, c, &k, &hand);
        if (r < 0)
                return r;
        if (!hand) {
                c->kernel_sig = VR_KERNEL_SIG_OFF;
                return 0;
        }
        if (c->kernel_sig == VR_KERNEL_SIG_OFF)
                c->kernel_sig = VR_KERNEL_SIG_ON;
        vr_kernel_keyrings_describe(NULL, keyrings, sizeof(keyrings));
        log_notice("the kernel checks the signature of the %s file system too, against its keyrings: %s", arg_target,
                   keyrings);
        return 0;
}

static int run(int argc, char **argv) {
        _cleanup_(vr_cmdline_done) struct vr_cmdline cmdline = {};
        _cleanup_(vr_partition_list_done) struct vr_partition_list parts = {};
        _cleanup_(vr_trust_store_done) struct vr_trust_store trust = {};
        _cleanup_free_ char *root_disk = NULL;
        struct vr_verdict v = {};
        bool usr = streq(arg_target, "usr");
        struct vr_verity_table want;
        struct vr_image_policy policy;
        _cleanup_(vr_image_filter_done) struct vr_image_filter filter = {};
        char env[128], marker[128], table[128];
        int r;

        vr_cmdline_init(&cmdline);
        r = vr_cmdline_read(NULL, &cmdline);
        if (r < 0 && arg_wants)
                return EXIT_CMDLINE_INVALID;
        if (r < 0) {
                log_error("refusing to boot the %s file system: the kernel command line is invalid (see above)",
                          arg_target);
                return r;
        }
        if (arg_wants)
                return (usr ? vr_cmdline_wants_usr(&cmdline) : vr_cmdline_wants_root(&cmdline)) ? 0 : 1;
        arg_start_usec = vr_now_usec();
        vr_deadline_arm(arg_target, cmdline.timeout_sec);
        /* The measurement markers are written before the hand-off file that used to create it. */
        if (mkdir(VR_RUNDIR, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "cannot create %s: %s", VR_RUNDIR, strerror(errno));
        vr_random_warm_up();

        if (cmdline.sig != VR_SIG_OFF) {
                r = vr_trust_store_load_default(NULL, &trust);
                if (r < 0)
                        return r;
        }

        if (usr && vr_cmdline_auto_usr(&cmdline)) {
                r = read_root_disk(&root_disk);
                if (r < 0)
                        return r;
                log_info("no usrhash=: only a signed /usr on the root's disk %s counts", root_disk);
        }

        /* Both were checked while parsing the command line. */
        if (cmdline.image_policy && vr_image_policy_parse(cmdline.image_policy, &policy) < 0)
                return -EINVAL;
        if (cmdline.image_filter && vr_image_filter_parse(cmdline.image_filter, &filter) < 0)
                return -EINVAL;

        struct vr_discover_config cfg = {
                .target = usr ? VR_TARGET_USR : VR_TARGET_ROOT,
                .policy = cmdline.image_policy ? &policy : NULL,
                .filter = cmdline.image_filter ? &filter : NULL,
                .trusted_hash = usr ? cmdline.usrhash : cmdline.roothash,
                .sig = cmdline.sig,
                .trust = &trust,
                .data_device = usr ? cmdline.usr_data : cmdline.root_data,
                .hash_device = usr ? cmdline.usr_hash_device : cmdline.root_hash_device,
                .only_disk = root_disk,
        };
        r = vr_wait_for_verdict(&cfg, cmdline.timeout_sec, &parts, &v);
        if (r < 0) {
                log_error("refusing to boot the %s file system: %s", arg_target, v.reason);
                vr_verdict_done(&v);
                return r;
        }
        log_success(&v);
        r = check_label_version(&v);
        if (r >= 0)
                r = decide_kernel_sig(&v, &cmdline);
        if (r >= 0)
                r = measure_verified(&cmdline, &v, &trust);
        if (r >= 0 && !usr)
                touch(ROOT_MEASURED_FILE);
        if (r < 0) {
                vr_verdict_done(&v);
                return r;
        }

        snprintf(env, sizeof(env), VR_RUNDIR "/%s.env", arg_target);
        snprintf(marker, sizeof(marker), VR_RUNDIR "/%s.activated", arg_target);
        snprintf(table, sizeof(table), VR_RUNDIR "/%s.table", arg_target);
        bool handoff = !arg_activate && vr_handoff_possible(&v, &cmdline);
        const char *user_options = usr ? cmdline.usr_options : cmdline.root_options;
        int active = vr_expected_table(&v, &cmdline, user_options, &want);
        if (active >= 0)
                active = check_existing_device(&want);
        if (active < 0) {
                vr_verdict_done(&v);
                return active;
        }
        r = vr_write_handoff_env(env, &v, &cmdline, user_options, handoff);
        if (r >= 0)
                r = vr_verity_table_save(table, &want);
        if (r >= 0 && !usr && vr_cmdline_auto_usr(&cmdline))
                r = start_usr_if_present(&parts, &v, cfg.policy, cfg.filter);
        if (r >= 0 && !handoff) {
                r = active ? 0 : vr_activate(arg_target, &v, &cmdline, user_options);
                if (cmdline.check_full)
                        vr_deadline_disarm(); /* reads the whole verified device: its size is signed */
                if (r >= 0)
                        r = vr_check_active(arg_target, v.data->node, &want, cmdline.check_full);
                if (r >= 0) {
                        FILE *f = fopen(marker, "we");
                        if (f)
                                fclose(f);
                }
        }
        vr_verdict_done(&v);
        return r;
}

int main(int argc, char **argv) {
        vr_log_set_prefix("verity-root");
        int r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        r = run(argc, argv);
        return r < 0 ? 1 : r;
}
