/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel scan on a fake sysfs tree in a scratch directory, with image files written by
 * test/lib/mkgpt.sh standing in for the device nodes (nodes_may_be_files). */
#include <sys/sysmacros.h>

#include "testlib.h"

#include "partition-kernel.h"

#define ROOT_X86_64 "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
#define ROOT_VERITY_X86_64 "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"
#define UUID_A "11111111-2222-3333-4444-555555555555"
#define UUID_B "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define MiB (UINT64_C(1) << 20)

static char sysfs[512], devdir[512];
static unsigned tree;

/* A fresh sys/ and dev/ pair for each test. */
static int setup(void **state) {
        snprintf(sysfs, sizeof(sysfs), "%s/t%u/sys", test_tmpdir(), tree);
        snprintf(devdir, sizeof(devdir), "%s/t%u/dev", test_tmpdir(), tree);
        tree++;
        test_sh("mkdir -p %s/class/block %s", sysfs, devdir);
        return 0;
}

static void write_file(const char *dir, const char *name, const char *fmt, ...) {
        char path[1024];
        va_list ap;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        assert_int_equal(fclose(f), 0);
}

/* A whole disk in sysfs; its node is devdir/devname, left to the caller. Returns its
 * sysfs directory. */
static const char *add_disk(const char *sysname, const char *devname, unsigned minor, uint64_t sectors,
                            const char *ext_range) {
        static char dir[8][1024];
        static unsigned slot;
        char *d = dir[slot++ % 8];
        snprintf(d, 1024, "%s/class/block/%s", sysfs, sysname);
        test_sh("mkdir -p '%s'", d);
        write_file(d, "dev", "254:%u\n", minor);
        write_file(d, "size", "%" PRIu64 "\n", sectors);
        if (ext_range)
                write_file(d, "ext_range", "%s\n", ext_range);
        write_file(d, "uevent", "MAJOR=254\nMINOR=%u\n%s%s%sDEVTYPE=disk\n", minor, devname ? "DEVNAME=" : "",
                   devname ?: "", devname ? "\n" : "");
        return d;
}

/* A partition device under the disk's directory, with the class/block link and an
 * (empty) node devdir/name. */
static void add_partition(const char *disk, const char *name, unsigned partno, uint64_t start, uint64_t size,
                          unsigned minor) {
        char d[1100];
        snprintf(d, sizeof(d), "%s/%s", disk, name);
        test_sh("mkdir -p '%s' && ln -s '%s' '%s/class/block/%s' && : > '%s/%s'", d, d, sysfs, name, devdir, name);
        write_file(d, "partition", "%u\n", partno);
        write_file(d, "start", "%" PRIu64 "\n", start);
        write_file(d, "size", "%" PRIu64 "\n", size);
        write_file(d, "dev", "254:%u\n", minor);
        write_file(d, "uevent", "MAJOR=254\nMINOR=%u\nDEVNAME=%s\nDEVTYPE=partition\nPARTN=%u\n", minor, name, partno);
}

/* Two entries: root at sector 2048 (4 MiB), its verity partition at 10240 (1 MiB). */
static const char *make_image(const char *devname) {
        static char path[1024];
        snprintf(path, sizeof(path), "%s/%s", devdir, devname);
        test_sh("mkdir -p \"$(dirname '%s')\" && test/lib/mkgpt.sh '%s' 16 "
                "'start=2048,size=4,type=" ROOT_X86_64 ",uuid=" UUID_A ",name=root' "
                "'start=10240,size=1,type=" ROOT_VERITY_X86_64 ",uuid=" UUID_B ",name=verity'",
                path, path);
        return path;
}

static int scan(struct vr_partition_list *list, char **pending, bool (*processed)(const char *, void *)) {
        struct vr_kernel_scan s = {
                .sysfs = sysfs, .devdir = devdir, .disk_processed = processed, .nodes_may_be_files = true
        };
        return vr_partitions_from_kernel(&s, list, pending);
}

static bool processed_yes(const char *sysname, void *userdata) {
        return true;
}

static void expect_node(const struct vr_partition *p, const char *node, const char *disk) {
        char want[1024];
        snprintf(want, sizeof(want), "%s/%s", devdir, node);
        assert_string_equal(p->node, want);
        snprintf(want, sizeof(want), "%s/%s", devdir, disk);
        assert_string_equal(p->disk, want);
        assert_int_equal(p->node_offset, 0);
}

