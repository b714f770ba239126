/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hash tree checks against images made by veritysetup (test/lib/mkverity.sh), with
 * every verdict cross-checked against `veritysetup verify`. */
#include <limits.h>

#include "testlib.h"
#include "hashtree.h"
#include "superblock.h"

struct image {
        char data[PATH_MAX], hash[PATH_MAX];
        char root_hex[2 * VR_ROOTHASH_MAX + 1];
        struct vr_roothash root;
        uint64_t appended_offset;
        bool appended;
        struct vr_verity_params params;
        struct vr_region data_region, hash_region;
};

static void image_open(struct image *img) {
        if (img->appended) {
                img->data_region = test_region_from_file(img->data, "appended image");
                img->hash_region = img->data_region;
                assert_int_equal(vr_superblock_find_appended(&img->hash_region, &img->params), 0);
                assert_int_equal(img->params.hash_offset, img->appended_offset);
        } else {
                img->data_region = test_region_from_file(img->data, "data image");
                img->hash_region = test_region_from_file(img->hash, "hash image");
                assert_int_equal(vr_superblock_read(&img->hash_region, 0, &img->params), 0);
        }
}

static void image_close(struct image *img) {
        close(img->data_region.fd);
        if (!img->appended)
                close(img->hash_region.fd);
}

/* Builds an image; opts are passed to `veritysetup format`. */
static void image_make(struct image *img, const char *name, bool appended, const char *size_kib, const char *opts) {
        char cmd[4096], line[256];
        FILE *f;

        *img = (struct image) { .appended = appended };
        snprintf(img->data, sizeof(img->data), "%s/%s.data", test_tmpdir(), name);
        snprintf(img->hash, sizeof(img->hash), "%s/%s.hash", test_tmpdir(), name);
        assert_true(snprintf(cmd, sizeof(cmd), "%s --size-kib %s %s %s %s -- %s", "test/lib/mkverity.sh", size_kib,
                             appended ? "--appended" : "", img->data, appended ? "" : img->hash, opts) < (int) sizeof(cmd));
        f = popen(cmd, "r");
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof(line), f));
        line[strcspn(line, "\n")] = 0;
        assert_true(snprintf(img->root_hex, sizeof(img->root_hex), "%s", line) < (int) sizeof(img->root_hex));
        if (appended) {
                assert_non_null(fgets(line, sizeof(line), f));
                img->appended_offset = strtoull(line, NULL, 10);
        }
        assert_int_equal(pclose(f), 0);
        img->root.len = strlen(img->root_hex) / 2;
        assert_int_equal(vr_hex_decode(img->root_hex, strlen(img->root_hex), img->root.bytes, img->root.len), 0);
        image_open(img);
}

static void veritysetup_verify(const struct image *img, const char *expect_in_output) {
        char offset_opt[64] = "";

        if (img->appended)
                snprintf(offset_opt, sizeof(offset_opt), "--hash-offset=%" PRIu64, img->appended_offset);
        if (expect_in_output)
                test_sh("veritysetup verify %s %s %s %s 2>&1 | grep -q '%s'", offset_opt, img->data,
                        img->appended ? img->data : img->hash, img->root_hex, expect_in_output);
        else
                test_sh("veritysetup verify %s %s %s %s", offset_opt, img->data, img->appended ? img->data : img->hash,
                        img->root_hex);
}

static void flip_byte(const char *path, uint64_t offset) {
        unsigned char b;
        int fd = open(path, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, &b, 1, (off_t) offset), 1);
        b ^= 0x40;
        assert_int_equal(pwrite(fd, &b, 1, (off_t) offset), 1);
        close(fd);
}

struct progress_log {
        unsigned calls;
        uint64_t last_done, total;
        bool monotonic;
};

static void record_progress(uint64_t done, uint64_t total, void *userdata) {
        struct progress_log *l = userdata;
        if (done < l->last_done || (l->total && total != l->total))
                l->monotonic = false;
        l->calls++;
        l->last_done = done;
        l->total = total;
}

