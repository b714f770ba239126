/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel command line: the keys systemd's veritysetup generator knows, plus rd.verity.*. */
#pragma once

#include <stdbool.h>

enum vr_sig_policy {
        VR_SIG_OPTIONAL, /* default: verify a signature when one is found; roothash= alone is enough */
        VR_SIG_REQUIRED, /* a valid signature from a trusted certificate is always needed */
        VR_SIG_OFF,      /* signature partitions are ignored: only roothash= can supply a hash */
};

enum vr_corruption {
        VR_CORRUPTION_EIO, /* default: reads of corrupted blocks fail */
        VR_CORRUPTION_RESTART,
        VR_CORRUPTION_PANIC,
};

enum vr_root_mode {
        VR_ROOT_UNSET,   /* no root= at all: the generic UKI case */
        VR_ROOT_AUTO,    /* root=gpt-auto or root=dissect */
        VR_ROOT_MAPPER,  /* root=/dev/mapper/root */
        VR_ROOT_OTHER,   /* anything else: not ours unless roothash= asks for verity */
};

#define VR_DEFAULT_TIMEOUT_SEC 30u

enum vr_measure_policy {
        VR_MEASURE_AUTO,     /* default: measure when a TPM answers, one line when none does */
        VR_MEASURE_REQUIRED, /* no TPM or a failed measurement refuses the boot */
        VR_MEASURE_OFF,      /* rd.verity.measure=no */
};
/* "System identity and root file system" in the UAPI TPM PCR registry. */
#define VR_MEASURE_DEFAULT_PCR 15u
#define VR_MEASURE_PCR_MAX 23u

/* rd.verity.kernel_sig=: 1 hands a root hash signature to the kernel too where it can
 * check one; required also refuses a root the kernel cannot check (see kernel-sig.h). */
enum vr_kernel_sig {
        VR_KERNEL_SIG_OFF,
        VR_KERNEL_SIG_ON,
        VR_KERNEL_SIG_REQUIRED,
};

struct vr_cmdline {
        enum vr_root_mode root_mode;
        char *root;              /* root= as given, or NULL */
        char *rootfstype;        /* rootfstype=, or NULL */
        char *mount_usr;         /* mount.usr= (systemd-fstab-generator's), or NULL */
        int verity;              /* systemd.verity= / rd.systemd.verity=: -1 unset, 0 off, 1 on */
        char *roothash;          /* roothash= (hex, as given) */
        char *root_data;         /* systemd.verity_root_data= (device path) */
        char *root_hash_device;  /* systemd.verity_root_hash= (device path, systemd's meaning) */
        char *root_options;      /* systemd.verity_root_options= */
        char *usrhash;           /* usrhash= */
        char *usr_data;          /* systemd.verity_usr_data= */
        char *usr_hash_device;   /* systemd.verity_usr_hash= */
        char *usr_options;       /* systemd.verity_usr_options= */
        enum vr_sig_policy sig;  /* rd.verity.sig= */
        unsigned timeout_sec;    /* rd.verity.timeout= */
        enum vr_corruption corruption; /* rd.verity.corruption= */
        bool error_as_corruption; /* rd.verity.corruption=restart+error|panic+error: I/O errors too */
        bool check_full;         /* rd.verity.check=full */
        enum vr_kernel_sig kernel_sig; /* rd.verity.kernel_sig=: also hand the PKCS#7 to the kernel */
        bool userspace_verity;   /* systemd.allow_userspace_verity= (default true); see vr_cmdline_kernel_sig() */
        bool dm_verity_require_signatures; /* dm_verity.require_signatures= given and not false */
        enum vr_measure_policy measure; /* rd.verity.measure= */
        unsigned measure_pcr;    /* rd.verity.measure=PCR (default VR_MEASURE_DEFAULT_PCR) */
        char *min_version;       /* rd.verity.min_version=: oldest IMAGE_VERSION that may boot, or NULL */
        char *init;              /* init=: what the new root executes first, or NULL */
        char *image_policy;      /* systemd.image_policy= as given (checked by vr_image_policy_parse), or NULL */
        char *image_filter;      /* systemd.image_filter= as given (checked by vr_image_filter_parse), or NULL */
};

void vr_cmdline_init(struct vr_cmdline *c);
void vr_cmdline_done(struct vr_cmdline *c);

/* Parses a whole command line (shell-like quoting: "a b" and 'a b' keep spaces;
 * key="value with spaces" too). Later keys override earlier ones; rd.-prefixed
 * systemd keys override the plain ones. Unknown rd.verity.* keys, malformed
 * roothash=/usrhash= and invalid or missing values of the other keys this module
 * reads are an error naming the key and the value (-EINVAL): the caller must then
 * refuse to boot rather than act as if the key were absent. */
int vr_cmdline_parse(const char *line, struct vr_cmdline *c);

/* Reads path (NULL: /proc/cmdline; tests pass a file of their own). */
int vr_cmdline_read(const char *path, struct vr_cmdline *c);

/* True when this module should own the root verity device: root= unset, auto,
 * /dev/mapper/root, or roothash= given — unless systemd.verity=0. */
bool vr_cmdline_wants_root(const struct vr_cmdline *c);
bool vr_cmdline_wants_usr(const struct vr_cmdline *c);
/* No root or /usr arguments at all (the generic UKI): the root is discovered, and a
 * signed /usr on the root's disk, if there is one, is set up with it. */
bool vr_cmdline_auto_usr(const struct vr_cmdline *c);

/* Whether a root hash signature is meant for the kernel too: rd.verity.kernel_sig=1 or
 * required, or systemd.allow_userspace_verity=0 (only the kernel may accept a signature,
 * as in systemd). vr_kernel_sig_decide() says whether this kernel gets it. */
bool vr_cmdline_kernel_sig(const struct vr_cmdline *c);

const char *vr_sig_policy_to_string(enum vr_sig_policy p);
/* rd.verity.measure=: a PCR number (1..23), "required" (PCR 15, required), or a boolean
 * false ("no", "0", ...): off. -EINVAL otherwise. */
int vr_measure_policy_parse(const char *value, enum vr_measure_policy *ret_policy, unsigned *ret_pcr);
const char *vr_measure_policy_to_string(enum vr_measure_policy p);
const char *vr_corruption_to_string(enum vr_corruption c);
