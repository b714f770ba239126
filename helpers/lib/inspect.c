/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `verity-root inspect`: what would boot from these images or disks, and why. */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>

#include "discover.h"
#include "dps.h"
#include "util.h"
#include "verbs.h"

struct inspect_args {
        const char *certs;
        const char *roothash;
        const char *usrhash;
        const char *arch;
        enum vr_sig_policy sig;
        const char *image_policy;
        const char *image_filter;
        bool json;
        bool quick;
        char **images;
        int n_images;
};

static void inspect_help(void) {
        printf("Usage: verity-root inspect IMAGE-OR-DEVICE... [OPTIONS]\n\n"
               "Show every DPS partition found and which root would boot, and why;\n"
               "or exactly why it would be refused. Exit status 0 only when it would boot.\n\n"
               "  --certs DIR        trusted certificates (*.crt) in DIR only, instead of\n"
               "                     " VR_CERT_DIRS_TEXT "\n"
               "  --roothash HEX     trust this root hash, as roothash= on the kernel cmdline\n"
               "  --usrhash HEX      trust this /usr hash, as usrhash=\n"
               "  --sig POLICY       signature policy: required, optional (default), off\n"
               "  --arch ARCH        DPS architecture to look for (default: %s)\n"
               "  --image-policy POLICY  apply this systemd.image_policy= (systemd.image-policy(7))\n"
               "  --image-filter FILTER  apply this systemd.image_filter= (systemd.image-filter(7))\n"
               "  --quick            check only the top of the hash tree, not every data block\n"
               "  --json             print a machine-readable document\n"
               "  -h, --help         show this help\n",
               vr_dps_native_arch());
}

