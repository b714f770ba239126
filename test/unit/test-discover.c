/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Binding rules that the CLI cannot show: the boot disk preference (LoaderDevicePartUUID)
 * and which refusals are "incomplete" (worth waiting for more devices at boot). */
#include "testlib.h"

#include "bootwait.h"
#include "discover.h"
#include <sys/wait.h>

static char img_a[512], img_b[512], signed_a[512], signed_b[512], certs[512], roothash[129], signed_hash[129];

/* Runs mkdisk.sh and returns the ROOTHASH it prints. */
static void make_disk(const char *out, const char *opts, char hash[static 129]) {
        char cmd[2048];
        snprintf(cmd, sizeof(cmd), "test/lib/mkdisk.sh %s %s/root %s | sed -n 's/^ROOTHASH=//p'", opts, test_tmpdir(), out);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(hash, 129, p));
        hash[strcspn(hash, "\n")] = 0;
        assert_int_equal(pclose(p), 0);
        assert_int_equal(strlen(hash), 64);
}

static int setup(void **state) {
        const char *d = test_tmpdir();
        char opts[1024];

        test_sh("test/lib/mkroot.sh --id discover %s/root >/dev/null", d);
        test_sh("test/lib/mkcert.sh %s/certs alpha >/dev/null", d);
        snprintf(certs, sizeof(certs), "%s/certs", d);
        snprintf(img_a, sizeof(img_a), "%s/a.img", d);
        snprintf(img_b, sizeof(img_b), "%s/b.img", d);
        snprintf(signed_a, sizeof(signed_a), "%s/sa.img", d);
        snprintf(signed_b, sizeof(signed_b), "%s/sb.img", d);
        make_disk(img_a, "", roothash);
        test_sh("cp %s %s", img_a, img_b);
        snprintf(opts, sizeof(opts), "--sign %s/alpha.key %s/alpha.crt", certs, certs);
        make_disk(signed_a, opts, signed_hash);
        test_sh("cp %s %s", signed_a, signed_b);
        return 0;
}

static int teardown(void **state) {
        test_sh("rm -rf %s", test_tmpdir());
        return 0;
}

static void load(struct vr_partition_list *parts, const char *a, const char *b) {
        assert_int_equal(vr_partitions_from_image(a, parts), 0);
        if (b)
                assert_int_equal(vr_partitions_from_image(b, parts), 0);
}

static void test_boot_disk_breaks_partuuid_tie(void **state) {
        struct vr_partition_list parts = {};
        struct vr_verdict v = {};
        struct vr_discover_config cfg = { .trusted_hash = roothash, .sig = VR_SIG_OPTIONAL };

        load(&parts, img_a, img_b);
        assert_int_equal(vr_discover(&parts, &cfg, &v), -ENOTUNIQ);
        assert_non_null(strstr(v.reason, "ambiguous: 2 partitions have PARTUUID="));
        assert_false(v.incomplete);

        cfg.boot_disk = img_b;
        assert_int_equal(vr_discover(&parts, &cfg, &v), 0);
        assert_string_equal(v.data->disk, img_b);
        assert_string_equal(v.hash->disk, img_b);
        assert_string_equal(v.roothash_hex, roothash);

        vr_verdict_done(&v);
        vr_partition_list_done(&parts);
}

/* The boot-time question "does the root's disk also hold a /usr?" (no usrhash=). */
static void test_disk_find_target(void **state) {
        struct vr_partition_list parts = {};
        char usr_img[512];
        const struct vr_partition *p;

        snprintf(usr_img, sizeof(usr_img), "%s/usr.img", test_tmpdir());
        test_sh("test/lib/mkdisk.sh --usr %s/root %s >/dev/null", test_tmpdir(), usr_img);
        load(&parts, img_a, usr_img);

        p = vr_disk_find_target(&parts, img_a, "x86-64", VR_TARGET_ROOT, NULL);
        assert_non_null(p);
        assert_string_equal(p->disk, img_a);
        assert_null(vr_disk_find_target(&parts, img_a, "x86-64", VR_TARGET_USR, NULL));
        p = vr_disk_find_target(&parts, usr_img, "x86-64", VR_TARGET_USR, NULL);
        assert_non_null(p);
        assert_string_equal(p->disk, usr_img);
        /* Types of another architecture are not this machine's /usr. */
        assert_null(vr_disk_find_target(&parts, usr_img, "arm64", VR_TARGET_USR, NULL));
        assert_null(vr_disk_find_target(&parts, "/dev/nonexistent", "x86-64", VR_TARGET_ROOT, NULL));

        vr_partition_list_done(&parts);
}

