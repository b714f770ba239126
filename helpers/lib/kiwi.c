/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kiwi's embedded verity metadata: parsing, layout checks, RSA-PSS signature. */
#include <inttypes.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "hashtree.h"
#include "kiwi.h"
#include "util.h"

#define KIWI_SEP 0xFFu
#define HEADER_MAX 128u    /* "1 <fstype> ro verity" is short; the rest is not Kiwi */
#define FSTYPE_MAX 31u
#define BLOCK_MIN 512u
#define BLOCK_MAX (512u * 1024u)
#define SALT_MAX 256u

enum { H_VERSION, H_FSTYPE, H_ACCESS, H_IDENT, H_FIELDS };
enum { C_HASH_TYPE, C_DATA_BS, C_HASH_BS, C_DATA_BLOCKS, C_HASH_START, C_ALGORITHM, C_ROOTHASH, C_SALT, C_FIELDS };

static const char *const cred_names[C_FIELDS] = {
        [C_HASH_TYPE] = "hash type",
        [C_DATA_BS] = "data block size",
        [C_HASH_BS] = "hash block size",
        [C_DATA_BLOCKS] = "data block count",
        [C_HASH_START] = "hash start block",
        [C_ALGORITHM] = "hash algorithm",
        [C_ROOTHASH] = "root hash",
        [C_SALT] = "salt",
};

/* Splits s in place at single spaces into exactly n non-empty fields. */
static bool split_fields(char *s, char **fields, size_t n) {
        size_t i = 0;
        for (char *p = s;; p++) {
                if (*p != ' ' && *p != 0)
                        continue;
                if (i >= n || p == s)
                        return false;
                fields[i++] = s;
                if (*p == 0)
                        return i == n;
                *p = 0;
                s = p + 1;
        }
}

/* Copies [start, end) into a NUL-terminated string; false on bytes outside printable ASCII. */
static bool copy_text(const unsigned char *start, size_t len, char *out) {
        for (size_t i = 0; i < len; i++) {
                if (start[i] < 0x20 || start[i] > 0x7e)
                        return false;
                out[i] = (char) start[i];
        }
        out[len] = 0;
        return true;
}

/* Plain decimal as Python's str(int) writes it: digits only, no sign, no leading zero. */
static bool parse_u64(const char *s, uint64_t *ret) {
        uint64_t v = 0;
        if (!*s || (s[0] == '0' && s[1]))
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
                        return false;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *ret = v;
        return true;
}

static bool is_lower_alnum(const char *s) {
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
                        return false;
        return true;
}

static int parse_block_size(const char *s, const char *field, const char *what, uint32_t *ret) {
        uint64_t v;
        if (!parse_u64(s, &v) || v < BLOCK_MIN || v > BLOCK_MAX || (v & (v - 1)) != 0)
                return log_error_errno(EBADMSG, "%s: Kiwi verity metadata: %s \"%s\" is not a power of two in 512..524288",
                                       what, field, s);
        *ret = (uint32_t) v;
        return 0;
}

static int parse_header(char *text, const char *what, struct vr_kiwi_meta *m) {
        char *f[H_FIELDS];

        if (!split_fields(text, f, H_FIELDS) || !streq(f[H_IDENT], "verity"))
                return log_error_errno(ENOMSG, "%s: no Kiwi verity metadata in the last 4 KiB: it does not start with "
                                       "\"<version> <fstype> ro verity\" and 0xFF", what);
        if (!streq(f[H_VERSION], "1"))
                return log_error_errno(EOPNOTSUPP, "%s: Kiwi verity metadata version \"%s\" is not supported (only 1)",
                                       what, f[H_VERSION]);
        if (strlen(f[H_FSTYPE]) > FSTYPE_MAX || !is_lower_alnum(f[H_FSTYPE]))
                return log_error_errno(EBADMSG, "%s: Kiwi verity metadata: file system type \"%s\" is not a blkid type name",
                                       what, f[H_FSTYPE]);
        if (!streq(f[H_ACCESS], "ro") && !streq(f[H_ACCESS], "rw"))
                return log_error_errno(EBADMSG, "%s: Kiwi verity metadata: access \"%s\" is neither ro nor rw", what,
                                       f[H_ACCESS]);
        m->version = 1;
        strcpy(m->fstype, f[H_FSTYPE]);
        m->read_only = streq(f[H_ACCESS], "ro");
        return 0;
}

