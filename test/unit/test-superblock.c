/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Superblock decoding (every field), region reads and the appended-layout search. */
#include <limits.h>

#include "testlib.h"
#include "hashtree.h"
#include "superblock.h"

#define SALT_HEX "00112233445566778899aabbccddeeff0f1e2d3c4b5a6978"
#define UUID_STR "12345678-9abc-def0-1234-56789abcdef0"

static unsigned char real_sb[VR_SUPERBLOCK_SIZE];
static uint64_t real_fs_size;

static int setup_real_superblock(void **state) {
        char data[PATH_MAX], hash[PATH_MAX];
        struct vr_region r;
        struct stat st;

        snprintf(data, sizeof(data), "%s/sb.data", test_tmpdir());
        snprintf(hash, sizeof(hash), "%s/sb.hash", test_tmpdir());
        test_sh("%s --size-kib 300 %s %s -- --salt=%s --uuid=%s >/dev/null", "test/lib/mkverity.sh", data, hash, SALT_HEX,
                UUID_STR);
        assert_int_equal(stat(data, &st), 0);
        real_fs_size = (uint64_t) st.st_size;
        r = test_region_from_file(hash, "hash image");
        assert_int_equal(vr_region_read(&r, real_sb, sizeof(real_sb), 0), 0);
        close(r.fd);
        return 0;
}

static void test_parse_real(void **state) {
        static const unsigned char uuid[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                                0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };
        unsigned char salt[24];
        struct vr_verity_params p;

        assert_int_equal(vr_superblock_parse(real_sb, "hash image", &p), 0);
        assert_int_equal(p.hash_type, 1);
        assert_string_equal(p.algorithm, "sha256");
        assert_int_equal(p.data_block_size, 4096);
        assert_int_equal(p.hash_block_size, 4096);
        assert_int_equal(p.data_blocks, real_fs_size / 4096);
        assert_int_equal(p.salt_size, sizeof(salt));
        assert_int_equal(vr_hex_decode(SALT_HEX, strlen(SALT_HEX), salt, sizeof(salt)), 0);
        assert_memory_equal(p.salt, salt, sizeof(salt));
        assert_memory_equal(p.uuid, uuid, sizeof(uuid));
        assert_int_equal(p.hash_offset, 0);
        assert_false(p.no_superblock);
}

static void put_le16(unsigned char *b, uint16_t v) { b[0] = v & 0xff; b[1] = v >> 8; }
static void put_le32(unsigned char *b, uint32_t v) {
        for (int i = 0; i < 4; i++)
                b[i] = (unsigned char) (v >> (8 * i));
}
static void put_le64(unsigned char *b, uint64_t v) {
        for (int i = 0; i < 8; i++)
                b[i] = (unsigned char) (v >> (8 * i));
}

/* Parses a copy of the real superblock after edit(); it must fail with err and message. */
#define assert_corrupt_fails(edit, err, message)                                          \
        do {                                                                              \
                unsigned char _b[VR_SUPERBLOCK_SIZE];                                     \
                struct vr_verity_params _p;                                               \
                memcpy(_b, real_sb, sizeof(_b));                                          \
                { unsigned char *b = _b; edit; }                                          \
                vr_log_clear_last_error();                                                \
                assert_int_equal(vr_superblock_parse(_b, "test partition", &_p), (err)); \
                assert_last_error_contains(message);                                      \
                assert_last_error_contains("test partition");                             \
        } while (0)

