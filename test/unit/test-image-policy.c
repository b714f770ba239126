/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd.image_policy= and systemd.image_filter=: parsing and the meaning systemd gives them. */
#include "testlib.h"

#include "dps.h"
#include "image-filter.h"
#include "image-policy.h"

#define USE(p, d) (vr_image_policy_get((p), (d)) & VR_POLICY_USE_MASK)

static struct vr_image_policy parse_ok(const char *s) {
        struct vr_image_policy p;
        assert_int_equal(vr_image_policy_parse(s, &p), 0);
        return p;
}

static void test_policy_special(void **state) {
        struct vr_image_policy p = parse_ok("*");
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT), VR_POLICY_OPEN);
        assert_int_equal(USE(&p, VR_DESIGNATOR_HOME), VR_POLICY_OPEN & ~(VR_POLICY_VERITY | VR_POLICY_SIGNED));
        p = parse_ok("-");
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT), VR_POLICY_IGNORE);
        p = parse_ok("");
        assert_int_equal(USE(&p, VR_DESIGNATOR_USR), VR_POLICY_IGNORE);
        p = parse_ok("~");
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT), VR_POLICY_ABSENT);
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT_VERITY_SIG), VR_POLICY_ABSENT);
        /* No policy at all: anything goes. */
        assert_int_equal(USE(NULL, VR_DESIGNATOR_ROOT), VR_POLICY_OPEN);
}

static void test_policy_rules_and_default(void **state) {
        struct vr_image_policy p = parse_ok("root=signed+read-only-on:usr=verity+signed:=unused+absent");
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT), VR_POLICY_SIGNED);
        assert_int_equal(USE(&p, VR_DESIGNATOR_USR), VR_POLICY_SIGNED | VR_POLICY_VERITY);
        assert_int_equal(USE(&p, VR_DESIGNATOR_HOME), VR_POLICY_IGNORE);
        uint32_t f = vr_image_policy_get(&p, VR_DESIGNATOR_ROOT);
        assert_true(f & VR_POLICY_READ_ONLY_ON);
        assert_false(f & VR_POLICY_READ_ONLY_OFF);
        assert_true((f & VR_POLICY_GROWFS_MASK) == VR_POLICY_GROWFS_MASK); /* unspecified: either */
        /* Listed with no flags ("-") means open, as in systemd. */
        p = parse_ok("root=-");
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT), VR_POLICY_OPEN);
        /* Default left out: unused+absent. */
        p = parse_ok("root=verity");
        assert_int_equal(USE(&p, VR_DESIGNATOR_SWAP), VR_POLICY_IGNORE);
        p = parse_ok("root=open:swap=ignore");
        assert_int_equal(USE(&p, VR_DESIGNATOR_SWAP), VR_POLICY_IGNORE);
}

/* Verity and signature partitions without a rule follow their data partition. */
static void test_policy_derived(void **state) {
        struct vr_image_policy p = parse_ok("root=signed+absent+read-only-on");
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT_VERITY), VR_POLICY_UNPROTECTED | VR_POLICY_ABSENT);
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT_VERITY_SIG), VR_POLICY_UNPROTECTED | VR_POLICY_ABSENT);
        assert_true(vr_image_policy_get(&p, VR_DESIGNATOR_ROOT_VERITY_SIG) & VR_POLICY_READ_ONLY_ON);
        assert_false(vr_image_policy_get(&p, VR_DESIGNATOR_ROOT_VERITY_SIG) & VR_POLICY_READ_ONLY_OFF);

        /* verity only: the verity partition is used, the signature falls to the default. */
        p = parse_ok("root=verity");
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT_VERITY), VR_POLICY_UNPROTECTED);
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT_VERITY_SIG), VR_POLICY_IGNORE);
        p = parse_ok("root=verity:=absent");
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT_VERITY_SIG), VR_POLICY_ABSENT);

        /* An explicit rule wins; verity/signed bits mean nothing on a verity partition. */
        p = parse_ok("root=signed:root-verity-sig=open");
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT_VERITY_SIG),
                         VR_POLICY_UNPROTECTED | VR_POLICY_UNUSED | VR_POLICY_ABSENT);
        /* Unprotected root: no verity partition may be used. */
        p = parse_ok("root=unprotected");
        assert_int_equal(USE(&p, VR_DESIGNATOR_ROOT_VERITY), VR_POLICY_IGNORE);
}

