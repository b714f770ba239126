/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The binding rules: from a list of partitions and a trust policy to one verdict. */
#include <fcntl.h>
#include <inttypes.h>

#include "discover.h"
#include "dps.h"
#include "hashtree.h"
#include "util.h"
#include "version.h"

struct vr_role_set vr_target_roles(enum vr_target t) {
        if (t == VR_TARGET_USR)
                return (struct vr_role_set) { VR_ROLE_USR, VR_ROLE_USR_VERITY, VR_ROLE_USR_VERITY_SIG };
        return (struct vr_role_set) { VR_ROLE_ROOT, VR_ROLE_ROOT_VERITY, VR_ROLE_ROOT_VERITY_SIG };
}

const char *vr_target_name(enum vr_target t) {
        return t == VR_TARGET_USR ? "usr" : "root";
}

const char *vr_hash_source_to_string(enum vr_hash_source s) {
        switch (s) {
        case VR_HASH_SOURCE_CMDLINE:
                return "cmdline";
        case VR_HASH_SOURCE_SIGNATURE:
                return "signature";
        default:
                return "none";
        }
}

const char *vr_verdict_label_version(const struct vr_verdict *v) {
        if (v->error < 0 || v->kiwi || v->source != VR_HASH_SOURCE_SIGNATURE || !v->data)
                return NULL;
        return vr_label_version(v->data->label);
}