static void test_all_matched(void **state) {
        struct vr_partition_list list = {};
        char *pending = NULL;

        make_image("vda");
        const char *d = add_disk("vda", "vda", 0, 32768, "16");
        add_partition(d, "vda1", 1, 2048, 8192, 1);
        add_partition(d, "vda2", 2, 10240, 2048, 2);

        assert_int_equal(scan(&list, &pending, NULL), 0);
        assert_null(pending);
        assert_int_equal(list.n, 2);
        expect_node(&list.items[0], "vda1", "vda");
        assert_int_equal(list.items[0].partno, 1);
        assert_int_equal(list.items[0].offset, 2048 * 512);
        assert_int_equal(list.items[0].size, 4 * MiB);
        assert_int_equal(list.items[0].devnum, makedev(254, 1));
        assert_string_equal(list.items[0].label, "root");
        expect_node(&list.items[1], "vda2", "vda");
        assert_int_equal(list.items[1].devnum, makedev(254, 2));
        vr_partition_list_done(&list);
}

/* The kernel is still adding partitions: pending until it has, or until udev has the disk. */
static void test_missing_kernel_partition(void **state) {
        struct vr_partition_list list = {};
        char *pending = NULL;

        make_image("vda");
        const char *d = add_disk("vda", "vda", 0, 32768, "16");
        add_partition(d, "vda1", 1, 2048, 8192, 1);

        assert_int_equal(scan(&list, &pending, NULL), 1);
        assert_non_null(pending);
        assert_non_null(strstr(pending, "vda: partition 2 of "));
        assert_int_equal(list.n, 1);
        free(pending);
        pending = NULL;
        vr_partition_list_done(&list);

        /* udev has processed the disk: the kernel's scan is over, the entry is not coming. */
        assert_int_equal(scan(&list, &pending, processed_yes), 0);
        assert_null(pending);
        assert_int_equal(list.n, 1);
        vr_partition_list_done(&list);

        add_partition(d, "vda2", 2, 10240, 2048, 2);
        assert_int_equal(scan(&list, NULL, NULL), 0);
        assert_int_equal(list.n, 2);
        vr_partition_list_done(&list);
}

/* devtmpfs creates the node just after the sysfs directory. */
static void test_missing_nodes(void **state) {
        struct vr_partition_list list = {};
        char *pending = NULL, path[1024];

        make_image("vda");
        const char *d = add_disk("vda", "vda", 0, 32768, "16");
        add_partition(d, "vda1", 1, 2048, 8192, 1);
        add_partition(d, "vda2", 2, 10240, 2048, 2);
        snprintf(path, sizeof(path), "%s/vda2", devdir);
        assert_int_equal(unlink(path), 0);

        assert_int_equal(scan(&list, &pending, processed_yes), 1);
        assert_non_null(strstr(pending, "is not the node of partition 2 (254:2) yet"));
        assert_int_equal(list.n, 1);
        free(pending);
        vr_partition_list_done(&list);

        add_disk("vdb", "vdb", 16, 32768, "16");
        assert_int_equal(scan(&list, &pending, processed_yes), 1);
        /* The first pending disk is named; vda's partition 2 is still missing too. */
        assert_non_null(strstr(pending, "vda: "));
        free(pending);
        vr_partition_list_done(&list);

        assert_int_equal(close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)), 0);
        assert_int_equal(scan(&list, &pending, processed_yes), 1);
        assert_non_null(strstr(pending, "vdb: no device node "));
        assert_int_equal(list.n, 2);
        free(pending);
        vr_partition_list_done(&list);
}

static void test_moved_partition(void **state) {
        struct vr_partition_list list = {};

        make_image("vda");
        const char *d = add_disk("vda", "vda", 0, 32768, "16");
        add_partition(d, "vda1", 1, 2048, 8192, 1);
        add_partition(d, "vda2", 2, 12288, 2048, 2);

        assert_int_equal(scan(&list, NULL, NULL), 0);
        assert_int_equal(list.n, 1);
        assert_int_equal(list.items[0].partno, 1);
        vr_partition_list_done(&list);
}

/* dm devices and single-minor disks never get partitions: not even opened (no node here). */
static void test_skipped_disks(void **state) {
        struct vr_partition_list list = {};
        char *pending = NULL;

        add_disk("sr0", "sr0", 0, 32768, "1");
        const char *dm = add_disk("dm-0", "dm-0", 1, 32768, "16");
        test_sh("mkdir '%s/dm'", dm);
        const char *loop = add_disk("loop0", "loop0", 2, 32768, "256");
        write_file(loop, "partscan", "0\n");
        add_disk("vdz", "vdz", 3, 0, "16");

        assert_int_equal(scan(&list, &pending, NULL), 0);
        assert_null(pending);
        assert_int_equal(list.n, 0);

        /* Without ext_range, range counts. */
        const char *old = add_disk("hda", "hda", 4, 32768, NULL);
        write_file(old, "range", "1\n");
        assert_int_equal(scan(&list, &pending, NULL), 0);
        write_file(old, "range", "64\n");
        assert_int_equal(scan(&list, &pending, NULL), 1);
        assert_non_null(strstr(pending, "hda: no device node "));
        free(pending);
}

