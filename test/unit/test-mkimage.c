/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The build side: signing, GPT writing, spawning mkfs tools and whole images, each image
 * read back with the boot side's own readers (libblkid partitions, discover rules). */
#include "testlib.h"

#include "discover.h"
#include "dps.h"
#include "gpt-write.h"
#include "mkfs.h"
#include "spawn.h"
#include "mkimage.h"
#include "sign.h"
#include "signature.h"

#define H1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char keys[512], trust[512], rootdir[512];

static int group_setup(void **state) {
        snprintf(keys, sizeof(keys), "%s/keys", test_tmpdir());
        snprintf(trust, sizeof(trust), "%s/trust", test_tmpdir());
        snprintf(rootdir, sizeof(rootdir), "%s/root", test_tmpdir());
        test_sh("mkdir -p %s %s %s/etc %s/usr/lib", keys, trust, rootdir, rootdir);
        test_sh("test/lib/mkcert.sh %s alpha rsa2048 && test/lib/mkcert.sh %s beta ec256 && "
                "test/lib/mkcert.sh %s rogue rsa2048", keys, keys, keys);
        test_sh("cp %s/alpha.crt %s/beta.crt %s/", keys, keys, trust);
        test_sh("echo ID=unit > %s/usr/lib/os-release && head -c 300000 /dev/urandom > %s/blob", rootdir, rootdir);
        vr_log_set_level(VR_LOG_WARNING);
        return 0;
}

static int group_teardown(void **state) {
        test_sh("rm -rf %s", test_tmpdir());
        return 0;
}

static void sign_and_verify(const char *name, const char *want_signer) {
        _cleanup_(vr_trust_store_done) struct vr_trust_store ts = {};
        _cleanup_free_ void *buf = NULL;
        _cleanup_free_ char *signer = NULL, *verified_by = NULL;
        struct vr_signature sig = {};
        char key[600], crt[600];
        size_t len = VR_SIGNATURE_PARTITION_SIZE;

        snprintf(key, sizeof(key), "%s/%s.key", keys, name);
        snprintf(crt, sizeof(crt), "%s/%s.crt", keys, name);
        assert_int_equal(vr_sign_roothash(key, crt, H1, len, &buf, &signer), 0);
        assert_string_equal(signer, want_signer);
        assert_int_equal(len % 4096, 0);
        size_t text = strlen(buf);
        for (size_t i = text; i < len; i++)
                assert_int_equal(((unsigned char *) buf)[i], 0);

        assert_int_equal(vr_signature_parse(buf, len, "test", &sig), 0);
        assert_string_equal(sig.root_hash, H1);
        assert_true(sig.has_fingerprint);
        assert_int_equal(vr_trust_store_load(trust, &ts), 0);
        assert_int_equal(vr_signature_verify(&sig, &ts, "test", &verified_by), 0);
        assert_non_null(strstr(verified_by, want_signer));
        vr_signature_done(&sig);
}

static void test_sign_rsa_verifies_and_is_deterministic(void **state) {
        _cleanup_free_ void *a = NULL, *b = NULL;
        size_t la = VR_SIGNATURE_PARTITION_SIZE, lb = VR_SIGNATURE_PARTITION_SIZE;
        char key[600], crt[600];

        sign_and_verify("alpha", "CN=alpha");
        snprintf(key, sizeof(key), "%s/alpha.key", keys);
        snprintf(crt, sizeof(crt), "%s/alpha.crt", keys);
        assert_int_equal(vr_sign_roothash(key, crt, H1, la, &a, NULL), 0);
        assert_int_equal(vr_sign_roothash(key, crt, H1, lb, &b, NULL), 0);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        /* The exact key order systemd-repart writes. */
        assert_true(strncmp(a, "{\"rootHash\":\"" H1 "\",\"certificateFingerprint\":\"", 98) == 0);
}

static void test_sign_ecdsa_verifies(void **state) {
        sign_and_verify("beta", "CN=beta");
}