static void assert_verifies(struct image *img) {
        struct progress_log log = { .monotonic = true };
        uint64_t bad = 12345;

        assert_int_equal(vr_hashtree_check_root(&img->params, &img->hash_region, &img->root), 0);
        assert_int_equal(vr_hashtree_verify_all(&img->params, &img->data_region, &img->hash_region, &img->root,
                                                record_progress, &log, &bad), 0);
        assert_int_equal(bad, 12345);
        assert_true(log.monotonic);
        assert_true(log.calls >= 1);
        assert_int_equal(log.last_done, log.total);
        assert_int_equal(log.total, img->params.data_blocks + vr_hashtree_size(&img->params) / img->params.hash_block_size);
        veritysetup_verify(img, NULL);
}

/* Flips one byte of data block n; both we and veritysetup must name that block. */
static void assert_data_block_detected(struct image *img, uint64_t n) {
        char msg[256], position[64];
        uint64_t bad = 0;

        flip_byte(img->data, n * img->params.data_block_size + img->params.data_block_size / 3);
        /* The tree itself is intact: the cheap check passes. */
        assert_int_equal(vr_hashtree_check_root(&img->params, &img->hash_region, &img->root), 0);
        vr_log_clear_last_error();
        assert_int_equal(vr_hashtree_verify_all(&img->params, &img->data_region, &img->hash_region, &img->root, NULL,
                                                NULL, &bad), -EBADMSG);
        assert_int_equal(bad, n);
        snprintf(msg, sizeof(msg), "data block %" PRIu64 " of %s does not match the hash tree", n,
                 img->data_region.what);
        assert_last_error_contains(msg);
        snprintf(position, sizeof(position), "Verification failed at position %" PRIu64 "\\.",
                 n * img->params.data_block_size);
        veritysetup_verify(img, position);
        flip_byte(img->data, n * img->params.data_block_size + img->params.data_block_size / 3);
        assert_int_equal(vr_hashtree_verify_all(&img->params, &img->data_region, &img->hash_region, &img->root, NULL,
                                                NULL, &bad), 0);
}

static void test_sha256_good(void **state) {
        struct image img;
        image_make(&img, "good", false, "1200", "");
        assert_string_equal(img.params.algorithm, "sha256");
        /* Superblock at 0, tree from the next 4096-byte block. */
        assert_int_equal(vr_hashtree_start(&img.params), 4096);
        assert_verifies(&img);
        image_close(&img);
}

static void test_check_root_wrong_hash(void **state) {
        struct image img;
        struct vr_roothash wrong;
        uint64_t bad = 0;

        image_make(&img, "wrong", false, "300", "");
        wrong = img.root;
        wrong.bytes[5] ^= 1;
        vr_log_clear_last_error();
        assert_int_equal(vr_hashtree_check_root(&img.params, &img.hash_region, &wrong), -EBADMSG);
        assert_last_error_contains("root hash does not match the hash tree in hash image (top block hashes to ");
        assert_last_error_contains(img.root_hex); /* the top block hashes to the true root */
        assert_int_equal(vr_hashtree_verify_all(&img.params, &img.data_region, &img.hash_region, &wrong, NULL, NULL,
                                                &bad), -EBADMSG);
        assert_int_equal(bad, UINT64_MAX - 1);

        wrong.len = 20;
        assert_int_equal(vr_hashtree_check_root(&img.params, &img.hash_region, &wrong), -EINVAL);
        assert_last_error_contains("is 20 bytes, but sha256 digests for hash image are 32 bytes");
        image_close(&img);
}

static void test_check_root_swapped(void **state) {
        struct image img;
        image_make(&img, "swapped", false, "300", "");
        /* The data image given as the hash device: same params, garbage tree. */
        img.data_region.what = "data image given as hash";
        vr_log_clear_last_error();
        assert_int_equal(vr_hashtree_check_root(&img.params, &img.data_region, &img.root), -EBADMSG);
        assert_last_error_contains("root hash does not match the hash tree in data image given as hash");
        image_close(&img);
}

