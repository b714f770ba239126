/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The version rules (A/B order, label versions, IMAGE_VERSION against label and minimum)
 * and the "is this a root for this machine" check of a mounted tree. */
#include "testlib.h"

#include <sys/statfs.h>

#include <elf.h>
#include <endian.h>

#include "cmdline.h"
#include "image-policy.h"
#include "sysroot.h"
#include "version.h"

static void test_version_order(void **state) {
        assert_true(vr_version_compare("root-x86-64_2", "root-x86-64_10") < 0);
        assert_true(vr_version_compare("1.10", "1.9") > 0);
        assert_int_equal(vr_version_compare("1.01", "1.1"), 0);
        assert_true(vr_version_compare("1", "1.0") < 0);
        assert_true(vr_version_compare(NULL, "1") < 0);
        assert_int_equal(vr_version_compare(NULL, ""), 0);
}

static void test_version_valid(void **state) {
        assert_true(vr_version_is_valid("1.10~rc1+git^2-3_x"));
        assert_false(vr_version_is_valid(""));
        assert_false(vr_version_is_valid(NULL));
        assert_false(vr_version_is_valid("1\nVERITY_DATA=/dev/evil"));
        assert_false(vr_version_is_valid("1 2"));
        assert_false(vr_version_is_valid("1\"2"));
        assert_false(vr_version_is_valid("\xc3\xa9"));
}

static void test_label_version(void **state) {
        assert_string_equal(vr_label_version("root-x86-64_1.10"), "1.10");
        assert_string_equal(vr_label_version("a_b_3"), "3");
        assert_string_equal(vr_label_version("root_"), "");
        assert_null(vr_label_version("root-x86-64"));
        assert_null(vr_label_version(NULL));
}

static void test_min_version_cmdline(void **state) {
        struct vr_cmdline c;
        vr_cmdline_init(&c);
        assert_int_equal(vr_cmdline_parse("rd.verity.min_version=2.1", &c), 0);
        assert_string_equal(c.min_version, "2.1");
        assert_int_equal(vr_cmdline_parse("init=/bin/myinit", &c), 0);
        assert_string_equal(c.init, "/bin/myinit");
        assert_int_equal(vr_cmdline_parse("rd.verity.min_version=", &c), -EINVAL);
        assert_int_equal(vr_cmdline_parse("rd.verity.min_version", &c), -EINVAL);
        assert_int_equal(vr_cmdline_parse("rd.verity.min_version=\"1 2\"", &c), -EINVAL);
        assert_last_error_contains("rd.verity.min_version");
        vr_cmdline_done(&c);
}

static void test_image_version_check(void **state) {
        assert_int_equal(vr_image_version_check("/dev/mapper/root", "2", "2", "/dev/vda1", "1", "x"), 0);
        assert_int_equal(vr_image_version_check("/dev/mapper/root", "2", NULL, NULL, NULL, "x"), 0);
        assert_int_equal(vr_image_version_check("/dev/mapper/root", NULL, NULL, NULL, NULL, "x"), 0);
        assert_int_equal(vr_image_version_check("/dev/mapper/root", "1", "99", "/dev/vda1", NULL, "x"), -EKEYREJECTED);
        assert_last_error_contains("/dev/mapper/root has IMAGE_VERSION=1 but its partition label (/dev/vda1) says 99");
        assert_int_equal(vr_image_version_check("/dev/mapper/root", NULL, "99", "/dev/vda1", NULL, "x"), -EKEYREJECTED);
        assert_last_error_contains("no IMAGE_VERSION");
        assert_int_equal(vr_image_version_check("/dev/mapper/root", "2", NULL, NULL, "3", "rd.verity.min_version="),
                         -EKEYREJECTED);
        assert_last_error_contains("image version 2 of /dev/mapper/root is older than the minimum 3 (rd.verity.min_version=)");
        assert_int_equal(vr_image_version_check("/dev/mapper/root", "10", NULL, NULL, "9", "x"), 0);
        assert_int_equal(vr_image_version_check("/dev/mapper/root", NULL, NULL, NULL, "1", "x"), -EKEYREJECTED);
}

