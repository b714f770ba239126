/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "testlib.h"

#include <systemd/sd-gpt.h>

#include "dps.h"

/* /work/shared/notes/formats.md, copied from the spec independently of dps.c. */
static const struct {
        const char *arch;
        enum vr_part_role role;
        const char *uuid;
} known[] = {
        { "x86-64", VR_ROLE_ROOT, "4f68bce3-e8cd-4db1-96e7-fbcaf984b709" },
        { "x86-64", VR_ROLE_ROOT_VERITY, "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5" },
        { "x86-64", VR_ROLE_ROOT_VERITY_SIG, "41092b05-9fc8-4523-994f-2def0408b176" },
        { "x86-64", VR_ROLE_USR, "8484680c-9521-48c6-9c11-b0720656f69e" },
        { "x86-64", VR_ROLE_USR_VERITY, "77ff5f63-e7b6-4633-acf4-1565b864c0e6" },
        { "x86-64", VR_ROLE_USR_VERITY_SIG, "e7bb33fb-06cf-4e81-8273-e543b413e2e2" },
        { "arm64", VR_ROLE_ROOT, "b921b045-1df0-41c3-af44-4c6f280d3fae" },
        { "arm64", VR_ROLE_ROOT_VERITY, "df3300ce-d69f-4c92-978c-9bfb0f38d820" },
        { "arm64", VR_ROLE_ROOT_VERITY_SIG, "6db69de6-29f4-4758-a7a5-962190f00ce3" },
        { "arm64", VR_ROLE_USR, "b0e01050-ee5f-4390-949a-9101b17104e9" },
        { "arm64", VR_ROLE_USR_VERITY, "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e" },
        { "arm64", VR_ROLE_USR_VERITY_SIG, "c23ce4ff-44bd-4b00-b2d4-b41b3419e02a" },
};

/* Every architecture the DPS (main branch) defines, in systemd's spelling. */
static const char *const spec_arches[] = {
        "alpha", "arc", "arm", "arm64", "ia64", "loongarch64", "mips", "mips64", "mips-le", "mips64-le",
        "parisc", "ppc", "ppc64", "ppc64-le", "riscv32", "riscv64", "s390", "s390x", "tilegx", "x86", "x86-64",
};

static void test_type_from_arch_role(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                vr_id128 id;
                assert_int_equal(vr_dps_type(known[i].arch, known[i].role, &id), 0);
                assert_string_equal(VR_ID128_TO_STRING(id), known[i].uuid);
        }
}

static void test_lookup_from_type(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                vr_id128 id;
                const char *arch;
                enum vr_part_role role;

                assert_int_equal(vr_id128_from_string(known[i].uuid, &id), 0);
                assert_int_equal(vr_dps_lookup(id, &arch, &role), 0);
                assert_string_equal(arch, known[i].arch);
                assert_int_equal(role, known[i].role);
        }
}

static void test_lookup_uppercase_uuid(void **state) {
        vr_id128 id;
        const char *arch;
        enum vr_part_role role;

        assert_int_equal(vr_id128_from_string("2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5", &id), 0);
        assert_int_equal(vr_dps_lookup(id, &arch, &role), 0);
        assert_string_equal(arch, "x86-64");
        assert_int_equal(role, VR_ROLE_ROOT_VERITY);
}

static void test_lookup_unknown(void **state) {
        vr_id128 id;
        const char *arch = "x";
        enum vr_part_role role = VR_ROLE_ROOT;

        /* The ESP and the generic Linux data type are DPS types, but not verity-relevant ones. */
        assert_int_equal(vr_id128_from_string("c12a7328-f81f-11d2-ba4b-00a0c93ec93b", &id), 0);
        assert_int_equal(vr_dps_lookup(id, &arch, &role), -ENOENT);
        assert_null(arch);
        assert_int_equal(role, VR_ROLE_NONE);
        assert_int_equal(vr_id128_from_string("0fc63daf-8483-4772-8e79-3d69d8477de4", &id), 0);
        assert_int_equal(vr_dps_lookup(id, NULL, NULL), -ENOENT);
        assert_int_equal(vr_dps_lookup(VR_ID128_NULL, NULL, NULL), -ENOENT);
}

