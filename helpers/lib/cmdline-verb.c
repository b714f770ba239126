/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `verity-root cmdline`: the kernel command line that boots an image, checked first. */
#include <getopt.h>
#include <inttypes.h>

#include "cmdline-verb.h"
#include "dps.h"
#include "util.h"
#include "verbs.h"

static bool uuid_is(vr_id128 id, const unsigned char want[16]) {
        return memcmp(id.bytes, want, 16) == 0;
}

int vr_cmdline_fragment(const struct vr_verdict *v, enum vr_target target, char **ret) {
        const char *key = vr_target_name(target);
        unsigned char data_uuid[16], hash_uuid[16];
        char *s;
        int r;

        if (v->error < 0 || !v->data || !v->hash)
                return log_error_errno(EINVAL, "no bootable %s to make a command line for", key);
        vr_roothash_data_uuid(&v->roothash, data_uuid);
        vr_roothash_verity_uuid(&v->roothash, hash_uuid);
        const char *hashkey = target == VR_TARGET_USR ? "usrhash" : "roothash";

        /* systemd finds the devices from the hash alone only when both PARTUUIDs follow from it. */
        if (!v->appended && uuid_is(v->data->uuid, data_uuid) && uuid_is(v->hash->uuid, hash_uuid))
                r = asprintf(&s, "%s=%s", hashkey, v->roothash_hex);
        else {
                char opts[64] = "", du[VR_PARTUUID_MAX], hu[VR_PARTUUID_MAX];
                if (v->appended || v->params.hash_offset > 0)
                        snprintf(opts, sizeof(opts), " systemd.verity_%s_options=hash-offset=%" PRIu64, key,
                                 v->params.hash_offset);
                r = asprintf(&s,
                             "%s=%s systemd.verity_%s_data=/dev/disk/by-partuuid/%s"
                             " systemd.verity_%s_hash=/dev/disk/by-partuuid/%s%s",
                             hashkey, v->roothash_hex, key, vr_partition_partuuid(v->data, du), key,
                             vr_partition_partuuid(v->hash, hu), opts);
        }
        if (r < 0)
                return log_error_errno(ENOMEM, "out of memory");
        *ret = s;
        return 0;
}

int vr_dm_mod_create(const struct vr_verdict *v, char **ret) {
        const struct vr_verity_params *p = &v->params;
        char salt[2 * sizeof(p->salt) + 1] = "-";

        if (v->error < 0 || !v->data || !v->hash)
                return log_error_errno(EINVAL, "no bootable root to make a dm-mod.create= line for");
        uint64_t start = vr_hashtree_start(p);
        if (start == UINT64_MAX || p->data_block_size % 512 != 0)
                return log_error_errno(EINVAL, "unusable verity parameters for dm-mod.create=");
        if (p->salt_size > 0)
                vr_hex_encode(p->salt, p->salt_size, salt);

        char du[VR_PARTUUID_MAX], hu[VR_PARTUUID_MAX];
        int r = asprintf(ret,
                         "dm-mod.create=\"vroot,,,ro,0 %" PRIu64 " verity %" PRIu32 " PARTUUID=%s PARTUUID=%s"
                         " %" PRIu32 " %" PRIu32 " %" PRIu64 " %" PRIu64 " %s %s %s\" root=/dev/dm-0",
                         p->data_blocks * (p->data_block_size / 512), p->hash_type, vr_partition_partuuid(v->data, du),
                         vr_partition_partuuid(v->hash, hu), p->data_block_size, p->hash_block_size, p->data_blocks,
                         start / p->hash_block_size, p->algorithm, v->roothash_hex, salt);
        if (r < 0)
                return log_error_errno(ENOMEM, "out of memory");
        return 0;
}

/* --- the verb ---------------------------------------------------------------------- */

struct cmdline_args {
        const char *certs;
        const char *roothash;
        const char *arch;
        bool dm_mod_create;
        bool usr;
        bool quick;
        char **images;
        int n_images;
};

