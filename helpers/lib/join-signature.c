/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `verity-root join-signature`: a root hash signed elsewhere (offline, on an HSM) written
 * into the empty verity-sig partition that `mkimage --defer-signature` left, after every
 * check, in the form systemd-repart --join-signature= writes. */
#include <fcntl.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "discover.h"
#include "dps.h"
#include "sign.h"
#include "signature.h"
#include "util.h"
#include "verbs.h"

struct join_args {
        const char *image;
        const char *signature; /* HASH:SIG, as systemd-repart --join-signature= takes it */
        const char *cert;
        const char *arch;
        bool usr;
        bool force;
};

/* The PKCS#7 of a HASH:SIG tuple: "base64:DATA" or the path of a DER file. */
struct joined_sig {
        struct vr_roothash roothash;
        char roothash_hex[2 * VR_ROOTHASH_MAX + 1];
        unsigned char *der;
        size_t der_len;
        char what[PATH_MAX + 32]; /* names the signature in messages */
};

static void joined_sig_done(struct joined_sig *j) {
        free(j->der);
        j->der = NULL;
}

static int decode_base64(const char *text, struct joined_sig *j) {
        size_t n = strlen(text);
        if (n == 0 || n > 2 * VR_SIGNATURE_MAX_SIZE)
                return log_error_errno(EBADMSG, "%s: empty or far too long", j->what);
        EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
        unsigned char *der = malloc(n / 4 * 3 + 3);
        int len = 0, fin = 0;
        bool ok = ctx && der;
        if (ok) {
                EVP_DecodeInit(ctx);
                ok = EVP_DecodeUpdate(ctx, der, &len, (const unsigned char *) text, (int) n) >= 0 &&
                     EVP_DecodeFinal(ctx, der + len, &fin) == 1;
        }
        EVP_ENCODE_CTX_free(ctx);
        if (!ok || len + fin == 0) {
                free(der);
                return log_error_errno(EBADMSG, "%s: not valid base64", j->what);
        }
        j->der = der;
        j->der_len = (size_t) (len + fin);
        return 0;
}

static int read_der_file(const char *path, struct joined_sig *j) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;

        if (fd < 0)
                return log_error_errno(errno, "%s: %s", j->what, strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return log_error_errno(EINVAL, "%s: not a regular file", j->what);
        if (st.st_size == 0 || (uint64_t) st.st_size > VR_SIGNATURE_MAX_SIZE)
                return log_error_errno(EBADMSG, "%s: %lld bytes, not a signature", j->what, (long long) st.st_size);
        j->der = malloc((size_t) st.st_size);
        if (!j->der)
                return log_error_errno(ENOMEM, "out of memory");
        j->der_len = (size_t) st.st_size;
        int r = vr_pread_full(fd, j->der, j->der_len, 0);
        if (r < 0)
                return log_error_errno(r, "%s: cannot read it: %s", j->what, strerror(-r));
        return 0;
}

static int parse_tuple(const char *arg, struct joined_sig *j) {
        const char *colon = strchr(arg, ':');
        int r;

        if (!colon || colon == arg || !colon[1])
                return log_error_errno(EINVAL, "--signature: expected HASH:SIG (the root hash in hex, a colon, a DER PKCS#7 file or base64:DATA), got \"%s\"",
                                       arg);
        _cleanup_free_ char *hex = strndup(arg, (size_t) (colon - arg));
        if (!hex)
                return log_error_errno(ENOMEM, "out of memory");
        r = vr_roothash_parse(hex, NULL, "--signature (the hash before the colon)", &j->roothash);
        if (r < 0)
                return r;
        vr_roothash_to_string(&j->roothash, j->roothash_hex);

        const char *sig = colon + 1, *b64 = startswith(sig, "base64:");
        if (b64) {
                snprintf(j->what, sizeof(j->what), "--signature base64: data");
                return decode_base64(b64, j);
        }
        snprintf(j->what, sizeof(j->what), "signature file %s", sig);
        return read_der_file(sig, j);
}