static void test_os_release(void **state) {
        char *v = NULL;
        const char *plain = "NAME=x\nIMAGE_VERSION=1.2\n";
        const char *quoted = "# c\n  IMAGE_VERSION=\"3\"\nIMAGE_VERSION='4.0' # comment\n";

        assert_int_equal(vr_os_release_image_version(plain, strlen(plain), &v), 0);
        assert_string_equal(v, "1.2");
        free(v);
        assert_int_equal(vr_os_release_image_version(quoted, strlen(quoted), &v), 0);
        assert_string_equal(v, "4.0");
        free(v);
        assert_int_equal(vr_os_release_image_version("NAME=x\n", 7, &v), 0);
        assert_null(v);
        assert_int_equal(vr_os_release_image_version("IMAGE_VERSION=\n", 15, &v), 0);
        assert_null(v);
        assert_int_equal(vr_os_release_image_version("IMAGE_VERSION=\"a b\"", 19, &v), -EBADMSG);
        assert_int_equal(vr_os_release_image_version("IMAGE_VERSION=\"open", 19, &v), -EBADMSG);
        assert_int_equal(vr_os_release_image_version("IMAGE_VERSION=$(x)", 18, &v), -EBADMSG);
        /* A NUL inside the text ends nothing: the value stops being a version. */
        assert_int_equal(vr_os_release_image_version("IMAGE_VERSION=1\0002", 16, &v), -EBADMSG);
}

static void make_ehdr(unsigned char *buf, unsigned char class, unsigned char data, uint16_t machine) {
        uint16_t m = data == ELFDATA2LSB ? htole16(machine) : htobe16(machine);
        memset(buf, 0, sizeof(Elf64_Ehdr));
        memcpy(buf, ELFMAG, SELFMAG);
        buf[EI_CLASS] = class;
        buf[EI_DATA] = data;
        buf[EI_VERSION] = EV_CURRENT;
        memcpy(buf + offsetof(Elf64_Ehdr, e_machine), &m, sizeof(m));
}

static void test_elf_identify(void **state) {
        unsigned char buf[sizeof(Elf64_Ehdr)];
        struct vr_elf_id id;

        make_ehdr(buf, ELFCLASS64, ELFDATA2LSB, EM_X86_64);
        assert_int_equal(vr_elf_identify(buf, sizeof(buf), &id), 0);
        assert_int_equal(id.machine, EM_X86_64);
        assert_int_equal(id.class, ELFCLASS64);
        make_ehdr(buf, ELFCLASS64, ELFDATA2MSB, EM_S390);
        assert_int_equal(vr_elf_identify(buf, sizeof(buf), &id), 0);
        assert_int_equal(id.machine, EM_S390);
        assert_int_equal(id.data, ELFDATA2MSB);
        make_ehdr(buf, ELFCLASS32, ELFDATA2LSB, EM_386);
        assert_int_equal(vr_elf_identify(buf, sizeof(Elf32_Ehdr), &id), 0);
        assert_int_equal(id.machine, EM_386);
        /* Truncated, unknown class or byte order, no magic. */
        make_ehdr(buf, ELFCLASS64, ELFDATA2LSB, EM_X86_64);
        assert_int_equal(vr_elf_identify(buf, sizeof(Elf64_Ehdr) - 1, &id), -ENOEXEC);
        buf[EI_CLASS] = 3;
        assert_int_equal(vr_elf_identify(buf, sizeof(buf), &id), -ENOEXEC);
        make_ehdr(buf, ELFCLASS64, 0, EM_X86_64);
        assert_int_equal(vr_elf_identify(buf, sizeof(buf), &id), -ENOEXEC);
        assert_int_equal(vr_elf_identify("#!/bin/sh\n", 10, &id), -ENOEXEC);
}

static void test_shebang(void **state) {
        char interp[64];
        assert_int_equal(vr_shebang_interpreter("#!/bin/sh\necho", 14, interp, sizeof(interp)), 1);
        assert_string_equal(interp, "/bin/sh");
        assert_int_equal(vr_shebang_interpreter("#! /bin/bash -e\n", 16, interp, sizeof(interp)), 1);
        assert_string_equal(interp, "/bin/bash");
        assert_int_equal(vr_shebang_interpreter("#!/bin/sh", 9, interp, sizeof(interp)), -ENOEXEC);
        assert_int_equal(vr_shebang_interpreter("#!\n", 3, interp, sizeof(interp)), -ENOEXEC);
        assert_int_equal(vr_shebang_interpreter("#!/a/very/long/interpreter/path\n", 32, interp, 8), -ENOEXEC);
        assert_int_equal(vr_shebang_interpreter("\177ELF", 4, interp, sizeof(interp)), 0);
        assert_int_equal(vr_shebang_interpreter("#", 1, interp, sizeof(interp)), 0);
}

/* --- Trees made by test/lib/mkroot.sh (its /sbin/init: a script run by busybox-static). */

static char tree[512];