static void test_parse_invalid_fields(void **state) {
        assert_corrupt_fails(b[0] = 'V', -EINVAL, "magic is not \"verity\"");
        assert_corrupt_fails(b[7] = 1, -EINVAL, "magic");
        assert_corrupt_fails(put_le32(b + 8, 2), -EOPNOTSUPP, "Unsupported superblock version 2");
        assert_corrupt_fails(put_le32(b + 8, 0), -EOPNOTSUPP, "superblock version 0");
        assert_corrupt_fails(put_le32(b + 12, 2), -EOPNOTSUPP, "Unsupported hash type 2");
        assert_corrupt_fails(memset(b + 32, 'a', 32), -EINVAL, "Hash algorithm field in the superblock of test partition is not NUL-terminated");
        assert_corrupt_fails(memset(b + 32, 0, 32), -EINVAL, "Hash algorithm field in the superblock of test partition is empty");
        assert_corrupt_fails(memcpy(b + 32, "sha\n56", 6), -EINVAL, "is empty or not a name");
        assert_corrupt_fails(memcpy(b + 32, "sha257", 6), -EOPNOTSUPP, "Unknown hash algorithm \"sha257\"");
        assert_corrupt_fails(put_le32(b + 64, 0), -EINVAL, "Data block size 0 in the superblock");
        assert_corrupt_fails(put_le32(b + 64, 256), -EINVAL, "Data block size 256");
        assert_corrupt_fails(put_le32(b + 64, 4097), -EINVAL, "Data block size 4097");
        assert_corrupt_fails(put_le32(b + 64, 3072), -EINVAL, "not a power of two in 512..524288");
        assert_corrupt_fails(put_le32(b + 64, 1024 * 1024), -EINVAL, "Data block size 1048576");
        assert_corrupt_fails(put_le32(b + 68, 8192 + 512), -EINVAL, "Hash block size 8704");
        assert_corrupt_fails(put_le32(b + 68, 1u << 31), -EINVAL, "Hash block size 2147483648");
        assert_corrupt_fails(put_le64(b + 72, 0), -EINVAL, "Data block count in the superblock of test partition is 0");
        assert_corrupt_fails(put_le64(b + 72, UINT64_MAX), -EINVAL, "Data block count 18446744073709551615");
        assert_corrupt_fails(put_le64(b + 72, (uint64_t) INT64_MAX / 4096 + 1), -EINVAL, "overflows with block size 4096");
        assert_corrupt_fails(put_le16(b + 80, 257), -EINVAL, "Salt size 257");
        assert_corrupt_fails(put_le16(b + 80, 0xffff), -EINVAL, "Salt size 65535");
}

static void test_parse_valid_edits(void **state) {
        unsigned char b[VR_SUPERBLOCK_SIZE];
        struct vr_verity_params p;

        /* Limits themselves are valid. */
        memcpy(b, real_sb, sizeof(b));
        put_le32(b + 64, 512);
        put_le32(b + 68, 512 * 1024);
        put_le16(b + 80, 256);
        put_le64(b + 72, (uint64_t) INT64_MAX / 512);
        memcpy(b + 32, "sha512\0", 7);
        put_le32(b + 12, 0);
        assert_int_equal(vr_superblock_parse(b, "edited", &p), 0);
        assert_int_equal(p.hash_type, 0);
        assert_int_equal(p.salt_size, 256);
        assert_string_equal(p.algorithm, "sha512");
        assert_memory_equal(p.salt, b + 88, 256);
        /* A layout this large cannot be checked but must not overflow. */
        assert_int_equal(vr_hashtree_size(&p) % (512 * 1024), 0);
}

static void test_region_read(void **state) {
        char buf[16];
        struct vr_region r = test_region_from_bytes("0123456789abcdef", 16, "region test");

        r.offset = 4;
        r.size = 10;
        assert_int_equal(vr_region_read(&r, buf, 10, 0), 0);
        assert_memory_equal(buf, "456789abcd", 10);
        assert_int_equal(vr_region_read(&r, buf, 0, 10), 0);

        vr_log_clear_last_error();
        assert_int_equal(vr_region_read(&r, buf, 2, 9), -ERANGE);
        assert_last_error_contains("Cannot read 2 bytes at offset 9 of region test: it is only 10 bytes");
        assert_int_equal(vr_region_read(&r, buf, 1, UINT64_MAX), -ERANGE);
        assert_last_error_contains("region test");
        assert_int_equal(vr_region_read(&r, buf, SIZE_MAX, 1), -ERANGE);

        /* The region claims more than the file holds. */
        r.size = 100;
        vr_log_clear_last_error();
        assert_int_equal(vr_region_read(&r, buf, 16, 4), -EIO);
        assert_last_error_contains("Failed to read 16 bytes at offset 4 of region test: short read");
        close(r.fd);

        r.fd = -1;
        assert_int_equal(vr_region_read(&r, buf, 1, 0), -EIO);
        assert_last_error_contains("of region test: Bad file descriptor");
}