/* The target's one verity-sig partition on the disk of its data partition. */
static int find_sig_partition(const struct vr_partition_list *parts, const struct vr_verdict *v, const char *arch,
                              enum vr_target target, const char *image, const struct vr_partition **ret) {
        enum vr_part_role role = vr_target_roles(target).sig;
        const struct vr_partition *found = NULL;
        vr_id128 type;
        char d1[256], d2[256];

        if (vr_dps_type(arch, role, &type) < 0)
                return log_error_errno(EINVAL, "the DPS defines no %s partition type for %s", vr_part_role_to_string(role), arch);
        for (size_t i = 0; i < parts->n; i++) {
                const struct vr_partition *p = &parts->items[i];
                if (!vr_id128_equal(p->type, type) || !streq(p->disk, v->data->disk))
                        continue;
                if (found)
                        return log_error_errno(ENOTUNIQ, "%s: two %s partitions, %s and %s: which one to fill is unclear", image,
                                               vr_part_role_to_string(role), vr_partition_describe(found, d1, sizeof(d1)),
                                               vr_partition_describe(p, d2, sizeof(d2)));
                found = p;
        }
        if (!found)
                return log_error_errno(ENOENT, "%s has no %s partition for %s to join a signature into (build it with mkimage --defer-signature)",
                                       image, vr_part_role_to_string(role), arch);
        *ret = found;
        return 0;
}

/* Refuses a partition that already holds anything (unless force) or that systemd would
 * not read (over 4 MiB). */
static int check_sig_partition(const struct vr_partition *p, bool force, const char *what) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ unsigned char *buf = NULL;

        if (p->size > VR_SIGNATURE_MAX_SIZE)
                return log_error_errno(EFBIG, "%s is %llu bytes: systemd reads no signature partition over %u bytes", what,
                                       (unsigned long long) p->size, VR_SIGNATURE_MAX_SIZE);
        if (force)
                return 0;
        fd = open(p->node, O_RDONLY | O_CLOEXEC);
        buf = malloc(p->size ? p->size : 1);
        if (fd < 0 || !buf)
                return log_error_errno(fd < 0 ? errno : ENOMEM, "cannot read %s: %s", what, strerror(fd < 0 ? errno : ENOMEM));
        int r = vr_pread_full(fd, buf, p->size, p->node_offset);
        if (r < 0)
                return log_error_errno(r, "cannot read %s: %s", what, strerror(-r));
        for (size_t i = 0; i < p->size; i++)
                if (buf[i] != 0)
                        return log_error_errno(EEXIST, "%s is not empty (byte %zu is 0x%02x): it already holds a signature; --force replaces it",
                                               what, i, buf[i]);
        return 0;
}

static int write_sig_partition(const struct vr_partition *p, const void *buf, const char *what) {
        _cleanup_close_ int fd = open(p->node, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "cannot open %s for writing: %s", p->node, strerror(errno));
        ssize_t n = pwrite(fd, buf, p->size, (off_t) p->node_offset);
        if (n != (ssize_t) p->size)
                return log_error_errno(n < 0 ? errno : EIO, "cannot write %s: %s", what, strerror(n < 0 ? errno : EIO));
        if (fsync(fd) < 0)
                return log_error_errno(errno, "cannot sync %s: %s", p->node, strerror(errno));
        return 0;
}