/* An MBR disk (Kiwi's BIOS images) gives its entries like a GPT disk, matched against the
 * kernel's partition devices the same way; a disk without a table gives none. */
static void test_mbr_and_no_table(void **state) {
        struct vr_partition_list list = {};
        char path[1024], buf[VR_PARTUUID_MAX];

        snprintf(path, sizeof(path), "%s/vda", devdir);
        test_sh("test/lib/mkgpt.sh --label=dos --label-id=0xdeadbeef '%s' 4 start=2048,size=1", path);
        const char *d = add_disk("vda", "vda", 0, 8192, "16");
        add_partition(d, "vda1", 1, 2048, 2048, 1);
        snprintf(path, sizeof(path), "%s/vdb", devdir);
        test_sh("truncate -s 1M '%s'", path);
        add_disk("vdb", "vdb", 16, 2048, "16");

        assert_int_equal(scan(&list, NULL, NULL), 0);
        assert_int_equal(list.n, 1);
        expect_node(&list.items[0], "vda1", "vda");
        assert_int_equal(list.items[0].table, VR_TABLE_MBR);
        assert_int_equal(list.items[0].mbr_type, 0x83);
        assert_string_equal(vr_partition_partuuid(&list.items[0], buf), "deadbeef-01");
        assert_int_equal(list.items[0].devnum, makedev(254, 1));
        vr_partition_list_done(&list);
}

/* The node is devdir/DEVNAME from the uevent file, not the sysfs name. */
static void test_devname(void **state) {
        struct vr_partition_list list = {};

        make_image("cciss/c0d0");
        const char *d = add_disk("cciss!c0d0", "cciss/c0d0", 0, 32768, "16");
        add_partition(d, "c0d0p1", 1, 2048, 8192, 1);
        add_partition(d, "c0d0p2", 2, 10240, 2048, 2);

        assert_int_equal(scan(&list, NULL, NULL), 0);
        assert_int_equal(list.n, 2);
        expect_node(&list.items[0], "c0d0p1", "cciss/c0d0");
        vr_partition_list_done(&list);

        /* No DEVNAME: the sysfs name. */
        make_image("vdb");
        d = add_disk("vdb", NULL, 16, 32768, "16");
        add_partition(d, "vdb1", 1, 2048, 8192, 17);
        add_partition(d, "vdb2", 2, 10240, 2048, 18);
        assert_int_equal(scan(&list, NULL, NULL), 0);
        assert_int_equal(list.n, 4);
        expect_node(&list.items[2], "vdb1", "vdb");
        vr_partition_list_done(&list);

        /* A name leading out of devdir is not followed. */
        write_file(d, "uevent", "DEVNAME=../vdb\n");
        assert_int_equal(scan(&list, NULL, NULL), 0);
        assert_int_equal(list.n, 2);
        vr_partition_list_done(&list);
}

/* Without nodes_may_be_files a regular file is never the disk's node. */
static void test_node_must_be_the_device(void **state) {
        struct vr_kernel_scan s = { .sysfs = sysfs, .devdir = devdir };
        struct vr_partition_list list = {};
        char *pending = NULL;

        make_image("vda");
        const char *d = add_disk("vda", "vda", 0, 32768, "16");
        add_partition(d, "vda1", 1, 2048, 8192, 1);
        add_partition(d, "vda2", 2, 10240, 2048, 2);

        assert_int_equal(vr_partitions_from_kernel(&s, &list, &pending), 1);
        assert_non_null(strstr(pending, "is not block device 254:0 yet"));
        assert_int_equal(list.n, 0);
        free(pending);
}

static void test_no_sysfs(void **state) {
        struct vr_kernel_scan s = { .sysfs = "/nonexistent", .devdir = devdir };
        struct vr_partition_list list = {};

        assert_int_equal(vr_partitions_from_kernel(&s, &list, NULL), -ENOENT);
        assert_last_error_contains("Cannot list the kernel's block devices in /nonexistent/class/block");
}

static int teardown(void **state) {
        test_sh("rm -rf %s", test_tmpdir());
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_all_matched, setup),
                cmocka_unit_test_setup(test_missing_kernel_partition, setup),
                cmocka_unit_test_setup(test_missing_nodes, setup),
                cmocka_unit_test_setup(test_moved_partition, setup),
                cmocka_unit_test_setup(test_skipped_disks, setup),
                cmocka_unit_test_setup(test_mbr_and_no_table, setup),
                cmocka_unit_test_setup(test_devname, setup),
                cmocka_unit_test_setup(test_node_must_be_the_device, setup),
                cmocka_unit_test_setup(test_no_sysfs, setup),
        };

        vr_log_set_level(getenv("VR_TEST_VERBOSE") ? VR_LOG_DEBUG : VR_LOG_ERR - 1);
        return cmocka_run_group_tests(tests, NULL, teardown);
}
