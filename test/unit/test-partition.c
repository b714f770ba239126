/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GPT enumeration through libblkid on images written by test/lib/mkgpt.sh (run from the
 * top of the tree). The kernel scan at boot: test-partition-kernel.c. */
#include "testlib.h"

#include "id128.h"

#define ROOT_X86_64 "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
#define ROOT_VERITY_X86_64 "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"
#define ROOT_VERITY_SIG_X86_64 "41092b05-9fc8-4523-994f-2def0408b176"
#define LINUX_DATA "0fc63daf-8483-4772-8e79-3d69d8477de4"
#define UUID_A "11111111-2222-3333-4444-555555555555"
#define UUID_B "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define UUID_C "01234567-89ab-cdef-0123-456789abcdef"
#define UUID_D "fedcba98-7654-3210-fedc-ba9876543210"

#define BIT60 (UINT64_C(1) << 60)
#define BIT63 (UINT64_C(1) << 63)
#define MiB (UINT64_C(1) << 20)

static char path_buf[8][512];

/* A scratch file name, valid until the same slot is reused. */
static const char *scratch(unsigned slot, const char *name) {
        snprintf(path_buf[slot], sizeof(path_buf[slot]), "%s/%s", test_tmpdir(), name);
        return path_buf[slot];
}

static vr_id128 id(const char *s) {
        vr_id128 r;
        assert_int_equal(vr_id128_from_string(s, &r), 0);
        return r;
}

static void assert_id_equal(vr_id128 a, const char *b) {
        if (!vr_id128_equal(a, id(b)))
                fail_msg("expected %s, got %s", b, VR_ID128_TO_STRING(a));
}

/* Four partitions, one entry number left unused (3), one unlabeled. */
static const char *make_dps_image(void) {
        const char *img = scratch(0, "dps.img");
        test_sh("test/lib/mkgpt.sh %s 16 "
                "'start=2048,size=4,type=" ROOT_X86_64 ",uuid=" UUID_A ",name=root-x86-64,attrs=GUID:60' "
                "'start=10240,size=1,type=" ROOT_VERITY_X86_64 ",uuid=" UUID_B ",name=root verity,attrs=GUID:60,GUID:63' "
                "'number=4,start=12288,size=16K,type=" ROOT_VERITY_SIG_X86_64 ",uuid=" UUID_C ",name=sig' "
                "'number=5,start=14336,size=2,type=" LINUX_DATA ",uuid=" UUID_D "'",
                img);
        return img;
}

static void assert_partition(const struct vr_partition *p, const char *img, unsigned partno, const char *type,
                             const char *uuid, const char *label, uint64_t flags, uint64_t offset, uint64_t size) {
        assert_int_equal(p->partno, partno);
        assert_id_equal(p->type, type);
        assert_id_equal(p->uuid, uuid);
        if (label)
                assert_string_equal(p->label, label);
        else
                assert_null(p->label);
        assert_int_equal(p->flags, flags);
        assert_int_equal(p->offset, offset);
        assert_int_equal(p->size, size);
        assert_string_equal(p->node, img);
        assert_string_equal(p->disk, img);
        assert_int_equal(p->node_offset, offset);
}

static void test_image_partitions(void **state) {
        const char *img = make_dps_image();
        struct vr_partition_list list = {};

        assert_int_equal(vr_partitions_from_image(img, &list), 0);
        assert_int_equal(list.n, 4);
        assert_partition(&list.items[0], img, 1, ROOT_X86_64, UUID_A, "root-x86-64", BIT60, 2048 * 512, 4 * MiB);
        assert_partition(&list.items[1], img, 2, ROOT_VERITY_X86_64, UUID_B, "root verity", BIT60 | BIT63,
                         10240 * 512, 1 * MiB);
        assert_partition(&list.items[2], img, 4, ROOT_VERITY_SIG_X86_64, UUID_C, "sig", 0, 12288 * 512, 16 * 1024);
        assert_partition(&list.items[3], img, 5, LINUX_DATA, UUID_D, NULL, 0, 14336 * 512, 2 * MiB);
        vr_partition_list_done(&list);
        assert_null(list.items);
        assert_int_equal(list.n, 0);
}

static void test_image_appends_to_list(void **state) {
        const char *img = make_dps_image();
        struct vr_partition_list list = {};

        assert_int_equal(vr_partitions_from_image(img, &list), 0);
        assert_int_equal(vr_partitions_from_image(img, &list), 0);
        assert_int_equal(list.n, 8);
        assert_int_equal(list.items[4].partno, 1);
        assert_int_equal(list.items[7].partno, 5);

        /* A failing probe leaves what the list already holds alone. */
        assert_int_equal(vr_partitions_from_image(scratch(1, "missing.img"), &list), -ENOENT);
        assert_int_equal(list.n, 8);
        vr_partition_list_done(&list);
}

