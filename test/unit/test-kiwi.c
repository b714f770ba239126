/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kiwi embedded verity metadata: every field of the block, the RSA-PSS signature, and
 * the hash tree of partitions laid out as Kiwi does (test/lib/mkkiwi.sh). */
#include <inttypes.h>
#include <limits.h>

#include "testlib.h"
#include "discover.h"
#include "hashtree.h"
#include "kiwi.h"
#include "signature.h"

#define ROOT_HEX "5e02420d5250606228e258e29a7c267538056c9a9e727ff874559de461f184e3"
#define SALT_HEX "9404ceba37d54d165b2219ec4fd98fb05422b56f3a9bc340829caeb9c3780b74"
#define GOOD_HEADER "1 erofs ro verity"
#define GOOD_CREDS "1 4096 4096 491 491 sha256 " ROOT_HEX " " SALT_HEX

struct image {
        char path[PATH_MAX];
        uint64_t part_offset, part_size, hash_offset;
        char roothash[2 * VR_ROOTHASH_MAX + 1];
};

static char dir[PATH_MAX];
static struct image signed_img, legacy_img;

/* Relative to the source tree's top, where the unit tests run (as the other tests'
 * test/lib paths): the build dir may be anywhere (B=, a stack root's work dir). */
static const char *lib_dir(void) {
        return "test/lib";
}

static void image_make(struct image *img, const char *name, const char *opts) {
        char env[PATH_MAX + 8], line[512];
        snprintf(img->path, sizeof(img->path), "%s/%s.img", dir, name);
        snprintf(env, sizeof(env), "%s.env", img->path);
        test_sh("%s/mkkiwi.sh %s --meta-out %s.meta %s/tree %s > %s", lib_dir(), opts, img->path, dir, img->path, env);
        FILE *f = fopen(env, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                const char *v;
                if ((v = startswith(line, "PART_OFFSET=")))
                        img->part_offset = strtoull(v, NULL, 10);
                else if ((v = startswith(line, "PART_SIZE=")))
                        img->part_size = strtoull(v, NULL, 10);
                else if ((v = startswith(line, "HASH_OFFSET=")))
                        img->hash_offset = strtoull(v, NULL, 10);
                else if ((v = startswith(line, "ROOTHASH=")))
                        snprintf(img->roothash, sizeof(img->roothash), "%s", v);
        }
        fclose(f);
        assert_true(img->part_size > 0 && img->roothash[0]);
}

static struct vr_region image_region(const struct image *img, const char *path) {
        int fd = open(path ?: img->path, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        return (struct vr_region) { .fd = fd, .offset = img->part_offset, .size = img->part_size, .what = "kiwi partition" };
}

static int group_setup(void **state) {
        snprintf(dir, sizeof(dir), "%s", test_tmpdir());
        test_sh("%s/mkroot.sh --id kiwi %s/tree > /dev/null", lib_dir(), dir);
        test_sh("%s/mkcert.sh %s/alpha alpha && %s/mkcert.sh %s/beta beta && %s/mkcert.sh %s/ec ec ec256 && mkdir -p %s/empty",
                lib_dir(), dir, lib_dir(), dir, lib_dir(), dir, dir);
        char opts[PATH_MAX + 16];
        snprintf(opts, sizeof(opts), "--sign %s/alpha/alpha.key", dir);
        image_make(&signed_img, "signed", opts);
        image_make(&legacy_img, "legacy", "--legacy");
        return 0;
}

static int group_teardown(void **state) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        return system(cmd) == 0 ? 0 : -1;
}

/* A 4 KiB block: header 0xFF creds 0xFF 0x00, then tail bytes (a fake signature). */
static void make_block(unsigned char *b, const char *header, const char *creds, const void *tail, size_t tail_len) {
        size_t h = strlen(header), c = strlen(creds);
        memset(b, 0, VR_KIWI_BLOCK_SIZE);
        assert_true(h + c + 3 + tail_len <= VR_KIWI_BLOCK_SIZE);
        memcpy(b, header, h);
        b[h] = 0xff;
        memcpy(b + h + 1, creds, c);
        b[h + 1 + c] = 0xff;
        b[h + 2 + c] = 0;
        if (tail_len)
                memcpy(b + h + c + 3, tail, tail_len);
}

