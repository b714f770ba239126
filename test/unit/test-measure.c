/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "testlib.h"

#include <signal.h>
#include <sys/wait.h>

#include "cmdline.h"
#include "measure.h"
#include "tpm2.h"

#define HASH "8a7f2c0de5b3f1a49c6e0d2b7a4f918e3c5d6b7a8f9e0d1c2b3a4f5e6d7c8b9a"
#define FP "41082e1df2fe09c49c80a89bca15e047ad3f3d070538edd8b0deecd5bdb6dfd3"

static int setup(void **state) {
        vr_log_clear_last_error();
        return 0;
}

static void test_event_format(void **state) {
        unsigned char fp[32];
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        assert_int_equal(vr_hex_decode(FP, 64, fp, sizeof(fp)), 0);
        assert_int_equal(vr_measure_event(VR_TARGET_ROOT, HASH, VR_HASH_SOURCE_SIGNATURE, fp, &a), 0);
        assert_string_equal(a, "verity-root:v1:root:" HASH ":signature:" FP);
        assert_int_equal(vr_measure_event(VR_TARGET_USR, HASH, VR_HASH_SOURCE_CMDLINE, NULL, &b), 0);
        assert_string_equal(b, "verity-root:v1:usr:" HASH ":cmdline:-");
        /* A cmdline hash whose signature also verified still names the signer. */
        assert_int_equal(vr_measure_event(VR_TARGET_ROOT, HASH, VR_HASH_SOURCE_CMDLINE, fp, &c), 0);
        assert_string_equal(c, "verity-root:v1:root:" HASH ":cmdline:" FP);
}

static void test_event_refuses_malformed(void **state) {
        char *e = NULL;
        assert_int_equal(vr_measure_event(VR_TARGET_ROOT, "8A7F", VR_HASH_SOURCE_CMDLINE, NULL, &e), -EINVAL);
        assert_int_equal(vr_measure_event(VR_TARGET_ROOT, "", VR_HASH_SOURCE_CMDLINE, NULL, &e), -EINVAL);
        assert_int_equal(vr_measure_event(VR_TARGET_ROOT, "ab:cd", VR_HASH_SOURCE_CMDLINE, NULL, &e), -EINVAL);
        assert_int_equal(vr_measure_event(VR_TARGET_ROOT, HASH, VR_HASH_SOURCE_NONE, NULL, &e), -EINVAL);
        assert_null(e);
}

/* systemd's record, byte for byte: RS, compact JSON in this key order, newline. */
static void test_record_format(void **state) {
        struct vr_digest d[2];
        _cleanup_free_ char *rec = NULL;
        const char *ev = "verity-root:v1:root:" HASH ":cmdline:-";

        assert_int_equal(vr_digest_data(vr_pcr_bank_by_name("sha1"), ev, strlen(ev), &d[0]), 0);
        assert_int_equal(vr_digest_data(vr_pcr_bank_by_name("sha256"), ev, strlen(ev), &d[1]), 0);
        assert_int_equal(vr_measure_record(15, d, 2, ev, &rec), 0);
        char h1[41], h256[65], want[1024];
        vr_hex_encode(d[0].bytes, 20, h1);
        vr_hex_encode(d[1].bytes, 32, h256);
        snprintf(want, sizeof(want),
                 "\x1e{\"pcr\":15,\"digests\":[{\"hashAlg\":\"sha1\",\"digest\":\"%s\"},{\"hashAlg\":\"sha256\",\"digest\":\"%s\"}],"
                 "\"content_type\":\"systemd\",\"content\":{\"string\":\"%s\",\"eventType\":\"dm-verity\"}}\n",
                 h1, h256, ev);
        assert_string_equal(rec, want);
}

/* SHA-256 of "abc" and the extend rule, against values computed elsewhere (sha256sum). */
static void test_digest_and_replay(void **state) {
        const struct vr_pcr_bank *b = vr_pcr_bank_by_name("sha256");
        struct vr_digest d;
        unsigned char pcr[32] = {};
        char hex[65];

        assert_int_equal(vr_digest_data(b, "abc", 3, &d), 0);
        vr_hex_encode(d.bytes, 32, hex);
        assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_int_equal(vr_pcr_replay(b, pcr, d.bytes), 0);
        vr_hex_encode(pcr, 32, hex);
        /* printf '%064d' 0; printf ba78...15ad | xxd -r -p | sha256sum */
        assert_string_equal(hex, "589f9ffed4c477966bfb8d41f37895b08c69047df8f911d6f3b57fbe08faee8d");
}