static void test_boot_disk_breaks_signed_tie(void **state) {
        struct vr_partition_list parts = {};
        struct vr_trust_store trust = {};
        struct vr_verdict v = {};
        struct vr_discover_config cfg = { .sig = VR_SIG_OPTIONAL, .trust = &trust };

        assert_int_equal(vr_trust_store_load(certs, &trust), 0);
        load(&parts, signed_a, signed_b);
        assert_int_equal(vr_discover(&parts, &cfg, &v), -ENOTUNIQ);
        assert_non_null(strstr(v.reason, "ambiguous"));

        cfg.boot_disk = signed_a;
        assert_int_equal(vr_discover(&parts, &cfg, &v), 0);
        assert_string_equal(v.data->disk, signed_a);
        assert_string_equal(v.sig->disk, signed_a);
        assert_int_equal(v.source, VR_HASH_SOURCE_SIGNATURE);
        assert_string_equal(v.roothash_hex, signed_hash);
        assert_non_null(v.signature_base64);

        vr_verdict_done(&v);
        vr_partition_list_done(&parts);
        vr_trust_store_done(&trust);
}

/* At boot a missing partner may still appear: wait. A bad signature will not improve. */
static void test_incomplete_only_for_missing_pieces(void **state) {
        struct vr_partition_list parts = {}, none = {};
        struct vr_trust_store empty = {};
        struct vr_verdict v = {};
        char other[129];
        struct vr_discover_config cfg = { .trusted_hash = roothash, .sig = VR_SIG_OPTIONAL };

        load(&parts, img_a, NULL);
        snprintf(other, sizeof(other), "%.64s", roothash);
        other[0] = other[0] == '0' ? '1' : '0';
        cfg.trusted_hash = other;
        assert_true(vr_discover(&parts, &cfg, &v) < 0);
        assert_true(v.incomplete);
        assert_non_null(strstr(v.reason, "no root partition with PARTUUID="));

        cfg.trusted_hash = NULL;
        assert_true(vr_discover(&none, &cfg, &v) < 0);
        assert_true(v.incomplete);

        vr_partition_list_done(&parts);
        load(&parts, signed_a, NULL);
        cfg.trust = &empty;
        assert_int_equal(vr_discover(&parts, &cfg, &v), -ENOKEY);
        assert_false(v.incomplete);
        assert_non_null(strstr(v.reason, "no trusted certificates"));

        vr_verdict_done(&v);
        vr_partition_list_done(&parts);
}

/* systemd.verity_root_hash=PARTUUID=...: an explicit device wins over the derived PARTUUID. */
static void test_explicit_hash_device(void **state) {
        struct vr_partition_list parts = {};
        struct vr_verdict v = {};
        char img[600], hash[129], spec[128];
        struct vr_discover_config cfg = { .sig = VR_SIG_OPTIONAL };

        snprintf(img, sizeof(img), "%s/wrongverity.img", test_tmpdir());
        make_disk(img, "--wrong-verity-uuid", hash);
        load(&parts, img, NULL);
        cfg.trusted_hash = hash;
        assert_true(vr_discover(&parts, &cfg, &v) < 0);
        assert_non_null(strstr(v.reason, "does not match partition 2"));

        assert_true(parts.n >= 2);
        snprintf(spec, sizeof(spec), "PARTUUID=" VR_ID128_FORMAT_STR, VR_ID128_FORMAT_VAL(parts.items[1].uuid));
        cfg.hash_device = spec;
        assert_int_equal(vr_discover(&parts, &cfg, &v), 0);
        assert_ptr_equal(v.hash, &parts.items[1]);

        cfg.hash_device = "PARTUUID=00000000-0000-0000-0000-000000000001";
        assert_true(vr_discover(&parts, &cfg, &v) < 0);
        assert_true(v.incomplete);
        assert_non_null(strstr(v.reason, "systemd.verity_root_hash="));

        vr_verdict_done(&v);
        vr_partition_list_done(&parts);
}

