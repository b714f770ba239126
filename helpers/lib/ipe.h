/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Integrity Policy Enforcement (CONFIG_SECURITY_IPE): the policy that lets the kernel
 * execute only what comes from the verified root, and loading a signed one at boot. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Where module-setup.sh installs dracut.conf's verityroot_ipe_policy= in the initrd. */
#define VR_IPE_POLICY_FILE "/etc/verity-root/ipe-policy.p7s"
#define VR_SECURITYFS "/sys/kernel/security"
#define VR_IPE_DIR VR_SECURITYFS "/ipe"

#define VR_IPE_DEFAULT_NAME "verity-root"
#define VR_IPE_DEFAULT_VERSION "1.0.0"
#define VR_IPE_HASHES_MAX 2u

struct vr_ipe_verity_hash {
        const char *what;       /* "root", "usr": for the comment above its rule */
        const char *algorithm;  /* the dm-verity hash algorithm, "sha256" */
        const char *hex;        /* the root hash */
};

struct vr_ipe_policy_spec {
        const char *name;       /* policy_name= */
        const char *version;    /* policy_version=, "MAJOR.MINOR.REVISION" */
        struct vr_ipe_verity_hash hashes[VR_IPE_HASHES_MAX];
        size_t n_hashes;
        bool kernel_sig;        /* also any dm-verity volume whose signature the kernel checked */
};

/* A name the kernel takes as policy_name= and as a securityfs directory: 1-64 of
 * [A-Za-z0-9._-], not "." or "..". */
bool vr_ipe_name_valid(const char *name);
/* Three decimal numbers 0-65535 joined by dots, as the kernel's parse_version() wants. */
bool vr_ipe_version_valid(const char *version);

/* The policy text: executes only the initramfs and the dm-verity volumes of spec; every
 * other operation is allowed. -EINVAL (logged) for a name, version or hash that is not valid. */
int vr_ipe_policy_text(const struct vr_ipe_policy_spec *spec, char **ret);

/* policy_name= of the header line of policy text (comments and blank lines skipped, as
 * the kernel does); -EBADMSG (logged, naming what) when the header has none. */
int vr_ipe_policy_name(const char *text, size_t len, const char *what, char **ret);

/* The signed content of a DER PKCS#7 (the signature is not checked: the kernel does);
 * -EBADMSG when it is none or detached. NUL-terminated, length in *ret_len. */
int vr_ipe_signed_content(const void *der, size_t len, const char *what, char **ret, size_t *ret_len);

/* Loads the signed policy at path into the kernel and makes it the active policy, then
 * proves that it lets the kernel execute init (init= or /sbin/init) of the root mounted
 * on sysroot. Every failure is logged once, naming the cause. */
int vr_ipe_load(const char *path, const char *sysroot, const char *init);
