/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "id128.h"
#include "mkfs.h"
#include "spawn.h"
#include "util.h"

static const char *const fs_names[_VR_FS_MAX] = {
        [VR_FS_EROFS] = "erofs",
        [VR_FS_EXT4] = "ext4",
        [VR_FS_SQUASHFS] = "squashfs",
};

const char *vr_fs_type_to_string(enum vr_fs_type t) {
        return t >= 0 && t < _VR_FS_MAX ? fs_names[t] : NULL;
}

int vr_fs_type_from_string(const char *s, enum vr_fs_type *ret) {
        for (int i = 0; i < _VR_FS_MAX; i++)
                if (streq(s, fs_names[i])) {
                        *ret = i;
                        return 0;
                }
        return -EINVAL;
}

static uint64_t tree_bytes;

static int add_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        /* Every entry costs at least an inode and a block; data is counted in whole blocks. */
        tree_bytes += 4096 + (flag == FTW_F ? ((uint64_t) st->st_size + 4095) / 4096 * 4096 : 0);
        return 0;
}

/* ext4 needs its size up front: content plus a quarter for metadata, at least 16 MiB. */
static int ext4_size(const char *dir, uint64_t *ret) {
        tree_bytes = 0;
        if (nftw(dir, add_entry, 32, FTW_PHYS) < 0)
                return log_error_errno(errno, "cannot walk %s: %s", dir, strerror(errno));
        uint64_t size = tree_bytes + tree_bytes / 4 + 16u * 1024 * 1024;
        *ret = (size + 4095) / 4096 * 4096;
        return 0;
}

int vr_mkfs(enum vr_fs_type t, const char *dir, const char *out, const unsigned char uuid[16], const char *label) {
        char uuid_str[VR_ID128_STRING_MAX];
        vr_id128 id;
        memcpy(id.bytes, uuid, 16);
        vr_id128_to_string(id, uuid_str);

        if (unlink(out) < 0 && errno != ENOENT)
                return log_error_errno(errno, "cannot remove old %s: %s", out, strerror(errno));

        switch (t) {
        case VR_FS_EROFS: {
                char uuid_opt[64];
                snprintf(uuid_opt, sizeof(uuid_opt), "-U%s", uuid_str);
                char *const argv[] = { "mkfs.erofs", "--quiet", "--all-root", "-T0", uuid_opt,
                                       (char *) out, (char *) dir, NULL };
                return vr_spawn(argv, NULL);
        }
        case VR_FS_EXT4: {
                uint64_t size = 0;
                int r = ext4_size(dir, &size);
                if (r < 0)
                        return r;
                _cleanup_close_ int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || ftruncate(fd, (off_t) size) < 0)
                        return log_error_errno(errno, "cannot create %s: %s", out, strerror(errno));
                char ext_opts[128], blocks[32];
                snprintf(ext_opts, sizeof(ext_opts), "hash_seed=%s,root_owner=0:0", uuid_str);
                snprintf(blocks, sizeof(blocks), "%" PRIu64, size / 4096);
                char *const argv[] = { "mkfs.ext4", "-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256", "-m", "0",
                                       "-O", "^has_journal", "-U", uuid_str, "-E", ext_opts, "-L", (char *) label,
                                       "-d", (char *) dir, (char *) out, blocks, NULL };
                /* mke2fs stamps its own times with the clock unless told otherwise. */
                char *const env[] = { "E2FSPROGS_FAKE_TIME=1", "SOURCE_DATE_EPOCH=1", NULL };
                return vr_spawn(argv, env);
        }
        case VR_FS_SQUASHFS: {
                char *const argv[] = { "mksquashfs", (char *) dir, (char *) out, "-noappend", "-all-root",
                                       "-mkfs-time", "0", "-all-time", "0", "-quiet", "-no-progress", NULL };
                return vr_spawn(argv, NULL);
        }
        default:
                return log_error_errno(EINVAL, "unknown file system type %d", (int) t);
        }
}
