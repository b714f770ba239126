/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `verity-root mkimage`: file system, hash tree, signature and GPT in one reproducible image. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "dps.h"
#include "gpt-write.h"
#include "mkimage.h"
#include "pkcs11-key.h"
#include "sign.h"
#include "util.h"
#include "verbs.h"
#include "verity-format.h"

#define ALIGN_4K(x) (((x) + UINT64_C(4095)) & ~UINT64_C(4095))
#define ALIGN_1M(x) (((x) + UINT64_C(0xfffff)) & ~UINT64_C(0xfffff))
#define GPT_FIRST_OFFSET (UINT64_C(1) << 20)

/* Used when no --seed is given: identical inputs still give identical images. */
static const vr_id128 default_seed = VR_ID128_MAKE(5d,c8,6b,8e,1f,3a,4e,0b,9c,27,d4,1e,6a,90,b3,57);

/* Scratch files live next to the output, so large images need no room in /tmp. */
struct scratch {
        char dir[PATH_MAX];
        char fs[PATH_MAX + 16];
        char hash[PATH_MAX + 16];
};

static void scratch_done(struct scratch *s) {
        if (!s->dir[0])
                return;
        (void) unlink(s->fs);
        (void) unlink(s->hash);
        (void) rmdir(s->dir);
}

static int scratch_make(const char *out, struct scratch *s) {
        _cleanup_free_ char *copy = strdup(out);
        if (!copy)
                return log_error_errno(ENOMEM, "out of memory");
        snprintf(s->dir, sizeof(s->dir), "%s/.mkimage.XXXXXX", dirname(copy));
        if (!mkdtemp(s->dir)) {
                int r = log_error_errno(errno, "cannot create a scratch directory %s: %s", s->dir, strerror(errno));
                s->dir[0] = 0;
                return r;
        }
        snprintf(s->fs, sizeof(s->fs), "%s/fs.img", s->dir);
        snprintf(s->hash, sizeof(s->hash), "%s/hash.img", s->dir);
        return 0;
}

/* SHA-256(label || seed || extra): salts and UUIDs that follow from the inputs alone. */
static void derive(const char *label, vr_id128 seed, const void *extra, size_t extra_len, unsigned char out[32]) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned len = 0;
        if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) || !EVP_DigestUpdate(ctx, label, strlen(label)) ||
            !EVP_DigestUpdate(ctx, seed.bytes, 16) || (extra_len && !EVP_DigestUpdate(ctx, extra, extra_len)) ||
            !EVP_DigestFinal_ex(ctx, out, &len))
                abort(); /* SHA-256 over memory cannot fail short of OOM in OpenSSL itself */
        EVP_MD_CTX_free(ctx);
}

static vr_id128 derive_uuid(const char *label, vr_id128 seed, const void *extra, size_t extra_len) {
        unsigned char d[32];
        vr_id128 id;
        derive(label, seed, extra, extra_len, d);
        memcpy(id.bytes, d, 16);
        /* A well-formed random-style (v4) UUID, as systemd-repart derives its own. */
        id.bytes[6] = (id.bytes[6] & 0x0f) | 0x40;
        id.bytes[8] = (id.bytes[8] & 0x3f) | 0x80;
        return id;
}

static int digest_file(const char *path, unsigned char out[32]) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "cannot open %s: %s", path, strerror(errno));
        _cleanup_free_ unsigned char *buf = malloc(1 << 20);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!buf || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
                EVP_MD_CTX_free(ctx);
                return log_error_errno(ENOMEM, "out of memory");
        }
        int r = 0;
        for (;;) {
                ssize_t n = read(fd, buf, 1 << 20);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = log_error_errno(errno, "cannot read %s: %s", path, strerror(errno));
                        break;
                }
                if (n == 0)
                        break;
                EVP_DigestUpdate(ctx, buf, (size_t) n);
        }
        unsigned len = 0;
        if (r >= 0)
                EVP_DigestFinal_ex(ctx, out, &len);
        EVP_MD_CTX_free(ctx);
        return r;
}