static int parse_salt(const char *s, const char *what, struct vr_verity_params *p) {
        size_t n = strlen(s);

        /* veritysetup prints "-" for an empty salt, and Kiwi copies what it prints. */
        if (streq(s, "-")) {
                p->salt_size = 0;
                return 0;
        }
        if (n % 2 != 0 || n / 2 > SALT_MAX || vr_hex_decode(s, n, p->salt, n / 2) < 0)
                return log_error_errno(EBADMSG, "%s: Kiwi verity metadata: salt \"%.80s\" is not \"-\" or up to 256 bytes of hex",
                                       what, s);
        p->salt_size = (uint16_t) (n / 2);
        return 0;
}

static int parse_credentials(char *text, const char *what, struct vr_kiwi_meta *m) {
        struct vr_verity_params *p = &m->params;
        char *f[C_FIELDS], field_what[512], shown[121];
        uint64_t v;
        int r;

        snprintf(shown, sizeof(shown), "%s", text); /* split_fields cuts text up */
        if (!split_fields(text, f, C_FIELDS))
                return log_error_errno(EBADMSG, "%s: Kiwi verity metadata: expected 8 space-separated fields (hash type, block "
                                       "sizes, data blocks, hash start block, algorithm, root hash, salt), got \"%s\"",
                                       what, shown);

        if (!streq(f[C_HASH_TYPE], "0") && !streq(f[C_HASH_TYPE], "1"))
                return log_error_errno(EOPNOTSUPP, "%s: Kiwi verity metadata: hash type \"%s\" is not supported (0 or 1)", what,
                                       f[C_HASH_TYPE]);
        p->hash_type = f[C_HASH_TYPE][0] == '1';

        r = parse_block_size(f[C_DATA_BS], cred_names[C_DATA_BS], what, &p->data_block_size);
        if (r < 0)
                return r;
        r = parse_block_size(f[C_HASH_BS], cred_names[C_HASH_BS], what, &p->hash_block_size);
        if (r < 0)
                return r;

        if (!parse_u64(f[C_DATA_BLOCKS], &p->data_blocks) || p->data_blocks == 0 ||
            p->data_blocks > (uint64_t) INT64_MAX / p->data_block_size)
                return log_error_errno(EBADMSG, "%s: Kiwi verity metadata: data block count \"%s\" is not a number in 1..%" PRIu64,
                                       what, f[C_DATA_BLOCKS], (uint64_t) INT64_MAX / p->data_block_size);

        if (!parse_u64(f[C_HASH_START], &v) || v > (uint64_t) INT64_MAX / p->hash_block_size)
                return log_error_errno(EBADMSG, "%s: Kiwi verity metadata: hash start block \"%s\" is not a number in 0..%" PRIu64,
                                       what, f[C_HASH_START], (uint64_t) INT64_MAX / p->hash_block_size);
        m->hash_start_block = v;
        p->hash_offset = v * p->hash_block_size;
        p->no_superblock = true;
        /* veritysetup refuses a hash area that overlaps the data on the same device. */
        if (p->hash_offset < p->data_blocks * p->data_block_size)
                return log_error_errno(EBADMSG, "%s: Kiwi verity metadata: hash start block %" PRIu64 " (byte %" PRIu64
                                       ") lies inside the %" PRIu64 " data bytes it protects",
                                       what, v, p->hash_offset, p->data_blocks * p->data_block_size);

        if (strlen(f[C_ALGORITHM]) >= sizeof(p->algorithm) || vr_hash_algorithm_size(f[C_ALGORITHM]) == 0)
                return log_error_errno(EOPNOTSUPP, "%s: Kiwi verity metadata: hash algorithm \"%.40s\" is not supported", what,
                                       f[C_ALGORITHM]);
        strcpy(p->algorithm, f[C_ALGORITHM]);

        snprintf(field_what, sizeof(field_what), "%s: Kiwi verity metadata: root hash", what);
        r = vr_roothash_parse(f[C_ROOTHASH], p->algorithm, field_what, &m->roothash);
        if (r < 0)
                return -EBADMSG;

        return parse_salt(f[C_SALT], what, p);
}