static void test_valid_block(void **state) {
        unsigned char b[VR_KIWI_BLOCK_SIZE];
        struct vr_kiwi_meta *m = calloc(1, sizeof(*m));
        char hex[2 * VR_ROOTHASH_MAX + 1];

        make_block(b, GOOD_HEADER, GOOD_CREDS, NULL, 0);
        assert_int_equal(vr_kiwi_parse(b, sizeof(b), "test", m), 0);
        assert_int_equal(m->version, 1);
        assert_string_equal(m->fstype, "erofs");
        assert_true(m->read_only);
        assert_int_equal(m->params.hash_type, 1);
        assert_int_equal(m->params.data_block_size, 4096);
        assert_int_equal(m->params.hash_block_size, 4096);
        assert_int_equal(m->params.data_blocks, 491);
        assert_int_equal(m->hash_start_block, 491);
        assert_int_equal(m->params.hash_offset, 491 * 4096);
        assert_true(m->params.no_superblock);
        assert_string_equal(m->params.algorithm, "sha256");
        assert_string_equal(vr_roothash_to_string(&m->roothash, hex), ROOT_HEX);
        assert_int_equal(m->params.salt_size, 32);
        vr_hex_encode(m->params.salt, m->params.salt_size, hex);
        assert_string_equal(hex, SALT_HEX);
        assert_int_equal(m->signed_len, strlen(GOOD_HEADER) + strlen(GOOD_CREDS) + 3);
        assert_int_equal(m->signature_len, 0);

        /* Kiwi before 9.25.13 wrote rw for writable file systems; an empty salt is "-". */
        make_block(b, "1 ext4 rw verity", "0 4096 4096 10 10 sha256 " ROOT_HEX " -", "\x01\x00\x02", 3);
        assert_int_equal(vr_kiwi_parse(b, sizeof(b), "test", m), 0);
        assert_false(m->read_only);
        assert_int_equal(m->params.hash_type, 0);
        assert_int_equal(m->params.salt_size, 0);
        assert_int_equal(m->signature_len, 3);
        free(m);
}

