/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The trust and uniqueness rules for Kiwi roots: found by their embedded metadata, not by type. */
#include <inttypes.h>

#include "discover.h"
#include "dps.h"
#include "hashtree.h"
#include "kiwi.h"
#include "util.h"

#define refuse vr_verdict_refuse

struct kiwi_scan {
        const struct vr_partition *chosen, *other;
        size_t n_valid, n_match;
        struct vr_kiwi_meta *meta;       /* of chosen */
        const struct vr_partition *mismatch; /* a Kiwi root whose hash is not roothash= */
        const struct vr_partition *elsewhere; /* a Kiwi root off the search disk, not considered */
        struct vr_roothash mismatch_hash;
        int malformed_error;             /* first partition that looked like Kiwi but did not parse */
        char malformed[512];
};

static void kiwi_scan_done(struct kiwi_scan *s) {
        free(s->meta);
}

static int read_partition(const struct vr_partition *p, struct vr_kiwi_meta *m) {
        struct vr_region region = { .fd = -1 };
        char what[256];
        int r;

        r = vr_partition_open(p, &region, what, sizeof(what));
        if (r < 0)
                return r;
        r = vr_kiwi_read(&region, m);
        close(region.fd);
        return r;
}

/* Every partition whose last 4 KiB parse as Kiwi metadata; with want, only those with that root hash count;
 * with disk, only those on it (the others are only remembered, for the refusal). */
static int scan(const struct vr_partition_list *parts, const struct vr_roothash *want, const char *disk,
                struct kiwi_scan *s) {
        _cleanup_free_ struct vr_kiwi_meta *m = malloc(sizeof(*m));
        char d[256];

        if (!m)
                return -ENOMEM;
        for (size_t i = 0; i < parts->n; i++) {
                const struct vr_partition *p = &parts->items[i];
                int r;

                if (p->flags & VR_GPT_FLAG_NO_AUTO) {
                        log_debug("Ignoring %s: GPT no-auto flag set", vr_partition_describe(p, d, sizeof(d)));
                        continue;
                }
                r = read_partition(p, m);
                if (r == -ENOMSG)
                        continue;
                if (disk && !streq(p->disk, disk)) {
                        if (r >= 0)
                                s->elsewhere = s->elsewhere ?: p;
                        continue;
                }
                if (r < 0) {
                        if (s->malformed_error == 0) {
                                s->malformed_error = r;
                                snprintf(s->malformed, sizeof(s->malformed), "%s", vr_log_last_error());
                        }
                        continue;
                }
                s->n_valid++;
                if (want && (want->len != m->roothash.len || memcmp(want->bytes, m->roothash.bytes, want->len) != 0)) {
                        s->mismatch = p;
                        s->mismatch_hash = m->roothash;
                        continue;
                }
                if (s->n_match++ == 0) {
                        s->chosen = p;
                        s->meta = TAKE_PTR(m);
                        m = malloc(sizeof(*m));
                        if (!m)
                                return -ENOMEM;
                } else if (!s->other)
                        s->other = p;
        }
        return 0;
}

/* Fills v->source and v->signature_status, or refuses. */
static int apply_trust(const struct vr_discover_config *cfg, const struct vr_kiwi_meta *m, const char *what,
                       struct vr_verdict *v) {
        static const struct vr_trust_store empty = {};
        const struct vr_trust_store *ts = cfg->trust ?: &empty;
        _cleanup_free_ char *signer = NULL;
        int r;

        if (!cfg->trusted_hash) {
                if (cfg->sig == VR_SIG_OFF)
                        return refuse(v, -ENOKEY, "no roothash= given and rd.verity.sig=off ignores signatures: no root hash "
                                      "to trust for the Kiwi root %s", what);
                if (m->signature_len == 0)
                        return refuse(v, -ENOKEY, "the Kiwi verity metadata on %s is unsigned and no roothash= was given: "
                                      "nothing says which root hash to trust", what);
                r = vr_kiwi_verify_signature(m, ts, what, &signer);
                if (r < 0)
                        return refuse(v, r, "%s", vr_log_last_error());
                v->source = VR_HASH_SOURCE_SIGNATURE;
                snprintf(v->signature_status, sizeof(v->signature_status), "valid, signed by %s", signer);
                return 0;
        }

        v->source = VR_HASH_SOURCE_CMDLINE;
        if (cfg->sig == VR_SIG_OFF) {
                snprintf(v->signature_status, sizeof(v->signature_status), "not checked (rd.verity.sig=off)");
                return 0;
        }
        if (m->signature_len == 0) {
                if (cfg->sig == VR_SIG_REQUIRED)
                        return refuse(v, -ENOKEY, "signature required (rd.verity.sig=required) but the Kiwi verity metadata "
                                      "on %s is unsigned", what);
                snprintf(v->signature_status, sizeof(v->signature_status),
                         "none (Kiwi metadata unsigned; root hash trusted from the cmdline)");
                return 0;
        }
        r = vr_kiwi_verify_signature(m, ts, what, &signer);
        if (r < 0) {
                if (cfg->sig == VR_SIG_REQUIRED)
                        return refuse(v, r, "signature required (rd.verity.sig=required): %s", vr_log_last_error());
                snprintf(v->signature_status, sizeof(v->signature_status), "not valid: %s", vr_log_last_error());
                return 0;
        }
        snprintf(v->signature_status, sizeof(v->signature_status), "valid, signed by %s", signer);
        return 0;
}