int vr_kiwi_parse(const unsigned char *buf, size_t len, const char *what, struct vr_kiwi_meta *out) {
        _cleanup_free_ struct vr_kiwi_meta *m = NULL;
        char text[VR_KIWI_BLOCK_SIZE];
        const unsigned char *sep1, *sep2;
        size_t header_len, cred_len;
        int r;

        if (len != VR_KIWI_BLOCK_SIZE)
                return log_error_errno(EINVAL, "%s: Kiwi verity metadata block must be %u bytes, got %zu", what,
                                       VR_KIWI_BLOCK_SIZE, len);
        m = calloc(1, sizeof(*m));
        if (!m)
                return log_error_errno(ENOMEM, "%s: out of memory", what);
        memcpy(m->block, buf, len);

        sep1 = memchr(buf, KIWI_SEP, HEADER_MAX);
        if (!sep1 || !copy_text(buf, (size_t) (sep1 - buf), text))
                return log_error_errno(ENOMSG, "%s: no Kiwi verity metadata in the last 4 KiB: it does not start with "
                                       "\"<version> <fstype> ro verity\" and 0xFF", what);
        header_len = (size_t) (sep1 - buf);
        r = parse_header(text, what, m);
        if (r < 0)
                return r;

        sep2 = memchr(sep1 + 1, KIWI_SEP, len - header_len - 1);
        if (!sep2)
                return log_error_errno(EBADMSG, "%s: Kiwi verity metadata: the verity parameters are not terminated by 0xFF",
                                       what);
        cred_len = (size_t) (sep2 - sep1 - 1);
        if (!copy_text(sep1 + 1, cred_len, text))
                return log_error_errno(EBADMSG, "%s: Kiwi verity metadata: the verity parameters contain a byte that is not "
                                       "printable ASCII", what);
        if ((size_t) (sep2 - buf) + 1 >= len || sep2[1] != 0)
                return log_error_errno(EBADMSG, "%s: Kiwi verity metadata: the 0xFF after the verity parameters is not "
                                       "followed by 0x00", what);
        r = parse_credentials(text, what, m);
        if (r < 0)
                return r;

        m->signed_len = (size_t) (sep2 - buf) + 2;
        m->signature_len = len - m->signed_len;
        while (m->signature_len > 0 && buf[m->signed_len + m->signature_len - 1] == 0)
                m->signature_len--;

        memcpy(out, m, sizeof(*m));
        return 0;
}

/* Current Kiwi formats with a superblock at the hash offset; it must say what the
 * (signed) metadata says, or the tree it locates is not the one the metadata describes. */
static int check_superblock(const struct vr_region *r, struct vr_kiwi_meta *m) {
        const struct vr_verity_params *k = &m->params;
        struct vr_verity_params sb;
        unsigned char magic[8];
        const char *field = NULL;
        int e;

        e = vr_region_read(r, magic, sizeof(magic), k->hash_offset);
        if (e < 0)
                return e;
        if (memcmp(magic, "verity\0\0", sizeof(magic)) != 0)
                return 0;
        e = vr_superblock_read(r, k->hash_offset, &sb);
        if (e < 0)
                return e;
        if (sb.hash_type != k->hash_type)
                field = "hash type";
        else if (!streq(sb.algorithm, k->algorithm))
                field = "hash algorithm";
        else if (sb.data_block_size != k->data_block_size)
                field = "data block size";
        else if (sb.hash_block_size != k->hash_block_size)
                field = "hash block size";
        else if (sb.data_blocks != k->data_blocks)
                field = "data block count";
        else if (sb.salt_size != k->salt_size || memcmp(sb.salt, k->salt, sb.salt_size) != 0)
                field = "salt";
        if (field)
                return log_error_errno(EBADMSG, "%s: the verity superblock at byte %" PRIu64 " disagrees with the Kiwi metadata on the %s",
                                       r->what, k->hash_offset, field);
        m->params.no_superblock = false;
        memcpy(m->params.uuid, sb.uuid, sizeof(sb.uuid));
        m->has_superblock = true;
        return 0;
}