static void test_read_at_offset(void **state) {
        unsigned char blob[3 * 4096] = {};
        struct vr_verity_params p;
        struct vr_region r;

        memcpy(blob + 4096, real_sb, sizeof(real_sb));
        r = test_region_from_bytes(blob, sizeof(blob), "blob with superblock");
        assert_int_equal(vr_superblock_read(&r, 4096, &p), 0);
        assert_int_equal(p.hash_offset, 4096);
        assert_int_equal(vr_hashtree_start(&p), 8192);

        vr_log_clear_last_error();
        assert_int_equal(vr_superblock_read(&r, 0, &p), -EINVAL);
        assert_last_error_contains("No dm-verity superblock in blob with superblock");
        assert_int_equal(vr_superblock_read(&r, 100, &p), -EINVAL);
        assert_last_error_contains("Superblock offset 100 in blob with superblock is not a multiple of 512");
        assert_int_equal(vr_superblock_read(&r, 3 * 4096 - 512 + 512, &p), -ERANGE);
        assert_last_error_contains("Cannot read 512 bytes at offset 12288 of blob with superblock");
        close(r.fd);
}

static void find_appended_image(const char *name, const char *opts, uint64_t slack) {
        char path[PATH_MAX], cmd[PATH_MAX * 2], line[256];
        struct vr_verity_params p;
        struct vr_region r;
        uint64_t offset;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", test_tmpdir(), name);
        assert_true(snprintf(cmd, sizeof(cmd), "%s --size-kib 500 --appended %s -- %s | tail -n1", "test/lib/mkverity.sh",
                             path, opts) < (int) sizeof(cmd));
        f = popen(cmd, "r");
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof(line), f));
        assert_int_equal(pclose(f), 0);
        offset = strtoull(line, NULL, 10);
        if (slack > 0)
                test_sh("truncate -s +%" PRIu64 " %s", slack, path);

        r = test_region_from_file(path, "appended partition");
        assert_int_equal(vr_superblock_find_appended(&r, &p), 0);
        assert_int_equal(p.hash_offset, offset);
        assert_int_equal(p.data_blocks * p.data_block_size, offset);
        assert_true(vr_hashtree_start(&p) + vr_hashtree_size(&p) <= r.size);
        close(r.fd);
}

static void test_find_appended(void **state) {
        find_appended_image("app-default", "", 0);
        find_appended_image("app-512", "--hash=sha512 --data-block-size=512 --hash-block-size=512", 0);
        /* A partition larger than file system + tree. */
        find_appended_image("app-slack", "", 3 * 1024 * 1024);
}

static void test_find_appended_none(void **state) {
        char path[PATH_MAX];
        struct vr_verity_params p;
        struct vr_region r;
        unsigned char blob[8192] = {};

        vr_log_clear_last_error();
        r = test_region_from_bytes(blob, sizeof(blob), "empty partition");
        assert_int_equal(vr_superblock_find_appended(&r, &p), -ENOENT);
        assert_last_error_contains("No appended dm-verity superblock in empty partition");
        close(r.fd);

        /* A separate hash device: its superblock does not follow its data. */
        snprintf(path, sizeof(path), "%s/sb.hash", test_tmpdir());
        r = test_region_from_file(path, "separate hash image");
        vr_log_clear_last_error();
        assert_int_equal(vr_superblock_find_appended(&r, &p), -ENOENT);
        assert_last_error_contains("No appended dm-verity superblock in separate hash image");
        close(r.fd);

        r = test_region_from_bytes(blob, 1000, "tiny partition");
        assert_int_equal(vr_superblock_find_appended(&r, &p), -ENOENT);
        assert_last_error_contains("tiny partition: it does not start with a file system");
        close(r.fd);
}

/* find_appended on path; returns its result and asserts it read at most max bytes. */
static int find_counted(const char *path, uint64_t size, uint64_t max, struct vr_verity_params *p) {
        struct vr_region r = test_region_from_file(path, "large partition");
        uint64_t before;
        int k;

        if (size)
                r.size = size;
        before = test_bytes_read();
        k = vr_superblock_find_appended(&r, p);
        assert_true(test_bytes_read() - before <= max);
        close(r.fd);
        return k;
}