static int check_tree(const struct vr_discover_config *cfg, const struct vr_partition *p, const struct vr_kiwi_meta *m,
                      struct vr_verdict *v) {
        struct vr_region region = { .fd = -1 };
        char what[256];
        int r;

        r = vr_partition_open(p, &region, what, sizeof(what));
        if (r < 0)
                return refuse(v, r, "cannot open %s: %s", vr_partition_describe(p, what, sizeof(what)), strerror(-r));
        r = vr_hashtree_check_root(&m->params, &region, &m->roothash);
        if (r >= 0 && cfg->deep)
                r = vr_hashtree_verify_all(&m->params, &region, &region, &m->roothash, cfg->progress,
                                           cfg->progress_userdata, &v->bad_block);
        close(region.fd);
        return r < 0 ? refuse(v, r, "%s", vr_log_last_error()) : 0;
}

static int discover_kiwi(const struct vr_partition_list *parts, const struct vr_discover_config *cfg,
                         struct kiwi_scan *s, struct vr_verdict *v) {
        struct vr_roothash want = {};
        char d1[256], d2[256], hex[2 * VR_ROOTHASH_MAX + 1];
        int r;

        if (cfg->target != VR_TARGET_ROOT)
                return refuse(v, -ENXIO, "Kiwi images protect only the root file system, not /usr");
        if (cfg->trusted_hash) {
                r = vr_roothash_parse(cfg->trusted_hash, NULL, "roothash=", &want);
                if (r < 0)
                        return refuse(v, r, "%s", vr_log_last_error());
        }
        r = scan(parts, cfg->trusted_hash ? &want : NULL, vr_discover_search_disk(cfg), s);
        if (r < 0)
                return refuse(v, r, "out of memory reading Kiwi verity metadata");

        if (s->n_valid == 0) {
                if (s->malformed_error < 0)
                        return refuse(v, s->malformed_error, "%s", s->malformed);
                if (s->elsewhere)
                        return vr_refuse_other_disk(cfg, s->elsewhere, v);
                v->incomplete = true;
                return refuse(v, -ENXIO, "no partition carries Kiwi verity metadata in its last 4 KiB");
        }
        if (s->n_match == 0)
                return refuse(v, -EBADMSG, "roothash=%s does not match the Kiwi verity metadata on %s (root hash %s)",
                              cfg->trusted_hash, vr_partition_describe(s->mismatch, d1, sizeof(d1)),
                              vr_roothash_to_string(&s->mismatch_hash, hex));
        if (s->n_match > 1)
                return refuse(v, -ENOTUNIQ, "ambiguous: %zu partitions carry Kiwi verity metadata%s: %s and %s", s->n_match,
                              cfg->trusted_hash ? " for the same root hash" : "",
                              vr_partition_describe(s->chosen, d1, sizeof(d1)),
                              vr_partition_describe(s->other, d2, sizeof(d2)));

        vr_partition_describe(s->chosen, d1, sizeof(d1));
        r = apply_trust(cfg, s->meta, d1, v);
        if (r < 0)
                return r;
        r = check_tree(cfg, s->chosen, s->meta, v);
        if (r < 0)
                return r;

        v->data = v->hash = s->chosen;
        v->appended = true;
        v->roothash = s->meta->roothash;
        vr_roothash_to_string(&v->roothash, v->roothash_hex);
        v->params = s->meta->params;
        return 0;
}

int vr_discover_kiwi(const struct vr_partition_list *parts, const struct vr_discover_config *cfg, struct vr_verdict *v) {
        struct kiwi_scan s = {};
        int r;

        vr_verdict_done(v);
        *v = (struct vr_verdict) {};
        /* Partitions that are not Kiwi roots are normal here; the verdict carries the one line that matters. */
        vr_log_capture_begin();
        r = discover_kiwi(parts, cfg, &s, v);
        vr_log_capture_end();
        kiwi_scan_done(&s);
        return r;
}