static void test_malformed_fields(void **state) {
        static const struct {
                const char *header, *creds;
                int error;
                const char *message;
        } cases[] = {
                { "1 erofs ro verify", GOOD_CREDS, -ENOMSG, "no Kiwi verity metadata" },
                { "1 erofs ro", GOOD_CREDS, -ENOMSG, "no Kiwi verity metadata" },
                { "1  erofs ro verity", GOOD_CREDS, -ENOMSG, "no Kiwi verity metadata" },
                { "2 erofs ro verity", GOOD_CREDS, -EOPNOTSUPP, "version \"2\" is not supported" },
                { "1 EROFS ro verity", GOOD_CREDS, -EBADMSG, "file system type \"EROFS\"" },
                { "1 erofs xx verity", GOOD_CREDS, -EBADMSG, "access \"xx\" is neither ro nor rw" },
                { GOOD_HEADER, "1 4096 4096 491 491 sha256 " ROOT_HEX, -EBADMSG, "expected 8 space-separated fields" },
                { GOOD_HEADER, "1 4096 4096 491 491 sha256 " ROOT_HEX "  " SALT_HEX, -EBADMSG, "expected 8" },
                { GOOD_HEADER, GOOD_CREDS " extra", -EBADMSG, "expected 8" },
                { GOOD_HEADER, "2 4096 4096 491 491 sha256 " ROOT_HEX " " SALT_HEX, -EOPNOTSUPP, "hash type \"2\"" },
                { GOOD_HEADER, "1 4095 4096 491 491 sha256 " ROOT_HEX " " SALT_HEX, -EBADMSG, "data block size \"4095\"" },
                { GOOD_HEADER, "1 4096 1048576 491 491 sha256 " ROOT_HEX " " SALT_HEX, -EBADMSG, "hash block size \"1048576\"" },
                { GOOD_HEADER, "1 4096 4096 0 491 sha256 " ROOT_HEX " " SALT_HEX, -EBADMSG, "data block count \"0\"" },
                { GOOD_HEADER, "1 4096 4096 0491 491 sha256 " ROOT_HEX " " SALT_HEX, -EBADMSG, "data block count \"0491\"" },
                { GOOD_HEADER, "1 4096 4096 99999999999999999999 491 sha256 " ROOT_HEX " " SALT_HEX, -EBADMSG, "data block count" },
                { GOOD_HEADER, "1 4096 4096 491 +491 sha256 " ROOT_HEX " " SALT_HEX, -EBADMSG, "hash start block \"+491\"" },
                { GOOD_HEADER, "1 4096 4096 491 490 sha256 " ROOT_HEX " " SALT_HEX, -EBADMSG, "lies inside the 2011136 data bytes" },
                { GOOD_HEADER, "1 4096 4096 491 491 md5 " ROOT_HEX " " SALT_HEX, -EOPNOTSUPP, "hash algorithm \"md5\"" },
                { GOOD_HEADER, "1 4096 4096 491 491 sha512 " ROOT_HEX " " SALT_HEX, -EBADMSG, "root hash: 64 hex digits, sha512 needs 128" },
                { GOOD_HEADER, "1 4096 4096 491 491 sha256 g" ROOT_HEX " " SALT_HEX, -EBADMSG, "root hash: 'g'" },
                { GOOD_HEADER, "1 4096 4096 491 491 sha256 " ROOT_HEX " abc", -EBADMSG, "salt \"abc\"" },
                { GOOD_HEADER, "1 4096 4096 491 491 sha256 " ROOT_HEX " xy", -EBADMSG, "salt \"xy\"" },
                { GOOD_HEADER, "1 4096 4096 491 491 sha256 " ROOT_HEX " " SALT_HEX "\t", -EBADMSG, "not printable ASCII" },
        };
        unsigned char b[VR_KIWI_BLOCK_SIZE];
        struct vr_kiwi_meta *m = calloc(1, sizeof(*m));

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                make_block(b, cases[i].header, cases[i].creds, NULL, 0);
                vr_log_clear_last_error();
                int r = vr_kiwi_parse(b, sizeof(b), "part7", m);
                if (r != cases[i].error)
                        fail_msg("case %zu (%s): got %d, expected %d: %s", i, cases[i].creds, r, cases[i].error,
                                 vr_log_last_error());
                assert_last_error_contains(cases[i].message);
                if (cases[i].error != -ENOMSG)
                        assert_last_error_contains("part7: Kiwi verity metadata");
        }
        free(m);
}

static void test_framing(void **state) {
        unsigned char b[VR_KIWI_BLOCK_SIZE];
        struct vr_kiwi_meta *m = calloc(1, sizeof(*m));

        memset(b, 0, sizeof(b));
        assert_int_equal(vr_kiwi_parse(b, sizeof(b), "zeros", m), -ENOMSG);
        assert_last_error_contains("zeros: no Kiwi verity metadata in the last 4 KiB");

        /* Parameters never terminated: the block is all text after the header. */
        memset(b, 'a', sizeof(b));
        memcpy(b, GOOD_HEADER "\xff", strlen(GOOD_HEADER) + 1);
        assert_int_equal(vr_kiwi_parse(b, sizeof(b), "unterminated", m), -EBADMSG);
        assert_last_error_contains("not terminated by 0xFF");

        /* The terminator is 0xFF 0x00. */
        make_block(b, GOOD_HEADER, GOOD_CREDS, NULL, 0);
        b[strlen(GOOD_HEADER) + strlen(GOOD_CREDS) + 2] = 'x';
        assert_int_equal(vr_kiwi_parse(b, sizeof(b), "noterm", m), -EBADMSG);
        assert_last_error_contains("not followed by 0x00");

        /* 0xFF as the very last byte: nothing may be read past the block. */
        memset(b, 'a', sizeof(b));
        memcpy(b, GOOD_HEADER "\xff", strlen(GOOD_HEADER) + 1);
        b[sizeof(b) - 1] = 0xff;
        assert_int_equal(vr_kiwi_parse(b, sizeof(b), "edge", m), -EBADMSG);

        assert_int_equal(vr_kiwi_parse(b, 512, "short", m), -EINVAL);
        assert_last_error_contains("must be 4096 bytes");
        free(m);
}

