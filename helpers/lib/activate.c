/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <libcryptsetup.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "activate.h"
#include "hashtree.h"
#include "kernel-sig.h"
#include "util.h"
#include "version.h"

bool vr_handoff_possible(const struct vr_verdict *v, const struct vr_cmdline *c) {
        /* No systemd-veritysetup release parses an error-as-corruption option word (v257
         * ignores unknown words with a warning): libcryptsetup is used directly then. */
        return !v->appended && v->params.hash_offset == 0 && !c->error_as_corruption;
}

static const char *corruption_option(enum vr_corruption c) {
        switch (c) {
        case VR_CORRUPTION_RESTART:
                return "restart-on-corruption";
        case VR_CORRUPTION_PANIC:
                return "panic-on-corruption";
        default:
                return NULL;
        }
}

/* "CN=x (/etc/verity.d/x.crt)" of "valid, signed by CN=x (...)". */
static const char *signer_of(const struct vr_verdict *v) {
        return startswith(v->signature_status, "valid, signed by ") ?: v->signature_status;
}

int vr_write_handoff_env(const char *path, const struct vr_verdict *v, const struct vr_cmdline *c,
                         const char *user_options, bool handoff) {
        const char *corr = corruption_option(c->corruption);
        char *tmp;

        if (mkdir(VR_RUNDIR, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "cannot create %s: %s", VR_RUNDIR, strerror(errno));
        FILE *f = vr_atomic_begin(path, &tmp);
        if (!f)
                return -EIO;
        fprintf(f, "VERITY_DATA=%s\nVERITY_HASH=%s\nVERITY_ROOTHASH=%s\nVERITY_HANDOFF=%s\nVERITY_SOURCE=%s\n",
                v->data->node, v->hash->node, v->roothash_hex, handoff ? "yes" : "no",
                vr_hash_source_to_string(v->source));
        /* Labels are the attacker's: only a version that passed vr_version_is_valid(). */
        const char *label_version = vr_verdict_label_version(v);
        if (label_version && vr_version_is_valid(label_version))
                fprintf(f, "VERITY_LABEL_VERSION=%s\n", label_version);
        if (vr_cmdline_kernel_sig(c) && v->signature_base64) {
                /* For verity-root-check --failed: who signed, in case the kernel refuses. */
                char signer[sizeof(v->signature_status)];
                snprintf(signer, sizeof(signer), "%s", signer_of(v));
                signer[strcspn(signer, "\"\\\n")] = 0;
                fprintf(f, "VERITY_KERNEL_SIG=\"%s\"\nVERITY_SIGNER=\"%s\"\n", vr_kernel_sig_policy_key(c), signer);
        }
        fputs("VERITY_OPTIONS=", f);
        const char *sep = "";
        if (corr) {
                fputs(corr, f);
                sep = ",";
        }
        if (vr_cmdline_kernel_sig(c) && v->signature_base64) {
                fprintf(f, "%sroot-hash-signature=base64:%s", sep, v->signature_base64);
                sep = ",";
        }
        if (user_options && *user_options) {
                fprintf(f, "%s%s", sep, user_options);
                sep = ",";
        }
        /* systemd-veritysetup takes "-" for no options. */
        fputs(*sep ? "\n" : "-\n", f);
        return vr_atomic_commit(f, tmp, path);
}

static int decode_signature(const char *b64, unsigned char **ret, size_t *ret_len) {
        size_t len = strlen(b64);
        _cleanup_free_ unsigned char *buf = malloc(len / 4 * 3 + 3);
        if (!buf)
                return -ENOMEM;
        int n = EVP_DecodeBlock(buf, (const unsigned char *) b64, (int) len);
        if (n < 0)
                return -EBADMSG;
        while (len > 0 && b64[len - 1] == '=') { /* EVP_DecodeBlock counts padding as zero bytes */
                len--;
                n--;
        }
        *ret_len = (size_t) n;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* The words of systemd.verity_*_options= that change the dm-verity table, as
 * libcryptsetup flags (for our own activation) and as the table options they become. */
static const struct {
        const char *word;
        uint32_t crypt_flag;
        unsigned table_flag;
} option_words[] = {
        { "ignore-corruption", CRYPT_ACTIVATE_IGNORE_CORRUPTION, VR_TABLE_IGNORE_CORRUPTION },
        { "restart-on-corruption", CRYPT_ACTIVATE_RESTART_ON_CORRUPTION, VR_TABLE_RESTART_ON_CORRUPTION },
        { "panic-on-corruption", CRYPT_ACTIVATE_PANIC_ON_CORRUPTION, VR_TABLE_PANIC_ON_CORRUPTION },
        { "ignore-zero-blocks", CRYPT_ACTIVATE_IGNORE_ZERO_BLOCKS, VR_TABLE_IGNORE_ZERO_BLOCKS },
        { "check-at-most-once", CRYPT_ACTIVATE_CHECK_AT_MOST_ONCE, VR_TABLE_CHECK_AT_MOST_ONCE },
        { "fec-device", 0, VR_TABLE_FEC },
};

/* ORs the crypt or table flags of every word of options ("word" or "word=value"). */
static unsigned option_flags(const char *options, bool table) {
        unsigned flags = 0;
        for (const char *p = options ?: ""; *p;) {
                size_t len = strcspn(p, ",");
                size_t key = strcspn(p, ",=");
                for (size_t i = 0; i < ELEMENTSOF(option_words); i++)
                        if (strlen(option_words[i].word) == (key < len ? key : len) &&
                            strncmp(p, option_words[i].word, strlen(option_words[i].word)) == 0)
                                flags |= table ? option_words[i].table_flag : option_words[i].crypt_flag;
                p += len;
                p += *p == ',';
        }
        return flags;
}

int vr_expected_table(const struct vr_verdict *v, const struct vr_cmdline *c, const char *user_options,
                      struct vr_verity_table *t) {
        *t = (struct vr_verity_table) {
                .version = v->params.hash_type,
                .data_dev = v->data->devnum,
                .hash_dev = v->hash->devnum,
                .data_block_size = v->params.data_block_size,
                .hash_block_size = v->params.hash_block_size,
                .data_blocks = v->params.data_blocks,
                .hash_start = vr_hashtree_start(&v->params) / v->params.hash_block_size,
                .options = option_flags(user_options, true),
        };
        if (t->data_dev == 0 || t->hash_dev == 0)
                return log_error_errno(ENODEV, "the verified partitions %s and %s have no block device number",
                                       v->data->node, v->hash->node);
        snprintf(t->algorithm, sizeof(t->algorithm), "%s", v->params.algorithm);
        snprintf(t->digest, sizeof(t->digest), "%s", v->roothash_hex);
        if (v->params.salt_size == 0)
                snprintf(t->salt, sizeof(t->salt), "-");
        else
                vr_hex_encode(v->params.salt, v->params.salt_size, t->salt);
        if (c->corruption == VR_CORRUPTION_RESTART)
                t->options |= VR_TABLE_RESTART_ON_CORRUPTION | (c->error_as_corruption ? VR_TABLE_RESTART_ON_ERROR : 0);
        else if (c->corruption == VR_CORRUPTION_PANIC)
                t->options |= VR_TABLE_PANIC_ON_CORRUPTION | (c->error_as_corruption ? VR_TABLE_PANIC_ON_ERROR : 0);
        if (vr_cmdline_kernel_sig(c) && v->signature_base64)
                t->options |= VR_TABLE_ROOT_HASH_SIG;
        return 0;
}

#ifdef CRYPT_ACTIVATE_ERROR_AS_CORRUPTION
#define HAVE_ERROR_AS_CORRUPTION 1
#else
#define HAVE_ERROR_AS_CORRUPTION 0
#endif

/* dm-verity 1.10 (Linux 6.12) added restart_on_error/panic_on_error; cryptsetup probes
 * the same version before it asks for them. */
int vr_check_error_as_corruption(const struct vr_cmdline *c, const unsigned dm_verity_version[3]) {
        const char *value = c->corruption == VR_CORRUPTION_PANIC ? "panic+error" : "restart+error";
        const unsigned *v = dm_verity_version;
        struct utsname u = {};

        if (!c->error_as_corruption)
                return 0;
        if (v[0] < 1 || (v[0] == 1 && v[1] < 10)) {
                (void) uname(&u);
                return log_error_errno(EOPNOTSUPP, "rd.verity.corruption=%s needs dm-verity 1.10 (Linux 6.12) or "
                                       "newer; kernel %s has dm-verity %u.%u.%u", value, u.release, v[0], v[1], v[2]);
        }
        if (!HAVE_ERROR_AS_CORRUPTION)
                return log_error_errno(EOPNOTSUPP, "rd.verity.corruption=%s needs libcryptsetup 2.8 or newer; "
                                       "verity-root was built against an older one", value);
        return 0;
}

static int check_kernel_error_as_corruption(const struct vr_cmdline *c) {
        unsigned version[3] = {};
        int r;

        if (!c->error_as_corruption)
                return 0;
        r = vr_dm_target_version("verity", version);
        if (r < 0)
                return log_error_errno(r, "cannot read the kernel's dm-verity version: %s", strerror(-r));
        return vr_check_error_as_corruption(c, version);
}

int vr_activate(const char *name, const struct vr_verdict *v, const struct vr_cmdline *c, const char *user_options) {
        struct crypt_device *cd = NULL;
        struct crypt_params_verity params = { .hash_area_offset = v->params.hash_offset };
        uint32_t flags = CRYPT_ACTIVATE_READONLY | option_flags(user_options, false);
        _cleanup_free_ unsigned char *sig = NULL;
        size_t sig_len = 0;
        int r;

        r = check_kernel_error_as_corruption(c);
        if (r < 0)
                return r;
        if (c->corruption == VR_CORRUPTION_RESTART)
                flags |= CRYPT_ACTIVATE_RESTART_ON_CORRUPTION;
        else if (c->corruption == VR_CORRUPTION_PANIC)
                flags |= CRYPT_ACTIVATE_PANIC_ON_CORRUPTION;
#if HAVE_ERROR_AS_CORRUPTION
        if (c->error_as_corruption)
                flags |= CRYPT_ACTIVATE_ERROR_AS_CORRUPTION;
#endif

        r = crypt_init_data_device(&cd, v->hash->node, v->data->node);
        if (r < 0)
                return log_error_errno(r, "cannot open %s for dm-verity: %s", v->hash->node, strerror(-r));
        if (v->params.no_superblock) {
                /* Parameters from signed metadata (old Kiwi layouts): nothing to load from disk. */
                params.hash_name = v->params.algorithm;
                params.data_device = v->data->node;
                params.salt = (const char *) v->params.salt;
                params.salt_size = v->params.salt_size;
                params.hash_type = v->params.hash_type;
                params.data_block_size = v->params.data_block_size;
                params.hash_block_size = v->params.hash_block_size;
                params.data_size = v->params.data_blocks;
                params.flags = CRYPT_VERITY_NO_HEADER;
                r = crypt_format(cd, CRYPT_VERITY, NULL, NULL, NULL, NULL, 0, &params);
        } else
                r = crypt_load(cd, CRYPT_VERITY, &params);
        if (r < 0) {
                log_error_errno(r, "cannot set up the verity parameters of %s (hash tree at byte %" PRIu64 "): %s",
                                v->hash->node, params.hash_area_offset, strerror(-r));
                goto out;
        }

        if (vr_cmdline_kernel_sig(c) && v->signature_base64) {
                r = decode_signature(v->signature_base64, &sig, &sig_len);
                if (r < 0) {
                        log_error_errno(r, "cannot decode the root hash signature for the kernel");
                        goto out;
                }
                r = crypt_activate_by_signed_key(cd, name, (const char *) v->roothash.bytes, v->roothash.len,
                                                 (const char *) sig, sig_len, flags);
                if (r < 0) {
                        char keyrings[256];
                        vr_kernel_keyrings_describe(NULL, keyrings, sizeof(keyrings));
                        log_error_errno(r, "the kernel refused to open /dev/mapper/%s: with %s it checks the root "
                                        "hash signature itself, and none of its keyrings trusts the signer %s (%s): %s",
                                        name, vr_kernel_sig_policy_key(c), signer_of(v), keyrings, strerror(-r));
                        goto out;
                }
        } else {
                r = crypt_activate_by_volume_key(cd, name, (const char *) v->roothash.bytes, v->roothash.len, flags);
                if (r < 0) {
                        log_error_errno(r, "cannot open /dev/mapper/%s (data %s, hash %s): %s", name, v->data->node,
                                        v->hash->node, strerror(-r));
                        goto out;
                }
        }
        r = 0;
out:
        crypt_free(cd);
        return r;
}