static void test_tree_too_short(void **state) {
        struct image img;
        struct vr_region r;
        image_make(&img, "short", false, "300", "");
        r = img.hash_region;
        r.size -= 4096;
        vr_log_clear_last_error();
        assert_int_equal(vr_hashtree_check_root(&img.params, &r, &img.root), -ERANGE);
        assert_last_error_contains("Hash tree of hash image needs");
        r = img.data_region;
        r.size -= 1;
        assert_int_equal(vr_hashtree_verify_all(&img.params, &r, &img.hash_region, &img.root, NULL, NULL, NULL), -ERANGE);
        assert_last_error_contains("data image holds");
        image_close(&img);
}

static void test_flipped_data_blocks(void **state) {
        struct image img;
        image_make(&img, "flip", false, "1200", "");
        assert_true(img.params.data_blocks > 200);
        assert_data_block_detected(&img, 0);
        assert_data_block_detected(&img, 17);
        assert_data_block_detected(&img, img.params.data_blocks / 2);
        assert_data_block_detected(&img, img.params.data_blocks - 1);
        image_close(&img);
}

static void test_flipped_hash_blocks(void **state) {
        struct image img;
        uint64_t bad = 0;

        image_make(&img, "fliphash", false, "1200", "");
        /* >128 data blocks: a top block (1) and level-0 blocks from 2 on. */
        assert_int_equal(vr_hashtree_size(&img.params), 4096 * (1 + (img.params.data_blocks + 127) / 128));

        flip_byte(img.hash, 3 * 4096 + 40);
        assert_int_equal(vr_hashtree_check_root(&img.params, &img.hash_region, &img.root), 0);
        vr_log_clear_last_error();
        assert_int_equal(vr_hashtree_verify_all(&img.params, &img.data_region, &img.hash_region, &img.root, NULL, NULL,
                                                &bad), -EBADMSG);
        assert_int_equal(bad, UINT64_MAX - 3);
        assert_last_error_contains("hash block 3 (tree level 2 of 2) of hash image is corrupted");
        veritysetup_verify(&img, "Verification failed");
        flip_byte(img.hash, 3 * 4096 + 40);

        flip_byte(img.hash, 4096 + 7);
        vr_log_clear_last_error();
        assert_int_equal(vr_hashtree_check_root(&img.params, &img.hash_region, &img.root), -EBADMSG);
        assert_last_error_contains("root hash does not match the hash tree in hash image");
        assert_int_equal(vr_hashtree_verify_all(&img.params, &img.data_region, &img.hash_region, &img.root, NULL, NULL,
                                                &bad), -EBADMSG);
        assert_int_equal(bad, UINT64_MAX - 1);
        /* veritysetup checks bottom up, so it blames the level-0 block (at 8192) whose digest no longer matches. */
        veritysetup_verify(&img, "Verification failed at position 8192\\.");
        image_close(&img);
}

static void test_sha512_small_blocks(void **state) {
        struct image img;
        image_make(&img, "sha512", false, "1200", "--hash=sha512 --data-block-size=512 --hash-block-size=512");
        assert_string_equal(img.params.algorithm, "sha512");
        assert_int_equal(img.params.data_block_size, 512);
        assert_int_equal(img.root.len, 64);
        /* 512-byte hash blocks: the tree starts right after the superblock. */
        assert_int_equal(vr_hashtree_start(&img.params), 512);
        assert_verifies(&img);
        assert_data_block_detected(&img, 0);
        assert_data_block_detected(&img, 1000);
        assert_data_block_detected(&img, img.params.data_blocks - 1);
        image_close(&img);
}

static void test_mixed_block_sizes(void **state) {
        struct image img;
        image_make(&img, "mixed", false, "600", "--hash=sha1 --data-block-size=4096 --hash-block-size=1024");
        assert_int_equal(img.root.len, 20);
        assert_verifies(&img);
        assert_data_block_detected(&img, 100);
        image_close(&img);
}

static void test_empty_salt(void **state) {
        struct image img;
        image_make(&img, "nosalt", false, "300", "--salt=-");
        assert_int_equal(img.params.salt_size, 0);
        assert_verifies(&img);
        assert_data_block_detected(&img, 3);
        image_close(&img);
}

static void test_hash_type_0(void **state) {
        struct image img;
        image_make(&img, "chromeos", false, "1200", "--format=0 --hash=sha1");
        assert_int_equal(img.params.hash_type, 0);
        assert_verifies(&img);
        assert_data_block_detected(&img, 250);
        image_close(&img);
}

