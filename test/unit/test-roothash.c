/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "testlib.h"

#include "id128.h"

#include "roothash.h"

/* A sha256 root hash as veritysetup prints it, and the PARTUUIDs systemd-repart would
 * give its partitions (first and last 16 bytes, no version bits touched). */
#define HASH256 "8a7f2c0de5b3f1a49c6e0d2b7a4f918e3c5d6b7a8f9e0d1c2b3a4f5e6d7c8b9a"
#define HASH256_DATA_UUID "8a7f2c0d-e5b3-f1a4-9c6e-0d2b7a4f918e"
#define HASH256_VERITY_UUID "3c5d6b7a-8f9e-0d1c-2b3a-4f5e6d7c8b9a"

static char *hex_of_len(size_t digits) {
        char *s = malloc(digits + 1);
        assert_non_null(s);
        for (size_t i = 0; i < digits; i++)
                s[i] = "0123456789abcdef"[i % 16];
        s[digits] = 0;
        return s;
}

static int setup(void **state) {
        vr_log_clear_last_error();
        return 0;
}

static void test_algorithm_sizes(void **state) {
        assert_int_equal(vr_hash_algorithm_size("sha1"), 20);
        assert_int_equal(vr_hash_algorithm_size("sha224"), 28);
        assert_int_equal(vr_hash_algorithm_size("sha256"), 32);
        assert_int_equal(vr_hash_algorithm_size("sha384"), 48);
        assert_int_equal(vr_hash_algorithm_size("sha512"), 64);
        assert_int_equal(vr_hash_algorithm_size("sha3-256"), 32);
}

static void test_algorithm_unknown(void **state) {
        assert_int_equal(vr_hash_algorithm_size(NULL), 0);
        assert_int_equal(vr_hash_algorithm_size(""), 0);
        /* OpenSSL knows these, dm-verity must not be handed them. */
        assert_int_equal(vr_hash_algorithm_size("shake256"), 0);
        assert_int_equal(vr_hash_algorithm_size("md5-sha1"), 0);
        assert_int_equal(vr_hash_algorithm_size("SHA256"), 0);
        assert_int_equal(vr_hash_algorithm_size("crc32"), 0);
}

static void test_length_per_algorithm(void **state) {
        static const char *const algs[] = { "sha1", "sha256", "sha384", "sha512" };
        struct vr_roothash h;

        for (size_t i = 0; i < ELEMENTSOF(algs); i++) {
                size_t n = vr_hash_algorithm_size(algs[i]);
                _cleanup_free_ char *good = hex_of_len(2 * n);
                _cleanup_free_ char *shorter = hex_of_len(2 * n - 2);
                _cleanup_free_ char *longer = hex_of_len(2 * n + 2);

                assert_int_equal(vr_roothash_parse(good, algs[i], "roothash=", &h), 0);
                assert_int_equal(h.len, n);
                assert_int_equal(vr_roothash_parse(shorter, algs[i], "roothash=", &h), -EINVAL);
                assert_last_error_contains(algs[i]);
                assert_int_equal(vr_roothash_parse(longer, algs[i], "roothash=", &h), -EINVAL);
                assert_last_error_contains(algs[i]);
        }
}

static void test_length_message(void **state) {
        _cleanup_free_ char *hex = hex_of_len(63);
        struct vr_roothash h;

        assert_int_equal(vr_roothash_parse(hex, "sha256", "roothash=", &h), -EINVAL);
        assert_last_error_contains("roothash=: 63 hex digits, sha256 needs 64");
        assert_int_equal(h.len, 0);
}

static void test_unknown_algorithm(void **state) {
        struct vr_roothash h;

        assert_int_equal(vr_roothash_parse(HASH256, "whirlpool", "superblock", &h), -EINVAL);
        assert_last_error_contains("superblock: unknown or unsupported hash algorithm \"whirlpool\"");
}

static void test_no_algorithm_sizes(void **state) {
        static const size_t ok[] = { 64, 96, 128 };
        static const size_t bad[] = { 2, 32, 56, 62, 66, 130, 256 };
        struct vr_roothash h;

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_free_ char *hex = hex_of_len(ok[i]);
                assert_int_equal(vr_roothash_parse(hex, NULL, "roothash=", &h), 0);
                assert_int_equal(h.len, ok[i] / 2);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *hex = hex_of_len(bad[i]);
                char expect[64];
                vr_log_clear_last_error();
                assert_int_equal(vr_roothash_parse(hex, NULL, "roothash=", &h), -EINVAL);
                snprintf(expect, sizeof(expect), "roothash=: %zu hex digits, expected 64, 96 or 128", bad[i]);
                assert_last_error_contains(expect);
        }
}

static void test_no_algorithm_sha1_refused(void **state) {
        _cleanup_free_ char *hex = hex_of_len(40);
        struct vr_roothash h;

        assert_int_equal(vr_roothash_parse(hex, NULL, "roothash=", &h), -EINVAL);
        assert_last_error_contains("40 hex digits (sha1) is too short to derive both the data and the verity PARTUUID");
}

static void test_odd_length(void **state) {
        _cleanup_free_ char *hex = hex_of_len(65);
        struct vr_roothash h;

        assert_int_equal(vr_roothash_parse(hex, NULL, "usrhash=", &h), -EINVAL);
        assert_last_error_contains("usrhash=: 65 hex digits, an odd number");
}