static void test_sign_refusals(void **state) {
        void *buf = NULL;
        size_t len = VR_SIGNATURE_PARTITION_SIZE;
        char key[600], crt[600];

        snprintf(key, sizeof(key), "%s/rogue.key", keys);
        snprintf(crt, sizeof(crt), "%s/alpha.crt", keys);
        assert_int_equal(vr_sign_roothash(key, crt, H1, len, &buf, NULL), -EKEYREJECTED);
        assert_last_error_contains("does not belong to certificate");
        snprintf(key, sizeof(key), "%s/missing.key", keys);
        assert_int_equal(vr_sign_roothash(key, crt, H1, len, &buf, NULL), -ENOENT);
        assert_last_error_contains("cannot open private key");
        /* A certificate is not a key. */
        assert_int_equal(vr_sign_roothash(crt, crt, H1, len, &buf, NULL), -EBADMSG);
        assert_last_error_contains("is not a PEM private key");
        /* Too small a partition: refused with both sizes, nothing returned. */
        snprintf(key, sizeof(key), "%s/alpha.key", keys);
        assert_int_equal(vr_sign_roothash(key, crt, H1, 1024, &buf, NULL), -E2BIG);
        assert_last_error_contains("the signature partition holds 1024");
        assert_null(buf);
}

static void test_spawn(void **state) {
        char *const ok[] = { "true", NULL };
        char *const bad[] = { "false", NULL };
        char *const missing[] = { "vr-no-such-tool", NULL };
        char *const env[] = { "VR_SPAWN_TEST=42", NULL };
        char *const check_env[] = { "sh", "-c", "test \"$VR_SPAWN_TEST\" = 42", NULL };

        assert_int_equal(vr_spawn(ok, NULL), 0);
        assert_int_equal(vr_spawn(bad, NULL), -EIO);
        assert_last_error_contains("false failed with exit status 1");
        assert_int_equal(vr_spawn(missing, NULL), -EIO);
        assert_last_error_contains("vr-no-such-tool could not be run");
        assert_int_equal(vr_spawn(check_env, env), 0);
}

static void test_gpt_write_exact_sizes(void **state) {
        _cleanup_(vr_partition_list_done) struct vr_partition_list parts = {};
        char path[600];
        struct vr_gpt_entry e[2] = {
                { .offset = 1 << 20, .size = 1503232, .name = "first", .attrs = VR_GPT_FLAG_READ_ONLY },
                { .offset = 3 << 20, .size = 4096, .name = "second" },
        };
        vr_id128 disk = VR_ID128_MAKE(11,22,33,44,55,66,47,88,99,aa,bb,cc,dd,ee,ff,00);

        assert_int_equal(vr_dps_type("x86-64", VR_ROLE_ROOT, &e[0].type), 0);
        assert_int_equal(vr_dps_type("x86-64", VR_ROLE_ROOT_VERITY, &e[1].type), 0);
        e[0].uuid = VR_ID128_MAKE(01,02,03,04,05,06,47,08,89,0a,0b,0c,0d,0e,0f,10);
        e[1].uuid = VR_ID128_MAKE(a1,02,03,04,05,06,47,08,89,0a,0b,0c,0d,0e,0f,10);
        snprintf(path, sizeof(path), "%s/gpt.img", test_tmpdir());
        test_sh("truncate -s 8M %s", path);
        assert_int_equal(vr_gpt_write(path, disk, e, 2), 0);
        assert_int_equal(vr_partitions_from_image(path, &parts), 0);
        assert_int_equal(parts.n, 2);
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(parts.items[i].offset, e[i].offset);
                assert_int_equal(parts.items[i].size, e[i].size);
                assert_true(vr_id128_equal(parts.items[i].type, e[i].type));
                assert_true(vr_id128_equal(parts.items[i].uuid, e[i].uuid));
                assert_string_equal(parts.items[i].label, e[i].name);
                assert_int_equal(parts.items[i].flags, e[i].attrs);
        }
        test_sh("sfdisk -d %s | grep -qi 'label-id: 11223344-5566-4788-99AA-BBCCDDEEFF00'", path);

        char missing[700];
        snprintf(missing, sizeof(missing), "%s/nope/gpt.img", test_tmpdir());
        assert_true(vr_gpt_write(missing, disk, e, 2) < 0);
        assert_last_error_contains("cannot open");
}

