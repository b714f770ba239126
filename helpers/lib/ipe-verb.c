/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `verity-root ipe-policy`: an IPE policy under which the kernel executes only from the
 * verified root (and /usr) that booting IMAGE sets up, and from the initramfs. */
#include <getopt.h>

#include "image-verdicts.h"
#include "ipe.h"
#include "util.h"
#include "verbs.h"

struct ipe_args {
        const char *certs;
        const char *roothash;
        const char *usrhash;
        const char *name;
        const char *version;
        bool kernel_sig;
        char **images;
        int n_images;
};

static void ipe_help(void) {
        printf("Usage: verity-root ipe-policy IMAGE... [OPTIONS]\n\n"
               "Print an IPE policy (CONFIG_SECURITY_IPE) that lets the kernel execute only from the\n"
               "initramfs and the dm-verity root (and /usr) that booting IMAGE sets up. Sign it\n"
               "(openssl smime -sign -nodetach -binary -noattr -outform der) and name the result in\n"
               "dracut.conf's verityroot_ipe_policy=; see dracut.verity-root(7).\n\n"
               "  --certs DIR             trusted certificates (*.crt) in DIR only, instead of\n"
               "                          " VR_CERT_DIRS_TEXT "\n"
               "  --roothash HEX          the roothash= the kernel command line will carry\n"
               "  --usrhash HEX           the usrhash= it will carry (with --roothash)\n"
               "  --name NAME             policy_name= (default " VR_IPE_DEFAULT_NAME ")\n"
               "  --policy-version X.Y.Z  policy_version= (default " VR_IPE_DEFAULT_VERSION "); the kernel\n"
               "                          activates no policy older than the active one\n"
               "  --kernel-sig            also any dm-verity volume whose root hash signature the\n"
               "                          kernel checked itself (dmverity_signature=TRUE)\n"
               "  -h, --help              show this help\n");
}

static int parse_ipe_args(int argc, char **argv, struct ipe_args *a) {
        enum { ARG_CERTS = 0x100, ARG_ROOTHASH, ARG_USRHASH, ARG_NAME, ARG_VERSION, ARG_KERNEL_SIG };
        static const struct option options[] = {
                { "certs", required_argument, NULL, ARG_CERTS },
                { "roothash", required_argument, NULL, ARG_ROOTHASH },
                { "usrhash", required_argument, NULL, ARG_USRHASH },
                { "name", required_argument, NULL, ARG_NAME },
                { "policy-version", required_argument, NULL, ARG_VERSION },
                { "kernel-sig", no_argument, NULL, ARG_KERNEL_SIG },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        *a = (struct ipe_args) { .name = VR_IPE_DEFAULT_NAME, .version = VR_IPE_DEFAULT_VERSION };
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case ARG_CERTS:
                        a->certs = optarg;
                        break;
                case ARG_ROOTHASH:
                        a->roothash = optarg;
                        break;
                case ARG_USRHASH:
                        a->usrhash = optarg;
                        break;
                case ARG_NAME:
                        if (!vr_ipe_name_valid(optarg))
                                return log_error_errno(EINVAL, "--name: \"%s\" is not 1-64 of [A-Za-z0-9._-]", optarg);
                        a->name = optarg;
                        break;
                case ARG_VERSION:
                        if (!vr_ipe_version_valid(optarg))
                                return log_error_errno(EINVAL, "--policy-version: \"%s\" is not MAJOR.MINOR.REVISION (each 0-65535)",
                                                       optarg);
                        a->version = optarg;
                        break;
                case ARG_KERNEL_SIG:
                        a->kernel_sig = true;
                        break;
                case 'h':
                        ipe_help();
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        if (optind >= argc)
                return log_error_errno(EINVAL, "ipe-policy: no image given (see --help)");
        if (a->usrhash && !a->roothash)
                return log_error_errno(EINVAL, "ipe-policy: --usrhash needs --roothash");
        a->images = argv + optind;
        a->n_images = argc - optind;
        return 1;
}

int vr_verb_ipe_policy(int argc, char **argv) {
        _cleanup_(vr_partition_list_done) struct vr_partition_list parts = {};
        _cleanup_(vr_trust_store_done) struct vr_trust_store trust = {};
        _cleanup_free_ char *text = NULL;
        struct vr_verdict v[2] = {};
        struct ipe_args a;
        size_t n = 0;
        int r, ret = 1;

        r = parse_ipe_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (vr_partitions_from_images(a.images, (size_t) a.n_images, &parts) < 0)
                return 1;
        r = a.certs ? vr_trust_store_load(a.certs, &trust) : vr_trust_store_load_default(NULL, &trust);
        if (r < 0)
                return 1;
        struct vr_ipe_policy_spec spec = { .name = a.name, .version = a.version, .kernel_sig = a.kernel_sig };
        r = vr_image_verdicts(&parts, a.roothash, a.usrhash, &trust, v);
        if (r > 0) {
                n = (size_t) r;
                for (size_t i = 0; i < n; i++)
                        spec.hashes[spec.n_hashes++] = (struct vr_ipe_verity_hash) {
                                .what = i == 0 ? "root" : "usr",
                                .algorithm = v[i].params.algorithm,
                                .hex = v[i].roothash_hex,
                        };
                if (vr_ipe_policy_text(&spec, &text) >= 0) {
                        fputs(text, stdout);
                        ret = fflush(stdout) == 0 ? 0 : 1;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                vr_verdict_done(&v[i]);
        return ret;
}