int vr_kiwi_read(const struct vr_region *r, struct vr_kiwi_meta *out) {
        _cleanup_free_ unsigned char *buf = NULL;
        uint64_t tree_start, tree_size;
        int e;

        if (r->size < 2 * VR_KIWI_BLOCK_SIZE)
                return log_error_errno(ENOMSG, "%s: too small (%" PRIu64 " bytes) to hold data and Kiwi verity metadata",
                                       r->what, r->size);
        buf = malloc(VR_KIWI_BLOCK_SIZE);
        if (!buf)
                return log_error_errno(ENOMEM, "%s: out of memory", r->what);
        e = vr_region_read(r, buf, VR_KIWI_BLOCK_SIZE, r->size - VR_KIWI_BLOCK_SIZE);
        if (e < 0)
                return e;
        e = vr_kiwi_parse(buf, VR_KIWI_BLOCK_SIZE, r->what, out);
        if (e < 0)
                return e;
        out->block_offset = r->size - VR_KIWI_BLOCK_SIZE;

        if (out->params.hash_offset >= out->block_offset)
                return log_error_errno(EBADMSG, "%s: Kiwi verity metadata: hash start block %" PRIu64 " is at or past the "
                                       "metadata block at byte %" PRIu64, r->what, out->hash_start_block, out->block_offset);
        e = check_superblock(r, out);
        if (e < 0)
                return e;

        tree_start = vr_hashtree_start(&out->params);
        tree_size = vr_hashtree_size(&out->params);
        if (tree_start == UINT64_MAX || tree_size == 0 || tree_start > out->block_offset ||
            tree_size > out->block_offset - tree_start)
                return log_error_errno(EBADMSG, "%s: the hash tree of the Kiwi verity metadata (%" PRIu64 " data blocks, "
                                       "starting at byte %" PRIu64 ") does not end before the metadata block at byte %" PRIu64,
                                       r->what, out->params.data_blocks, tree_start, out->block_offset);
        return 0;
}

static bool pss_verify(EVP_PKEY *key, const unsigned char *msg, size_t msg_len, const unsigned char *sig,
                       size_t sig_len) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        bool ok;

        ok = ctx && EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0 &&
             EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        return ok;
}

int vr_kiwi_verify_signature(const struct vr_kiwi_meta *m, const struct vr_trust_store *ts, const char *what,
                             char **ret_signer) {
        size_t n_rsa = 0;
        const char *path, *subject;
        X509 *x;

        if (ret_signer)
                *ret_signer = NULL;
        if (m->signature_len == 0)
                return log_error_errno(ENODATA, "%s: Kiwi verity metadata is unsigned", what);
        if (ts->n == 0)
                return log_error_errno(ENOKEY, "%s: Kiwi verity metadata is signed, but there are no trusted certificates in %s",
                                       what, ts->where ?: "(none)");

        for (size_t i = 0; (x = vr_trust_store_cert(ts, i, &path, &subject)); i++) {
                EVP_PKEY *key = X509_get0_pubkey(x);
                int size = key ? EVP_PKEY_get_size(key) : 0;

                if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || size <= 0) {
                        log_debug("%s: %s has no RSA key, Kiwi signs with RSA-PSS only", what, path);
                        continue;
                }
                n_rsa++;
                /* An RSA signature is exactly the modulus size; a longer non-zero tail is not this key's. */
                if ((size_t) size < m->signature_len || (size_t) size > sizeof(m->block) - m->signed_len) {
                        log_debug("%s: %zu signature bytes cannot come from the %d-byte key of %s", what, m->signature_len,
                                  size, path);
                        continue;
                }
                if (pss_verify(key, m->block, m->signed_len, m->block + m->signed_len, (size_t) size)) {
                        if (ret_signer && asprintf(ret_signer, "%s (%s)", subject, path) < 0) {
                                *ret_signer = NULL;
                                return log_error_errno(ENOMEM, "%s: out of memory", what);
                        }
                        return 0;
                }
                log_debug("%s: Kiwi metadata signature does not verify with %s", what, path);
        }
        if (n_rsa == 0)
                return log_error_errno(ENOKEY, "%s: Kiwi verity metadata is signed (RSA-PSS), but none of the %zu trusted "
                                       "certificates in %s has an RSA key", what, ts->n, ts->where ?: "(none)");
        return log_error_errno(EKEYREJECTED, "%s: Kiwi verity metadata signature does not verify with any of the %zu trusted "
                               "RSA certificates in %s: signed by another key, or the metadata was altered",
                               what, n_rsa, ts->where ?: "(none)");
}