static void trust_load(struct vr_trust_store *ts, const char *name) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_int_equal(vr_trust_store_load(path, ts), 0);
}

static void test_signed_image(void **state) {
        struct vr_kiwi_meta *m = calloc(1, sizeof(*m));
        struct vr_region r = image_region(&signed_img, NULL);
        struct vr_trust_store alpha = {}, beta = {}, ec = {}, empty = {};
        char hex[2 * VR_ROOTHASH_MAX + 1], *signer = NULL;

        assert_int_equal(vr_kiwi_read(&r, m), 0);
        assert_true(m->has_superblock);
        assert_false(m->params.no_superblock);
        assert_int_equal(m->params.hash_offset, signed_img.hash_offset);
        assert_int_equal(m->signature_len > 0 && m->signature_len <= 256, 1);
        assert_string_equal(vr_roothash_to_string(&m->roothash, hex), signed_img.roothash);

        trust_load(&alpha, "alpha");
        trust_load(&beta, "beta");
        trust_load(&ec, "ec");
        trust_load(&empty, "empty");
        assert_int_equal(vr_kiwi_verify_signature(m, &alpha, "img", &signer), 0);
        assert_non_null(strstr(signer, "CN=alpha"));
        free(signer);

        assert_int_equal(vr_kiwi_verify_signature(m, &beta, "img", &signer), -EKEYREJECTED);
        assert_null(signer);
        assert_last_error_contains("img: Kiwi verity metadata signature does not verify with any of the 1 trusted RSA");
        assert_int_equal(vr_kiwi_verify_signature(m, &ec, "img", NULL), -ENOKEY);
        assert_last_error_contains("has an RSA key");
        assert_int_equal(vr_kiwi_verify_signature(m, &empty, "img", NULL), -ENOKEY);
        assert_last_error_contains("no trusted certificates");

        /* Any change to the signed text (here a salt digit, which still parses) breaks it. */
        size_t at = m->signed_len - 3;
        unsigned char saved = m->block[at];
        m->block[at] = saved == '0' ? '1' : '0';
        assert_int_equal(vr_kiwi_verify_signature(m, &alpha, "img", NULL), -EKEYREJECTED);
        m->block[at] = saved;
        assert_int_equal(vr_kiwi_verify_signature(m, &alpha, "img", NULL), 0);
        /* So does a flipped signature bit. */
        m->block[m->signed_len + 10] ^= 1;
        assert_int_equal(vr_kiwi_verify_signature(m, &alpha, "img", NULL), -EKEYREJECTED);

        vr_trust_store_done(&alpha);
        vr_trust_store_done(&beta);
        vr_trust_store_done(&ec);
        vr_trust_store_done(&empty);
        close(r.fd);
        free(m);
}

/* A signed Kiwi root counts only on the boot disk when that is known; roothash= pins it anywhere. */
static void test_boot_disk_only(void **state) {
        struct vr_partition_list parts = {};
        struct vr_trust_store alpha = {};
        struct vr_verdict v = {};
        struct vr_discover_config cfg = { .target = VR_TARGET_ROOT, .sig = VR_SIG_OPTIONAL, .trust = &alpha,
                                          .boot_disk = signed_img.path };

        trust_load(&alpha, "alpha");
        assert_int_equal(vr_partitions_from_image(signed_img.path, &parts), 0);
        assert_int_equal(vr_discover_kiwi(&parts, &cfg, &v), 0);
        assert_ptr_equal(v.data, &parts.items[0]);

        cfg.boot_disk = "/dev/vda";
        cfg.boot_partuuid = "1234";
        assert_int_equal(vr_discover_kiwi(&parts, &cfg, &v), -EXDEV);
        assert_true(v.when_settled);
        assert_non_null(strstr(v.reason, "no signed root on the boot disk /dev/vda (LoaderDevicePartUUID=1234); roots "
                                         "on other disks are not considered: found partition 1"));

        cfg.trusted_hash = signed_img.roothash;
        assert_int_equal(vr_discover_kiwi(&parts, &cfg, &v), 0);
        assert_int_equal(v.source, VR_HASH_SOURCE_CMDLINE);

        vr_verdict_done(&v);
        vr_partition_list_done(&parts);
        vr_trust_store_done(&alpha);
}

