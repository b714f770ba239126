/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which partitions make up the root (or /usr) to boot, and why: the binding rules. */
#pragma once

#include <stdbool.h>
#include "cmdline.h"
#include "hashtree.h"
#include "image-filter.h"
#include "image-policy.h"
#include "partition.h"
#include "roothash.h"
#include "signature.h"
#include "superblock.h"

enum vr_target { VR_TARGET_ROOT, VR_TARGET_USR };

/* The DPS roles of a target's data, verity and signature partitions. */
struct vr_role_set {
        enum vr_part_role data, hash, sig;
};
struct vr_role_set vr_target_roles(enum vr_target t);
/* "root" or "usr". */
const char *vr_target_name(enum vr_target t);

enum vr_hash_source {
        VR_HASH_SOURCE_NONE,
        VR_HASH_SOURCE_CMDLINE,   /* roothash=/usrhash=: trusted because the cmdline is */
        VR_HASH_SOURCE_SIGNATURE, /* rootHash of a signature partition verified by a trusted cert */
};

struct vr_discover_config {
        enum vr_target target;
        const char *arch;            /* DPS arch name; NULL: the running one */
        const char *trusted_hash;    /* roothash= / usrhash= as given, or NULL */
        enum vr_sig_policy sig;
        const struct vr_trust_store *trust;
        const char *boot_disk;       /* disk holding LoaderDevicePartUUID, or NULL */
        const char *boot_partuuid;   /* LoaderDevicePartUUID as text, for messages, or NULL */
        const char *only_disk;       /* the verified root's disk for an auto /usr: nothing else counts */
        const char *data_device;     /* systemd.verity_root_data=: explicit data device, or NULL */
        const char *hash_device;     /* systemd.verity_root_hash=: explicit hash device, or NULL */
        bool deep;                   /* also verify every data block (inspect default) */
        const struct vr_image_policy *policy; /* systemd.image_policy=, or NULL: no constraint */
        const struct vr_image_filter *filter; /* systemd.image_filter=, or NULL */
        vr_progress_fn progress;
        void *progress_userdata;
};

struct vr_verdict {
        int error;                   /* 0: would boot; <0: refused (-errno) */
        bool incomplete;             /* refused only because something is missing (may still appear) */
        bool when_settled;           /* refused, final once udev has processed every block device */
        char reason[768];            /* one line naming the cause and the partition at fault */
        const struct vr_partition *data, *hash, *sig; /* into the list; hash == data when appended */
        bool appended;
        bool kiwi;                   /* the verdict is about a Kiwi root (vr_discover_with_kiwi) */
        struct vr_roothash roothash;
        char roothash_hex[2 * VR_ROOTHASH_MAX + 1];
        enum vr_hash_source source;
        char signature_status[512];  /* "valid, signed by CN=x (/etc/verity.d/x.crt)", "none", ... */
        char *signature_base64;      /* the PKCS#7 for root-hash-signature=, when verified */
        char choice[512];            /* why this candidate among several (A/B), or empty */
        struct vr_verity_params params;
        uint64_t bad_block;          /* with deep checks: first corrupted data block */
};

/* Applies the binding rules to the partition list and fills v. Always returns v->error. */
int vr_discover(const struct vr_partition_list *parts, const struct vr_discover_config *cfg, struct vr_verdict *v);
void vr_verdict_done(struct vr_verdict *v);

/* The first partition on disk of one of the target's DPS types for arch (data, verity
 * or signature) that filter keeps (vr_image_filter_keeps; filter may be NULL), or NULL. */
const struct vr_partition *vr_disk_find_target(const struct vr_partition_list *parts, const char *disk,
                                               const char *arch, enum vr_target target,
                                               const struct vr_image_filter *filter);

/* systemd.image_policy= (cfg->policy) for the target, before discovery: refuses (-EPERM,
 * -EINVAL) when the policy allows no verity-protected use, or no way to learn a root hash
 * (signed not allowed and no roothash=); else sets *sig to the signature policy it implies
 * (off when signatures may not be used, required when only signed is allowed). */
int vr_policy_before(const struct vr_discover_config *cfg, enum vr_sig_policy *sig, struct vr_verdict *v);
/* After a verdict: the GPT flags of the partitions used, the verity partition's own rule,
 * and no partition of ours on the chosen disk that the policy says must be absent. */
int vr_policy_after(const struct vr_partition_list *parts, const struct vr_discover_config *cfg, const char *arch,
                    struct vr_verdict *v);
/* A /usr found beside a discovered root (no usrhash=): whether policy lets it be used
 * (*use; v->reason says why not), or refuses when it is missing but required, or present
 * but allowed only unsigned (signed is the only way without usrhash=). */
int vr_policy_auto_usr(const struct vr_image_policy *policy, const struct vr_partition *usr, const char *disk,
                       bool *use, struct vr_verdict *v);

const char *vr_hash_source_to_string(enum vr_hash_source s);

/* The version the chosen data partition's label carries when that label took part in
 * the choice (a DPS root found by signature), else NULL. Not validated. */
const char *vr_verdict_label_version(const struct vr_verdict *v);
/* The only disk whose partitions may supply the target, or NULL for every disk:
 * cfg->only_disk; else without a trusted hash (signed roots) the boot disk, as a
 * signature cannot say which disk it belongs to. With roothash=/usrhash= the hash pins
 * the data, so the boot disk is only preferred (bind_partitions). */
const char *vr_discover_search_disk(const struct vr_discover_config *cfg);

/* Refuses (v->when_settled) because the target's search disk holds nothing usable while
 * other disks hold candidate, which is not considered; returns v->error. */
int vr_refuse_other_disk(const struct vr_discover_config *cfg, const struct vr_partition *candidate,
                         struct vr_verdict *v);

/* Sets v->reason from fmt and v->error to -|error|; returns v->error. */
int vr_verdict_refuse(struct vr_verdict *v, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* vr_discover(), and for the root, when no DPS root is there at all (or only pieces of
 * one that may still appear), a root carrying Kiwi verity metadata instead. */
int vr_discover_with_kiwi(const struct vr_partition_list *parts, const struct vr_discover_config *cfg,
                          struct vr_verdict *v);

/* Kiwi images (embed_verity_metadata): the root partition of any type whose last 4 KiB
 * hold valid Kiwi verity metadata, its hash tree appended inside it. Trust: a Kiwi
 * signature verified by cfg->trust (source signature), or cfg->trusted_hash equal to its
 * root hash (source cmdline); unsigned metadata alone is refused. Two Kiwi roots are
 * ambiguous. Fills v like vr_discover (data == hash, appended); v->incomplete when no
 * partition carries Kiwi metadata at all. Always returns v->error. */
int vr_discover_kiwi(const struct vr_partition_list *parts, const struct vr_discover_config *cfg, struct vr_verdict *v);