static int parse_inspect_args(int argc, char **argv, struct inspect_args *a) {
        enum { ARG_CERTS = 0x100, ARG_ROOTHASH, ARG_USRHASH, ARG_SIG, ARG_ARCH, ARG_QUICK, ARG_JSON, ARG_IMAGE_POLICY,
               ARG_IMAGE_FILTER };
        static const struct option options[] = {
                { "certs", required_argument, NULL, ARG_CERTS },
                { "roothash", required_argument, NULL, ARG_ROOTHASH },
                { "usrhash", required_argument, NULL, ARG_USRHASH },
                { "sig", required_argument, NULL, ARG_SIG },
                { "arch", required_argument, NULL, ARG_ARCH },
                { "quick", no_argument, NULL, ARG_QUICK },
                { "image-policy", required_argument, NULL, ARG_IMAGE_POLICY },
                { "image-filter", required_argument, NULL, ARG_IMAGE_FILTER },
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        *a = (struct inspect_args) { .certs = NULL, .sig = VR_SIG_OPTIONAL };
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
                case ARG_SIG:
                        if (streq(optarg, "required"))
                                a->sig = VR_SIG_REQUIRED;
                        else if (streq(optarg, "optional"))
                                a->sig = VR_SIG_OPTIONAL;
                        else if (streq(optarg, "off"))
                                a->sig = VR_SIG_OFF;
                        else
                                return log_error_errno(EINVAL, "--sig: expected required, optional or off, got \"%s\"", optarg);
                        break;
                case ARG_ARCH:
                        a->arch = optarg;
                        break;
                case ARG_QUICK:
                        a->quick = true;
                        break;
                case ARG_IMAGE_POLICY:
                        a->image_policy = optarg;
                        break;
                case ARG_IMAGE_FILTER:
                        a->image_filter = optarg;
                        break;
                case ARG_JSON:
                        a->json = true;
                        break;
                case 'h':
                        inspect_help();
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        if (optind >= argc)
                return log_error_errno(EINVAL, "inspect: no image or device given (see --help)");
        if (a->arch && vr_dps_check_arch(a->arch, "--arch") < 0)
                return -EINVAL;
        a->images = argv + optind;
        a->n_images = argc - optind;
        return 1;
}

static const char *role_name(const struct vr_partition *p, char *buf, size_t len) {
        const char *arch;
        enum vr_part_role role;
        if (p->table == VR_TABLE_MBR) {
                snprintf(buf, len, "mbr-0x%02x", p->mbr_type);
                return buf;
        }
        if (vr_dps_lookup(p->type, &arch, &role) < 0)
                return "other";
        snprintf(buf, len, "%s-%s", vr_part_role_to_string(role), arch);
        return buf;
}

static void progress_tty(uint64_t done, uint64_t total, void *userdata) {
        int *last = userdata;
        int pct = total ? (int) (done * 100 / total) : 100;
        if (pct != *last) {
                fprintf(stderr, "\rChecking every data block: %3d%%", pct);
                if (pct == 100)
                        fputc('\n', stderr);
                *last = pct;
        }
}

/* Every line of the report goes through here: it shows labels, reasons and signer names,
 * all of which may come from a disk. */
_printf_(1, 2) static void print_line(const char *fmt, ...) {
        char raw[4096], line[4096];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        puts(vr_escape(raw, 0, line, sizeof(line)));
}

static void print_partitions(const struct vr_partition_list *parts) {
        print_line("%-4s %-26s %-36s %-20s %10s  %s", "#", "TYPE", "PARTUUID", "LABEL", "SIZE", "FLAGS");
        const char *disk = NULL;
        for (size_t i = 0; i < parts->n; i++) {
                const struct vr_partition *p = &parts->items[i];
                char role[64], label[160], uuid[VR_PARTUUID_MAX];
                if (!streq_ptr(disk, p->disk)) {
                        disk = p->disk;
                        print_line("%s:%s", disk, p->table == VR_TABLE_MBR ? " (MBR partition table)" : "");
                }
                print_line("%-4u %-26s %-36s %-20s %10" PRIu64 "  %s%s%s", p->partno,
                           role_name(p, role, sizeof(role)), vr_partition_partuuid(p, uuid),
                           p->label ? vr_escape(p->label, VR_ESCAPE_QUOTED, label, sizeof(label)) : "-", p->size,
                           p->flags & VR_GPT_FLAG_NO_AUTO ? "no-auto " : "",
                           p->flags & VR_GPT_FLAG_READ_ONLY ? "read-only " : "",
                           p->flags & VR_GPT_FLAG_GROWFS ? "growfs" : "");
        }
}

static void print_verdict(const char *name, const struct vr_verdict *v, bool deep, bool kiwi) {
        char d[256];
        print_line("%s", "");
        if (v->error < 0) {
                print_line("%s: would NOT boot: %s", name, v->reason);
                if (kiwi)
                        print_line("  layout:     kiwi");
                return;
        }
        if (deep)
                print_line("%s: would boot", name);
        else
                print_line("%s: would boot if its data matches the hash tree: --quick checked the signature and the top of the tree, not the data", name);
        if (kiwi)
                print_line("  layout:     kiwi (metadata in the last 4 KiB of the partition, hash tree %s at byte %" PRIu64 ")",
                           v->params.no_superblock ? "without superblock" : "with superblock", v->params.hash_offset);
        print_line("  data:       %s", vr_partition_describe(v->data, d, sizeof(d)));
        if (v->appended)
                print_line("  hash:       appended to the data partition at byte %" PRIu64, v->params.hash_offset);
        else
                print_line("  hash:       %s", vr_partition_describe(v->hash, d, sizeof(d)));
        print_line("  root hash:  %s (%s, from %s)", v->roothash_hex, v->params.algorithm,
                   v->source == VR_HASH_SOURCE_CMDLINE ? "the command line" : "a verified signature");
        print_line("  signature:  %s", v->signature_status[0] ? v->signature_status : "none");
        if (v->choice[0])
                print_line("  choice:     %s", v->choice);
        print_line("  checked:    %s", deep ? "every data block matches the hash tree"
                                            : "top of the hash tree only (--quick): data blocks NOT checked");
}

/* Every string of the document goes through here: json-c passes bytes >= 0x80 on as they
 * are, and a label that is not UTF-8 would make the document invalid JSON. */
static json_object *json_text(const char *s, unsigned flags) {
        _cleanup_free_ char *e = s ? vr_escape_alloc(s, flags) : NULL;
        return e ? json_object_new_string(e) : NULL;
}

static json_object *partition_json(const struct vr_partition *p) {
        char uuid[VR_PARTUUID_MAX], role[64], flags[32], type[VR_ID128_STRING_MAX];
        json_object *o = json_object_new_object();
        vr_partition_partuuid(p, uuid);
        snprintf(flags, sizeof(flags), "0x%016" PRIx64, p->flags);
        if (p->table == VR_TABLE_MBR)
                snprintf(type, sizeof(type), "0x%02x", p->mbr_type);
        else
                vr_id128_to_string(p->type, type);
        json_object_object_add(o, "disk", json_text(p->disk, 0));
        json_object_object_add(o, "table", json_text(p->table == VR_TABLE_MBR ? "mbr" : "gpt", 0));
        json_object_object_add(o, "partno", json_object_new_int(p->partno));
        json_object_object_add(o, "role", json_object_new_string(role_name(p, role, sizeof(role))));
        json_object_object_add(o, "type", json_text(type, 0));
        json_object_object_add(o, "partuuid", json_text(uuid, 0));
        json_object_object_add(o, "label", json_text(p->label, VR_ESCAPE_QUOTED));
        json_object_object_add(o, "flags", json_text(flags, 0));
        json_object_object_add(o, "offset", json_object_new_int64((int64_t) p->offset));
        json_object_object_add(o, "size", json_object_new_int64((int64_t) p->size));
        return o;
}

static json_object *partuuid_json(const struct vr_partition *p) {
        char uuid[VR_PARTUUID_MAX];
        return p ? json_text(vr_partition_partuuid(p, uuid), 0) : NULL;
}

static json_object *verdict_json(const struct vr_verdict *v, bool deep, bool kiwi) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "bootable", json_object_new_boolean(v->error >= 0));
        json_object_object_add(o, "reason", v->error < 0 ? json_text(v->reason, 0) : NULL);
        json_object_object_add(o, "errno", json_object_new_int(-v->error));
        if (kiwi)
                json_object_object_add(o, "layout", json_text("kiwi", 0));
        if (v->error < 0)
                return o;
        json_object_object_add(o, "data", partuuid_json(v->data));
        json_object_object_add(o, "hash", partuuid_json(v->hash));
        json_object_object_add(o, "signature", partuuid_json(v->sig));
        if (!kiwi)
                json_object_object_add(o, "layout", json_text(v->appended ? "appended" : "split", 0));
        else
                json_object_object_add(o, "superblock", json_object_new_boolean(!v->params.no_superblock));
        json_object_object_add(o, "hash_offset", json_object_new_int64((int64_t) v->params.hash_offset));
        json_object_object_add(o, "roothash", json_text(v->roothash_hex, 0));
        json_object_object_add(o, "algorithm", json_text(v->params.algorithm, 0));
        json_object_object_add(o, "data_block_size", json_object_new_int((int32_t) v->params.data_block_size));
        json_object_object_add(o, "hash_block_size", json_object_new_int((int32_t) v->params.hash_block_size));
        json_object_object_add(o, "data_blocks", json_object_new_int64((int64_t) v->params.data_blocks));
        json_object_object_add(o, "hash_source", json_text(vr_hash_source_to_string(v->source), 0));
        json_object_object_add(o, "signature_status", json_text(v->signature_status, 0));
        json_object_object_add(o, "choice", v->choice[0] ? json_text(v->choice, 0) : NULL);
        json_object_object_add(o, "checked", json_text(deep ? "full" : "quick", 0));
        return o;
}