static int check_tree(const char *init, const char *label_version, const char *min_version) {
        struct vr_sysroot_expect e = {
                .device = "/dev/mapper/root", .label_version = label_version, .label_device = "/dev/vda1",
                .min_version = min_version, .init = init,
        };
        int fd = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC), r;
        assert_true(fd >= 0);
        r = vr_sysroot_check_root_tree(fd, tree, &e);
        close(fd);
        return r;
}

static void fresh_tree(const char *opts) {
        snprintf(tree, sizeof(tree), "%s/root", test_tmpdir());
        test_sh("test/lib/mkroot.sh %s %s", opts, tree);
}

static void test_tree_root_passes(void **state) {
        fresh_tree("--image-version 2");
        assert_int_equal(check_tree(NULL, "2", "1"), 0);
        assert_int_equal(check_tree(NULL, "3", NULL), -EKEYREJECTED);
        assert_int_equal(check_tree(NULL, NULL, "3"), -EKEYREJECTED);
        assert_int_equal(check_tree("/bin/busybox", NULL, NULL), 0);
}

static void test_tree_without_os_release(void **state) {
        fresh_tree("");
        test_sh("rm %s/etc/os-release %s/usr/lib/os-release", tree, tree);
        assert_int_equal(check_tree(NULL, NULL, NULL), -ENOENT);
        assert_last_error_contains("has no etc/os-release or usr/lib/os-release");
        /* An absolute or climbing symlink resolves inside the tree, never to the host's. */
        test_sh("ln -s ../../../../../../../../usr/lib/os-release %s/etc/os-release && ln -s /etc/hostname %s/usr/lib/os-release",
                tree, tree);
        assert_int_equal(check_tree(NULL, NULL, NULL), -ENOENT);
        /* A FIFO must neither stall nor count. */
        test_sh("rm %s/etc/os-release && mkfifo %s/etc/os-release", tree, tree);
        assert_int_equal(check_tree(NULL, NULL, NULL), -EBADMSG);
}

static void test_tree_extension(void **state) {
        fresh_tree("");
        test_sh("mkdir -p %s/usr/lib/extension-release.d && echo ID=_any > %s/usr/lib/extension-release.d/extension-release.foo",
                tree, tree);
        assert_int_equal(check_tree(NULL, NULL, NULL), -EMEDIUMTYPE);
        assert_last_error_contains("extension-release.foo exists");
}

static void test_tree_usr(void **state) {
        char usr[600];
        int fd;

        fresh_tree("");
        snprintf(usr, sizeof(usr), "%s/usr", tree);
        fd = open(usr, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(vr_sysroot_check_usr_tree(fd, usr), 0);
        test_sh("mkdir -p %s/lib/extension-release.d && touch %s/lib/extension-release.d/extension-release.x", usr, usr);
        assert_int_equal(vr_sysroot_check_usr_tree(fd, usr), -EMEDIUMTYPE);
        test_sh("rm -r %s/lib/extension-release.d %s/lib/os-release", usr, usr);
        assert_int_equal(vr_sysroot_check_usr_tree(fd, usr), -ENOENT);
        close(fd);
}

static void write_elf(const char *path, unsigned char class, uint16_t machine) {
        unsigned char buf[sizeof(Elf64_Ehdr)];
        make_ehdr(buf, class, ELFDATA2LSB, machine);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t) sizeof(buf));
        close(fd);
}

static void test_tree_other_architecture(void **state) {
        char path[700];
        uint16_t other = EM_X86_64;
#if defined(__x86_64__)
        other = EM_AARCH64;
#endif
        fresh_tree("");
        /* init's interpreter (/bin/sh -> busybox) for another machine. */
        snprintf(path, sizeof(path), "%s/bin/busybox", tree);
        test_sh("rm %s", path);
        write_elf(path, ELFCLASS64, other);
        assert_int_equal(check_tree(NULL, NULL, NULL), -EMEDIUMTYPE);
        assert_last_error_contains("not a root for this architecture");
        /* init= naming an ELF file directly; and one of the other class. */
        snprintf(path, sizeof(path), "%s/sbin/other", tree);
        write_elf(path, ELFCLASS32, EM_386);
        assert_int_equal(check_tree("/sbin/other", NULL, NULL), -EMEDIUMTYPE);
        /* A script whose interpreter is a script: the kernel would not run it either. */
        test_sh("printf '#!/sbin/init\\n' > %s/sbin/twice", tree);
        assert_int_equal(check_tree("/sbin/twice", NULL, NULL), -ENOEXEC);
        assert_int_equal(check_tree("/sbin/missing", NULL, NULL), -ENOENT);
}

