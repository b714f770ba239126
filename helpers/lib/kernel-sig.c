/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "dmtable.h"
#include "kernel-sig.h"
#include "util.h"

void vr_kernel_sig_probe(const char *params_dir, struct vr_kernel_sig_support *ret) {
        char path[256], value[8] = "";
        unsigned version[3];
        struct utsname u = {};

        *ret = (struct vr_kernel_sig_support) {};
        (void) uname(&u);
        snprintf(ret->release, sizeof(ret->release), "%s", u.release);
        /* Asking for the target's version makes device-mapper load dm-verity, whose
         * parameters only then appear. */
        if (!params_dir) {
                (void) vr_dm_target_version("verity", version);
                params_dir = VR_DM_VERITY_PARAMS;
        }
        /* The parameter exists only in kernels built with CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG. */
        snprintf(path, sizeof(path), "%s/require_signatures", params_dir);
        FILE *f = fopen(path, "re");
        if (!f)
                return;
        ret->can_check = true;
        if (fgets(value, sizeof(value), f))
                ret->requires = value[0] == 'Y' || value[0] == 'y' || value[0] == '1';
        fclose(f);
}

/* The keyrings of verify_pkcs7_signature() that dm-verity may use: the secondary one
 * (which links the built-in and machine ones) with ..._SECONDARY_KEYRING, then the
 * platform one with ..._PLATFORM_KEYRING; the built-in one alone otherwise. */
static const struct {
        const char *name, *what;
} keyrings[] = {
        { ".builtin_trusted_keys", "" },
        { ".secondary_trusted_keys", "" },
        { ".machine", " (MOK)" },
        { ".platform", " (UEFI db)" },
};

/* A /proc/keys line of a keyring: "ID FLAGS USAGE EXPIRY PERM UID GID keyring NAME: N|empty". */
static int parse_keyring_line(const char *line, char *name, size_t name_size, long *ret_keys) {
        char type[16];
        int n = 0;

        if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %15s %n", type, &n) < 1 || n == 0 || !streq(type, "keyring"))
                return -EINVAL;
        const char *desc = line + n, *colon = strrchr(desc, ':');
        if (!colon || (size_t) (colon - desc) >= name_size)
                return -EINVAL;
        memcpy(name, desc, colon - desc);
        name[colon - desc] = 0;
        const char *count = colon + 1 + strspn(colon + 1, " ");
        if (startswith(count, "empty"))
                *ret_keys = 0;
        else if (sscanf(count, "%ld", ret_keys) != 1)
                *ret_keys = -1;
        return 0;
}

void vr_kernel_keyrings_describe(const char *proc_keys, char *buf, size_t size) {
        long keys[ELEMENTSOF(keyrings)];
        bool found[ELEMENTSOF(keyrings)] = {};
        char line[512], name[128];
        size_t used = 0;

        FILE *f = fopen(proc_keys ?: "/proc/keys", "re");
        while (f && fgets(line, sizeof(line), f)) {
                long n;
                if (parse_keyring_line(line, name, sizeof(name), &n) < 0)
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(keyrings); i++)
                        if (streq(name, keyrings[i].name)) {
                                found[i] = true;
                                keys[i] = n;
                        }
        }
        if (f)
                fclose(f);

        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(keyrings) && used < size; i++) {
                char count[32];
                if (!found[i])
                        snprintf(count, sizeof(count), "none");
                else if (keys[i] < 0)
                        snprintf(count, sizeof(count), "?");
                else if (keys[i] == 0)
                        snprintf(count, sizeof(count), "empty");
                else
                        snprintf(count, sizeof(count), "%ld key%s", keys[i], keys[i] == 1 ? "" : "s");
                int w = snprintf(buf + used, size - used, "%s%s%s: %s", i ? ", " : "", keyrings[i].name,
                                 keyrings[i].what, count);
                if (w < 0)
                        break;
                used += (size_t) w;
        }
}

const char *vr_kernel_sig_policy_key(const struct vr_cmdline *c) {
        if (c->kernel_sig == VR_KERNEL_SIG_REQUIRED)
                return "rd.verity.kernel_sig=required";
        if (!c->userspace_verity)
                return "systemd.allow_userspace_verity=0";
        return "rd.verity.kernel_sig=1";
}

int vr_kernel_sig_decide(const char *target, const struct vr_verdict *v, const struct vr_cmdline *c,
                         const struct vr_kernel_sig_support *k, bool *ret_hand) {
        bool required = c->kernel_sig == VR_KERNEL_SIG_REQUIRED;
        bool wanted = vr_cmdline_kernel_sig(c);
        char what[256];

        *ret_hand = false;
        vr_partition_describe(v->data, what, sizeof(what));

        /* Without a PKCS#7 there is nothing for the kernel to check. */
        if (!v->signature_base64) {
                const char *why = v->source == VR_HASH_SOURCE_SIGNATURE ?
                        "its signature is not a PKCS#7 one the kernel can check" :
                        "its root hash came from the kernel command line, with no signature for the kernel to check";
                if (required)
                        return log_error_errno(EKEYREJECTED, "refusing to boot the %s file system on %s: "
                                               "rd.verity.kernel_sig=required, but %s", target, what, why);
                if (!c->userspace_verity && v->source == VR_HASH_SOURCE_SIGNATURE)
                        return log_error_errno(EKEYREJECTED, "refusing to boot the %s file system: "
                                               "systemd.allow_userspace_verity=0 lets only the kernel accept a root "
                                               "hash signature, and the signature of %s is not a PKCS#7 one the "
                                               "kernel can check", target, what);
                if (k->requires)
                        return log_error_errno(EKEYREJECTED, "refusing to boot the %s file system on %s: kernel %s "
                                               "opens only signed dm-verity devices (dm_verity.require_signatures=1), "
                                               "but %s", target, what, k->release, why);
                return 0;
        }

        if (!k->can_check) {
                if (required || !c->userspace_verity)
                        return log_error_errno(EOPNOTSUPP, "refusing to boot the %s file system on %s: %s, but "
                                               "kernel %s cannot check root hash signatures (built without "
                                               "CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG)", target, what,
                                               vr_kernel_sig_policy_key(c), k->release);
                if (wanted)
                        log_warning("rd.verity.kernel_sig=1: kernel %s cannot check root hash signatures (built "
                                    "without CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG); the signature of the %s file "
                                    "system was checked by the initrd only", k->release, target);
                return 0;
        }
        *ret_hand = wanted || k->requires;
        return 0;
}