/* 1 GiB of (sparse) ext4 with a superblock after it: found with a few small reads. The
 * tree's content does not matter here, only that it fits. */
static void test_find_appended_large(void **state) {
        const uint64_t gib = UINT64_C(1) << 30;
        char path[PATH_MAX];
        unsigned char sb[VR_SUPERBLOCK_SIZE];
        struct vr_verity_params p, expect;
        uint64_t end;
        int fd;

        memcpy(sb, real_sb, sizeof(sb));
        put_le64(sb + 72, gib / 4096);
        assert_int_equal(vr_superblock_parse(sb, "large", &expect), 0);
        expect.hash_offset = gib;
        end = vr_hashtree_start(&expect) + vr_hashtree_size(&expect);

        snprintf(path, sizeof(path), "%s/large", test_tmpdir());
        test_sh("rm -f %s && truncate -s 1G %s && mkfs.ext4 -q -F -b 4096 -O ^has_journal,^resize_inode -N 128 "
                "-E lazy_itable_init=1,nodiscard %s", path, path, path);
        fd = open(path, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t) end), 0);
        assert_int_equal(pwrite(fd, sb, sizeof(sb), (off_t) gib), (ssize_t) sizeof(sb));
        close(fd);

        assert_int_equal(find_counted(path, 0, 256 * 1024, &p), 0);
        assert_int_equal(p.hash_offset, gib);
        assert_int_equal(p.data_blocks, gib / 4096);

        /* One byte short of the tree: no longer an appended layout. */
        vr_log_clear_last_error();
        assert_int_equal(find_counted(path, end - 1, 256 * 1024, &p), -ENOENT);
        assert_last_error_contains("none after its ext4 file system of 1073741824 bytes (at 1073741824)");
        /* The partition smaller than the file system says. */
        assert_int_equal(find_counted(path, gib - 4096, 256 * 1024, &p), -ENOENT);
        assert_last_error_contains("its ext4 file system claims 1073741824 bytes of 1073737728");
        unlink(path);
}

/* Sizes an attacker picks (issue 10): 64 GiB of sparse nothing, and 64 GiB whose ext4
 * claims 60 GiB. Neither may cost more than a few reads (the old backwards scan read
 * size/7, over 9 GiB). */
static void test_find_appended_attacker_sized(void **state) {
        char path[PATH_MAX];
        struct vr_verity_params p;

        snprintf(path, sizeof(path), "%s/huge", test_tmpdir());
        test_sh("rm -f %s && truncate -s 64G %s", path, path);
        vr_log_clear_last_error();
        assert_int_equal(find_counted(path, 0, 256 * 1024, &p), -ENOENT);
        assert_last_error_contains("large partition: it does not start with a file system whose size is known");

        test_sh("rm -f %s && truncate -s 60G %s && mkfs.ext4 -q -F -b 4096 -O ^has_journal,^resize_inode -N 128 "
                "-E lazy_itable_init=1,nodiscard %s && truncate -s 64G %s", path, path, path, path);
        vr_log_clear_last_error();
        assert_int_equal(find_counted(path, 0, 256 * 1024, &p), -ENOENT);
        assert_last_error_contains("none after its ext4 file system of 64424509440 bytes");
        unlink(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_real),
                cmocka_unit_test(test_parse_invalid_fields),
                cmocka_unit_test(test_parse_valid_edits),
                cmocka_unit_test(test_region_read),
                cmocka_unit_test(test_read_at_offset),
                cmocka_unit_test(test_find_appended),
                cmocka_unit_test(test_find_appended_none),
                cmocka_unit_test(test_find_appended_large),
                cmocka_unit_test(test_find_appended_attacker_sized),
        };
        int r;

        vr_log_set_level(VR_LOG_ERR - 1); /* keep the expected errors off the test output */
        r = cmocka_run_group_tests(tests, setup_real_superblock, NULL);
        test_sh("rm -rf %s", test_tmpdir());
        return r;
}