/* The dependencies of a real dynamic binary, and no crash on a cut or bent copy of it. */
static void test_elf_deps(void **state) {
        _cleanup_free_ char *buf = NULL;
        struct vr_elf_deps deps;
        size_t len = 0;
        FILE *f = fopen("/bin/true", "re");
        bool libc = false;

        assert_non_null(f);
        buf = malloc(4u << 20);
        assert_non_null(buf);
        len = fread(buf, 1, 4u << 20, f);
        fclose(f);
        assert_true(len > sizeof(Elf64_Ehdr));
        assert_int_equal(vr_elf_deps(buf, len, &deps), 0);
        assert_non_null(deps.interp);
        assert_non_null(strstr(deps.interp, "/ld-linux"));
        for (size_t i = 0; i < deps.n_needed; i++)
                libc = libc || streq(deps.needed[i], "libc.so.6");
        assert_true(libc);
        assert_false(deps.needed_truncated);

        /* Program headers past the end of what was read. */
        assert_int_equal(vr_elf_deps(buf, sizeof(Elf64_Ehdr), &deps), -ENOEXEC);
        assert_int_equal(vr_elf_deps("#!/bin/sh\n", 10, &deps), -ENOEXEC);
        /* Every prefix: bounded, no read outside it (ASan build). */
        for (size_t cut = 0; cut < len && cut < 16384; cut += 7)
                (void) vr_elf_deps(buf, cut, &deps);
        /* Program header offset pointing anywhere. */
        Elf64_Ehdr h;
        memcpy(&h, buf, sizeof(h));
        h.e_phoff = UINT64_MAX - 8;
        memcpy(buf, &h, sizeof(h));
        assert_int_equal(vr_elf_deps(buf, len, &deps), -ENOEXEC);
}

static size_t read_file(const char *path, char *buf, size_t max) {
        FILE *f = fopen(path, "re");
        size_t n;
        assert_non_null(f);
        n = fread(buf, 1, max, f);
        fclose(f);
        return n;
}

/* A program needing more libraries than are followed: the first VR_ELF_NEEDED_MAX, and said so. */
static void test_elf_deps_many_needed(void **state) {
        _cleanup_free_ char *buf = malloc(1u << 20);
        char dir[600], prog[700];
        struct vr_elf_deps deps;
        size_t len;

        snprintf(dir, sizeof(dir), "%s/many", test_tmpdir());
        snprintf(prog, sizeof(prog), "%s/prog", dir);
        test_sh("set -e; mkdir -p %s; cd %s; echo 'int v;' > v.c; echo 'void _start(void) { for (;;) ; }' > p.c; "
                "cc -nostdlib -shared -fPIC -o libv.so v.c; l=; for i in $(seq 0 69); do cp libv.so libv$i.so; "
                "l=\"$l -lv$i\"; done; cc -nostdlib -fPIE -pie -o prog p.c -L. -Wl,--no-as-needed $l", dir, dir);
        assert_non_null(buf);
        len = read_file(prog, buf, 1u << 20);
        assert_int_equal(vr_elf_deps(buf, len, &deps), 0);
        assert_int_equal(deps.n_needed, VR_ELF_NEEDED_MAX);
        assert_true(deps.needed_truncated);
        assert_string_equal(deps.needed[0], "libv0.so");
        assert_string_equal(deps.needed[VR_ELF_NEEDED_MAX - 1], "libv63.so");
}

/* /bin/true with its interpreter and libraries in a tree, run as init=. */
static void copy_true_tree(void) {
        fresh_tree("");
        test_sh("set -e; cd %s; cp /bin/true sbin/true-init; for l in $(ldd /bin/true | grep -o '/[^ ]*'); do "
                "mkdir -p .$(dirname $l); cp -L $l .$l; done", tree);
}