/* Kiwi signs with PSS; a PKCS#1 v1.5 signature by the same key is not Kiwi's and must not pass. */
static size_t read_file(const char *name, unsigned char *buf, size_t len) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        size_t n = fread(buf, 1, len, f);
        fclose(f);
        return n;
}

static void test_pkcs1_v15_rejected(void **state) {
        struct vr_kiwi_meta *m = calloc(1, sizeof(*m));
        struct vr_trust_store alpha = {};
        unsigned char b[VR_KIWI_BLOCK_SIZE] = {};
        char path[PATH_MAX];

        assert_int_equal(read_file("signed.img.meta", b, sizeof(b)), sizeof(b));
        assert_int_equal(vr_kiwi_parse(b, sizeof(b), "meta", m), 0);
        snprintf(path, sizeof(path), "%s/text", dir);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(b, 1, m->signed_len, f), m->signed_len);
        fclose(f);
        test_sh("openssl dgst -sha256 -sign %s/alpha/alpha.key -out %s/v15.sig %s/text", dir, dir, dir);
        memset(b + m->signed_len, 0, sizeof(b) - m->signed_len);
        assert_int_equal(read_file("v15.sig", b + m->signed_len, sizeof(b) - m->signed_len), 256);

        assert_int_equal(vr_kiwi_parse(b, sizeof(b), "v15", m), 0);
        trust_load(&alpha, "alpha");
        assert_int_equal(vr_kiwi_verify_signature(m, &alpha, "v15", NULL), -EKEYREJECTED);
        vr_trust_store_done(&alpha);
        free(m);
}

static void check_tree(const struct image *img, const char *path, bool superblock) {
        struct vr_kiwi_meta *m = calloc(1, sizeof(*m));
        struct vr_region r = image_region(img, path);
        uint64_t bad = 0;

        assert_int_equal(vr_kiwi_read(&r, m), 0);
        assert_int_equal(m->has_superblock, superblock);
        assert_int_equal(m->params.no_superblock, !superblock);
        assert_int_equal(vr_hashtree_start(&m->params), img->hash_offset + (superblock ? 4096 : 0));
        assert_int_equal(vr_hashtree_check_root(&m->params, &r, &m->roothash), 0);
        assert_int_equal(vr_hashtree_verify_all(&m->params, &r, &r, &m->roothash, NULL, NULL, &bad), 0);

        /* One flipped byte in data block 3 is found and named. */
        unsigned char c;
        assert_int_equal(pread(r.fd, &c, 1, (off_t) (r.offset + 3 * 4096 + 17)), 1);
        c ^= 0x40;
        assert_int_equal(pwrite(r.fd, &c, 1, (off_t) (r.offset + 3 * 4096 + 17)), 1);
        assert_int_equal(vr_hashtree_verify_all(&m->params, &r, &r, &m->roothash, NULL, NULL, &bad), -EBADMSG);
        assert_int_equal(bad, 3);
        c ^= 0x40;
        assert_int_equal(pwrite(r.fd, &c, 1, (off_t) (r.offset + 3 * 4096 + 17)), 1);
        close(r.fd);
        free(m);
}

static void test_hash_tree_current(void **state) {
        check_tree(&signed_img, NULL, true);
}