static void test_image_128_partitions(void **state) {
        const char *img = scratch(0, "many.img");
        char cmd[4096];
        int len = snprintf(cmd, sizeof(cmd), "test/lib/mkgpt.sh --table-length=128 --grain=4096 %s 4", img);
        for (unsigned i = 0; i < 128; i++)
                len += snprintf(cmd + len, sizeof(cmd) - (size_t) len, " 'size=8K,name=p%u'", i + 1);
        assert_true(len < (int) sizeof(cmd));
        test_sh("%s", cmd);

        struct vr_partition_list list = {};
        assert_int_equal(vr_partitions_from_image(img, &list), 0);
        assert_int_equal(list.n, 128);
        for (unsigned i = 0; i < 128; i++) {
                char label[16];
                snprintf(label, sizeof(label), "p%u", i + 1);
                assert_int_equal(list.items[i].partno, i + 1);
                assert_string_equal(list.items[i].label, label);
                assert_int_equal(list.items[i].size, 8192);
                if (i > 0)
                        assert_int_equal(list.items[i].offset, list.items[i - 1].offset + 8192);
        }
        vr_partition_list_done(&list);
}

static void expect_no_gpt(const char *img, const char *why) {
        struct vr_partition_list list = {};
        char msg[600];

        vr_log_clear_last_error();
        assert_int_equal(vr_partitions_from_image(img, &list), -ENOMEDIUM);
        assert_int_equal(list.n, 0);
        snprintf(msg, sizeof(msg), "No partition table on %s: %s", img, why);
        assert_last_error_contains(msg);
}

static void test_image_zeros(void **state) {
        const char *img = scratch(0, "zeros.img");
        test_sh("truncate -s 1M %s", img);
        expect_no_gpt(img, "neither a GPT (with its protective MBR) nor an MBR found");
}

static void test_image_empty_and_not_a_file(void **state) {
        const char *img = scratch(0, "empty.img");
        test_sh(": > %s", img);
        expect_no_gpt(img, "the file is empty");
        expect_no_gpt(test_tmpdir(), "not a disk image (neither a regular file nor a block device)");
}

static void test_image_missing(void **state) {
        const char *img = scratch(0, "does-not-exist.img");
        struct vr_partition_list list = {};
        char msg[600];

        assert_int_equal(vr_partitions_from_image(img, &list), -ENOENT);
        snprintf(msg, sizeof(msg), "Cannot open %s: No such file or directory", img);
        assert_last_error_contains(msg);
}

/* MBR entries (Kiwi's BIOS images): primary and logical ones, not the extended container;
 * no GPT identity, so no DPS type or PARTUUID can match them. */
static void test_image_mbr(void **state) {
        const char *img = scratch(0, "mbr.img");
        struct vr_partition_list list = {};
        char buf[VR_PARTUUID_MAX], d[256];

        test_sh("test/lib/mkgpt.sh --label=dos --label-id=0x1234abcd %s 16 'start=2048,size=4,type=83' "
                "'start=10240,size=5,type=5' 'start=12288,size=1,type=8e'", img);
        assert_int_equal(vr_partitions_from_image(img, &list), 0);
        assert_int_equal(list.n, 2);
        const struct vr_partition *p = &list.items[0], *l = &list.items[1];
        assert_int_equal(p->table, VR_TABLE_MBR);
        assert_int_equal(p->partno, 1);
        assert_int_equal(p->mbr_type, 0x83);
        assert_int_equal(p->mbr_id, 0x1234abcd);
        assert_int_equal(p->offset, 2048 * 512);
        assert_int_equal(p->size, 4 * 1024 * 1024);
        assert_int_equal(p->flags, 0);
        assert_null(p->label);
        assert_true(vr_id128_is_null(p->type) && vr_id128_is_null(p->uuid));
        assert_string_equal(vr_partition_partuuid(p, buf), "1234abcd-01");
        assert_int_equal(l->partno, 5);
        assert_int_equal(l->mbr_type, 0x8e);
        assert_int_equal(l->offset, 12288 * 512);
        assert_string_equal(vr_partition_partuuid(l, buf), "1234abcd-05");
        char want[600];
        snprintf(want, sizeof(want), "partition 5 (MBR type 0x8e, PARTUUID=1234abcd-05) on %s", img);
        assert_string_equal(vr_partition_describe(l, d, sizeof(d)), want);
        vr_partition_list_done(&list);
}

