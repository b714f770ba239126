/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPE: the policy text `verity-root ipe-policy` prints, and loading a signed policy from
 * the initrd (securityfs new_policy, then policies/NAME/active), failing closed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/cms.h>

#include "ipe.h"
#include "util.h"

/* A policy file much larger than this is no policy of ours. */
#define IPE_POLICY_SIZE_MAX (1024 * 1024)

bool vr_ipe_name_valid(const char *name) {
        size_t n = name ? strlen(name) : 0;

        if (n == 0 || n > 64 || streq(name, ".") || streq(name, ".."))
                return false;
        return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

bool vr_ipe_version_valid(const char *version) {
        const char *p = version;

        if (!p)
                return false;
        for (int i = 0; i < 3; i++) {
                size_t digits = strspn(p, "0123456789");
                if (digits == 0 || digits > 5 || strtoul(p, NULL, 10) > 65535)
                        return false;
                p += digits;
                if (*p != (i < 2 ? '.' : '\0'))
                        return false;
                p++;
        }
        return true;
}

static bool hash_valid(const struct vr_ipe_verity_hash *h) {
        size_t n = h->hex ? strlen(h->hex) : 0;
        return h->algorithm && h->algorithm[0] && !strpbrk(h->algorithm, " \t\r\n#:") &&
               n > 0 && n % 2 == 0 && strspn(h->hex, "0123456789abcdef") == n;
}

int vr_ipe_policy_text(const struct vr_ipe_policy_spec *spec, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (!vr_ipe_name_valid(spec->name))
                return log_error_errno(EINVAL, "IPE policy name \"%s\" is not 1-64 of [A-Za-z0-9._-]", spec->name ?: "");
        if (!vr_ipe_version_valid(spec->version))
                return log_error_errno(EINVAL, "IPE policy version \"%s\" is not MAJOR.MINOR.REVISION (each 0-65535)",
                                       spec->version ?: "");
        for (size_t i = 0; i < spec->n_hashes; i++)
                if (!hash_valid(&spec->hashes[i]))
                        return log_error_errno(EINVAL, "the %s root hash \"%s:%s\" is not ALGORITHM:HEX", spec->hashes[i].what,
                                               spec->hashes[i].algorithm ?: "", spec->hashes[i].hex ?: "");
        if (spec->n_hashes == 0 && !spec->kernel_sig)
                return log_error_errno(EINVAL, "an IPE policy that executes nothing from a verified volume would stop the boot");

        f = open_memstream(&buf, &size);
        if (!f)
                return log_error_errno(ENOMEM, "out of memory");
        fprintf(f, "policy_name=%s policy_version=%s\n", spec->name, spec->version);
        fprintf(f, "# Written by verity-root ipe-policy: execute only from the verified volumes below.\n"
                   "DEFAULT action=ALLOW\n"
                   "DEFAULT op=EXECUTE action=DENY\n"
                   "# The initramfs (switch-root empties it).\n"
                   "op=EXECUTE boot_verified=TRUE action=ALLOW\n");
        for (size_t i = 0; i < spec->n_hashes; i++)
                fprintf(f, "# The verified %s.\n"
                           "op=EXECUTE dmverity_roothash=%s:%s action=ALLOW\n",
                        spec->hashes[i].what, spec->hashes[i].algorithm, spec->hashes[i].hex);
        if (spec->kernel_sig)
                fprintf(f, "# Any dm-verity volume whose root hash signature the kernel checked.\n"
                           "op=EXECUTE dmverity_signature=TRUE action=ALLOW\n");
        if (fclose(f) != 0)
                return log_error_errno(ENOMEM, "out of memory");
        *ret = TAKE_PTR(buf);
        return 0;
}

int vr_ipe_policy_name(const char *text, size_t len, const char *what, char **ret) {
        _cleanup_free_ char *copy = strndup(text, len);
        char *rest, *line;

        if (!copy)
                return log_error_errno(ENOMEM, "out of memory");
        rest = copy;
        while ((line = strsep(&rest, "\n\r"))) {
                char *end, *name;
                size_t n;

                line[strcspn(line, "#")] = '\0';
                line += strspn(line, " \t");
                if (!*line)
                        continue;
                /* The first line that is left is the header; policy_name= comes first. */
                name = (char *) startswith(line, "policy_name=");
                if (!name)
                        break;
                n = strcspn(name, " \t");
                end = name + n;
                *end = '\0';
                if (!vr_ipe_name_valid(name))
                        return log_error_errno(EBADMSG, "%s: IPE policy name \"%s\" is not 1-64 of [A-Za-z0-9._-]", what, name);
                *ret = strdup(name);
                return *ret ? 0 : log_error_errno(ENOMEM, "out of memory");
        }
        return log_error_errno(EBADMSG, "%s: the signed content is no IPE policy (its first line has no policy_name=)", what);
}

int vr_ipe_signed_content(const void *der, size_t len, const char *what, char **ret, size_t *ret_len) {
        const unsigned char *p = der;
        CMS_ContentInfo *cms;
        ASN1_OCTET_STRING **content;
        char *text;
        int r = 0;

        if (len > LONG_MAX)
                return log_error_errno(EBADMSG, "%s: too large", what);
        cms = d2i_CMS_ContentInfo(NULL, &p, (long) len);
        if (!cms || p != (const unsigned char *) der + len)
                r = log_error_errno(EBADMSG, "%s is not one DER PKCS#7 signed message (openssl smime -sign -outform der)", what);
        else if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
                r = log_error_errno(EBADMSG, "%s is a PKCS#7 message but not a signed one", what);
        else if (!(content = CMS_get0_content(cms)) || !*content)
                r = log_error_errno(EBADMSG, "%s holds a detached signature; the kernel needs the policy inside it (sign with -nodetach)", what);
        else if (!(text = malloc((size_t) ASN1_STRING_length(*content) + 1)))
                r = log_error_errno(ENOMEM, "out of memory");
        else {
                memcpy(text, ASN1_STRING_get0_data(*content), (size_t) ASN1_STRING_length(*content));
                text[ASN1_STRING_length(*content)] = '\0';
                *ret = text;
                *ret_len = (size_t) ASN1_STRING_length(*content);
        }
        CMS_ContentInfo_free(cms);
        return r;
}

static int read_policy_file(const char *path, unsigned char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ unsigned char *buf = NULL;
        struct stat st;

        if (fd < 0)
                return log_error_errno(errno, "cannot open the IPE policy %s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "cannot stat the IPE policy %s: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > IPE_POLICY_SIZE_MAX)
                return log_error_errno(EBADMSG, "the IPE policy %s is not a regular file of 1 byte to 1 MiB", path);
        buf = malloc((size_t) st.st_size);
        if (!buf)
                return log_error_errno(ENOMEM, "out of memory");
        if (vr_pread_full(fd, buf, (size_t) st.st_size, 0) < 0)
                return log_error_errno(EIO, "cannot read the IPE policy %s", path);
        *ret = TAKE_PTR(buf);
        *ret_len = (size_t) st.st_size;
        return 0;
}

/* securityfs, mounted if nobody did (dracut's shell initrd does not). */
static int ipe_available(void) {
        if (access(VR_IPE_DIR, F_OK) == 0)
                return 0;
        if (mount("securityfs", VR_SECURITYFS, "securityfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 && errno != EBUSY)
                return log_error_errno(errno, "cannot mount securityfs on " VR_SECURITYFS " to load the IPE policy: %s",
                                       strerror(errno));
        if (access(VR_IPE_DIR, F_OK) < 0)
                return log_error_errno(EOPNOTSUPP, "an IPE policy is configured, but the kernel has no IPE (" VR_IPE_DIR
                                       " missing: CONFIG_SECURITY_IPE, and \"ipe\" in lsm=)");
        return 0;
}

static int write_policy(const char *path, const char *name, const unsigned char *der, size_t len) {
        _cleanup_close_ int fd = open(VR_IPE_DIR "/new_policy", O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return log_error_errno(errno, "cannot open " VR_IPE_DIR "/new_policy: %s", strerror(errno));
        /* One write: the kernel takes each write as a whole policy. */
        n = write(fd, der, len);
        if (n == (ssize_t) len)
                return 0;
        if (n >= 0)
                return log_error_errno(EIO, "the kernel took %zd of the %zu bytes of the IPE policy %s", n, len, path);
        switch (errno) {
        case ENOKEY:
                return log_error_errno(errno, "the kernel does not trust the signer of the IPE policy %s (\"%s\"): its "
                                       "certificate is neither in UEFI db (the .platform keyring) nor in .secondary_trusted_keys",
                                       path, name);
        case EKEYREJECTED:
                return log_error_errno(errno, "the kernel rejected the signature of the IPE policy %s (\"%s\")", path, name);
        case EEXIST:
                return log_error_errno(errno, "the kernel already holds an IPE policy named \"%s\"; refusing to activate "
                                       "what %s did not load", name, path);
        case EBADMSG: case EINVAL: case ERANGE:
                return log_error_errno(errno, "the kernel rejected the IPE policy %s (\"%s\"): not a valid signed IPE policy (%s)",
                                       path, name, strerror(errno));
        default:
                return log_error_errno(errno, "the kernel refused the IPE policy %s (\"%s\"): %s", path, name, strerror(errno));
        }
}

static int activate_policy(const char *path, const char *name) {
        char active[PATH_MAX];
        _cleanup_close_ int fd = -EBADF;

        snprintf(active, sizeof(active), VR_IPE_DIR "/policies/%s/active", name);
        fd = open(active, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "cannot open %s to activate the IPE policy %s: %s", active, path, strerror(errno));
        if (write(fd, "1", 1) == 1)
                return 0;
        if (errno == EINVAL)
                return log_error_errno(errno, "the kernel would not activate the IPE policy %s (\"%s\"): its policy_version "
                                       "is older than the active policy's", path, name);
        return log_error_errno(errno, "the kernel would not activate the IPE policy %s (\"%s\"): %s", path, name, strerror(errno));
}

/* IPE checks op=EXECUTE on mmap(PROT_EXEC) as on execve(): a page of init mapped so tells
 * now, with a message, what switch-root would learn as a hung boot. */
static int probe_init(const char *sysroot, const char *init, const char *name) {
        _cleanup_close_ int rootfd = open(sysroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = -EBADF;
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
        const char *path = init ?: "/sbin/init";
        void *p;

        if (rootfd < 0)
                return log_error_errno(errno, "cannot open %s: %s", sysroot, strerror(errno));
        fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        if (fd < 0)
                return log_error_errno(errno, "cannot open %s%s to check the IPE policy against it: %s", sysroot, path,
                                       strerror(errno));
        p = mmap(NULL, 1, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
                return log_error_errno(errno, "the IPE policy \"%s\" does not let the kernel execute %s%s from the verified "
                                       "root (%s): not made for this root? (verity-root ipe-policy)", name, sysroot, path,
                                       strerror(errno));
        munmap(p, 1);
        return 0;
}

int vr_ipe_load(const char *path, const char *sysroot, const char *init) {
        _cleanup_free_ unsigned char *der = NULL;
        _cleanup_free_ char *text = NULL, *name = NULL;
        size_t der_len = 0, text_len = 0;
        int r;

        r = read_policy_file(path, &der, &der_len);
        if (r >= 0)
                r = vr_ipe_signed_content(der, der_len, path, &text, &text_len);
        if (r >= 0)
                r = vr_ipe_policy_name(text, text_len, path, &name);
        if (r >= 0)
                r = ipe_available();
        if (r >= 0)
                r = write_policy(path, name, der, der_len);
        if (r >= 0)
                r = activate_policy(path, name);
        if (r >= 0)
                r = probe_init(sysroot, init, name);
        if (r < 0)
                return r;
        log_info("IPE policy \"%s\" from %s active: the kernel executes only from the verified root", name, path);
        return 0;
}