static void build(const char *name, bool appended, bool sign, struct vr_mkimage_result *res, char *out, size_t outlen) {
        char key[600], crt[600];
        snprintf(out, outlen, "%s/%s.img", test_tmpdir(), name);
        snprintf(key, sizeof(key), "%s/alpha.key", keys);
        snprintf(crt, sizeof(crt), "%s/alpha.crt", keys);
        struct vr_mkimage_config c = {
                .root = rootdir, .out = out, .fs = VR_FS_EROFS, .appended = appended,
                .key = sign ? key : NULL, .cert = sign ? crt : NULL,
        };
        assert_int_equal(vr_mkimage(&c, res), 0);
}

static void test_mkimage_split_signed(void **state) {
        _cleanup_(vr_partition_list_done) struct vr_partition_list parts = {};
        _cleanup_(vr_trust_store_done) struct vr_trust_store ts = {};
        struct vr_mkimage_result res;
        struct vr_verdict v = {};
        char img[600];
        const enum vr_part_role roles[] = { VR_ROLE_ROOT, VR_ROLE_ROOT_VERITY, VR_ROLE_ROOT_VERITY_SIG };
        const char *labels[] = { "root-x86-64", "root-x86-64-verity", "root-x86-64-verity-sig" };

        build("split", false, true, &res, img, sizeof(img));
        assert_string_equal(res.signer, "CN=alpha");
        assert_int_equal(vr_partitions_from_image(img, &parts), 0);
        assert_int_equal(parts.n, 3);
        for (size_t i = 0; i < 3; i++) {
                vr_id128 t;
                assert_int_equal(vr_dps_type("x86-64", roles[i], &t), 0);
                assert_true(vr_id128_equal(parts.items[i].type, t));
                assert_string_equal(parts.items[i].label, labels[i]);
                assert_true(parts.items[i].flags & VR_GPT_FLAG_READ_ONLY);
                assert_int_equal(parts.items[i].offset % (1 << 20), 0);
        }
        assert_memory_equal(parts.items[0].uuid.bytes, res.roothash.bytes, 16);
        assert_memory_equal(parts.items[1].uuid.bytes, res.roothash.bytes + 16, 16);

        assert_int_equal(vr_trust_store_load(trust, &ts), 0);
        struct vr_discover_config cfg = { .target = VR_TARGET_ROOT, .arch = "x86-64", .sig = VR_SIG_REQUIRED,
                                          .trust = &ts, .deep = true };
        assert_int_equal(vr_discover(&parts, &cfg, &v), 0);
        assert_int_equal(v.source, VR_HASH_SOURCE_SIGNATURE);
        assert_string_equal(v.roothash_hex, res.roothash_hex);
        assert_false(v.appended);
        vr_verdict_done(&v);
        vr_mkimage_result_done(&res);
}

static void test_mkimage_appended(void **state) {
        _cleanup_(vr_partition_list_done) struct vr_partition_list parts = {};
        struct vr_mkimage_result res;
        struct vr_verdict v = {};
        char img[600];

        build("appended", true, false, &res, img, sizeof(img));
        assert_null(res.signer);
        assert_int_equal(res.hash_offset, (res.fs_size + 4095) / 4096 * 4096);
        assert_int_equal(vr_partitions_from_image(img, &parts), 0);
        assert_int_equal(parts.n, 1);
        struct vr_discover_config cfg = { .target = VR_TARGET_ROOT, .arch = "x86-64", .trusted_hash = res.roothash_hex,
                                          .sig = VR_SIG_OPTIONAL, .deep = true };
        assert_int_equal(vr_discover(&parts, &cfg, &v), 0);
        assert_true(v.appended);
        assert_int_equal(v.params.hash_offset, res.hash_offset);
        vr_verdict_done(&v);
}