static void test_image_other_table(void **state) {
        const char *img = scratch(0, "sgi.img");
        test_sh("truncate -s 4M %s && printf 'label: sgi\\n' | sfdisk -q %s", img, img);
        expect_no_gpt(img, "found a \"sgi\" partition table, neither a GPT nor an MBR");
}

static void flip_byte(const char *img, uint64_t offset) {
        int fd = open(img, O_RDWR | O_CLOEXEC);
        unsigned char b;
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, &b, 1, (off_t) offset), 1);
        b ^= 0xff;
        assert_int_equal(pwrite(fd, &b, 1, (off_t) offset), 1);
        close(fd);
}

/* libblkid falls back to the backup header at the last LBA when the primary one's CRC
 * fails, and gives up with "PMBR" when both are bad. */
static void test_image_corrupt_primary_header(void **state) {
        const char *img = make_dps_image();
        struct vr_partition_list list = {};

        flip_byte(img, 512 + 24); /* MyLBA in the primary header: its CRC no longer matches */
        assert_int_equal(vr_partitions_from_image(img, &list), 0);
        assert_int_equal(list.n, 4);
        assert_partition(&list.items[1], img, 2, ROOT_VERITY_X86_64, UUID_B, "root verity", BIT60 | BIT63,
                         10240 * 512, 1 * MiB);
        vr_partition_list_done(&list);

        flip_byte(img, 16 * MiB - 512 + 24);
        expect_no_gpt(img, "protective MBR found, but neither the primary nor the backup GPT header is valid");
}

static void test_image_corrupt_primary_entries(void **state) {
        const char *img = make_dps_image();
        struct vr_partition_list list = {};

        flip_byte(img, 2 * 512 + 128 + 56); /* name of entry 2: the entry array CRC fails */
        assert_int_equal(vr_partitions_from_image(img, &list), 0);
        assert_int_equal(list.n, 4);
        assert_string_equal(list.items[1].label, "root verity");
        vr_partition_list_done(&list);
}

/* Truncating an image drops its backup header; the primary one then points past the end. */
static void test_image_truncated(void **state) {
        const char *img = make_dps_image();
        test_sh("truncate -s 4M %s", img);
        expect_no_gpt(img, "protective MBR found, but neither the primary nor the backup GPT header is valid");
}

/* libblkid insists on a protective MBR before it reads a GPT, as udev's probe does. */
static void test_image_no_protective_mbr(void **state) {
        const char *img = make_dps_image();
        test_sh("dd if=/dev/zero of=%s bs=512 count=1 conv=notrunc status=none", img);
        expect_no_gpt(img, "neither a GPT (with its protective MBR) nor an MBR found");
}

static void test_describe(void **state) {
        struct vr_partition p = {
                .partno = 3,
                .type = id(ROOT_VERITY_X86_64),
                .uuid = id(UUID_B),
                .label = (char *) "root-verity",
                .disk = (char *) "disk.img",
        };
        char buf[256];

        assert_string_equal(vr_partition_describe(&p, buf, sizeof(buf)),
                            "partition 3 \"root-verity\" (root-verity-x86-64, PARTUUID=" UUID_B ") on disk.img");
        p.label = NULL;
        assert_string_equal(vr_partition_describe(&p, buf, sizeof(buf)),
                            "partition 3 (root-verity-x86-64, PARTUUID=" UUID_B ") on disk.img");
        /* Truncated, still terminated. */
        assert_ptr_equal(vr_partition_describe(&p, buf, 12), buf);
        assert_string_equal(buf, "partition 3");
}

/* A label is the attacker's: escaped, and never long enough to push out PARTUUID and disk. */
static void test_describe_escapes_label(void **state) {
        struct vr_partition p = {
                .partno = 3,
                .type = id(ROOT_VERITY_X86_64),
                .uuid = id(UUID_B),
                .label = (char *) "a\x1b[31m\nb\xff\"c\\",
                .disk = (char *) "disk.img",
        };
        char buf[256], label[109];

        assert_string_equal(vr_partition_describe(&p, buf, sizeof(buf)),
                            "partition 3 \"a\\x1b[31m\\x0ab\\xff\\\"c\\\\\" (root-verity-x86-64, PARTUUID=" UUID_B
                            ") on disk.img");
        /* 36 UTF-16 characters of a GPT name are at most 108 bytes of UTF-8. */
        memset(label, 0xff, sizeof(label) - 1);
        label[sizeof(label) - 1] = 0;
        p.label = label;
        vr_partition_describe(&p, buf, sizeof(buf));
        assert_non_null(strstr(buf, "\\xff...\" (root-verity-x86-64, PARTUUID=" UUID_B ") on disk.img"));
}