static void test_policy_invalid(void **state) {
        struct vr_image_policy p;
        assert_int_equal(vr_image_policy_parse("rot=verity", &p), -EBADSLT);
        assert_int_equal(vr_image_policy_parse("root=verity+bogus", &p), -EBADRQC);
        assert_int_equal(vr_image_policy_parse("root=verity:root=signed", &p), -ENOTUNIQ);
        assert_int_equal(vr_image_policy_parse("=absent:=unused", &p), -ENOTUNIQ);
        assert_int_equal(vr_image_policy_parse("root", &p), -EINVAL);
        assert_int_equal(vr_image_policy_parse("root=verity::", &p), -EINVAL);
        assert_int_equal(vr_image_policy_parse("root=verity+", &p), -EBADRQC);
        assert_int_equal(vr_image_policy_parse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=verity", &p), -EBADSLT);
}

static void test_policy_fstype_and_strings(void **state) {
        struct vr_image_policy p = parse_ok("root=signed+erofs+squashfs");
        uint32_t f = vr_image_policy_get(&p, VR_DESIGNATOR_ROOT);
        assert_true(f & vr_image_policy_fstype_flag("erofs"));
        assert_false(f & vr_image_policy_fstype_flag("ext4"));
        assert_int_equal(vr_image_policy_fstype_flag("ntfs"), 0);
        p = parse_ok("root=signed");
        assert_true(vr_image_policy_get(&p, VR_DESIGNATOR_ROOT) & vr_image_policy_fstype_flag("ext4"));

        char buf[128];
        assert_string_equal(vr_image_policy_flags_to_string(VR_POLICY_VERITY | VR_POLICY_UNUSED, buf, sizeof(buf)),
                            "verity+unused");
        assert_string_equal(vr_image_policy_flags_to_string(0, buf, sizeof(buf)), "-");
        assert_string_equal(vr_image_policy_flags_to_string(VR_POLICY_EXT4 | VR_POLICY_SQUASHFS | VR_POLICY_READ_ONLY_ON,
                                                            buf, sizeof(buf)), "read-only-on+ext4+squashfs");
}

static void test_policy_gpt_flags(void **state) {
        char why[160];
        struct vr_image_policy p = parse_ok("root=signed+read-only-on+growfs-off");
        uint32_t f = vr_image_policy_get(&p, VR_DESIGNATOR_ROOT);
        assert_int_equal(vr_image_policy_check_gpt_flags(f, VR_GPT_FLAG_READ_ONLY, why, sizeof(why)), 0);
        assert_int_equal(vr_image_policy_check_gpt_flags(f, 0, why, sizeof(why)), -EPERM);
        assert_non_null(strstr(why, "read-only flag is off"));
        assert_int_equal(vr_image_policy_check_gpt_flags(f, VR_GPT_FLAG_READ_ONLY | VR_GPT_FLAG_GROWFS, why,
                                                         sizeof(why)), -EPERM);
        assert_non_null(strstr(why, "growfs flag is on"));
}

static struct vr_partition part(enum vr_part_role role, const char *label) {
        struct vr_partition p = { .label = (char *) label };
        assert_int_equal(vr_dps_type("x86-64", role, &p.type), 0);
        return p;
}

static void test_filter(void **state) {
        struct vr_image_filter f;
        assert_int_equal(vr_image_filter_parse("root=os-*:usr=os_47", &f), 0);
        struct vr_partition a = part(VR_ROLE_ROOT, "os-1"), b = part(VR_ROLE_ROOT, "other"),
                            u = part(VR_ROLE_USR, "os_47"), u2 = part(VR_ROLE_USR, "os_48"),
                            h = part(VR_ROLE_ROOT_VERITY, "anything"), e = part(VR_ROLE_ROOT_VERITY, "_empty"),
                            nolabel = part(VR_ROLE_ROOT, NULL), other = { .label = (char *) "x" };
        assert_true(vr_image_filter_keeps(&f, &a));
        assert_false(vr_image_filter_keeps(&f, &b));
        assert_true(vr_image_filter_keeps(&f, &u));
        assert_false(vr_image_filter_keeps(&f, &u2));
        assert_true(vr_image_filter_keeps(&f, &h));       /* no pattern for root-verity */
        assert_false(vr_image_filter_keeps(&f, &e));      /* "_empty" never */
        assert_false(vr_image_filter_keeps(NULL, &e));
        assert_false(vr_image_filter_keeps(&f, &nolabel)); /* no label matches "" against os-* */
        assert_true(vr_image_filter_keeps(&f, &other));   /* not a DPS type discovery uses */
        vr_image_filter_done(&f);

        assert_int_equal(vr_image_filter_parse("", &f), 0);
        assert_true(vr_image_filter_keeps(&f, &b));
        vr_image_filter_done(&f);
}

static void test_filter_invalid(void **state) {
        struct vr_image_filter f;
        assert_int_equal(vr_image_filter_parse("rot=x", &f), -EBADSLT);
        assert_int_equal(vr_image_filter_parse("root=a:root=b", &f), -ENOTUNIQ);
        assert_int_equal(vr_image_filter_parse("root", &f), -EINVAL);
        assert_int_equal(vr_image_filter_parse("root=", &f), -EINVAL);
        assert_int_equal(vr_image_filter_parse("root=a::usr=b", &f), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_policy_special),
                cmocka_unit_test(test_policy_rules_and_default),
                cmocka_unit_test(test_policy_derived),
                cmocka_unit_test(test_policy_invalid),
                cmocka_unit_test(test_policy_fstype_and_strings),
                cmocka_unit_test(test_policy_gpt_flags),
                cmocka_unit_test(test_filter),
                cmocka_unit_test(test_filter_invalid),
        };
        vr_log_set_prefix("test-image-policy");
        vr_log_set_level(VR_LOG_ERR - 1);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
