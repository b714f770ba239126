/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* After the verified root is mounted and before switch-root: is it a root for this
 * machine (not a /usr image, an extension or another architecture's root signed by the
 * same key), and is it the version its partition label chose it for? */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Written into the initrd by module-setup.sh from verityroot_min_version. */
#define VR_MIN_VERSION_FILE "/etc/verity-root/min-version"

struct vr_elf_id {
        unsigned char class;  /* ELFCLASS32, ELFCLASS64 */
        unsigned char data;   /* ELFDATA2LSB, ELFDATA2MSB */
        uint16_t machine;     /* EM_* */
};

/* The identification of the ELF header at the start of buf; -ENOEXEC when buf does not
 * start with a complete ELF header of a known class and byte order. */
int vr_elf_identify(const void *buf, size_t len, struct vr_elf_id *ret);

#define VR_ELF_NEEDED_MAX 64u

/* What the kernel and the dynamic loader load for an ELF file; pointers into the buffer it
 * was parsed from. */
struct vr_elf_deps {
        const char *interp;                    /* PT_INTERP, or NULL (static) */
        const char *needed[VR_ELF_NEEDED_MAX]; /* DT_NEEDED names, in order */
        size_t n_needed;
        bool needed_truncated;                 /* more DT_NEEDED than VR_ELF_NEEDED_MAX */
        const char *runpath;                   /* DT_RUNPATH, else DT_RPATH, or NULL */
};

/* The program and dynamic headers of a whole ELF file (buf, len) in this machine's byte
 * order; -ENOEXEC when it is none or a header points outside it. */
int vr_elf_deps(const void *buf, size_t len, struct vr_elf_deps *ret);

/* The interpreter of a "#!" script starting buf, into ret. Returns 1 for a script, 0
 * when buf is no script, -ENOEXEC when its first line names no interpreter that fits. */
int vr_shebang_interpreter(const char *buf, size_t len, char *ret, size_t size);

/* IMAGE_VERSION= of os-release text (last assignment wins; quotes as in a shell);
 * *ret is NULL when there is none. -EBADMSG when it is not a valid version. */
int vr_os_release_image_version(const char *buf, size_t len, char **ret);

/* Logs and returns -EKEYREJECTED when image_version (NULL: none) differs from
 * label_version or is older than min_version; NULL arguments are not checked.
 * min_source names where the minimum came from. */
int vr_image_version_check(const char *device, const char *image_version, const char *label_version,
                           const char *label_device, const char *min_version, const char *min_source);

struct vr_sysroot_expect {
        const char *device;          /* the verified device that must be mounted on where */
        dev_t devnum;                /* its number, proven by its dm-verity table */
        const char *label_version;   /* version the chosen partition's label carries, or NULL */
        const char *label_device;    /* that partition, for messages */
        const char *min_version;     /* rd.verity.min_version=, or NULL */
        const char *floor_version;   /* the initrd's own minimum, or NULL */
        const char *init;            /* init=, or NULL (/sbin/init) */
        uint32_t fstypes;            /* file systems systemd.image_policy= allows (VR_POLICY_* bits), 0: any */
};

/* The whole check of the root mounted on where from e->device; logs the refusal once. */
int vr_sysroot_check_root(const char *where, const struct vr_sysroot_expect *e);
/* The same, without the mount check, on the tree at rootfd (named where in messages). */
int vr_sysroot_check_root_tree(int rootfd, const char *where, const struct vr_sysroot_expect *e);
/* A verified /usr mounted on where (e.g. /sysroot/usr) from device (devnum); and its tree alone. */
int vr_sysroot_check_usr(const char *where, const char *device, dev_t devnum, uint32_t fstypes);
/* The file system of the tree at fd is one of fstypes (VR_POLICY_* file system bits; 0:
 * any); designator ("root", "usr") names the policy rule in the refusal. */
int vr_sysroot_check_fstype(int fd, const char *where, uint32_t fstypes, const char *designator);
int vr_sysroot_check_usr_tree(int usrfd, const char *where);

/* The first line of a small file (e.g. VR_MIN_VERSION_FILE) as a validated version;
 * *ret NULL when the file does not exist. */
int vr_read_version_file(const char *path, char **ret);
/* The value of KEY= in an environment file we wrote (VR_RUNDIR/root.env); NULL when absent. */
int vr_env_file_get(const char *path, const char *key, char **ret);