static void test_open(void **state) {
        const char *img = make_dps_image();
        struct vr_partition_list list = {};
        struct vr_region region;
        char what[256], expect[256];
        unsigned char buf[8];

        /* Mark the first bytes of the verity partition and the byte just before it. */
        test_sh("printf 'Xverity!' | dd of=%s bs=1 seek=%llu conv=notrunc status=none", img,
                (unsigned long long) (10240 * 512 - 1));
        assert_int_equal(vr_partitions_from_image(img, &list), 0);
        assert_int_equal(vr_partition_open(&list.items[1], &region, what, sizeof(what)), 0);
        assert_true(region.fd >= 0);
        assert_int_equal(region.offset, 10240 * 512);
        assert_int_equal(region.size, 1 * MiB);
        assert_ptr_equal(region.what, what);
        assert_string_equal(what, vr_partition_describe(&list.items[1], expect, sizeof(expect)));
        assert_int_equal(vr_pread_full(region.fd, buf, 7, region.offset), 0);
        assert_memory_equal(buf, "verity!", 7);
        assert_int_equal(fcntl(region.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        close(region.fd);

        /* The image lost its tail after probing: the partition no longer fits. */
        test_sh("truncate -s 8M %s", img);
        assert_int_equal(vr_partition_open(&list.items[3], &region, what, sizeof(what)), -ERANGE);
        snprintf(expect, sizeof(expect), "partition 5 (type " LINUX_DATA ", PARTUUID=" UUID_D ") on %s ends at byte %llu, past the end of %s (%llu bytes)",
                 img, (unsigned long long) (14336 * 512 + 2 * MiB), img, (unsigned long long) (8 * MiB));
        assert_last_error_contains(expect);

        test_sh("rm -f %s", img);
        assert_int_equal(vr_partition_open(&list.items[0], &region, what, sizeof(what)), -ENOENT);
        snprintf(expect, sizeof(expect), "Failed to open %s for partition 1 \"root-x86-64\"", img);
        assert_last_error_contains(expect);
        assert_last_error_contains("No such file or directory");
        vr_partition_list_done(&list);
}

static void test_list_append(void **state) {
        struct vr_partition_list list = {};

        for (unsigned i = 1; i <= 20; i++) {
                struct vr_partition p = { .partno = i, .node = strdup("/dev/vda"), .disk = strdup("/dev/vda") };
                if (i % 2)
                        p.label = strdup("odd");
                assert_int_equal(vr_partition_list_append(&list, &p), 0);
                /* Ownership moved: the source is zeroed, so freeing it again is harmless. */
                assert_null(p.node);
                assert_null(p.label);
                assert_int_equal(p.partno, 0);
                vr_partition_done(&p);
        }
        assert_int_equal(list.n, 20);
        assert_int_equal(list.items[19].partno, 20);
        assert_string_equal(list.items[18].label, "odd");
        assert_null(list.items[19].label);
        vr_partition_list_done(&list);
        vr_partition_list_done(&list);
}

static int teardown(void **state) {
        test_sh("rm -rf %s", test_tmpdir());
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_image_partitions),
                cmocka_unit_test(test_image_appends_to_list),
                cmocka_unit_test(test_image_128_partitions),
                cmocka_unit_test(test_image_zeros),
                cmocka_unit_test(test_image_empty_and_not_a_file),
                cmocka_unit_test(test_image_missing),
                cmocka_unit_test(test_image_mbr),
                cmocka_unit_test(test_image_other_table),
                cmocka_unit_test(test_image_corrupt_primary_header),
                cmocka_unit_test(test_image_corrupt_primary_entries),
                cmocka_unit_test(test_image_truncated),
                cmocka_unit_test(test_image_no_protective_mbr),
                cmocka_unit_test(test_describe),
                cmocka_unit_test(test_describe_escapes_label),
                cmocka_unit_test(test_open),
                cmocka_unit_test(test_list_append),
        };

        vr_log_set_level(getenv("VR_TEST_VERBOSE") ? VR_LOG_DEBUG : VR_LOG_ERR - 1); /* the failures are expected; keep the output readable */
        return cmocka_run_group_tests(tests, NULL, teardown);
}