static void test_type_unknown(void **state) {
        vr_id128 id;

        assert_int_equal(vr_dps_type("x86_64", VR_ROLE_ROOT, &id), -ENOENT);
        assert_int_equal(vr_dps_type("amd64", VR_ROLE_ROOT, &id), -ENOENT);
        assert_int_equal(vr_dps_type(NULL, VR_ROLE_ROOT, &id), -ENOENT);
        assert_int_equal(vr_dps_type("x86-64", VR_ROLE_NONE, &id), -ENOENT);
        assert_int_equal(vr_dps_type("x86-64", _VR_ROLE_MAX, &id), -ENOENT);
}

static void test_every_arch_has_all_roles(void **state) {
        for (size_t a = 0; a < ELEMENTSOF(spec_arches); a++)
                for (enum vr_part_role r = 0; r < _VR_ROLE_MAX; r++) {
                        vr_id128 id;
                        const char *arch;
                        enum vr_part_role role;

                        if (vr_dps_type(spec_arches[a], r, &id) < 0)
                                fail_msg("%s has no %s type", spec_arches[a], vr_part_role_to_string(r));
                        assert_false(vr_id128_is_null(id));
                        /* Round trip: the type must map back to the same pair. */
                        assert_int_equal(vr_dps_lookup(id, &arch, &role), 0);
                        assert_string_equal(arch, spec_arches[a]);
                        assert_int_equal(role, r);
                }
}

static void test_types_unique(void **state) {
        vr_id128 all[ELEMENTSOF(spec_arches) * _VR_ROLE_MAX];
        size_t n = 0;

        for (size_t a = 0; a < ELEMENTSOF(spec_arches); a++)
                for (enum vr_part_role r = 0; r < _VR_ROLE_MAX; r++) {
                        assert_int_equal(vr_dps_type(spec_arches[a], r, &all[n]), 0);
                        for (size_t j = 0; j < n; j++)
                                if (vr_id128_equal(all[j], all[n]))
                                        fail_msg("%s %s duplicates an earlier type", spec_arches[a],
                                                 vr_part_role_to_string(r));
                        n++;
                }
}