static bool has_any_role(const struct vr_partition_list *parts, enum vr_part_role a, enum vr_part_role b) {
        for (size_t i = 0; i < parts->n; i++) {
                enum vr_part_role role;
                if (vr_dps_lookup(parts->items[i].type, NULL, &role) >= 0 && (role == a || role == b))
                        return true;
        }
        return false;
}

/* Kiwi roots carry no DPS types: looked for only when no DPS root is there at all. A Kiwi
 * verdict replaces the DPS one when it boots or when a Kiwi root was found but refused. */
int vr_verb_inspect(int argc, char **argv) {
        _cleanup_(vr_partition_list_done) struct vr_partition_list parts = {};
        _cleanup_(vr_trust_store_done) struct vr_trust_store trust = {};
        struct vr_verdict root = {}, usr = {};
        _cleanup_(vr_image_filter_done) struct vr_image_filter filter = {};
        struct vr_image_policy policy;
        struct inspect_args a;
        int progress_last = -1, r;

        r = parse_inspect_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (a.image_policy && vr_image_policy_parse(a.image_policy, &policy) < 0)
                return log_error_errno(EINVAL, "--image-policy: invalid policy \"%s\" (see above)", a.image_policy), 2;
        if (a.image_filter && vr_image_filter_parse(a.image_filter, &filter) < 0)
                return log_error_errno(EINVAL, "--image-filter: invalid filter \"%s\" (see above)", a.image_filter), 2;

        if (vr_partitions_from_images(a.images, (size_t) a.n_images, &parts) < 0)
                return 1; /* already logged, naming the image */
        if (a.sig != VR_SIG_OFF) {
                r = a.certs ? vr_trust_store_load(a.certs, &trust) : vr_trust_store_load_default(NULL, &trust);
                if (r < 0)
                        return 1;
        }

        struct vr_discover_config cfg = {
                .target = VR_TARGET_ROOT,
                .arch = a.arch,
                .trusted_hash = a.roothash,
                .sig = a.sig,
                .trust = &trust,
                .deep = !a.quick,
                .progress = !a.json && isatty(STDERR_FILENO) ? progress_tty : NULL,
                .progress_userdata = &progress_last,
                .policy = a.image_policy ? &policy : NULL,
                .filter = a.image_filter ? &filter : NULL,
        };
        vr_discover_with_kiwi(&parts, &cfg, &root);
        bool kiwi = root.kiwi;

        bool want_usr = a.usrhash || has_any_role(&parts, VR_ROLE_USR_VERITY, VR_ROLE_USR_VERITY_SIG);
        /* As at boot: without usrhash= the policy decides whether the root's disk's /usr is used. */
        if (!a.usrhash && cfg.policy && root.error >= 0) {
                bool use;
                const struct vr_partition *u = vr_disk_find_target(&parts, root.data->disk, cfg.arch ?: vr_dps_native_arch(),
                                                                   VR_TARGET_USR, cfg.filter);
                if (vr_policy_auto_usr(cfg.policy, u, root.data->disk, &use, &usr) < 0)
                        want_usr = true;
                else if (!use) {
                        if (u && !a.json)
                                printf("usr: %s\n", usr.reason);
                        want_usr = false;
                }
        }
        if (want_usr && usr.error >= 0) {
                cfg.target = VR_TARGET_USR;
                cfg.trusted_hash = a.usrhash;
                progress_last = -1;
                vr_discover(&parts, &cfg, &usr);
        }
        bool ok = root.error >= 0 && (!want_usr || usr.error >= 0);
        if (a.json) {
                json_object *doc = json_object_new_object(), *arr = json_object_new_array();
                json_object_object_add(doc, "version", json_object_new_int(1));
                json_object_object_add(doc, "bootable", json_object_new_boolean(ok));
                for (size_t i = 0; i < parts.n; i++)
                        json_object_array_add(arr, partition_json(&parts.items[i]));
                json_object_object_add(doc, "partitions", arr);
                json_object_object_add(doc, "root", verdict_json(&root, !a.quick, kiwi));
                if (want_usr)
                        json_object_object_add(doc, "usr", verdict_json(&usr, !a.quick, false));
                puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(doc);
        } else {
                print_partitions(&parts);
                print_verdict("root", &root, !a.quick, kiwi);
                if (want_usr)
                        print_verdict("usr", &usr, !a.quick, false);
        }
        vr_verdict_done(&root);
        vr_verdict_done(&usr);
        return ok ? 0 : 1;
}