static void test_hash_tree_legacy(void **state) {
        check_tree(&legacy_img, NULL, false);
        struct vr_kiwi_meta *m = calloc(1, sizeof(*m));
        struct vr_region r = image_region(&legacy_img, NULL);
        struct vr_trust_store alpha = {};
        assert_int_equal(vr_kiwi_read(&r, m), 0);
        assert_false(m->read_only); /* erofs: "rw" before Kiwi 9.25.13 */
        trust_load(&alpha, "alpha");
        assert_int_equal(vr_kiwi_verify_signature(m, &alpha, "legacy", NULL), -ENODATA);
        assert_last_error_contains("legacy: Kiwi verity metadata is unsigned");
        vr_trust_store_done(&alpha);
        close(r.fd);
        free(m);
}

/* The superblock is not signed: it must agree with the metadata field by field. */
static void test_superblock_disagrees(void **state) {
        struct vr_kiwi_meta *m = calloc(1, sizeof(*m));
        char copy[PATH_MAX];
        snprintf(copy, sizeof(copy), "%s/sbsalt.img", dir);
        test_sh("cp %s %s", signed_img.path, copy);
        struct vr_region r = image_region(&signed_img, copy);
        unsigned char c;
        /* Salt byte 0 is at offset 88 of the superblock. */
        assert_int_equal(pread(r.fd, &c, 1, (off_t) (r.offset + signed_img.hash_offset + 88)), 1);
        c ^= 1;
        assert_int_equal(pwrite(r.fd, &c, 1, (off_t) (r.offset + signed_img.hash_offset + 88)), 1);
        assert_int_equal(vr_kiwi_read(&r, m), -EBADMSG);
        assert_last_error_contains("disagrees with the Kiwi metadata on the salt");
        close(r.fd);
        free(m);
}

static void test_layout_checks(void **state) {
        struct vr_kiwi_meta *m = calloc(1, sizeof(*m));
        struct vr_region r = image_region(&signed_img, NULL);

        /* A region ending early moves the "last 4 KiB" off the metadata. */
        r.size -= 4096;
        assert_int_equal(vr_kiwi_read(&r, m), -ENOMSG);
        r.size = 4096;
        assert_int_equal(vr_kiwi_read(&r, m), -ENOMSG);
        assert_last_error_contains("too small");
        close(r.fd);

        /* Metadata whose tree would run into the metadata block. */
        unsigned char b[VR_KIWI_BLOCK_SIZE];
        /* 200 data blocks need 3 tree blocks (2 leaves, 1 top); only 2 fit before the metadata. */
        make_block(b, GOOD_HEADER, "1 4096 4096 200 200 sha256 " ROOT_HEX " -", NULL, 0);
        unsigned char *disk = calloc(1, 203 * 4096);
        memcpy(disk + 202 * 4096, b, sizeof(b));
        struct vr_region t = test_region_from_bytes(disk, 203 * 4096, "tight");
        assert_int_equal(vr_kiwi_read(&t, m), -EBADMSG);
        assert_last_error_contains("does not end before the metadata block");
        close(t.fd);
        make_block(b, GOOD_HEADER, "1 4096 4096 200 202 sha256 " ROOT_HEX " -", NULL, 0);
        memcpy(disk + 202 * 4096, b, sizeof(b));
        t = test_region_from_bytes(disk, 203 * 4096, "past");
        assert_int_equal(vr_kiwi_read(&t, m), -EBADMSG);
        assert_last_error_contains("at or past the metadata block");
        close(t.fd);
        free(disk);
        free(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_block),
                cmocka_unit_test(test_malformed_fields),
                cmocka_unit_test(test_framing),
                cmocka_unit_test(test_signed_image),
                cmocka_unit_test(test_boot_disk_only),
                cmocka_unit_test(test_pkcs1_v15_rejected),
                cmocka_unit_test(test_hash_tree_current),
                cmocka_unit_test(test_hash_tree_legacy),
                cmocka_unit_test(test_superblock_disagrees),
                cmocka_unit_test(test_layout_checks),
        };
        vr_log_set_level(VR_LOG_WARNING);
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
