/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The command lines `verity-root cmdline` prints, parsed back and compared field by field
 * with the superblock on disk, for both layouts. Images are built with vr_mkimage. */
#include "testlib.h"

#include <inttypes.h>

#include "cmdline-verb.h"
#include "mkimage.h"

static char rootdir[512];

static int group_setup(void **state) {
        snprintf(rootdir, sizeof(rootdir), "%s/root", test_tmpdir());
        test_sh("mkdir -p %s/usr/lib && echo ID=unit > %s/usr/lib/os-release && head -c 200000 /dev/urandom > %s/blob",
                rootdir, rootdir, rootdir);
        vr_log_set_level(VR_LOG_WARNING);
        return 0;
}

static int group_teardown(void **state) {
        test_sh("rm -rf %s", test_tmpdir());
        return 0;
}

struct fixture {
        struct vr_partition_list parts;
        struct vr_mkimage_result res;
        struct vr_verdict v;
        char img[600];
};

static void fixture_build(struct fixture *f, const char *name, bool appended) {
        *f = (struct fixture) {};
        snprintf(f->img, sizeof(f->img), "%s/%s.img", test_tmpdir(), name);
        struct vr_mkimage_config c = { .root = rootdir, .out = f->img, .fs = VR_FS_EROFS, .appended = appended };
        assert_int_equal(vr_mkimage(&c, &f->res), 0);
        assert_int_equal(vr_partitions_from_image(f->img, &f->parts), 0);
        struct vr_discover_config cfg = { .target = VR_TARGET_ROOT, .arch = "x86-64", .trusted_hash = f->res.roothash_hex,
                                          .sig = VR_SIG_OPTIONAL, .deep = false };
        assert_int_equal(vr_discover(&f->parts, &cfg, &f->v), 0);
}

static void fixture_done(struct fixture *f) {
        vr_verdict_done(&f->v);
        vr_partition_list_done(&f->parts);
        vr_mkimage_result_done(&f->res);
}

