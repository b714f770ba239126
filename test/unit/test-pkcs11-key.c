/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PKCS#11 URIs: the PIN is taken out before the URI reaches the engine or a message. */
#include "testlib.h"

#include "pkcs11-key.h"

static void check_split(const char *uri, const char *want_uri, const char *want_pin) {
        _cleanup_free_ char *u = NULL, *pin = NULL;
        assert_int_equal(vr_pkcs11_uri_split_pin(uri, &u, &pin), 0);
        assert_string_equal(u, want_uri);
        if (want_pin)
                assert_string_equal(pin, want_pin);
        else
                assert_null(pin);
}

static void test_split_query_pin(void **state) {
        check_split("pkcs11:token=t;object=k?pin-value=1234", "pkcs11:token=t;object=k", "1234");
        check_split("pkcs11:token=t?pin-value=1&module-path=/m.so", "pkcs11:token=t?module-path=/m.so", "1");
        check_split("pkcs11:token=t?module-path=/m.so&pin-value=1", "pkcs11:token=t?module-path=/m.so", "1");
        check_split("pkcs11:token=t?a=1&pin-value=2&b=3", "pkcs11:token=t?a=1&b=3", "2");
}

static void test_split_path_pin(void **state) {
        check_split("pkcs11:token=t;pin-value=12%334;object=k", "pkcs11:token=t;object=k", "1234");
        check_split("pkcs11:pin-value=9;token=t", "pkcs11:token=t", "9");
        check_split("pkcs11:pin-value=9", "pkcs11:", "9");
}

static void test_split_no_pin(void **state) {
        check_split("pkcs11:token=t;object=k;type=private", "pkcs11:token=t;object=k;type=private", NULL);
        /* Only an attribute named pin-value is a PIN, not a value that contains the words. */
        check_split("pkcs11:object=my-pin-value=3", "pkcs11:object=my-pin-value=3", NULL);
        check_split("pkcs11:token=t?pin-source=file:/run/pin", "pkcs11:token=t?pin-source=file:/run/pin", NULL);
        /* A truncated escape is kept as it is. */
        check_split("pkcs11:?pin-value=1%3", "pkcs11:", "1%3");
}

static void test_not_a_uri(void **state) {
        char *u = NULL;
        assert_int_equal(vr_pkcs11_uri_split_pin("/etc/key.pem", &u, NULL), -EINVAL);
        assert_null(u);
        assert_false(vr_pkcs11_is_uri("/etc/key.pem"));
        assert_false(vr_pkcs11_is_uri("PKCS11:token=t"));
        assert_true(vr_pkcs11_is_uri("pkcs11:token=t"));
}

static void test_redact(void **state) {
        _cleanup_free_ char *r = vr_pkcs11_uri_redact("pkcs11:token=t;object=k?pin-value=secret");
        assert_string_equal(r, "pkcs11:token=t;object=k");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_split_query_pin),
                cmocka_unit_test(test_split_path_pin),
                cmocka_unit_test(test_split_no_pin),
                cmocka_unit_test(test_not_a_uri),
                cmocka_unit_test(test_redact),
        };
        vr_log_set_prefix("test-pkcs11-key");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