/* systemd.verity_root_data= and _hash= naming the same partition: the appended layout. */
static void test_explicit_same_device_is_appended(void **state) {
        struct vr_partition_list parts = {};
        struct vr_verdict v = {};
        char img[600], hash[129], spec[128];
        struct vr_discover_config cfg = { .sig = VR_SIG_OPTIONAL };

        snprintf(img, sizeof(img), "%s/appended.img", test_tmpdir());
        make_disk(img, "--layout appended", hash);
        load(&parts, img, NULL);
        snprintf(spec, sizeof(spec), "PARTUUID=" VR_ID128_FORMAT_STR, VR_ID128_FORMAT_VAL(parts.items[0].uuid));
        cfg.trusted_hash = hash;
        cfg.data_device = cfg.hash_device = spec;
        assert_int_equal(vr_discover(&parts, &cfg, &v), 0);
        assert_true(v.appended);
        assert_ptr_equal(v.data, v.hash);
        assert_true(v.params.hash_offset > 0);

        vr_verdict_done(&v);
        vr_partition_list_done(&parts);
}

static bool printable(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p >= 0x7f)
                        return false;
        return true;
}

/* A refusal is printed on the console at boot: the label in it comes escaped. */
static void test_refusal_escapes_label(void **state) {
        struct vr_partition_list parts = {};
        struct vr_verdict v = {};
        struct vr_discover_config cfg = { .sig = VR_SIG_OPTIONAL };

        load(&parts, img_a, NULL);
        assert_true(parts.n >= 2);
        free(parts.items[1].label);
        parts.items[1].label = strdup("evil\x1b[31m\n\xff");
        assert_non_null(parts.items[1].label);
        assert_true(vr_discover(&parts, &cfg, &v) < 0);
        assert_non_null(strstr(v.reason, "partition 2 \"evil\\x1b[31m\\x0a\\xff\" (root-verity-x86-64"));
        assert_true(printable(v.reason));

        /* Whatever a caller passes in, e.g. a message it did not format itself. */
        assert_int_equal(vr_verdict_refuse(&v, EBADMSG, "%s: %s", "sig", "\x1b]0;x\a\r"), -EBADMSG);
        assert_string_equal(v.reason, "sig: \\x1b]0;x\\x07\\x0d");

        vr_verdict_done(&v);
        vr_partition_list_done(&parts);
}

/* LoaderDevicePartUUID names a partition; a second partition with the same PARTUUID (a
 * USB stick cloning the ESP) must not choose the boot disk: refused, naming both. */
static void test_boot_disk_duplicate_partuuid(void **state) {
        struct vr_partition_list parts = {};
        struct vr_verdict v = {};
        const char *disk = (const char *) 1;
        char uuid[VR_ID128_STRING_MAX];
        vr_id128 missing = {};

        load(&parts, img_a, NULL);
        vr_id128_to_string(parts.items[0].uuid, uuid);
        assert_int_equal(vr_boot_disk_find(&parts, parts.items[0].uuid, &disk, &v), 0);
        assert_string_equal(disk, img_a);
        assert_int_equal(vr_boot_disk_find(&parts, missing, &disk, &v), 0);
        assert_null(disk);

        /* img_b is a byte copy of img_a: every PARTUUID is there twice. */
        load(&parts, img_b, NULL);
        assert_int_equal(vr_boot_disk_find(&parts, parts.items[0].uuid, &disk, &v), -ENOTUNIQ);
        assert_null(disk);
        assert_false(v.incomplete);
        assert_non_null(strstr(v.reason, uuid));
        assert_non_null(strstr(v.reason, "is on 2 partitions"));
        assert_non_null(strstr(v.reason, img_a));
        assert_non_null(strstr(v.reason, img_b));

        vr_partition_list_done(&parts);
}

/* A signed root on another disk is never chosen when the boot disk is known. */
static void test_boot_disk_excludes_other_disks(void **state) {
        struct vr_partition_list parts = {};
        struct vr_trust_store trust = {};
        struct vr_verdict v = {};
        struct vr_discover_config cfg = { .sig = VR_SIG_OPTIONAL, .trust = &trust, .boot_partuuid = "1234" };

        assert_int_equal(vr_trust_store_load(certs, &trust), 0);
        load(&parts, img_a, signed_b);
        assert_int_equal(vr_discover(&parts, &cfg, &v), 0);
        assert_string_equal(v.data->disk, signed_b);

        cfg.boot_disk = img_a;
        assert_int_equal(vr_discover_with_kiwi(&parts, &cfg, &v), -EXDEV);
        assert_true(v.when_settled);
        assert_false(v.incomplete);
        assert_non_null(strstr(v.reason, "no signed root on the boot disk "));
        assert_non_null(strstr(v.reason, "(LoaderDevicePartUUID=1234); roots on other disks are not considered: found "));
        assert_non_null(strstr(v.reason, signed_b));

        /* roothash= pins the data itself: the boot disk is only preferred. */
        cfg.boot_disk = signed_b;
        cfg.trusted_hash = roothash;
        assert_int_equal(vr_discover(&parts, &cfg, &v), 0);
        assert_string_equal(v.data->disk, img_a);

        vr_verdict_done(&v);
        vr_partition_list_done(&parts);
        vr_trust_store_done(&trust);
}

