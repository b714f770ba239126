/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the running kernel does with root hash signatures (CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG):
 * whether dm-verity can check one, whether it requires one, which keyrings it checks
 * it against; and the rd.verity.kernel_sig= policy applied to a verdict. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cmdline.h"
#include "discover.h"

#define VR_DM_VERITY_PARAMS "/sys/module/dm_verity/parameters"

struct vr_kernel_sig_support {
        bool can_check;  /* dm-verity has the require_signatures parameter */
        bool requires;   /* ... and it is set (dm_verity.require_signatures=1) */
        char release[65];
};

/* Reads params_dir (NULL: VR_DM_VERITY_PARAMS) after asking device-mapper for the verity
 * target, which loads dm-verity. Never fails: an unreadable parameter means "cannot check". */
void vr_kernel_sig_probe(const char *params_dir, struct vr_kernel_sig_support *ret);

/* The keyrings dm-verity checks a root hash signature against, as /proc/keys shows them
 * to root: ".builtin_trusted_keys: 1 key, .secondary_trusted_keys: empty, .platform (UEFI
 * db): 2 keys, .machine (MOK): empty"; a keyring this kernel lacks is "none". proc_keys NULL:
 * /proc/keys. Always writes a NUL-terminated string. */
void vr_kernel_keyrings_describe(const char *proc_keys, char *buf, size_t size);

/* rd.verity.kernel_sig= (c->kernel_sig), systemd.allow_userspace_verity=0 and the kernel's
 * own dm_verity.require_signatures= applied to verdict v of target ("root", "usr"):
 *  - required (or userspace verity off), but the kernel cannot check: refused;
 *  - required (or the kernel requires signatures), but v has no PKCS#7 to hand over (a
 *    roothash= root, a Kiwi signature): refused;
 *  - on, but the kernel cannot check: *ret_hand = false, with one line saying so;
 *  - the kernel requires signatures and v has one: *ret_hand = true even when off.
 * Refusals are logged in one line naming the target, the partition and the reason;
 * returns -EKEYREJECTED or -EOPNOTSUPP then. */
int vr_kernel_sig_decide(const char *target, const struct vr_verdict *v, const struct vr_cmdline *c,
                         const struct vr_kernel_sig_support *k, bool *ret_hand);

/* The command line key that sends signatures to the kernel: "rd.verity.kernel_sig=required",
 * "systemd.allow_userspace_verity=0" or "rd.verity.kernel_sig=1", for messages. */
const char *vr_kernel_sig_policy_key(const struct vr_cmdline *c);