int vr_verdict_refuse(struct vr_verdict *v, int error, const char *fmt, ...) {
        char reason[sizeof(v->reason)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        /* The reason is printed at boot and by inspect: nothing from a disk may reach it raw. */
        vr_escape(reason, 0, v->reason, sizeof(v->reason));
        v->error = error < 0 ? error : -error;
        return v->error;
}
#define refuse vr_verdict_refuse

/* Refused only because a piece is missing: at boot, waiting for more devices may help. */
#define refuse_incomplete(v, ...) (((v)->incomplete = true), refuse((v), -ENXIO, __VA_ARGS__))

static bool has_role(const struct vr_partition *p, const char *arch, enum vr_part_role role) {
        vr_id128 want;
        return vr_dps_type(arch, role, &want) >= 0 && vr_id128_equal(p->type, want);
}

const struct vr_partition *vr_disk_find_target(const struct vr_partition_list *parts, const char *disk,
                                               const char *arch, enum vr_target target,
                                               const struct vr_image_filter *filter) {
        struct vr_role_set roles = vr_target_roles(target);
        for (size_t i = 0; i < parts->n; i++) {
                const struct vr_partition *p = &parts->items[i];
                if (streq(p->disk, disk) && vr_image_filter_keeps(filter, p) &&
                    (has_role(p, arch, roles.data) || has_role(p, arch, roles.hash) || has_role(p, arch, roles.sig)))
                        return p;
        }
        return NULL;
}

static const char *describe(const struct vr_partition *p, char buf[static 256]) {
        return vr_partition_describe(p, buf, 256);
}

const char *vr_discover_search_disk(const struct vr_discover_config *cfg) {
        if (cfg->only_disk)
                return cfg->only_disk;
        return cfg->trusted_hash ? NULL : cfg->boot_disk;
}

int vr_refuse_other_disk(const struct vr_discover_config *cfg, const struct vr_partition *candidate,
                         struct vr_verdict *v) {
        const char *what = vr_target_name(cfg->target);
        char d[256];

        v->when_settled = true;
        if (cfg->only_disk)
                return refuse(v, -EXDEV, "no signed %s on the root's disk %s; a %s on another disk is not considered: "
                              "found %s", what, cfg->only_disk, what, describe(candidate, d));
        return refuse(v, -EXDEV, "no signed %s on the boot disk %s (LoaderDevicePartUUID=%s); %ss on other disks are "
                      "not considered: found %s", what, cfg->boot_disk, cfg->boot_partuuid ?: "?", what,
                      describe(candidate, d));
}

/* All partitions with this PARTUUID, restricted to one disk when disk is set. */
static size_t find_by_uuid(const struct vr_partition_list *parts, vr_id128 uuid, const char *disk,
                           const struct vr_partition **found, size_t max) {
        size_t n = 0;
        for (size_t i = 0; i < parts->n; i++) {
                const struct vr_partition *p = &parts->items[i];
                if (!vr_id128_equal(p->uuid, uuid))
                        continue;
                if (disk && !streq(p->disk, disk))
                        continue;
                if (n < max)
                        found[n] = p;
                n++;
        }
        return n;
}

/* Partitions named like systemd names them on the cmdline: PARTUUID=, PARTLABEL=, a
 * device node, or a symlink to one (/dev/disk/by-...). */
static size_t find_by_device(const struct vr_partition_list *parts, const char *path, const struct vr_partition **found,
                             size_t max) {
        _cleanup_free_ char *real = realpath(path, NULL);
        const char *partuuid = startswith(path, "PARTUUID="), *partlabel = startswith(path, "PARTLABEL=");
        vr_id128 id;
        size_t n = 0;

        if (partuuid && vr_id128_from_string(partuuid, &id) < 0)
                return 0;
        for (size_t i = 0; i < parts->n; i++) {
                const struct vr_partition *p = &parts->items[i];
                bool match = partuuid ? vr_id128_equal(p->uuid, id)
                           : partlabel ? streq_ptr(p->label, partlabel)
                           : p->node_offset == 0 && (streq(p->node, path) || (real && streq(p->node, real)));
                if (!match)
                        continue;
                if (n < max)
                        found[n] = &parts->items[i];
                n++;
        }
        return n;
}

/* The only partition of this role on disk, or NULL (none, or several). */
static const struct vr_partition *find_role_on_disk(const struct vr_partition_list *parts, const char *arch,
                                                    enum vr_part_role role, const char *disk) {
        const struct vr_partition *found = NULL;
        for (size_t i = 0; i < parts->n; i++) {
                if (!has_role(&parts->items[i], arch, role) || !streq(parts->items[i].disk, disk))
                        continue;
                if (found)
                        return NULL;
                found = &parts->items[i];
        }
        return found;
}

struct candidate {
        const struct vr_partition *data, *hash, *sig;
        bool appended;
        struct vr_roothash roothash;
        struct vr_verity_params params;
        char *signer;
        char *signature_base64;
};

static void candidate_done(struct candidate *c) {
        free(c->signer);
        free(c->signature_base64);
        *c = (struct candidate) {};
}

static int open_region(const struct vr_partition *p, struct vr_region *r, char *what, size_t len) {
        int k = vr_partition_open(p, r, what, len);
        if (k < 0)
                return k;
        return 0;
}

/* A signature found on one disk, its data PARTUUID also on another: two partitions claim
 * one identity and only the boot disk (when the loader named it) may decide between
 * them. Refused before anything is read from either. */
static int refuse_uuid_elsewhere(const struct vr_partition_list *parts, const struct vr_discover_config *cfg,
                                 const char *disk, vr_id128 uuid, struct vr_verdict *v) {
        const struct vr_partition *found[2];
        char d1[256], d2[256];
        size_t n;

        if (!disk || cfg->data_device || (cfg->boot_disk && streq(disk, cfg->boot_disk)))
                return 0;
        n = find_by_uuid(parts, uuid, NULL, found, ELEMENTSOF(found));
        if (n <= 1)
                return 0;
        return refuse(v, -ENOTUNIQ, "ambiguous: %zu partitions have PARTUUID=" VR_ID128_FORMAT_STR ": %s and %s",
                      n, VR_ID128_FORMAT_VAL(uuid), describe(found[0], d1), describe(found[1], d2));
}

/* With a root hash in hand: find data and hash partitions by the PARTUUIDs it derives,
 * check their types and disk, read the superblock and check the top of the tree. */
static int bind_partitions(const struct vr_partition_list *parts, const struct vr_discover_config *cfg,
                           const char *arch, const char *disk, struct candidate *c, struct vr_verdict *v) {
        struct vr_role_set roles = vr_target_roles(cfg->target);
        const struct vr_partition *found[4];
        unsigned char u[16];
        vr_id128 data_uuid, hash_uuid;
        char d1[256], d2[256];
        size_t n;
        int r;

        vr_roothash_data_uuid(&c->roothash, u);
        memcpy(data_uuid.bytes, u, 16);
        vr_roothash_verity_uuid(&c->roothash, u);
        memcpy(hash_uuid.bytes, u, 16);

        r = refuse_uuid_elsewhere(parts, cfg, disk, data_uuid, v);
        if (r < 0)
                return r;
        if (cfg->data_device) {
                /* Named on the (trusted) cmdline, as with systemd: no PARTUUID derivation. */
                n = find_by_device(parts, cfg->data_device, found, ELEMENTSOF(found));
                if (n == 0)
                        return refuse_incomplete(v, "%s data device %s (systemd.verity_%s_data=) not found",
                                                 vr_target_name(cfg->target), cfg->data_device, vr_target_name(cfg->target));
        } else
                n = find_by_uuid(parts, data_uuid, disk, found, ELEMENTSOF(found));
        if (n == 0)
                return refuse_incomplete(v, "no %s partition with PARTUUID=" VR_ID128_FORMAT_STR
                                         " (derived from the root hash) found%s%s",
                                         vr_target_name(cfg->target), VR_ID128_FORMAT_VAL(data_uuid),
                                         disk ? " on " : "", disk ?: "");
        if (n > 1)
                return refuse(v, -ENOTUNIQ, "ambiguous: %zu partitions have PARTUUID=" VR_ID128_FORMAT_STR ": %s and %s",
                              n, VR_ID128_FORMAT_VAL(data_uuid), describe(found[0], d1), describe(found[1], d2));
        c->data = found[0];
        if (!cfg->data_device && !has_role(c->data, arch, roles.data))
                return refuse(v, -EMEDIUMTYPE, "%s has the PARTUUID derived from the root hash but not the %s type (%s-%s)",
                              describe(c->data, d1), vr_part_role_to_string(roles.data),
                              vr_part_role_to_string(roles.data), arch);

        if (cfg->hash_device) {
                n = find_by_device(parts, cfg->hash_device, found, ELEMENTSOF(found));
                if (n == 0)
                        return refuse_incomplete(v, "%s hash device %s (systemd.verity_%s_hash=) not found",
                                                 vr_target_name(cfg->target), cfg->hash_device, vr_target_name(cfg->target));
        } else
                n = find_by_uuid(parts, hash_uuid, disk, found, ELEMENTSOF(found));
        if (n > 1)
                return refuse(v, -ENOTUNIQ, "ambiguous: %zu partitions have PARTUUID=" VR_ID128_FORMAT_STR ": %s and %s",
                              n, VR_ID128_FORMAT_VAL(hash_uuid), describe(found[0], d1), describe(found[1], d2));

        struct vr_region data_region = { .fd = -1 }, hash_region = { .fd = -1 };
        char data_what[256], hash_what[256];
        r = open_region(c->data, &data_region, data_what, sizeof(data_what));
        if (r < 0)
                return refuse(v, r, "cannot open %s: %s", describe(c->data, d1), strerror(-r));

        if (n == 0 || found[0] == c->data) {
                /* No verity partition (or the data partition named as its own hash device):
                 * the tree may be appended to the data partition. */
                r = vr_superblock_find_appended(&data_region, &c->params);
                const struct vr_partition *other = r < 0 ? find_role_on_disk(parts, arch, roles.hash, c->data->disk) : NULL;
                if (other) {
                        close(data_region.fd);
                        return refuse(v, -EBADMSG, "root hash %s does not match %s: its PARTUUID would be "
                                      VR_ID128_FORMAT_STR, vr_roothash_to_string(&c->roothash, (char[2 * VR_ROOTHASH_MAX + 1]) {}),
                                      describe(other, d1), VR_ID128_FORMAT_VAL(hash_uuid));
                }
                if (r < 0) {
                        close(data_region.fd);
                        return refuse_incomplete(v, "missing %s-verity partition with PARTUUID=" VR_ID128_FORMAT_STR
                                                 " for %s, and no hash tree appended to it",
                                                 vr_target_name(cfg->target), VR_ID128_FORMAT_VAL(hash_uuid), data_what);
                }
                c->hash = c->data;
                c->appended = true;
                hash_region = data_region;
        } else {
                c->hash = found[0];
                if (!cfg->hash_device && !has_role(c->hash, arch, roles.hash)) {
                        close(data_region.fd);
                        return refuse(v, -EMEDIUMTYPE, "%s has the PARTUUID derived from the root hash but not the %s type",
                                      describe(c->hash, d1), vr_part_role_to_string(roles.hash));
                }
                if (!cfg->hash_device && !streq(c->hash->disk, c->data->disk)) {
                        close(data_region.fd);
                        return refuse(v, -EXDEV, "%s and %s are on different disks; data, hash and signature of one %s must share a disk",
                                      describe(c->data, d1), describe(c->hash, d2), vr_target_name(cfg->target));
                }
                r = open_region(c->hash, &hash_region, hash_what, sizeof(hash_what));
                if (r < 0) {
                        close(data_region.fd);
                        return refuse(v, r, "cannot open %s: %s", describe(c->hash, d1), strerror(-r));
                }
                r = vr_superblock_read(&hash_region, 0, &c->params);
                if (r < 0) {
                        refuse(v, r, "%s", vr_log_last_error());
                        goto out;
                }
        }

        if (vr_hash_algorithm_size(c->params.algorithm) != c->roothash.len) {
                r = refuse(v, -EBADMSG, "root hash has %zu bytes but the hash tree in %s uses %s",
                           c->roothash.len, hash_region.what, c->params.algorithm);
                goto out;
        }
        uint64_t data_bytes = c->params.data_blocks * c->params.data_block_size;
        if (!c->appended && data_bytes > c->data->size) {
                r = refuse(v, -EBADMSG, "hash tree in %s covers %" PRIu64 " bytes but %s has only %" PRIu64,
                           hash_region.what, data_bytes, data_region.what, c->data->size);
                goto out;
        }

        r = vr_hashtree_check_root(&c->params, &hash_region, &c->roothash);
        if (r < 0) {
                refuse(v, r, "%s", vr_log_last_error());
                goto out;
        }
        if (cfg->deep) {
                r = vr_hashtree_verify_all(&c->params, &data_region, &hash_region, &c->roothash, cfg->progress,
                                           cfg->progress_userdata, &v->bad_block);
                if (r < 0) {
                        refuse(v, r, "%s", vr_log_last_error());
                        goto out;
                }
        }
        r = 0;
out:
        if (hash_region.fd != data_region.fd)
                close(hash_region.fd);
        close(data_region.fd);
        return r;
}

/* Reads and verifies one signature partition; on success c->roothash is what it signs. */
static int check_signature(const struct vr_partition *sig, const struct vr_discover_config *cfg, struct candidate *c,
                           struct vr_verdict *v) {
        _cleanup_(vr_signature_done) struct vr_signature s = {};
        struct vr_region region = { .fd = -1 };
        char what[256], d[256];
        int r;

        r = open_region(sig, &region, what, sizeof(what));
        if (r < 0)
                return refuse(v, r, "cannot open %s: %s", describe(sig, d), strerror(-r));
        r = vr_signature_read(&region, &s);
        close(region.fd);
        if (r < 0)
                return refuse(v, r, "%s", vr_log_last_error());

        r = vr_roothash_parse(s.root_hash, NULL, what, &c->roothash);
        if (r < 0)
                return refuse(v, r, "%s", vr_log_last_error());

        if (!cfg->trust || cfg->trust->n == 0)
                return refuse(v, -ENOKEY, "%s is signed, but no trusted certificates are installed (*.crt in %s)", what,
                              cfg->trust && cfg->trust->where ? cfg->trust->where : VR_CERT_DIRS_TEXT);
        r = vr_signature_verify(&s, cfg->trust, what, &c->signer);
        if (r < 0)
                return refuse(v, r, "%s", vr_log_last_error());

        c->sig = sig;
        c->signature_base64 = TAKE_PTR(s.pkcs7_base64);
        return 0;
}

static void fill_verdict(struct vr_verdict *v, struct candidate *c, enum vr_hash_source source) {
        v->error = 0;
        v->incomplete = false;
        v->reason[0] = 0;
        v->data = c->data;
        v->hash = c->hash;
        v->sig = c->sig;
        v->appended = c->appended;
        v->roothash = c->roothash;
        vr_roothash_to_string(&c->roothash, v->roothash_hex);
        v->source = source;
        v->params = c->params;
        free(v->signature_base64);
        v->signature_base64 = TAKE_PTR(c->signature_base64);
        if (c->signer)
                snprintf(v->signature_status, sizeof(v->signature_status), "valid, signed by %s", c->signer);
}

/* rd.verity.sig=required|optional with a cmdline hash: look for a signature over that same hash. */
static int check_cmdline_hash_signature(const struct vr_partition_list *parts, const struct vr_discover_config *cfg,
                                        const char *arch, struct candidate *c, struct vr_verdict *v) {
        struct vr_role_set roles = vr_target_roles(cfg->target);
        char hex[2 * VR_ROOTHASH_MAX + 1], d[256];
        size_t seen = 0;

        vr_roothash_to_string(&c->roothash, hex);
        for (size_t i = 0; i < parts->n; i++) {
                const struct vr_partition *p = &parts->items[i];
                if (!has_role(p, arch, roles.sig) || !streq(p->disk, c->data->disk))
                        continue;
                seen++;
                struct candidate sc = {};
                struct vr_verdict sv = {};
                int r = check_signature(p, cfg, &sc, &sv);
                if (r >= 0 && sc.roothash.len == c->roothash.len &&
                    memcmp(sc.roothash.bytes, c->roothash.bytes, c->roothash.len) == 0) {
                        c->sig = p;
                        c->signer = TAKE_PTR(sc.signer);
                        c->signature_base64 = TAKE_PTR(sc.signature_base64);
                        candidate_done(&sc);
                        return 0;
                }
                if (r >= 0)
                        snprintf(sv.reason, sizeof(sv.reason), "%s signs root hash %s, not %s", describe(p, d),
                                 vr_roothash_to_string(&sc.roothash, (char[2 * VR_ROOTHASH_MAX + 1]) {}), hex);
                snprintf(v->signature_status, sizeof(v->signature_status), "not valid: %s", sv.reason);
                candidate_done(&sc);
        }

        if (cfg->sig == VR_SIG_REQUIRED) {
                if (seen == 0)
                        return refuse(v, -ENOKEY, "signature required (rd.verity.sig=required) but no %s partition on %s",
                                      vr_part_role_to_string(roles.sig), c->data->disk);
                return refuse(v, -EKEYREJECTED, "signature required (rd.verity.sig=required): %s",
                              v->signature_status + strlen("not valid: "));
        }
        if (seen == 0)
                snprintf(v->signature_status, sizeof(v->signature_status), "none (root hash trusted from the cmdline)");
        return 0;
}

static int discover_trusted_hash(const struct vr_partition_list *parts, const struct vr_discover_config *cfg,
                                 const char *arch, struct vr_verdict *v) {
        struct candidate c = {};
        const char *disk = NULL;
        int r;

        r = vr_roothash_parse(cfg->trusted_hash, NULL, cfg->target == VR_TARGET_USR ? "usrhash=" : "roothash=",
                              &c.roothash);
        if (r < 0)
                return refuse(v, r, "%s", vr_log_last_error());

        /* Prefer the disk we booted from when the boot loader told us which one it is. */
        if (cfg->only_disk)
                disk = cfg->only_disk;
        else if (cfg->boot_disk) {
                unsigned char u[16];
                vr_id128 id;
                const struct vr_partition *f[1];
                vr_roothash_data_uuid(&c.roothash, u);
                memcpy(id.bytes, u, 16);
                if (find_by_uuid(parts, id, cfg->boot_disk, f, 1) > 0)
                        disk = cfg->boot_disk;
        }

        r = bind_partitions(parts, cfg, arch, disk, &c, v);
        if (r >= 0 && cfg->sig != VR_SIG_OFF)
                r = check_cmdline_hash_signature(parts, cfg, arch, &c, v);
        if (r >= 0) {
                char status[sizeof(v->signature_status)];
                memcpy(status, v->signature_status, sizeof(status));
                fill_verdict(v, &c, VR_HASH_SOURCE_CMDLINE);
                if (!c.signer && status[0])
                        memcpy(v->signature_status, status, sizeof(status));
                if (cfg->sig == VR_SIG_OFF)
                        snprintf(v->signature_status, sizeof(v->signature_status),
                                 "not checked (rd.verity.sig=off)");
        }
        candidate_done(&c);
        return v->error;
}

static int discover_signed(const struct vr_partition_list *parts, const struct vr_discover_config *cfg,
                           const char *arch, struct vr_verdict *v) {
        struct vr_role_set roles = vr_target_roles(cfg->target);
        struct candidate best = {};
        size_t n_valid = 0, n_sig = 0, n_ties = 0;
        struct vr_verdict first_refusal = {};
        char d1[256], d2[256];
        const struct vr_partition *tie = NULL, *elsewhere = NULL;
        const char *disk = vr_discover_search_disk(cfg);

        for (size_t i = 0; i < parts->n; i++) {
                const struct vr_partition *p = &parts->items[i];
                if (!has_role(p, arch, roles.sig))
                        continue;
                if (disk && !streq(p->disk, disk)) {
                        elsewhere = elsewhere ?: p;
                        continue;
                }
                if (p->flags & VR_GPT_FLAG_NO_AUTO) {
                        log_debug("Ignoring %s: GPT no-auto flag set", describe(p, d1));
                        continue;
                }
                n_sig++;

                struct candidate c = {};
                struct vr_verdict cv = {};
                int r = check_signature(p, cfg, &c, &cv);
                if (r >= 0)
                        r = bind_partitions(parts, cfg, arch, p->disk, &c, &cv);
                if (r >= 0 && ((c.data->flags | c.hash->flags) & VR_GPT_FLAG_NO_AUTO))
                        r = refuse(&cv, -EPERM, "%s is signed, but its partitions are marked no-auto (GPT "
                                   "attribute 63): not for automatic discovery", describe(p, d1));
                if (r < 0) {
                        /* Report the first definitive refusal; a missing piece only if nothing else. */
                        if (first_refusal.error == 0 || (first_refusal.incomplete && !cv.incomplete)) {
                                first_refusal = cv;
                                cv.signature_base64 = NULL;
                        }
                        vr_verdict_done(&cv);
                        candidate_done(&c);
                        continue;
                }
                c.sig = p;
                n_valid++;
                int cmp = best.data ? vr_version_compare(c.data->label, best.data->label) : 1;
                if (cmp > 0) {
                        candidate_done(&best);
                        best = c;
                        n_ties = 0;
                        tie = NULL;
                } else {
                        if (cmp == 0) {
                                n_ties++;
                                tie = c.data;
                        }
                        candidate_done(&c);
                }
                vr_verdict_done(&cv);
        }

        if (n_valid == 0) {
                candidate_done(&best);
                if (first_refusal.error != 0) {
                        *v = first_refusal;
                        return v->error;
                }
                if (n_sig == 0 && elsewhere)
                        return vr_refuse_other_disk(cfg, elsewhere, v);
                if (n_sig == 0) {
                        for (size_t i = 0; i < parts->n; i++)
                                if (has_role(&parts->items[i], arch, roles.hash))
                                        return refuse(v, -ENOKEY, "%s has no %s partition beside it and no %s= was given: "
                                                      "nothing says which root hash to trust",
                                                      describe(&parts->items[i], d1), vr_part_role_to_string(roles.sig),
                                                      cfg->target == VR_TARGET_USR ? "usrhash" : "roothash");
                        return refuse_incomplete(v, "no signed %s found: no %s-%s partition with a trusted signature",
                                                 vr_target_name(cfg->target), vr_part_role_to_string(roles.sig), arch);
                }
                return refuse(v, -ENOKEY, "no usable signature partition");
        }
        if (n_ties > 0) {
                refuse(v, -ENOTUNIQ, "ambiguous: %zu signed %s candidates with the same version label: %s and %s",
                       n_ties + 1, vr_target_name(cfg->target), describe(best.data, d1), describe(tie, d2));
                candidate_done(&best);
                return v->error;
        }
        fill_verdict(v, &best, VR_HASH_SOURCE_SIGNATURE);
        if (n_valid > 1)
                snprintf(v->choice, sizeof(v->choice), "chose %s: newest version label of %zu signed candidates",
                         describe(best.data, d1), n_valid);
        candidate_done(&best);
        return 0;
}

/* The partitions systemd.image_filter= keeps (and none labelled "_empty"): a view sharing
 * the strings of parts; index[i] is the position of view->items[i] in parts. */
static int filtered_view(const struct vr_partition_list *parts, const struct vr_image_filter *filter,
                         struct vr_partition_list *view, size_t **index) {
        *view = (struct vr_partition_list) {};
        *index = NULL;
        if (parts->n == 0)
                return 0;
        view->items = calloc(parts->n, sizeof(*view->items));
        *index = calloc(parts->n, sizeof(**index));
        if (!view->items || !*index) {
                free(view->items);
                free(*index);
                return -ENOMEM;
        }
        for (size_t i = 0; i < parts->n; i++)
                if (vr_image_filter_keeps(filter, &parts->items[i])) {
                        (*index)[view->n] = i;
                        view->items[view->n++] = parts->items[i];
                }
        return 0;
}

static const struct vr_partition *unview(const struct vr_partition *p, const struct vr_partition_list *view,
                                         const size_t *index, const struct vr_partition_list *parts) {
        return p ? &parts->items[index[p - view->items]] : NULL;
}

/* A signature policy the image policy implied, named as such in the refusal. */
static void name_implied_sig(const struct vr_discover_config *cfg, enum vr_sig_policy sig, struct vr_verdict *v) {
        const char *prefix = "signature required (rd.verity.sig=required)";
        if (v->error >= 0 || sig == cfg->sig || !startswith(v->reason, prefix))
                return;
        char rest[sizeof(v->reason)];
        snprintf(rest, sizeof(rest), "%s", v->reason + strlen(prefix));
        snprintf(v->reason, sizeof(v->reason), "signature required (systemd.image_policy= allows %s=signed, not "
                 "verity)%s", vr_target_name(cfg->target), rest);
}

int vr_discover(const struct vr_partition_list *parts, const struct vr_discover_config *cfg, struct vr_verdict *v) {
        const char *arch = cfg->arch ?: vr_dps_native_arch();
        struct vr_partition_list view;
        _cleanup_free_ size_t *index = NULL;
        struct vr_discover_config eff = *cfg;
        int r;

        vr_verdict_done(v);
        *v = (struct vr_verdict) {};
        r = vr_policy_before(cfg, &eff.sig, v);
        if (r < 0)
                return r;
        if (filtered_view(parts, cfg->filter, &view, &index) < 0)
                return refuse(v, -ENOMEM, "out of memory");
        /* Rejected candidates are normal here; the verdict carries the one line that matters. */
        vr_log_capture_begin();
        if (eff.trusted_hash)
                r = discover_trusted_hash(&view, &eff, arch, v);
        else if (eff.sig == VR_SIG_OFF)
                r = refuse(v, -ENOKEY, "no %s= given and rd.verity.sig=off ignores signature partitions: no root hash to trust",
                           cfg->target == VR_TARGET_USR ? "usrhash" : "roothash");
        else
                r = discover_signed(&view, &eff, arch, v);
        vr_log_capture_end();
        if (r >= 0)
                r = vr_policy_after(&view, &eff, arch, v);
        if (r >= 0 && eff.sig == VR_SIG_OFF && cfg->sig != VR_SIG_OFF)
                snprintf(v->signature_status, sizeof(v->signature_status),
                         "not used (systemd.image_policy= allows no signed %s)", vr_target_name(cfg->target));
        name_implied_sig(cfg, eff.sig, v);
        if (r < 0 && view.n < parts->n) {
                size_t len = strlen(v->reason);
                snprintf(v->reason + len, sizeof(v->reason) - len, " (%zu partition%s set aside: labelled \"_empty\" or "
                         "not matching systemd.image_filter=)", parts->n - view.n, parts->n - view.n == 1 ? "" : "s");
        }
        v->data = unview(v->data, &view, index, parts);
        v->hash = unview(v->hash, &view, index, parts);
        v->sig = unview(v->sig, &view, index, parts);
        free(view.items);
        return r;
}

void vr_verdict_done(struct vr_verdict *v) {
        free(v->signature_base64);
        v->signature_base64 = NULL;
}

int vr_discover_with_kiwi(const struct vr_partition_list *parts, const struct vr_discover_config *cfg,
                          struct vr_verdict *v) {
        const char *arch = cfg->arch ?: vr_dps_native_arch();
        struct vr_verdict kiwi = {};
        enum vr_sig_policy sig;
        bool dps_root = false;

        vr_discover(parts, cfg, v);
        /* A policy that allows no verity root allows no Kiwi root either. */
        if (v->error < 0 && vr_policy_before(cfg, &sig, &kiwi) < 0) {
                vr_verdict_done(&kiwi);
                return v->error;
        }
        if (v->error >= 0 || cfg->target != VR_TARGET_ROOT)
                return v->error;
        const char *disk = vr_discover_search_disk(cfg);
        for (size_t i = 0; i < parts->n; i++)
                dps_root = dps_root || ((!disk || streq(parts->items[i].disk, disk)) &&
                                        (has_role(&parts->items[i], arch, VR_ROLE_ROOT) ||
                                         has_role(&parts->items[i], arch, VR_ROLE_ROOT_VERITY)));
        /* A DPS root that was refused stays refused: no falling back to another root. */
        if (dps_root && !v->incomplete)
                return v->error;
        vr_discover_kiwi(parts, cfg, &kiwi);
        if (kiwi.error < 0 && kiwi.incomplete) {
                /* Neither layout is there: the refusal names both ways a root is found. */
                size_t len = strlen(v->reason);
                if (!dps_root && len < sizeof(v->reason))
                        snprintf(v->reason + len, sizeof(v->reason) - len, "; no Kiwi root either (%s)", kiwi.reason);
                vr_verdict_done(&kiwi);
                return v->error;
        }
        vr_verdict_done(v);
        *v = kiwi;
        v->kiwi = true;
        return v->error;
}