/* Auto /usr: only the verified root's disk counts, a signed /usr elsewhere does not. */
static void test_only_disk_excludes_other_usr(void **state) {
        struct vr_partition_list parts = {};
        struct vr_trust_store trust = {};
        struct vr_verdict v = {};
        struct vr_discover_config cfg = { .target = VR_TARGET_USR, .sig = VR_SIG_OPTIONAL, .trust = &trust };
        char usr_img[512], opts[1200], hash[129];

        snprintf(usr_img, sizeof(usr_img), "%s/signed-usr.img", test_tmpdir());
        snprintf(opts, sizeof(opts), "--usr --sign %s/alpha.key %s/alpha.crt", certs, certs);
        make_disk(usr_img, opts, hash);
        assert_int_equal(vr_trust_store_load(certs, &trust), 0);
        load(&parts, signed_a, usr_img);
        assert_int_equal(vr_discover(&parts, &cfg, &v), 0);
        assert_string_equal(v.data->disk, usr_img);

        cfg.only_disk = signed_a;
        assert_int_equal(vr_discover(&parts, &cfg, &v), -EXDEV);
        assert_true(v.when_settled);
        assert_non_null(strstr(v.reason, "no signed usr on the root's disk "));
        assert_non_null(strstr(v.reason, "not considered: found "));
        assert_non_null(strstr(v.reason, usr_img));

        cfg.only_disk = usr_img;
        assert_int_equal(vr_discover(&parts, &cfg, &v), 0);
        assert_string_equal(v.roothash_hex, hash);

        vr_verdict_done(&v);
        vr_partition_list_done(&parts);
        vr_trust_store_done(&trust);
}

/* Issue 10: a 64 GiB sparse disk with a copy of the signature partition and a root
 * partition with the signed data PARTUUID, no verity partition. Alone it is refused after
 * a few small reads (the old appended scan read size/7); beside the signed disk it is an
 * ambiguity unless the boot disk decides. */
static void test_attacker_sized_clone(void **state) {
        struct vr_partition_list parts = {}, both = {};
        struct vr_trust_store trust = {};
        struct vr_verdict v = {};
        struct vr_discover_config cfg = { .sig = VR_SIG_OPTIONAL, .trust = &trust };
        char clone[512];
        uint64_t before;

        snprintf(clone, sizeof(clone), "%s/clone64g.img", test_tmpdir());
        test_sh("test/lib/mkclone-sized.sh %s %s 64G >/dev/null", signed_a, clone);
        assert_int_equal(vr_trust_store_load(certs, &trust), 0);

        load(&parts, clone, NULL);
        before = test_bytes_read();
        assert_int_equal(vr_discover(&parts, &cfg, &v), -ENXIO);
        assert_true(test_bytes_read() - before <= 1024 * 1024);
        assert_non_null(strstr(v.reason, "no hash tree appended to it"));

        load(&both, clone, signed_a);
        before = test_bytes_read();
        assert_int_equal(vr_discover(&both, &cfg, &v), -ENOTUNIQ);
        assert_true(test_bytes_read() - before <= 1024 * 1024);
        assert_non_null(strstr(v.reason, "ambiguous: 2 partitions have PARTUUID="));
        assert_non_null(strstr(v.reason, clone));

        cfg.boot_disk = signed_a;
        assert_int_equal(vr_discover(&both, &cfg, &v), 0);
        assert_string_equal(v.data->disk, signed_a);

        vr_verdict_done(&v);
        vr_partition_list_done(&parts);
        vr_partition_list_done(&both);
        vr_trust_store_done(&trust);
        unlink(clone);
}

/* rd.verity.timeout= covers reads: one blocked past the deadline ends the process with
 * one line naming what it was reading (here rd.verity.timeout=0, so the grace only). */