static void test_empty(void **state) {
        struct vr_roothash h;

        assert_int_equal(vr_roothash_parse("", NULL, "roothash=", &h), -EINVAL);
        assert_last_error_contains("roothash=: empty");
        assert_int_equal(vr_roothash_parse(NULL, "sha256", "roothash=", &h), -EINVAL);
        assert_last_error_contains("roothash=: empty");
}

static void test_case_insensitive(void **state) {
        struct vr_roothash lower, upper, mixed;
        char buf[2 * VR_ROOTHASH_MAX + 1];

        assert_int_equal(vr_roothash_parse(HASH256, "sha256", "roothash=", &lower), 0);
        assert_int_equal(vr_roothash_parse("8A7F2C0DE5B3F1A49C6E0D2B7A4F918E3C5D6B7A8F9E0D1C2B3A4F5E6D7C8B9A",
                                           "sha256", "roothash=", &upper), 0);
        assert_int_equal(vr_roothash_parse("8a7F2c0De5B3f1A49c6E0d2B7a4F918e3C5d6B7a8F9e0D1c2B3a4F5e6D7c8B9a",
                                           NULL, "roothash=", &mixed), 0);
        assert_int_equal(lower.len, 32);
        assert_memory_equal(lower.bytes, upper.bytes, 32);
        assert_memory_equal(lower.bytes, mixed.bytes, 32);
        assert_int_equal(lower.bytes[0], 0x8a);
        assert_int_equal(lower.bytes[31], 0x9a);
        assert_string_equal(vr_roothash_to_string(&upper, buf), HASH256);
}

static void test_bad_char_position(void **state) {
        struct vr_roothash h;
        char hex[] = HASH256;

        hex[9] = 'g';
        assert_int_equal(vr_roothash_parse(hex, "sha256", "roothash=", &h), -EINVAL);
        assert_last_error_contains("roothash=: 'g' at position 10 is not a hex digit");

        hex[9] = ' ';
        assert_int_equal(vr_roothash_parse(hex, NULL, "roothash=", &h), -EINVAL);
        assert_last_error_contains("' ' at position 10");

        hex[9] = '5';
        hex[0] = '\x01';
        assert_int_equal(vr_roothash_parse(hex, NULL, "roothash=", &h), -EINVAL);
        assert_last_error_contains("byte 0x01 at position 1 is not a hex digit");
}

static void test_prefix_0x_refused(void **state) {
        struct vr_roothash h;

        assert_int_equal(vr_roothash_parse("0x8a7f2c0de5b3f1a49c6e0d2b7a4f918e3c5d6b7a8f9e0d1c2b3a4f5e6d7c8b", NULL,
                                           "roothash=", &h), -EINVAL);
        assert_last_error_contains("'x' at position 2");
}

static void test_uuid_derivation(void **state) {
        struct vr_roothash h;
        unsigned char data[16], verity[16];
        vr_id128 id;

        assert_int_equal(vr_roothash_parse(HASH256, NULL, "roothash=", &h), 0);
        vr_roothash_data_uuid(&h, data);
        vr_roothash_verity_uuid(&h, verity);

        memcpy(id.bytes, data, 16);
        assert_string_equal(VR_ID128_TO_STRING(id), HASH256_DATA_UUID);
        memcpy(id.bytes, verity, 16);
        assert_string_equal(VR_ID128_TO_STRING(id), HASH256_VERITY_UUID);
}

static void test_uuid_derivation_sha512(void **state) {
        _cleanup_free_ char *hex = hex_of_len(128);
        struct vr_roothash h;
        unsigned char data[16], verity[16];
        vr_id128 id;

        assert_int_equal(vr_roothash_parse(hex, "sha512", "roothash=", &h), 0);
        vr_roothash_data_uuid(&h, data);
        vr_roothash_verity_uuid(&h, verity);
        memcpy(id.bytes, data, 16);
        assert_string_equal(VR_ID128_TO_STRING(id), "01234567-89ab-cdef-0123-456789abcdef");
        /* Bytes 48..63 are hex digits 96..127: the same pattern again. */
        memcpy(id.bytes, verity, 16);
        assert_string_equal(VR_ID128_TO_STRING(id), "01234567-89ab-cdef-0123-456789abcdef");
        assert_memory_equal(verity, h.bytes + 48, 16);
}

static void test_to_string_roundtrip(void **state) {
        _cleanup_free_ char *hex = hex_of_len(96);
        struct vr_roothash h;
        char buf[2 * VR_ROOTHASH_MAX + 1];

        assert_int_equal(vr_roothash_parse(hex, "sha384", "roothash=", &h), 0);
        assert_string_equal(vr_roothash_to_string(&h, buf), hex);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_algorithm_sizes),
                T(test_algorithm_unknown),
                T(test_length_per_algorithm),
                T(test_length_message),
                T(test_unknown_algorithm),
                T(test_no_algorithm_sizes),
                T(test_no_algorithm_sha1_refused),
                T(test_odd_length),
                T(test_empty),
                T(test_case_insensitive),
                T(test_bad_char_position),
                T(test_prefix_0x_refused),
                T(test_uuid_derivation),
                T(test_uuid_derivation_sha512),
                T(test_to_string_roundtrip),
        };
        vr_log_set_prefix("test-roothash");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