#define SD_GPT_ARCH(name, X)                                                               \
        { name,                                                                            \
          { SD_GPT_ROOT_##X, SD_GPT_ROOT_##X##_VERITY, SD_GPT_ROOT_##X##_VERITY_SIG,       \
            SD_GPT_USR_##X, SD_GPT_USR_##X##_VERITY, SD_GPT_USR_##X##_VERITY_SIG } }

/* A second, independent source: libsystemd's sd-gpt.h constants (header only, no link)
 * must agree with our table. */
static void test_matches_sd_gpt(void **state) {
        const struct {
                const char *arch;
                sd_id128_t type[_VR_ROLE_MAX];
        } sd[] = {
                SD_GPT_ARCH("alpha", ALPHA),     SD_GPT_ARCH("arc", ARC),
                SD_GPT_ARCH("arm", ARM),         SD_GPT_ARCH("arm64", ARM64),
                SD_GPT_ARCH("ia64", IA64),       SD_GPT_ARCH("loongarch64", LOONGARCH64),
                SD_GPT_ARCH("mips", MIPS),       SD_GPT_ARCH("mips64", MIPS64),
                SD_GPT_ARCH("mips-le", MIPS_LE), SD_GPT_ARCH("mips64-le", MIPS64_LE),
                SD_GPT_ARCH("parisc", PARISC),   SD_GPT_ARCH("ppc", PPC),
                SD_GPT_ARCH("ppc64", PPC64),     SD_GPT_ARCH("ppc64-le", PPC64_LE),
                SD_GPT_ARCH("riscv32", RISCV32), SD_GPT_ARCH("riscv64", RISCV64),
                SD_GPT_ARCH("s390", S390),       SD_GPT_ARCH("s390x", S390X),
                SD_GPT_ARCH("tilegx", TILEGX),   SD_GPT_ARCH("x86", X86),
                SD_GPT_ARCH("x86-64", X86_64),
        };

        assert_int_equal(ELEMENTSOF(sd), ELEMENTSOF(spec_arches));
        for (size_t a = 0; a < ELEMENTSOF(sd); a++)
                for (enum vr_part_role r = 0; r < _VR_ROLE_MAX; r++) {
                        vr_id128 id, theirs;
                        assert_int_equal(vr_dps_type(sd[a].arch, r, &id), 0);
                        memcpy(theirs.bytes, sd[a].type[r].bytes, sizeof(theirs.bytes));
                        if (!vr_id128_equal(id, theirs))
                                fail_msg("%s %s: table has %s, sd-gpt.h has %s", sd[a].arch,
                                         vr_part_role_to_string(r), VR_ID128_TO_STRING(id),
                                         VR_ID128_TO_STRING(theirs));
                }
}

static void test_role_names(void **state) {
        assert_string_equal(vr_part_role_to_string(VR_ROLE_ROOT), "root");
        assert_string_equal(vr_part_role_to_string(VR_ROLE_ROOT_VERITY), "root-verity");
        assert_string_equal(vr_part_role_to_string(VR_ROLE_ROOT_VERITY_SIG), "root-verity-sig");
        assert_string_equal(vr_part_role_to_string(VR_ROLE_USR), "usr");
        assert_string_equal(vr_part_role_to_string(VR_ROLE_USR_VERITY), "usr-verity");
        assert_string_equal(vr_part_role_to_string(VR_ROLE_USR_VERITY_SIG), "usr-verity-sig");
        assert_null(vr_part_role_to_string(VR_ROLE_NONE));
        assert_null(vr_part_role_to_string(_VR_ROLE_MAX));
}

static void test_native_arch(void **state) {
        const char *arch = vr_dps_native_arch();
#if defined(__x86_64__)
        assert_string_equal(arch, "x86-64");
#elif defined(__aarch64__)
        assert_string_equal(arch, "arm64");
#endif
        vr_id128 id;
        assert_non_null(arch);
        assert_int_equal(vr_dps_type(arch, VR_ROLE_ROOT_VERITY_SIG, &id), 0);
        assert_memory_equal(id.bytes, SD_GPT_ROOT_NATIVE_VERITY_SIG.bytes, sizeof(id.bytes));
        assert_int_equal(vr_dps_type(arch, VR_ROLE_USR, &id), 0);
        assert_memory_equal(id.bytes, SD_GPT_USR_NATIVE.bytes, sizeof(id.bytes));
}

static void test_gpt_flags(void **state) {
        assert_true(VR_GPT_FLAG_NO_AUTO == 0x8000000000000000ULL);
        assert_true(VR_GPT_FLAG_READ_ONLY == 0x1000000000000000ULL);
        assert_true(VR_GPT_FLAG_GROWFS == 0x0800000000000000ULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_type_from_arch_role),
                cmocka_unit_test(test_lookup_from_type),
                cmocka_unit_test(test_lookup_uppercase_uuid),
                cmocka_unit_test(test_lookup_unknown),
                cmocka_unit_test(test_type_unknown),
                cmocka_unit_test(test_every_arch_has_all_roles),
                cmocka_unit_test(test_types_unique),
                cmocka_unit_test(test_matches_sd_gpt),
                cmocka_unit_test(test_role_names),
                cmocka_unit_test(test_native_arch),
                cmocka_unit_test(test_gpt_flags),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
