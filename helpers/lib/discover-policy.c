/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What systemd.image_policy= allows for the root or /usr, with systemd-dissect's meaning:
 * "signed" is a verity partition whose root hash a trusted PKCS#7 signature covers,
 * "verity" one whose root hash comes from elsewhere (roothash=), signature not used. */
#include "discover.h"
#include "util.h"

struct designators {
        enum vr_designator data, hash, sig;
};

static struct designators designators_for(enum vr_target t) {
        struct vr_role_set r = vr_target_roles(t);
        return (struct designators) { vr_designator_from_role(r.data), vr_designator_from_role(r.hash),
                                      vr_designator_from_role(r.sig) };
}

/* "root=verity+unused" for messages: the effective rule of d. */
static const char *rule(const struct vr_image_policy *p, enum vr_designator d, char *buf, size_t len) {
        char f[128];
        snprintf(buf, len, "%s=%s", vr_designator_to_string(d),
                 vr_image_policy_flags_to_string(vr_image_policy_get(p, d) & VR_POLICY_USE_MASK, f, sizeof(f)));
        return buf;
}

int vr_policy_before(const struct vr_discover_config *cfg, enum vr_sig_policy *sig, struct vr_verdict *v) {
        struct designators d = designators_for(cfg->target);
        const char *what = vr_target_name(cfg->target);
        const char *hash_key = cfg->target == VR_TARGET_USR ? "usrhash" : "roothash";
        char r1[160], r2[160];

        *sig = cfg->sig;
        if (!cfg->policy)
                return 0;
        uint32_t data = vr_image_policy_get(cfg->policy, d.data);
        uint32_t sigp = vr_image_policy_get(cfg->policy, d.sig);
        bool verity = data & VR_POLICY_VERITY;
        bool signed_ok = (data & VR_POLICY_SIGNED) && (sigp & VR_POLICY_UNPROTECTED);

        if (!verity && !signed_ok)
                return vr_verdict_refuse(v, -EPERM, "systemd.image_policy= gives %s: it allows no dm-verity protected %s",
                                         rule(cfg->policy, d.data, r1, sizeof(r1)), what);
        if (!signed_ok) {
                if (!cfg->trusted_hash)
                        return vr_verdict_refuse(v, -EPERM, "systemd.image_policy= gives %s and %s: signatures may not "
                                                 "be used, and no %s= says which root hash to trust",
                                                 rule(cfg->policy, d.data, r1, sizeof(r1)),
                                                 rule(cfg->policy, d.sig, r2, sizeof(r2)), hash_key);
                if (cfg->sig == VR_SIG_REQUIRED)
                        return vr_verdict_refuse(v, -EINVAL, "rd.verity.sig=required contradicts systemd.image_policy=, "
                                                 "which gives %s and %s: signatures may not be used",
                                                 rule(cfg->policy, d.data, r1, sizeof(r1)),
                                                 rule(cfg->policy, d.sig, r2, sizeof(r2)));
                *sig = VR_SIG_OFF;
        } else if (!verity)
                *sig = VR_SIG_REQUIRED;
        return 0;
}

static int check_gpt_flags(const struct vr_image_policy *p, const struct vr_partition *part, enum vr_designator d,
                           struct vr_verdict *v) {
        char why[160], desc[256];
        if (vr_image_policy_check_gpt_flags(vr_image_policy_get(p, d), part->flags, why, sizeof(why)) >= 0)
                return 0;
        return vr_verdict_refuse(v, -EPERM, "%s: %s (systemd.image_policy= for %s)",
                                 vr_partition_describe(part, desc, sizeof(desc)), why, vr_designator_to_string(d));
}

int vr_policy_after(const struct vr_partition_list *parts, const struct vr_discover_config *cfg, const char *arch,
                    struct vr_verdict *v) {
        struct designators d = designators_for(cfg->target);
        char r1[160], desc[256];
        int r;

        if (!cfg->policy || v->error < 0)
                return v->error;
        if (v->hash != v->data && !(vr_image_policy_get(cfg->policy, d.hash) & VR_POLICY_UNPROTECTED))
                return vr_verdict_refuse(v, -EPERM, "systemd.image_policy= gives %s: %s may not be used",
                                         rule(cfg->policy, d.hash, r1, sizeof(r1)),
                                         vr_partition_describe(v->hash, desc, sizeof(desc)));
        r = check_gpt_flags(cfg->policy, v->data, d.data, v);
        if (r >= 0 && v->hash != v->data)
                r = check_gpt_flags(cfg->policy, v->hash, d.hash, v);
        if (r >= 0 && v->sig)
                r = check_gpt_flags(cfg->policy, v->sig, d.sig, v);
        if (r < 0)
                return r;

        /* A partition of a type the policy says must be absent makes the whole disk unacceptable. */
        for (size_t i = 0; i < parts->n; i++) {
                const struct vr_partition *p = &parts->items[i];
                const char *parch;
                enum vr_part_role role;
                if (!streq(p->disk, v->data->disk) || vr_dps_lookup(p->type, &parch, &role) < 0 || !streq(parch, arch))
                        continue;
                enum vr_designator pd = vr_designator_from_role(role);
                if ((vr_image_policy_get(cfg->policy, pd) & VR_POLICY_USE_MASK) == VR_POLICY_ABSENT)
                        return vr_verdict_refuse(v, -EPERM, "systemd.image_policy= gives %s, but the disk holds %s",
                                                 rule(cfg->policy, pd, r1, sizeof(r1)),
                                                 vr_partition_describe(p, desc, sizeof(desc)));
        }
        return 0;
}

int vr_policy_auto_usr(const struct vr_image_policy *policy, const struct vr_partition *usr, const char *disk,
                       bool *use, struct vr_verdict *v) {
        char r1[160], desc[256];

        *use = usr;
        if (!policy)
                return 0;
        uint32_t f = vr_image_policy_get(policy, VR_DESIGNATOR_USR);
        rule(policy, VR_DESIGNATOR_USR, r1, sizeof(r1));
        if (!usr && !(f & VR_POLICY_ABSENT))
                return vr_verdict_refuse(v, -ENOENT, "systemd.image_policy= gives %s, but the root's disk %s holds no "
                                         "usr partition", r1, disk);
        if (usr && !(f & VR_POLICY_SIGNED)) {
                vr_partition_describe(usr, desc, sizeof(desc));
                if (!(f & VR_POLICY_UNUSED))
                        return vr_verdict_refuse(v, -EPERM, "systemd.image_policy= gives %s, but without usrhash= %s "
                                                 "can only be used signed", r1, desc);
                snprintf(v->reason, sizeof(v->reason), "systemd.image_policy= gives %s: not using %s", r1, desc);
                *use = false;
        }
        return 0;
}