static int join_signature(const struct join_args *a) {
        _cleanup_(vr_partition_list_done) struct vr_partition_list parts = {};
        _cleanup_(vr_trust_store_done) struct vr_trust_store trust = {};
        _cleanup_(joined_sig_done) struct joined_sig j = {};
        _cleanup_free_ char *signer = NULL;
        _cleanup_free_ void *content = NULL;
        const struct vr_partition *sig = NULL;
        struct vr_verdict v = {};
        const char *arch = a->arch ?: vr_dps_native_arch();
        enum vr_target target = a->usr ? VR_TARGET_USR : VR_TARGET_ROOT;
        char what[256];
        int r;

        r = parse_tuple(a->signature, &j);
        if (r < 0)
                return r;
        r = vr_trust_store_load_file(a->cert, &trust);
        if (r < 0)
                return r;
        r = vr_partitions_from_image(a->image, &parts);
        if (r < 0)
                return r;

        /* The hash must be this image's: its partitions and the top of its hash tree. */
        struct vr_discover_config cfg = {
                .target = target,
                .arch = arch,
                .trusted_hash = j.roothash_hex,
                .sig = VR_SIG_OFF,
                .trust = &trust,
        };
        if (vr_discover(&parts, &cfg, &v) < 0) {
                r = log_error_errno(v.error, "%s: the %s hash %s in --signature is not this image's: %s", a->image,
                                    vr_target_name(target), j.roothash_hex, v.reason);
                vr_verdict_done(&v);
                return r;
        }
        r = find_sig_partition(&parts, &v, arch, target, a->image, &sig);
        vr_verdict_done(&v);
        if (r < 0)
                return r;
        vr_partition_describe(sig, what, sizeof(what));
        r = check_sig_partition(sig, a->force, what);
        if (r < 0)
                return r;

        /* With the fingerprint of --cert, a failure names that certificate. */
        X509 *cert = vr_trust_store_cert(&trust, 0, NULL, NULL);
        struct vr_signature s = {
                .root_hash = j.roothash_hex,
                .has_fingerprint = true,
                .pkcs7 = j.der,
                .pkcs7_len = j.der_len,
        };
        unsigned fp_len = 0;
        if (!X509_digest(cert, EVP_sha256(), s.fingerprint, &fp_len) || fp_len != sizeof(s.fingerprint))
                return log_error_errno(EIO, "cannot compute the fingerprint of %s", a->cert);
        r = vr_signature_verify(&s, &trust, j.what, &signer);
        if (r < 0)
                return r;
        r = vr_signature_json(cert, j.roothash_hex, j.der, j.der_len, sig->size,
                              &content);
        if (r < 0)
                return log_error_errno(r, "%s: the signature does not fit", what);

        r = write_sig_partition(sig, content, what);
        if (r < 0)
                return r;
        printf("%s: signature of %s hash %s joined into %s, signed by %s\n", a->image, vr_target_name(target),
               j.roothash_hex, what, signer);
        return 0;
}

/* --- the verb ---------------------------------------------------------------------- */

static void join_help(void) {
        printf("Usage: verity-root join-signature IMAGE --signature=HASH:SIG --cert CERT.pem [OPTIONS]\n\n"
               "Write a root hash signature made elsewhere into the empty verity-sig partition\n"
               "of an image built with 'verity-root mkimage --defer-signature'. Nothing is written\n"
               "unless HASH is the image's root hash and SIG verifies with CERT.\n\n"
               "  --signature HASH:SIG\n"
               "                     the root hash (hex) and its detached PKCS#7 signature: a DER\n"
               "                     file, or base64:DATA (systemd-repart --join-signature= syntax)\n"
               "  --cert CERT.pem    the certificate SIG must verify with; its fingerprint is stored\n"
               "  --usr              the usr partitions instead of root\n"
               "  --arch ARCH        DPS architecture of the partitions (default: %s)\n"
               "  --force            replace a signature the partition already holds\n"
               "  -h, --help         show this help\n",
               vr_dps_native_arch());
}

static int parse_join_args(int argc, char **argv, struct join_args *a) {
        enum { ARG_SIGNATURE = 0x100, ARG_CERT, ARG_USR, ARG_ARCH, ARG_FORCE };
        static const struct option options[] = {
                { "signature", required_argument, NULL, ARG_SIGNATURE },
                { "cert", required_argument, NULL, ARG_CERT },
                { "usr", no_argument, NULL, ARG_USR },
                { "arch", required_argument, NULL, ARG_ARCH },
                { "force", no_argument, NULL, ARG_FORCE },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        *a = (struct join_args) {};
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case ARG_SIGNATURE:
                        a->signature = optarg;
                        break;
                case ARG_CERT:
                        a->cert = optarg;
                        break;
                case ARG_USR:
                        a->usr = true;
                        break;
                case ARG_ARCH:
                        a->arch = optarg;
                        break;
                case ARG_FORCE:
                        a->force = true;
                        break;
                case 'h':
                        join_help();
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        if (optind >= argc)
                return log_error_errno(EINVAL, "join-signature: no image given (see --help)");
        if (argc - optind > 1)
                return log_error_errno(EINVAL, "join-signature: unexpected argument \"%s\" (see --help)", argv[optind + 1]);
        a->image = argv[optind];
        if (!a->signature)
                return log_error_errno(EINVAL, "join-signature: --signature=HASH:SIG is missing (see --help)");
        if (!a->cert)
                return log_error_errno(EINVAL, "join-signature: --cert is missing: the signature is checked against it and its fingerprint stored");
        if (a->arch && vr_dps_check_arch(a->arch, "--arch") < 0)
                return -EINVAL;
        return 1;
}

int vr_verb_join_signature(int argc, char **argv) {
        struct join_args a;
        int r;

        r = parse_join_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        return join_signature(&a) < 0 ? 1 : 0;
}
