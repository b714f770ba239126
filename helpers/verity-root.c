/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verity-root: the user CLI. Each verb lives in its own file in lib/. */
#include "util.h"
#include "verbs.h"

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} verbs[] = {
        { "inspect", vr_verb_inspect, "show the DPS partitions of an image or disk and what would boot" },
        { "mkimage", vr_verb_mkimage, "build a DPS disk image with a dm-verity protected root, optionally signed" },
        { "join-signature", vr_verb_join_signature, "write a root hash signature made elsewhere into an image" },
        { "predict-pcr", vr_verb_predict_pcr, "print the TPM PCR value the boot of an image measures, and its events" },
        { "cmdline", vr_verb_cmdline, "print the kernel command line that boots an image (UKI or dm-mod.create=)" },
        { "ipe-policy", vr_verb_ipe_policy, "print an IPE policy that executes only from the verified root of an image" },
};

static void help(void) {
        printf("Usage: verity-root VERB [ARGS...]\n\n"
               "Boot a dm-verity protected root found by GPT partition type (DPS).\n\nVerbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-15s %s\n", verbs[i].name, verbs[i].summary);
        printf("\n  --version  print the version\n  -h, --help show this help\n\n"
               "Run 'verity-root VERB --help' for the options of a verb.\n");
}

int main(int argc, char **argv) {
        if (argc < 2) {
                help();
                return 2;
        }
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                help();
                return 0;
        }
        if (streq(argv[1], "--version")) {
                printf("verity-root %s\n", VR_VERSION);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name))
                        return verbs[i].run(argc - 1, argv + 1);
        log_error("unknown verb \"%s\" (see --help)", argv[1]);
        return 2;
}
