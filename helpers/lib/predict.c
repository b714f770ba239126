/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `verity-root predict-pcr`: the PCR value and the events the boot of an image measures,
 * replayed from a zeroed PCR, so that a TPM policy can be sealed before the first boot. */
#include <getopt.h>
#include <json-c/json.h>

#include "image-verdicts.h"
#include "measure.h"
#include "util.h"
#include "verbs.h"

struct predict_args {
        const char *certs;
        const char *roothash;
        const char *usrhash;
        unsigned pcr;
        bool json;
        char **images;
        int n_images;
};

static void predict_help(void) {
        printf("Usage: verity-root predict-pcr IMAGE... [OPTIONS]\n\n"
               "Print the value of the PCR that booting IMAGE measures into (from a zeroed PCR),\n"
               "and the events measured, as verity-root-setup decides and measures them.\n\n"
               "  --certs DIR        trusted certificates (*.crt) in DIR only, instead of\n"
               "                     " VR_CERT_DIRS_TEXT "\n"
               "  --roothash HEX     the roothash= the kernel command line will carry\n"
               "  --usrhash HEX      the usrhash= it will carry (with --roothash)\n"
               "  --pcr N            the PCR of rd.verity.measure=N (default %u)\n"
               "  --json             every supported bank and the events as log records\n"
               "  -h, --help         show this help\n",
               VR_MEASURE_DEFAULT_PCR);
}

static int parse_predict_args(int argc, char **argv, struct predict_args *a) {
        enum { ARG_CERTS = 0x100, ARG_ROOTHASH, ARG_USRHASH, ARG_PCR, ARG_JSON };
        static const struct option options[] = {
                { "certs", required_argument, NULL, ARG_CERTS },
                { "roothash", required_argument, NULL, ARG_ROOTHASH },
                { "usrhash", required_argument, NULL, ARG_USRHASH },
                { "pcr", required_argument, NULL, ARG_PCR },
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        enum vr_measure_policy policy;
        int c;

        *a = (struct predict_args) { .pcr = VR_MEASURE_DEFAULT_PCR };
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
                case ARG_PCR:
                        if (vr_measure_policy_parse(optarg, &policy, &a->pcr) < 0 || policy != VR_MEASURE_AUTO)
                                return log_error_errno(EINVAL, "--pcr: expected a PCR number 1-%u, got \"%s\"",
                                                       VR_MEASURE_PCR_MAX, optarg);
                        break;
                case ARG_JSON:
                        a->json = true;
                        break;
                case 'h':
                        predict_help();
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        if (optind >= argc)
                return log_error_errno(EINVAL, "predict-pcr: no image given (see --help)");
        /* usrhash= alone leaves the root to another owner: nothing this module measures first. */
        if (a->usrhash && !a->roothash)
                return log_error_errno(EINVAL, "predict-pcr: --usrhash needs --roothash (the root is measured first)");
        a->images = argv + optind;
        a->n_images = argc - optind;
        return 1;
}

int vr_verb_predict_pcr(int argc, char **argv) {
        _cleanup_(vr_partition_list_done) struct vr_partition_list parts = {};
        _cleanup_(vr_trust_store_done) struct vr_trust_store trust = {};
        struct vr_verdict verdicts[2] = {};
        enum vr_target targets[2] = { VR_TARGET_ROOT, VR_TARGET_USR };
        char *events[2] = {};
        unsigned char pcr[vr_pcr_banks_n][VR_DIGEST_MAX];
        struct predict_args a;
        size_t n = 0;
        int r, ret = 1;

        r = parse_predict_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (vr_partitions_from_images(a.images, (size_t) a.n_images, &parts) < 0)
                return 1;
        r = a.certs ? vr_trust_store_load(a.certs, &trust) : vr_trust_store_load_default(NULL, &trust);
        if (r < 0)
                return 1;
        r = vr_image_verdicts(&parts, a.roothash, a.usrhash, &trust, verdicts);
        if (r < 0)
                goto out;
        n = (size_t) r;
        for (size_t i = 0; i < n; i++)
                if (vr_measure_event_for_verdict(targets[i], &verdicts[i], &trust, &events[i]) < 0)
                        goto out;

        json_object *doc = json_object_new_object(), *banks = json_object_new_object(), *records = json_object_new_array();
        memset(pcr, 0, sizeof(pcr));
        for (size_t i = 0; i < n; i++) {
                struct vr_digest d[vr_pcr_banks_n];
                for (size_t b = 0; b < vr_pcr_banks_n; b++)
                        if (vr_digest_data(&vr_pcr_banks[b], events[i], strlen(events[i]), &d[b]) < 0 ||
                            vr_pcr_replay(&vr_pcr_banks[b], pcr[b], d[b].bytes) < 0) {
                                json_object_put(doc);
                                json_object_put(banks);
                                json_object_put(records);
                                goto out;
                        }
                json_object_array_add(records, vr_measure_record_json(a.pcr, d, vr_pcr_banks_n, events[i]));
        }
        for (size_t b = 0; b < vr_pcr_banks_n; b++) {
                char hex[2 * VR_DIGEST_MAX + 1];
                vr_hex_encode(pcr[b], vr_pcr_banks[b].size, hex);
                json_object_object_add(banks, vr_pcr_banks[b].name, json_object_new_string(hex));
        }
        json_object_object_add(doc, "pcr", json_object_new_int((int32_t) a.pcr));
        json_object_object_add(doc, "banks", banks);
        json_object_object_add(doc, "events", records);
        if (a.json)
                puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        else {
                json_object *sha256;
                json_object_object_get_ex(banks, "sha256", &sha256);
                printf("pcr:    %u\nsha256: %s\n", a.pcr, json_object_get_string(sha256));
                for (size_t i = 0; i < n; i++)
                        printf("event:  %s\n", events[i]);
        }
        json_object_put(doc);
        ret = 0;
out:
        for (size_t i = 0; i < ELEMENTSOF(events); i++) {
                free(events[i]);
                vr_verdict_done(&verdicts[i]);
        }
        return ret;
}