static bool all_zero(const unsigned char *p, size_t n) {
        return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Copies len bytes (short source reads as zeros); zero chunks are skipped so that the
 * freshly truncated output stays sparse. */
static int copy_range(const char *src, int out_fd, uint64_t out_offset, uint64_t len, const char *out) {
        _cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "cannot open %s: %s", src, strerror(errno));
        _cleanup_free_ unsigned char *buf = malloc(1 << 20);
        if (!buf)
                return log_error_errno(ENOMEM, "out of memory");
        for (uint64_t done = 0; done < len;) {
                size_t chunk = len - done < (1u << 20) ? (size_t) (len - done) : (1u << 20);
                ssize_t n = pread(fd, buf, chunk, (off_t) done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return log_error_errno(errno, "cannot read %s: %s", src, strerror(errno));
                if (n == 0)
                        break;
                if (!all_zero(buf, (size_t) n)) {
                        ssize_t w = pwrite(out_fd, buf, (size_t) n, (off_t) (out_offset + done));
                        if (w != n)
                                return log_error_errno(w < 0 ? errno : EIO, "cannot write %s: %s", out,
                                                       strerror(w < 0 ? errno : EIO));
                }
                done += (uint64_t) n;
        }
        return 0;
}

static int file_size(const char *path, uint64_t *ret) {
        struct stat st;
        if (stat(path, &st) < 0)
                return log_error_errno(errno, "cannot stat %s: %s", path, strerror(errno));
        *ret = (uint64_t) st.st_size;
        return 0;
}

/* The file system image to protect: built from a directory, or the given image. Returns
 * in *ret_path a file holding it that we may extend (a scratch copy when needed). */
static int prepare_fs(const struct vr_mkimage_config *c, vr_id128 seed, const struct scratch *s,
                      const char **ret_path, uint64_t *ret_size) {
        const char *role = c->usr ? "usr" : "root";
        struct stat st;
        int r;

        if (stat(c->root, &st) < 0)
                return log_error_errno(errno, "--root %s: %s", c->root, strerror(errno));
        if (S_ISDIR(st.st_mode)) {
                unsigned char uuid[32];
                derive(c->usr ? "fs-uuid usr" : "fs-uuid root", seed, NULL, 0, uuid);
                log_info("Building the %s file system from %s...", vr_fs_type_to_string(c->fs), c->root);
                r = vr_mkfs(c->fs, c->root, s->fs, uuid, role);
                if (r < 0)
                        return log_error_errno(r, "cannot build the %s file system from %s", vr_fs_type_to_string(c->fs),
                                               c->root);
        } else if (S_ISREG(st.st_mode)) {
                if (st.st_size == 0)
                        return log_error_errno(EINVAL, "--root %s is an empty file, not a file system image", c->root);
                _cleanup_close_ int out = open(s->fs, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (out < 0 || ftruncate(out, st.st_size) < 0)
                        return log_error_errno(errno, "cannot create %s: %s", s->fs, strerror(errno));
                log_info("Copying %s...", c->root);
                r = copy_range(c->root, out, 0, (uint64_t) st.st_size, s->fs);
                if (r < 0)
                        return r;
        } else
                return log_error_errno(EINVAL, "--root %s is neither a directory nor a file system image", c->root);

        r = file_size(s->fs, ret_size);
        if (r < 0)
                return r;
        if (*ret_size == 0)
                return log_error_errno(EINVAL, "the file system image built from %s is empty", c->root);
        if (truncate(s->fs, (off_t) ALIGN_4K(*ret_size)) < 0)
                return log_error_errno(errno, "cannot pad %s to 4096 bytes: %s", s->fs, strerror(errno));
        *ret_path = s->fs;
        return 0;
}

static int make_hash_tree(const struct vr_mkimage_config *c, vr_id128 seed, const struct scratch *s,
                          uint64_t data_bytes, struct vr_mkimage_result *res) {
        unsigned char content[32], salt[32];
        int r;

        log_info("Computing the hash tree...");
        /* The salt follows from the content: the same tree for the same file system. */
        r = digest_file(s->fs, content);
        if (r < 0)
                return r;
        derive("verity-salt", seed, content, sizeof(content), salt);
        vr_id128 vuuid = derive_uuid("verity-uuid", seed, content, sizeof(content));

        if (!c->appended) {
                _cleanup_close_ int fd = open(s->hash, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0)
                        return log_error_errno(errno, "cannot create %s: %s", s->hash, strerror(errno));
        }
        res->hash_offset = c->appended ? data_bytes : 0;
        struct vr_verity_format_config vc = {
                .data_path = s->fs,
                .data_bytes = data_bytes,
                .hash_path = c->appended ? s->fs : s->hash,
                .hash_offset = res->hash_offset,
                .salt = salt,
                .salt_size = sizeof(salt),
                .uuid = vuuid.bytes,
        };
        r = vr_verity_format(&vc, &res->roothash);
        if (r < 0)
                return r;
        vr_roothash_to_string(&res->roothash, res->roothash_hex);
        return 0;
}

/* sig is the signature partition's content, NULL for an empty one (with_sig) or none. */
static int write_image(const struct vr_mkimage_config *c, vr_id128 seed, const struct scratch *s, const char *arch,
                       bool with_sig, const void *sig, struct vr_mkimage_result *res) {
        const char *base = c->usr ? "usr" : "root";
        enum vr_part_role roles[3] = { c->usr ? VR_ROLE_USR : VR_ROLE_ROOT, c->usr ? VR_ROLE_USR_VERITY : VR_ROLE_ROOT_VERITY,
                                       c->usr ? VR_ROLE_USR_VERITY_SIG : VR_ROLE_ROOT_VERITY_SIG };
        char names[3][64];
        struct vr_gpt_entry e[3] = {};
        enum vr_part_role role_of[3];
        size_t n = 0;
        uint64_t data_file, hash_file = 0;
        int r;

        r = file_size(s->fs, &data_file);
        if (r >= 0 && !c->appended)
                r = file_size(s->hash, &hash_file);
        if (r < 0)
                return r;

        vr_roothash_data_uuid(&res->roothash, res->data_uuid.bytes);
        snprintf(names[0], sizeof(names[0]), "%s-%s", base, arch);
        role_of[n] = roles[0];
        e[n++] = (struct vr_gpt_entry) { .size = ALIGN_4K(data_file), .uuid = res->data_uuid, .name = names[0],
                                         .attrs = VR_GPT_FLAG_READ_ONLY };
        if (!c->appended) {
                vr_roothash_verity_uuid(&res->roothash, res->verity_uuid.bytes);
                snprintf(names[1], sizeof(names[1]), "%s-%s-verity", base, arch);
                role_of[n] = roles[1];
                e[n++] = (struct vr_gpt_entry) { .size = ALIGN_4K(hash_file), .uuid = res->verity_uuid, .name = names[1],
                                                 .attrs = VR_GPT_FLAG_READ_ONLY };
        }
        if (with_sig) {
                res->sig_uuid = derive_uuid("verity-sig-uuid", seed, res->roothash.bytes, res->roothash.len);
                snprintf(names[2], sizeof(names[2]), "%s-%s-verity-sig", base, arch);
                role_of[n] = roles[2];
                e[n++] = (struct vr_gpt_entry) { .size = VR_SIGNATURE_PARTITION_SIZE, .uuid = res->sig_uuid, .name = names[2],
                                                 .attrs = VR_GPT_FLAG_READ_ONLY };
        }
        uint64_t end = GPT_FIRST_OFFSET;
        for (size_t i = 0; i < n; i++) {
                enum vr_part_role role = role_of[i];
                r = vr_dps_type(arch, role, &e[i].type);
                if (r < 0)
                        return log_error_errno(r, "the DPS defines no %s partition type for %s", vr_part_role_to_string(role),
                                               arch);
                e[i].offset = ALIGN_1M(end);
                end = e[i].offset + e[i].size;
        }
        /* Room for the backup GPT (33 sectors), and whole MiB for tools that like it. */
        uint64_t total = ALIGN_1M(end + 33 * 512);
        res->disk_guid = derive_uuid(c->appended ? "disk-guid appended" : "disk-guid split", seed, res->roothash.bytes, res->roothash.len);

        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.XXXXXX", c->out) < 0)
                return log_error_errno(ENOMEM, "out of memory");
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "cannot create %s: %s", tmp, strerror(errno));
        log_info("Writing %s...", c->out);
        if (fchmod(fd, 0644) < 0 || ftruncate(fd, (off_t) total) < 0)
                r = log_error_errno(errno, "cannot size %s: %s", tmp, strerror(errno));
        if (r >= 0)
                r = copy_range(s->fs, fd, e[0].offset, data_file, tmp);
        if (r >= 0 && !c->appended)
                r = copy_range(s->hash, fd, e[1].offset, hash_file, tmp);
        if (r >= 0 && sig && pwrite(fd, sig, VR_SIGNATURE_PARTITION_SIZE, (off_t) e[n - 1].offset) != (ssize_t) VR_SIGNATURE_PARTITION_SIZE)
                r = log_error_errno(EIO, "cannot write the signature partition into %s", tmp);
        if (r >= 0)
                r = vr_gpt_write(tmp, res->disk_guid, e, n);
        if (r >= 0 && fsync(fd) < 0)
                r = log_error_errno(errno, "cannot sync %s: %s", tmp, strerror(errno));
        if (r >= 0 && rename(tmp, c->out) < 0)
                r = log_error_errno(errno, "cannot rename %s to %s: %s", tmp, c->out, strerror(errno));
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

/* The exact bytes that are signed: no newline, so `openssl smime -sign -in FILE` signs what
 * systemd checks. */
static int write_roothash_file(const char *path, const char *hex) {
        _cleanup_free_ char *tmp = NULL;
        FILE *f = vr_atomic_begin(path, &tmp);
        if (!f)
                return -EIO;
        fputs(hex, f);
        return vr_atomic_commit(f, TAKE_PTR(tmp), path);
}

int vr_mkimage(const struct vr_mkimage_config *c, struct vr_mkimage_result *res) {
        _cleanup_(scratch_done) struct scratch s = {};
        _cleanup_free_ void *sig = NULL;
        vr_id128 seed = vr_id128_is_null(c->seed) ? default_seed : c->seed;
        const char *arch = c->arch ?: vr_dps_native_arch(), *fs_path;
        int r;

        *res = (struct vr_mkimage_result) {};
        if (!!c->key != !!c->cert)
                return log_error_errno(EINVAL, "--key and --cert go together: give both to sign, or neither");
        if (c->defer_signature && (c->key || c->cert))
                return log_error_errno(EINVAL, "--defer-signature leaves the signature for join-signature: it takes no --key or --cert");
        if (vr_dps_check_arch(arch, "--arch") < 0)
                return -EINVAL;

        r = scratch_make(c->out, &s);
        if (r < 0)
                return r;
        r = prepare_fs(c, seed, &s, &fs_path, &res->fs_size);
        if (r < 0)
                return r;
        r = make_hash_tree(c, seed, &s, ALIGN_4K(res->fs_size), res);
        if (r < 0)
                return r;
        if (c->key) {
                log_info("Signing the root hash with %s...", vr_pkcs11_is_uri(c->key) ? "a key on a PKCS#11 token" : c->key);
                r = vr_sign_roothash(c->key, c->cert, res->roothash_hex, VR_SIGNATURE_PARTITION_SIZE, &sig, &res->signer);
                if (r < 0)
                        return r;
        }
        res->sig_deferred = c->defer_signature;
        r = write_image(c, seed, &s, arch, c->key || c->defer_signature, sig, res);
        if (r >= 0 && c->roothash_file)
                r = write_roothash_file(c->roothash_file, res->roothash_hex);
        return r;
}

void vr_mkimage_result_done(struct vr_mkimage_result *r) {
        free(r->signer);
        r->signer = NULL;
}

/* --- the verb ---------------------------------------------------------------------- */

static void mkimage_help(void) {
        printf("Usage: verity-root mkimage --root DIR-OR-FS-IMAGE --out DISK.img [OPTIONS]\n\n"
               "Build a GPT disk image with a dm-verity protected root (DPS partition types,\n"
               "PARTUUIDs from the root hash, read-only flags), optionally signed.\n\n"
               "  --root PATH        directory to build the file system from, or a finished image\n"
               "  --out PATH         disk image to write (replaced)\n"
               "  --fs TYPE          erofs (default), ext4 or squashfs (with a directory)\n"
               "  --layout LAYOUT    split (default: separate verity partition) or appended\n"
               "                     (hash tree after the file system, in the same partition)\n"
               "  --key KEY          sign the root hash (PKCS#7) into a verity-sig partition: a PEM\n"
               "                     file, or a PKCS#11 URI (pkcs11:token=...;object=...)\n"
               "  --cert CERT.pem    the certificate of --key\n"
               "  --defer-signature  add the verity-sig partition empty, to be signed elsewhere and\n"
               "                     filled by 'verity-root join-signature'\n"
               "  --roothash-file PATH\n"
               "                     write the root hash there as hex text without a newline: the\n"
               "                     bytes a detached signature signs\n"
               "  --arch ARCH        DPS architecture (default: %s)\n"
               "  --usr              make usr partitions instead of root\n"
               "  --seed UUID        seed of the salt and every UUID (default: a built-in constant,\n"
               "                     so the same inputs give a byte-identical image; RSA signatures\n"
               "                     are reproducible, ECDSA signatures are not)\n"
               "  -h, --help         show this help\n",
               vr_dps_native_arch());
}

static int parse_mkimage_args(int argc, char **argv, struct vr_mkimage_config *c) {
        enum { ARG_ROOT = 0x100, ARG_OUT, ARG_FS, ARG_LAYOUT, ARG_KEY, ARG_CERT, ARG_DEFER, ARG_ROOTHASH_FILE, ARG_ARCH,
               ARG_USR, ARG_SEED };
        static const struct option options[] = {
                { "root", required_argument, NULL, ARG_ROOT },
                { "out", required_argument, NULL, ARG_OUT },
                { "fs", required_argument, NULL, ARG_FS },
                { "layout", required_argument, NULL, ARG_LAYOUT },
                { "key", required_argument, NULL, ARG_KEY },
                { "cert", required_argument, NULL, ARG_CERT },
                { "defer-signature", no_argument, NULL, ARG_DEFER },
                { "roothash-file", required_argument, NULL, ARG_ROOTHASH_FILE },
                { "arch", required_argument, NULL, ARG_ARCH },
                { "usr", no_argument, NULL, ARG_USR },
                { "seed", required_argument, NULL, ARG_SEED },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c_, r;

        *c = (struct vr_mkimage_config) { .fs = VR_FS_EROFS };
        optind = 0;
        while ((c_ = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c_) {
                case ARG_ROOT:
                        c->root = optarg;
                        break;
                case ARG_OUT:
                        c->out = optarg;
                        break;
                case ARG_FS:
                        if (vr_fs_type_from_string(optarg, &c->fs) < 0)
                                return log_error_errno(EINVAL, "--fs: expected erofs, ext4 or squashfs, got \"%s\"", optarg);
                        break;
                case ARG_LAYOUT:
                        if (streq(optarg, "split"))
                                c->appended = false;
                        else if (streq(optarg, "appended"))
                                c->appended = true;
                        else
                                return log_error_errno(EINVAL, "--layout: expected split or appended, got \"%s\"", optarg);
                        break;
                case ARG_KEY:
                        c->key = optarg;
                        break;
                case ARG_CERT:
                        c->cert = optarg;
                        break;
                case ARG_DEFER:
                        c->defer_signature = true;
                        break;
                case ARG_ROOTHASH_FILE:
                        c->roothash_file = optarg;
                        break;
                case ARG_ARCH:
                        c->arch = optarg;
                        break;
                case ARG_USR:
                        c->usr = true;
                        break;
                case ARG_SEED:
                        r = vr_id128_from_string(optarg, &c->seed);
                        if (r < 0 || vr_id128_is_null(c->seed))
                                return log_error_errno(EINVAL, "--seed: \"%s\" is not a non-zero UUID", optarg);
                        break;
                case 'h':
                        mkimage_help();
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        if (optind < argc)
                return log_error_errno(EINVAL, "mkimage: unexpected argument \"%s\" (see --help)", argv[optind]);
        if (!c->root)
                return log_error_errno(EINVAL, "mkimage: --root is missing (see --help)");
        if (!c->out)
                return log_error_errno(EINVAL, "mkimage: --out is missing (see --help)");
        return 1;
}

static void print_summary(const struct vr_mkimage_config *c, const struct vr_mkimage_result *res) {
        char u[VR_ID128_STRING_MAX];
        const char *base = c->usr ? "usr" : "root";
        printf("%s: %s layout, %s\n", c->out, c->appended ? "appended" : "split",
               res->signer ? "signed" : res->sig_deferred ? "signature deferred" : "unsigned");
        printf("  %s hash:    %s (sha256)\n", base, res->roothash_hex);
        printf("  disk GUID:    %s\n", vr_id128_to_string(res->disk_guid, u));
        printf("  data:         partition 1, PARTUUID=%s\n", vr_id128_to_string(res->data_uuid, u));
        if (c->appended)
                printf("  hash tree:    appended to the data partition at byte %" PRIu64 "\n", res->hash_offset);
        else
                printf("  verity:       partition 2, PARTUUID=%s\n", vr_id128_to_string(res->verity_uuid, u));
        if (res->signer)
                printf("  signature:    partition %d, PARTUUID=%s, signed by %s\n", c->appended ? 2 : 3,
                       vr_id128_to_string(res->sig_uuid, u), res->signer);
        else if (res->sig_deferred)
                printf("  signature:    partition %d, PARTUUID=%s, empty: sign the %s hash elsewhere, then\n"
                       "                verity-root join-signature %s --signature=%s:SIG.p7s --cert CERT.pem\n",
                       c->appended ? 2 : 3, vr_id128_to_string(res->sig_uuid, u), base, c->out, res->roothash_hex);
        else
                printf("  signature:    none (boot it with %s=%s on the kernel command line)\n",
                       c->usr ? "usrhash" : "roothash", res->roothash_hex);
}

int vr_verb_mkimage(int argc, char **argv) {
        struct vr_mkimage_config c;
        struct vr_mkimage_result res;
        int r;

        r = parse_mkimage_args(argc, argv, &c);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        r = vr_mkimage(&c, &res);
        if (r < 0) {
                vr_mkimage_result_done(&res);
                return 1;
        }
        print_summary(&c, &res);
        vr_mkimage_result_done(&res);
        return 0;
}