/* The superblock as stored, read through our own parser from a region we open here. */
static void read_superblock(const struct fixture *f, const struct vr_partition *hash, uint64_t offset,
                            struct vr_verity_params *sb) {
        int fd = open(f->img, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct vr_region r = { .fd = fd, .offset = hash->offset, .size = hash->size, .what = "hash partition" };
        assert_int_equal(vr_superblock_read(&r, offset, sb), 0);
        close(fd);
}

static void uuid_string(vr_id128 id, char out[VR_ID128_STRING_MAX]) {
        vr_id128_to_string(id, out);
}

static void check_dm_mod_create(bool appended) {
        struct fixture f;
        _cleanup_free_ char *line = NULL;
        char name[32], flags[8], target[16], data[64], hash[64], alg[32], digest[200], salt[600], tail[64];
        uint64_t start_sector, sectors, data_blocks, hash_start;
        unsigned version, dbs, hbs;
        int consumed = 0;

        fixture_build(&f, appended ? "dm-appended" : "dm-split", appended);
        assert_int_equal(vr_dm_mod_create(&f.v, &line), 0);

        int n = sscanf(line,
                       "dm-mod.create=\"%31[^,],,,%7[^,],%" SCNu64 " %" SCNu64 " %15s %u %63s %63s %u %u %" SCNu64
                       " %" SCNu64 " %31s %199s %599[^\"]\" %63s%n",
                       name, flags, &start_sector, &sectors, target, &version, data, hash, &dbs, &hbs, &data_blocks,
                       &hash_start, alg, digest, salt, tail, &consumed);
        assert_int_equal(n, 16);
        assert_int_equal((size_t) consumed, strlen(line));
        assert_string_equal(name, "vroot");
        assert_string_equal(flags, "ro");
        assert_string_equal(target, "verity");
        assert_string_equal(tail, "root=/dev/dm-0");

        const struct vr_partition *data_part = &f.parts.items[0];
        const struct vr_partition *hash_part = appended ? data_part : &f.parts.items[1];
        uint64_t sb_offset = appended ? f.res.hash_offset : 0;
        struct vr_verity_params sb;
        read_superblock(&f, hash_part, sb_offset, &sb);

        char u[VR_ID128_STRING_MAX], want[64];
        uuid_string(data_part->uuid, u);
        snprintf(want, sizeof(want), "PARTUUID=%s", u);
        assert_string_equal(data, want);
        uuid_string(hash_part->uuid, u);
        snprintf(want, sizeof(want), "PARTUUID=%s", u);
        assert_string_equal(hash, want);

        assert_int_equal(start_sector, 0);
        assert_int_equal(version, sb.hash_type);
        assert_int_equal(dbs, sb.data_block_size);
        assert_int_equal(hbs, sb.hash_block_size);
        assert_int_equal(data_blocks, sb.data_blocks);
        assert_int_equal(sectors, sb.data_blocks * sb.data_block_size / 512);
        /* The tree starts in the hash block after the superblock. */
        assert_int_equal(hash_start, sb_offset / sb.hash_block_size + 1);
        assert_string_equal(alg, sb.algorithm);
        assert_string_equal(digest, f.res.roothash_hex);
        char salt_hex[2 * sizeof(sb.salt) + 1];
        vr_hex_encode(sb.salt, sb.salt_size, salt_hex);
        assert_string_equal(salt, salt_hex);
        /* The data covered is the file system, nothing more. */
        assert_int_equal(sb.data_blocks, (f.res.fs_size + 4095) / 4096);
        fixture_done(&f);
}

static void test_dm_mod_create_split(void **state) {
        check_dm_mod_create(false);
}

static void test_dm_mod_create_appended(void **state) {
        check_dm_mod_create(true);
}

static void test_fragment_split(void **state) {
        struct fixture f;
        _cleanup_free_ char *line = NULL, *want = NULL;

        fixture_build(&f, "frag-split", false);
        assert_int_equal(vr_cmdline_fragment(&f.v, VR_TARGET_ROOT, &line), 0);
        assert_true(asprintf(&want, "roothash=%s", f.res.roothash_hex) > 0);
        assert_string_equal(line, want);
        free(line);
        assert_int_equal(vr_cmdline_fragment(&f.v, VR_TARGET_USR, &line), 0);
        assert_true(startswith(line, "usrhash="));

        /* PARTUUIDs that do not follow from the hash: the devices must be named. */
        struct vr_partition moved = *f.v.data;
        moved.uuid.bytes[0] ^= 0xff;
        struct vr_verdict v = f.v;
        v.data = &moved;
        free(line);
        assert_int_equal(vr_cmdline_fragment(&v, VR_TARGET_ROOT, &line), 0);
        assert_non_null(strstr(line, "systemd.verity_root_data=/dev/disk/by-partuuid/"));
        assert_non_null(strstr(line, "systemd.verity_root_hash=/dev/disk/by-partuuid/"));
        assert_null(strstr(line, "hash-offset"));
        fixture_done(&f);
}

static void test_fragment_appended(void **state) {
        struct fixture f;
        _cleanup_free_ char *line = NULL, *want = NULL;
        char u[VR_ID128_STRING_MAX];
        struct vr_verity_params sb;

        fixture_build(&f, "frag-appended", true);
        read_superblock(&f, &f.parts.items[0], f.res.hash_offset, &sb);
        uuid_string(f.parts.items[0].uuid, u);
        assert_int_equal(vr_cmdline_fragment(&f.v, VR_TARGET_ROOT, &line), 0);
        assert_true(asprintf(&want,
                             "roothash=%s systemd.verity_root_data=/dev/disk/by-partuuid/%s "
                             "systemd.verity_root_hash=/dev/disk/by-partuuid/%s systemd.verity_root_options=hash-offset=%" PRIu64,
                             f.res.roothash_hex, u, u, f.res.hash_offset) > 0);
        assert_string_equal(line, want);
        fixture_done(&f);
}

static void test_refuses_unbootable(void **state) {
        struct vr_verdict v = { .error = -EBADMSG };
        char *line = NULL;
        assert_int_equal(vr_cmdline_fragment(&v, VR_TARGET_ROOT, &line), -EINVAL);
        assert_last_error_contains("no bootable root");
        assert_int_equal(vr_dm_mod_create(&v, &line), -EINVAL);
        assert_last_error_contains("no bootable root");
        assert_null(line);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dm_mod_create_split),
                cmocka_unit_test(test_dm_mod_create_appended),
                cmocka_unit_test(test_fragment_split),
                cmocka_unit_test(test_fragment_appended),
                cmocka_unit_test(test_refuses_unbootable),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
