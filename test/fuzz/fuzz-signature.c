/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Feeds arbitrary bytes to the signature partition parser and, when they parse, to
 * PKCS#7 verification against a one-certificate trust store. The seed corpus holds
 * blobs signed by this certificate's key (made with test/lib/mkcert.sh ... fuzz ec256
 * and test/lib/mksig.sh; regenerate both together), so mutations reach the paths
 * behind a valid signature too. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "signature.h"
#include "util.h"

static const char fuzz_crt[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBczCCARmgAwIBAgIUXc41B4Gf4YZPRlMVcRwcRaWD+aMwCgYIKoZIzj0EAwIw\n"
        "DzENMAsGA1UEAwwEZnV6ejAeFw0yNjExMjMxMDQ3MzlaFw0zNjExMjAxMDQ3Mzla\n"
        "MA8xDTALBgNVBAMMBGZ1enowWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQnoN8J\n"
        "7EKNDA9OFV7MutD9YmwhvXqudESqjIRy8noO28u++6fhjgd9k8cfVsyXuLq6mvuY\n"
        "uhhmA1+TuKiH+gCSo1MwUTAdBgNVHQ4EFgQUrJkzsFFwfmF1CRziBYxxjqpzEx0w\n"
        "HwYDVR0jBBgwFoAUrJkzsFFwfmF1CRziBYxxjqpzEx0wDwYDVR0TAQH/BAUwAwEB\n"
        "/zAKBggqhkjOPQQDAgNIADBFAiEA3bu2BxsnLvW9B33/HY5zMdqrKPfOaEGId4s5\n"
        "GKFEwNwCICfBHnGkg6VgK1dkUa30jqpq81eFlv+kqsMWj4u0mKEW\n"
        "-----END CERTIFICATE-----\n";

static struct vr_trust_store store;

static void load_store(void) {
        char dir[256], path[300];
        const char *tmp = getenv("TMPDIR");
        FILE *f;

        snprintf(dir, sizeof(dir), "%s/fuzz-signature.XXXXXX", tmp ? tmp : "/tmp");
        if (!mkdtemp(dir))
                abort();
        snprintf(path, sizeof(path), "%s/fuzz.crt", dir);
        f = fopen(path, "we");
        if (!f || fputs(fuzz_crt, f) < 0 || fclose(f) != 0)
                abort();
        if (vr_trust_store_load(dir, &store) < 0 || store.n != 1)
                abort();
        unlink(path);
        rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        vr_log_set_level(0);
        load_store();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct vr_signature s;
        char *signer = NULL;

        if (vr_signature_parse(data, size, "fuzz", &s) < 0)
                return 0;
        if (vr_signature_verify(&s, &store, "fuzz", &signer) == 0 && !signer)
                abort();
        free(signer);
        vr_signature_done(&s);
        return 0;
}