static void test_no_superblock_params(void **state) {
        struct image img;
        struct vr_region tree;
        image_make(&img, "nosb", false, "300", "");
        /* The same tree described by params alone (as from the cmdline), region past the superblock. */
        tree = img.hash_region;
        tree.offset = 4096;
        tree.size -= 4096;
        img.params.no_superblock = true;
        img.params.hash_offset = 0;
        assert_int_equal(vr_hashtree_start(&img.params), 0);
        assert_int_equal(vr_hashtree_check_root(&img.params, &tree, &img.root), 0);
        assert_int_equal(vr_hashtree_verify_all(&img.params, &img.data_region, &tree, &img.root, NULL, NULL, NULL), 0);
        image_close(&img);
}

static void test_appended(void **state) {
        struct image img;
        image_make(&img, "appended", true, "1200", "");
        assert_int_equal(img.params.data_blocks * img.params.data_block_size, img.appended_offset);
        assert_verifies(&img);
        assert_data_block_detected(&img, 0);
        assert_data_block_detected(&img, img.params.data_blocks - 1);
        image_close(&img);
}

static void test_appended_small_blocks(void **state) {
        struct image img;
        image_make(&img, "appended512", true, "700", "--hash=sha512 --data-block-size=512 --hash-block-size=1024");
        assert_verifies(&img);
        assert_data_block_detected(&img, 77);
        image_close(&img);
}

static void test_single_data_block(void **state) {
        struct image img;
        char data[PATH_MAX], cmd[4096];
        uint64_t bad = 1;
        FILE *f;

        /* No tree at all: the root hash is the digest of the one data block. */
        img = (struct image) {};
        snprintf(data, sizeof(data), "%s/one.data", test_tmpdir());
        snprintf(img.hash, sizeof(img.hash), "%s/one.hash", test_tmpdir());
        snprintf(img.data, sizeof(img.data), "%s", data);
        test_sh("head -c 4096 /dev/urandom > %s && rm -f %s", data, img.hash);
        assert_true(snprintf(cmd, sizeof(cmd), "veritysetup format %s %s | awk '/^Root hash:/ { print $3 }'", data,
                             img.hash) < (int) sizeof(cmd));
        f = popen(cmd, "r");
        assert_non_null(f);
        assert_non_null(fgets(img.root_hex, sizeof(img.root_hex), f));
        assert_int_equal(pclose(f), 0);
        img.root_hex[strcspn(img.root_hex, "\n")] = 0;
        img.root.len = 32;
        assert_int_equal(vr_hex_decode(img.root_hex, 64, img.root.bytes, 32), 0);
        image_open(&img);
        assert_int_equal(vr_hashtree_size(&img.params), 0 * 4096);
        assert_verifies(&img);
        flip_byte(img.data, 100);
        assert_int_equal(vr_hashtree_verify_all(&img.params, &img.data_region, &img.hash_region, &img.root, NULL, NULL,
                                                &bad), -EBADMSG);
        assert_int_equal(bad, 0);
        assert_last_error_contains("data block 0 of data image does not match the root hash");
        veritysetup_verify(&img, "Verification of root hash failed");
        image_close(&img);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sha256_good),
                cmocka_unit_test(test_check_root_wrong_hash),
                cmocka_unit_test(test_check_root_swapped),
                cmocka_unit_test(test_tree_too_short),
                cmocka_unit_test(test_flipped_data_blocks),
                cmocka_unit_test(test_flipped_hash_blocks),
                cmocka_unit_test(test_sha512_small_blocks),
                cmocka_unit_test(test_mixed_block_sizes),
                cmocka_unit_test(test_empty_salt),
                cmocka_unit_test(test_hash_type_0),
                cmocka_unit_test(test_no_superblock_params),
                cmocka_unit_test(test_appended),
                cmocka_unit_test(test_appended_small_blocks),
                cmocka_unit_test(test_single_data_block),
        };
        int r;

        vr_log_set_level(VR_LOG_ERR - 1); /* keep the expected errors off the test output */
        r = cmocka_run_group_tests(tests, NULL, NULL);
        test_sh("rm -rf %s", test_tmpdir());
        return r;
}