static void test_tree_reads_libraries(void **state) {
        uint64_t before;

        copy_true_tree();
        before = test_bytes_read();
        assert_int_equal(check_tree("/sbin/true-init", NULL, NULL), 0);
        /* Every byte of true, ld.so and libc (libc alone is over 1 MiB). */
        assert_true(test_bytes_read() - before > (1u << 20));
        /* What the walk reaches must be readable files: a FIFO as libc is refused, naming it and why. */
        test_sh("cd %s && l=$(ldd /bin/true | grep -o '/[^ ]*libc.so[^ ]*') && rm .$l && mkfifo .$l", tree);
        assert_int_equal(check_tree("/sbin/true-init", NULL, NULL), -EBADMSG);
        assert_last_error_contains("libc.so.6 (a library of /sbin/true-init) is not a regular file");
        /* The message names where the symlinks lead (sid's ldd names /usr/lib/...: make lib/). */
        test_sh("cd %s && l=$(ldd /bin/true | grep -o '/[^ ]*libc.so[^ ]*') && mkdir -p lib && mv .$l lib/fifo && ln -s /lib/fifo .$l", tree);
        assert_int_equal(check_tree("/sbin/true-init", NULL, NULL), -EBADMSG);
        assert_last_error_contains("/x86_64-linux-gnu/libc.so.6 (-> ");
        assert_last_error_contains("/root/lib/fifo) (a library of /sbin/true-init) is not a regular file");
        /* So is the ELF interpreter. */
        copy_true_tree();
        test_sh("cd %s && l=$(ldd /bin/true | grep -o '/[^ ]*ld-linux[^ ]*') && rm .$l && mkfifo .$l", tree);
        assert_int_equal(check_tree("/sbin/true-init", NULL, NULL), -EBADMSG);
        assert_last_error_contains("(the ELF interpreter of /sbin/true-init) is not a regular file");
        /* A missing library is the loader's to report, not a corrupted block. */
        copy_true_tree();
        test_sh("cd %s && rm .$(ldd /bin/true | grep -o '/[^ ]*libc.so[^ ]*')", tree);
        assert_int_equal(check_tree("/sbin/true-init", NULL, NULL), 0);
}

/* busybox-static behind init's "#!/bin/sh" (a symlink): followed, and a FIFO there refused. */
static void test_tree_reads_script_interpreter(void **state) {
        struct stat st;
        char busybox[600];
        uint64_t before;

        fresh_tree("");
        snprintf(busybox, sizeof(busybox), "%s/bin/busybox", tree);
        assert_int_equal(stat(busybox, &st), 0);
        test_sh("printf '#!/bin/sh\\necho\\n' > %s/sbin/init2", tree);
        before = test_bytes_read();
        assert_int_equal(check_tree("/sbin/init2", NULL, NULL), 0);
        assert_true(test_bytes_read() - before >= (uint64_t) st.st_size);
        test_sh("ln -sf /bin/fifo %s/bin/sh && mkfifo %s/bin/fifo", tree, tree);
        assert_int_equal(check_tree(NULL, NULL, NULL), -EBADMSG);
        assert_last_error_contains("bin/sh is not a regular file");
}

static int teardown(void **state) {
        test_sh("rm -rf %s", test_tmpdir());
        return 0;
}

/* systemd.image_policy= file system flags, checked with fstatfs() on the tree itself. */
static void test_fstype_policy(void **state) {
        int fd = open(test_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct statfs sfs;
        assert_true(fd >= 0);
        assert_int_equal(fstatfs(fd, &sfs), 0);
        assert_int_equal(vr_sysroot_check_fstype(fd, "/sysroot", 0, "root"), 0);
        assert_int_equal(vr_sysroot_check_fstype(fd, "/sysroot", VR_POLICY_OPEN | VR_POLICY_FSTYPE_MASK, "root"), 0);
        if (sfs.f_type != 0xE0F5E1E2) {
                assert_int_equal(vr_sysroot_check_fstype(fd, "/sysroot", VR_POLICY_EROFS, "root"), -EPERM);
                assert_non_null(strstr(vr_log_last_error(), "systemd.image_policy= allows root only as erofs"));
        }
        if (sfs.f_type == 0xEF53)
                assert_int_equal(vr_sysroot_check_fstype(fd, "/sysroot", VR_POLICY_EXT4 | VR_POLICY_EROFS, "root"), 0);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_version_order),
                cmocka_unit_test(test_version_valid),
                cmocka_unit_test(test_label_version),
                cmocka_unit_test(test_min_version_cmdline),
                cmocka_unit_test(test_image_version_check),
                cmocka_unit_test(test_os_release),
                cmocka_unit_test(test_elf_identify),
                cmocka_unit_test(test_shebang),
                cmocka_unit_test(test_tree_root_passes),
                cmocka_unit_test(test_tree_without_os_release),
                cmocka_unit_test(test_tree_extension),
                cmocka_unit_test(test_tree_usr),
                cmocka_unit_test(test_tree_other_architecture),
                cmocka_unit_test(test_elf_deps),
                cmocka_unit_test(test_elf_deps_many_needed),
                cmocka_unit_test(test_tree_reads_libraries),
                cmocka_unit_test(test_tree_reads_script_interpreter),
                cmocka_unit_test(test_fstype_policy),
        };
        return cmocka_run_group_tests(tests, NULL, teardown);
}