static void test_deadline_names_the_read(void **state) {
        char out[512] = {};
        int fds[2], status;
        pid_t pid;

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(fds[1], STDERR_FILENO);
                vr_deadline_arm("root", 0);
                vr_region_note_reading("partition 2 (root-x86-64) of /dev/vdb");
                for (;;)
                        pause();
        }
        close(fds[1]);
        /* The line comes in one write; read to the end all the same (the child exits). */
        size_t len = 0;
        ssize_t k;
        while ((k = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
                len += (size_t) k;
        close(fds[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
        assert_string_equal(out, "verity-root: refusing to boot the root file system: rd.verity.timeout=0 (+5s) ran out "
                                 "while reading partition 2 (root-x86-64) of /dev/vdb\n");
}

/* The line while waiting says what is awaited and what is there, not the interim refusal. */
static void test_wait_message(void **state) {
        struct vr_partition_list parts = {}, none = {};
        struct vr_trust_store empty = {};
        struct vr_verdict v = {};
        struct vr_discover_config cfg = { .arch = "x86-64", .sig = VR_SIG_OPTIONAL, .trust = &empty };
        char msg[1280], want[1280];

        assert_true(vr_discover(&none, &cfg, &v) < 0);
        assert_true(v.incomplete);
        assert_non_null(strstr(v.reason, "no signed root found"));
        load(&parts, img_a, img_b);
        vr_wait_message(&cfg, &parts, &v, 30, msg, sizeof(msg));
        snprintf(want, sizeof(want), "waiting up to 30s for the root partitions (a root-verity-sig-x86-64 partition "
                 "with a trusted signature and the partitions it names); seen so far: 4 partitions on 2 disks, "
                 "2 root-x86-64 (first on %s), 2 root-verity-x86-64 (first on %s), no root-verity-sig-x86-64",
                 img_a, img_a);
        assert_string_equal(msg, want);
        assert_null(strstr(msg, "no signed root found"));

        vr_wait_message(&cfg, &none, &v, 20, msg, sizeof(msg));
        assert_string_equal(msg, "waiting up to 20s for the root partitions (a root-verity-sig-x86-64 partition with a "
                                 "trusted signature and the partitions it names); seen so far: 0 partitions on 0 disks, "
                                 "no root-x86-64, no root-verity-x86-64, no root-verity-sig-x86-64");

        cfg.boot_partuuid = "6a2b1b2c-0000-4000-8000-000000000001";
        vr_wait_message(&cfg, &none, &v, 20, msg, sizeof(msg));
        assert_non_null(strstr(msg, "(the boot partition PARTUUID=6a2b1b2c-0000-4000-8000-000000000001 "
                                    "(LoaderDevicePartUUID), then a root-verity-sig-x86-64 partition with a trusted "
                                    "signature on its disk)"));
        cfg.boot_disk = img_b;
        vr_wait_message(&cfg, &none, &v, 20, msg, sizeof(msg));
        snprintf(want, sizeof(want), "(a root-verity-sig-x86-64 partition with a trusted signature and the partitions "
                 "it names on %s)", img_b);
        assert_non_null(strstr(msg, want));

        cfg = (struct vr_discover_config) { .arch = "x86-64", .target = VR_TARGET_USR, .trusted_hash = roothash };
        vr_wait_message(&cfg, &parts, &v, 5, msg, sizeof(msg));
        assert_non_null(strstr(msg, "waiting up to 5s for the usr partitions (a usr-x86-64 partition and its "
                                    "usr-verity-x86-64 partition (or appended hash tree) with the PARTUUIDs usrhash= "
                                    "derives); seen so far: 4 partitions on 2 disks, no usr-x86-64, "));

        v.when_settled = true;
        vr_wait_message(&cfg, &parts, &v, 5, msg, sizeof(msg));
        assert_non_null(strstr(msg, "(every block device the kernel has announced to be read before deciding)"));

        vr_verdict_done(&v);
        vr_partition_list_done(&parts);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_boot_disk_breaks_partuuid_tie),
                cmocka_unit_test(test_wait_message),
                cmocka_unit_test(test_boot_disk_breaks_signed_tie),
                cmocka_unit_test(test_incomplete_only_for_missing_pieces),
                cmocka_unit_test(test_explicit_hash_device),
                cmocka_unit_test(test_explicit_same_device_is_appended),
                cmocka_unit_test(test_deadline_names_the_read),
                cmocka_unit_test(test_attacker_sized_clone),
                cmocka_unit_test(test_disk_find_target),
                cmocka_unit_test(test_refusal_escapes_label),
                cmocka_unit_test(test_boot_disk_duplicate_partuuid),
                cmocka_unit_test(test_boot_disk_excludes_other_disks),
                cmocka_unit_test(test_only_disk_excludes_other_usr),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