static void cmdline_help(void) {
        printf("Usage: verity-root cmdline IMAGE-OR-DEVICE... [OPTIONS]\n\n"
               "Print the kernel command line that boots this image, after checking that it\n"
               "would boot (the same rules as 'verity-root inspect').\n\n"
               "  --dm-mod-create    initramfs-less form for kernels with CONFIG_DM_INIT:\n"
               "                     dm-mod.create=\"...\" root=/dev/dm-0, devices by PARTUUID=\n"
               "  --certs DIR        trusted certificates (*.crt) in DIR only, instead of\n"
               "                     " VR_CERT_DIRS_TEXT "\n"
               "  --roothash HEX     trust this root (or /usr) hash instead of a signature\n"
               "  --usr              the /usr partitions (usrhash=) instead of root\n"
               "  --arch ARCH        DPS architecture to look for (default: %s)\n"
               "  --quick            check only the top of the hash tree, not every data block\n"
               "  -h, --help         show this help\n",
               vr_dps_native_arch());
}

static int parse_cmdline_args(int argc, char **argv, struct cmdline_args *a) {
        enum { ARG_DM = 0x100, ARG_CERTS, ARG_ROOTHASH, ARG_USR, ARG_ARCH, ARG_QUICK };
        static const struct option options[] = {
                { "dm-mod-create", no_argument, NULL, ARG_DM },
                { "certs", required_argument, NULL, ARG_CERTS },
                { "roothash", required_argument, NULL, ARG_ROOTHASH },
                { "usr", no_argument, NULL, ARG_USR },
                { "arch", required_argument, NULL, ARG_ARCH },
                { "quick", no_argument, NULL, ARG_QUICK },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        *a = (struct cmdline_args) { .certs = NULL };
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case ARG_DM:
                        a->dm_mod_create = true;
                        break;
                case ARG_CERTS:
                        a->certs = optarg;
                        break;
                case ARG_ROOTHASH:
                        a->roothash = optarg;
                        break;
                case ARG_USR:
                        a->usr = true;
                        break;
                case ARG_ARCH:
                        a->arch = optarg;
                        break;
                case ARG_QUICK:
                        a->quick = true;
                        break;
                case 'h':
                        cmdline_help();
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        if (optind >= argc)
                return log_error_errno(EINVAL, "cmdline: no image or device given (see --help)");
        if (a->usr && a->dm_mod_create)
                return log_error_errno(EINVAL, "--dm-mod-create makes the root device only; the kernel cannot mount /usr by itself");
        if (a->arch && vr_dps_check_arch(a->arch, "--arch") < 0)
                return -EINVAL;
        a->images = argv + optind;
        a->n_images = argc - optind;
        return 1;
}

int vr_verb_cmdline(int argc, char **argv) {
        _cleanup_(vr_partition_list_done) struct vr_partition_list parts = {};
        _cleanup_(vr_trust_store_done) struct vr_trust_store trust = {};
        _cleanup_free_ char *line = NULL;
        struct vr_verdict v = {};
        struct cmdline_args a;
        int r;

        r = parse_cmdline_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (vr_partitions_from_images(a.images, (size_t) a.n_images, &parts) < 0)
                return 1; /* already logged, naming the image */
        if ((a.certs ? vr_trust_store_load(a.certs, &trust) : vr_trust_store_load_default(NULL, &trust)) < 0)
                return 1;

        struct vr_discover_config cfg = {
                .target = a.usr ? VR_TARGET_USR : VR_TARGET_ROOT,
                .arch = a.arch,
                .trusted_hash = a.roothash,
                .sig = VR_SIG_OPTIONAL,
                .trust = &trust,
                .deep = !a.quick,
        };
        if (vr_discover(&parts, &cfg, &v) < 0) {
                log_error("refusing to print a command line: %s would not boot: %s", a.images[0], v.reason);
                vr_verdict_done(&v);
                return 1;
        }
        r = a.dm_mod_create ? vr_dm_mod_create(&v, &line) : vr_cmdline_fragment(&v, cfg.target, &line);
        vr_verdict_done(&v);
        if (r < 0)
                return 1;
        puts(line);
        return 0;
}