static void test_mkimage_reproducible(void **state) {
        struct vr_mkimage_result a, b, c;
        char ia[600], ib[600], ic[600];

        build("repro-a", false, true, &a, ia, sizeof(ia));
        build("repro-b", false, true, &b, ib, sizeof(ib));
        test_sh("cmp %s %s", ia, ib);
        assert_true(vr_id128_equal(a.disk_guid, b.disk_guid));

        snprintf(ic, sizeof(ic), "%s/seeded.img", test_tmpdir());
        struct vr_mkimage_config cfg = { .root = rootdir, .out = ic, .fs = VR_FS_EROFS,
                                         .seed = VR_ID128_MAKE(0b,6f,1c,35,3a,1e,4a,43,9a,69,5f,4b,2f,d1,d2,a4) };
        assert_int_equal(vr_mkimage(&cfg, &c), 0);
        assert_string_not_equal(c.roothash_hex, a.roothash_hex); /* another salt */
        assert_false(vr_id128_equal(c.disk_guid, a.disk_guid));
        vr_mkimage_result_done(&a);
        vr_mkimage_result_done(&b);
        vr_mkimage_result_done(&c);
}

static void test_mkimage_refusals(void **state) {
        struct vr_mkimage_result res;
        char out[600], key[600];
        snprintf(out, sizeof(out), "%s/refused.img", test_tmpdir());
        snprintf(key, sizeof(key), "%s/alpha.key", keys);

        struct vr_mkimage_config c = { .root = rootdir, .out = out, .key = key };
        assert_int_equal(vr_mkimage(&c, &res), -EINVAL);
        assert_last_error_contains("--key and --cert go together");

        c = (struct vr_mkimage_config) { .root = rootdir, .out = out, .arch = "vax" };
        assert_int_equal(vr_mkimage(&c, &res), -EINVAL);
        assert_last_error_contains("\"vax\" is not an architecture of the DPS");

        c = (struct vr_mkimage_config) { .root = "/nonexistent/root", .out = out };
        assert_int_equal(vr_mkimage(&c, &res), -ENOENT);
        assert_last_error_contains("--root /nonexistent/root");

        char empty[600];
        snprintf(empty, sizeof(empty), "%s/empty.fs", test_tmpdir());
        test_sh(": > %s", empty);
        c = (struct vr_mkimage_config) { .root = empty, .out = out };
        assert_int_equal(vr_mkimage(&c, &res), -EINVAL);
        assert_last_error_contains("is an empty file");

        /* Nothing left behind: no image, no scratch directory. */
        test_sh("! ls -A %s | grep -E '^(refused\\.img|\\.mkimage)'", test_tmpdir());
}

static void test_fs_type_names(void **state) {
        enum vr_fs_type t;
        for (int i = 0; i < _VR_FS_MAX; i++) {
                assert_int_equal(vr_fs_type_from_string(vr_fs_type_to_string(i), &t), 0);
                assert_int_equal(t, i);
        }
        assert_int_equal(vr_fs_type_from_string("btrfs", &t), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sign_rsa_verifies_and_is_deterministic),
                cmocka_unit_test(test_sign_ecdsa_verifies),
                cmocka_unit_test(test_sign_refusals),
                cmocka_unit_test(test_spawn),
                cmocka_unit_test(test_gpt_write_exact_sizes),
                cmocka_unit_test(test_mkimage_split_signed),
                cmocka_unit_test(test_mkimage_appended),
                cmocka_unit_test(test_mkimage_reproducible),
                cmocka_unit_test(test_mkimage_refusals),
                cmocka_unit_test(test_fs_type_names),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