static void test_banks(void **state) {
        assert_int_equal(vr_pcr_banks_n, 4);
        assert_string_equal(vr_pcr_bank_by_alg(0x000B)->name, "sha256");
        assert_int_equal(vr_pcr_bank_by_name("sha384")->size, 48);
        assert_int_equal(vr_pcr_bank_by_name("sha512")->tpm_alg, 0x000D);
        assert_null(vr_pcr_bank_by_alg(0x0012)); /* SM3_256 */
        assert_null(vr_pcr_bank_by_name("md5"));
}

static void append_record(char **log, size_t *len, unsigned pcr, const char *ev) {
        struct vr_digest d[4];
        _cleanup_free_ char *rec = NULL;
        for (size_t i = 0; i < vr_pcr_banks_n; i++)
                assert_int_equal(vr_digest_data(&vr_pcr_banks[i], ev, strlen(ev), &d[i]), 0);
        assert_int_equal(vr_measure_record(pcr, d, vr_pcr_banks_n, ev, &rec), 0);
        *log = realloc(*log, *len + strlen(rec) + 1);
        memcpy(*log + *len, rec, strlen(rec) + 1);
        *len += strlen(rec);
}

static void test_log_replay(void **state) {
        _cleanup_free_ char *log = NULL;
        size_t len = 0, n;
        unsigned char got[64], want[64] = {};
        const char *e1 = "verity-root:v1:root:" HASH ":signature:" FP, *e2 = "verity-root:v1:usr:" HASH ":signature:" FP;

        append_record(&log, &len, 15, e1);
        append_record(&log, &len, 11, "something else");
        append_record(&log, &len, 15, e2);
        for (size_t b = 0; b < vr_pcr_banks_n; b++) {
                const struct vr_pcr_bank *bank = &vr_pcr_banks[b];
                struct vr_digest d;
                memset(want, 0, sizeof(want));
                assert_int_equal(vr_digest_data(bank, e1, strlen(e1), &d), 0);
                assert_int_equal(vr_pcr_replay(bank, want, d.bytes), 0);
                assert_int_equal(vr_digest_data(bank, e2, strlen(e2), &d), 0);
                assert_int_equal(vr_pcr_replay(bank, want, d.bytes), 0);
                assert_int_equal(vr_measure_log_replay(log, len, 15, bank, got, &n), 0);
                assert_int_equal(n, 2);
                assert_memory_equal(got, want, bank->size);
        }
        assert_int_equal(vr_measure_log_replay(log, len, 11, vr_pcr_bank_by_name("sha256"), got, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(vr_measure_log_replay(log, len, 16, vr_pcr_bank_by_name("sha256"), got, &n), 0);
        assert_int_equal(n, 0);
        assert_memory_equal(got, (unsigned char[32]) {}, 32);
}

static void test_log_replay_malformed(void **state) {
        unsigned char got[64];
        const struct vr_pcr_bank *b = vr_pcr_bank_by_name("sha256");
        static const char *const bad[] = {
                "{\"pcr\":15}\n",
                "\x1e{\"pcr\":15,\"digests\":[{\"hashAlg\":\"sha1\",\"digest\":\"00\"}]}\n",
                "\x1e{\"pcr\":15,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"zz\"}]}\n",
                "\x1e{\"pcr\":15,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"00\"}]}\n",
                "\x1enot json\n",
                "\x1e{\"digests\":[]}\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(vr_measure_log_replay(bad[i], strlen(bad[i]), 15, b, got, NULL), -EBADMSG);
}

static void test_log_file_append(void **state) {
        char path[512];
        snprintf(path, sizeof(path), "%s/run/log/systemd/tpm2-measure.log", test_tmpdir());
        for (int i = 0; i < 2; i++) {
                int fd = vr_measure_log_open(path);
                assert_true(fd >= 0);
                assert_int_equal(vr_measure_log_write(fd, path, i ? "\x1e{\"b\":2}\n" : "\x1e{\"a\":1}\n"), 0);
                close(fd);
        }
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        char buf[64] = {};
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 18);
        fclose(f);
        assert_string_equal(buf, "\x1e{\"a\":1}\n\x1e{\"b\":2}\n");
        /* A symlink planted at the log's path is not followed. */
        char link[600];
        snprintf(link, sizeof(link), "%s.link", path);
        assert_int_equal(symlink(path, link), 0);
        assert_true(vr_measure_log_open(link) < 0);
}

static void test_policy_parse(void **state) {
        enum vr_measure_policy p;
        unsigned pcr = 0;
        assert_int_equal(vr_measure_policy_parse("required", &p, &pcr), 0);
        assert_int_equal(p, VR_MEASURE_REQUIRED);
        assert_int_equal(pcr, 15);
        assert_int_equal(vr_measure_policy_parse("no", &p, &pcr), 0);
        assert_int_equal(p, VR_MEASURE_OFF);
        assert_int_equal(vr_measure_policy_parse("0", &p, &pcr), 0);
        assert_int_equal(p, VR_MEASURE_OFF);
        assert_int_equal(vr_measure_policy_parse("16", &p, &pcr), 0);
        assert_int_equal(p, VR_MEASURE_AUTO);
        assert_int_equal(pcr, 16);
        static const char *const bad[] = { "24", "-1", "015", "15x", "", "yes", "Required", " 15" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(vr_measure_policy_parse(bad[i], &p, &pcr), -EINVAL);
        assert_int_equal(vr_measure_policy_parse(NULL, &p, &pcr), -EINVAL);
}

static void test_cmdline_key(void **state) {
        struct vr_cmdline c;
        vr_cmdline_init(&c);
        assert_int_equal(c.measure, VR_MEASURE_AUTO);
        assert_int_equal(c.measure_pcr, 15);
        assert_int_equal(vr_cmdline_parse("rd.verity.measure=12", &c), 0);
        assert_int_equal(c.measure_pcr, 12);
        assert_int_equal(vr_cmdline_parse("rd.verity.measure=required", &c), 0);
        assert_int_equal(c.measure, VR_MEASURE_REQUIRED);
        vr_cmdline_done(&c);
        vr_cmdline_init(&c);
        assert_int_equal(vr_cmdline_parse("rd.verity.measure=maybe", &c), -EINVAL);
        assert_last_error_contains("rd.verity.measure");
        vr_cmdline_done(&c);
}

/* A missing TCTI library is one error naming it, -ENOPKG: what required refuses with. */
static void test_missing_tcti(void **state) {
        struct vr_digest d[4];
        size_t n;
        struct vr_tpm2_target t = { .driver = "nonexistent", .conf = "/dev/null" };
        int r = vr_tpm2_extend(&t, 15, "x", 1, d, &n);
        assert_int_equal(r, -ENOPKG);
        assert_last_error_contains("missing");
        t.driver = "../evil";
        assert_int_equal(vr_tpm2_extend(&t, 15, "x", 1, d, &n), -EINVAL);
}

/* Against a software TPM (swtpm, through libtss2-tcti-swtpm): every active bank is
 * extended and the log record names each digest. Skipped without swtpm. */
static void test_swtpm_measure(void **state) {
        char dir[512], port_conf[128], log[600];
        pid_t pid;
        int port = 20000 + (getpid() % 20000);

        if (access("/usr/bin/swtpm", X_OK) < 0) {
                skip();
                return;
        }
        snprintf(dir, sizeof(dir), "%s/swtpm", test_tmpdir());
        assert_int_equal(mkdir(dir, 0700), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char state_arg[600], server[64], ctrl[64];
                snprintf(state_arg, sizeof(state_arg), "dir=%s", dir);
                snprintf(server, sizeof(server), "type=tcp,port=%d", port);
                snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%d", port + 1);
                execl("/usr/bin/swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", state_arg, "--server", server,
                      "--ctrl", ctrl, "--flags", "not-need-init,startup-clear", (char *) NULL);
                _exit(127);
        }
        snprintf(port_conf, sizeof(port_conf), "host=127.0.0.1,port=%d", port);
        snprintf(log, sizeof(log), "%s/tpm2-measure.log", dir);
        struct vr_tpm2_target t = { .driver = "swtpm", .conf = port_conf };
        const char *ev = "verity-root:v1:root:" HASH ":cmdline:-";
        int r = -1;
        for (int i = 0; i < 50 && r < 0; i++) {
                usleep(100000);
                vr_log_capture_begin();
                r = vr_tpm2_measure(&t, 15, ev, log);
                vr_log_capture_end();
        }
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        if (r < 0)
                fail_msg("measuring into swtpm failed: %s", vr_log_last_error());

        char buf[4096] = {};
        FILE *f = fopen(log, "re");
        assert_non_null(f);
        size_t len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        unsigned char got[32], want[32] = {};
        struct vr_digest d;
        size_t n;
        assert_int_equal(vr_measure_log_replay(buf, len, 15, vr_pcr_bank_by_name("sha256"), got, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(vr_digest_data(vr_pcr_bank_by_name("sha256"), ev, strlen(ev), &d), 0);
        assert_int_equal(vr_pcr_replay(vr_pcr_bank_by_name("sha256"), want, d.bytes), 0);
        assert_memory_equal(got, want, 32);
        assert_non_null(strstr(buf, "\"string\":\"verity-root:v1:root:" HASH ":cmdline:-\""));
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_event_format),
                T(test_event_refuses_malformed),
                T(test_record_format),
                T(test_digest_and_replay),
                T(test_banks),
                T(test_log_replay),
                T(test_log_replay_malformed),
                T(test_log_file_append),
                T(test_policy_parse),
                T(test_cmdline_key),
                T(test_missing_tcti),
                T(test_swtpm_measure),
        };
        vr_log_set_prefix("test-measure");
        return cmocka_run_group_tests(tests, NULL, NULL);
}
