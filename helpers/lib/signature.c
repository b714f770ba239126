/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DPS root-verity-sig partition: parsing the JSON blob and checking its PKCS#7
 * signature against pinned certificates, the way systemd-repart writes it. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "signature.h"
#include "util.h"

struct vr_cert {
        X509 *x509;
        unsigned char fingerprint[32];
        char *subject;
        char *path;
};

static void json_object_putp(json_object **o) { if (*o) json_object_put(*o); }
static void json_tokener_freep(struct json_tokener **t) { if (*t) json_tokener_free(*t); }
static void BIO_freep(BIO **b) { if (*b) BIO_free(*b); }
static void BIO_free_allp(BIO **b) { if (*b) BIO_free_all(*b); }
static void X509_freep(X509 **x) { if (*x) X509_free(*x); }
static void PKCS7_freep(PKCS7 **p) { if (*p) PKCS7_free(*p); }
static void sk_X509_freep(STACK_OF(X509) **s) { if (*s) sk_X509_free(*s); }

/* The reason of the most recent OpenSSL error, then an empty queue so that the next
 * caller starts clean. */
static const char *openssl_reason(void) {
        unsigned long e = ERR_peek_last_error();
        const char *reason = e ? ERR_reason_error_string(e) : NULL;
        ERR_clear_error();
        return reason ? reason : "unknown error";
}

/* Index of the first character that is not a lowercase hex digit, or n. */
static size_t lower_hex_span(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return i;
        return n;
}

static bool is_base64_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
               c == '/';
}

/* A JSON string field without embedded NULs, or NULL with *ret_r set (logged). */
static const char *get_string_field(json_object *root, const char *field, bool optional, const char *what,
                                    size_t *ret_len, int *ret_r) {
        json_object *v;

        *ret_r = 0;
        if (!json_object_object_get_ex(root, field, &v)) {
                if (!optional)
                        *ret_r = log_error_errno(EBADMSG, "%s: field \"%s\" is missing", what, field);
                return NULL;
        }
        if (!json_object_is_type(v, json_type_string)) {
                *ret_r = log_error_errno(EBADMSG, "%s: field \"%s\" is not a string", what, field);
                return NULL;
        }
        const char *s = json_object_get_string(v);
        size_t len = (size_t) json_object_get_string_len(v);
        if (strlen(s) != len) {
                *ret_r = log_error_errno(EBADMSG, "%s: field \"%s\" contains a NUL character", what, field);
                return NULL;
        }
        *ret_len = len;
        return s;
}

static int parse_root_hash(json_object *root, const char *what, struct vr_signature *out) {
        size_t len;
        int r;

        const char *s = get_string_field(root, "rootHash", false, what, &len, &r);
        if (!s)
                return r;
        /* SHA-1 (40) up to SHA-512 (128); the hex text is what was signed, so it must be
         * exactly the canonical lowercase form. */
        if (len < 40 || len > 128 || len % 2 != 0)
                return log_error_errno(EBADMSG, "%s: field \"rootHash\" is %zu characters long, expected an even number of hex digits from 40 to 128",
                                       what, len);
        /* The byte, not the text: it came from the disk and may hold terminal escapes. */
        size_t bad = lower_hex_span(s, len);
        if (bad < len)
                return log_error_errno(EBADMSG, "%s: field \"rootHash\" is not lowercase hex: character 0x%02x at position %zu",
                                       what, (unsigned char) s[bad], bad);
        out->root_hash = strdup(s);
        return out->root_hash ? 0 : log_error_errno(ENOMEM, "%s: out of memory", what);
}

static int parse_fingerprint(json_object *root, const char *what, struct vr_signature *out) {
        size_t len;
        int r;

        const char *s = get_string_field(root, "certificateFingerprint", true, what, &len, &r);
        if (!s)
                return r;
        if (len != 2 * sizeof(out->fingerprint) ||
            vr_hex_decode(s, len, out->fingerprint, sizeof(out->fingerprint)) < 0)
                return log_error_errno(EBADMSG, "%s: field \"certificateFingerprint\" is not 64 hex digits (a SHA-256 fingerprint)",
                                       what);
        out->has_fingerprint = true;
        return 0;
}

/* Strict base64 (padding required, only at the end) with whitespace allowed anywhere,
 * as systemd's decoder allows. The compact text is kept for root-hash-signature=base64:. */
static int parse_pkcs7(json_object *root, const char *what, struct vr_signature *out) {
        _cleanup_free_ char *compact = NULL;
        _cleanup_free_ unsigned char *der = NULL;
        size_t len, n = 0, pad = 0;
        int r;

        const char *s = get_string_field(root, "signature", false, what, &len, &r);
        if (!s)
                return r;

        compact = malloc(len + 1);
        if (!compact)
                return log_error_errno(ENOMEM, "%s: out of memory", what);
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
                        continue;
                if (pad > 0 && c != '=')
                        return log_error_errno(EBADMSG, "%s: field \"signature\" is not valid base64: data after padding",
                                               what);
                if (c == '=')
                        pad++;
                else if (!is_base64_char(c))
                        return log_error_errno(EBADMSG, "%s: field \"signature\" is not valid base64: unexpected character 0x%02x at position %zu",
                                               what, (unsigned char) c, i);
                compact[n++] = c;
        }
        compact[n] = 0;
        if (n == 0)
                return log_error_errno(EBADMSG, "%s: field \"signature\" is empty", what);
        if (n % 4 != 0)
                return log_error_errno(EBADMSG, "%s: field \"signature\" is not valid base64: length %zu is not a multiple of 4",
                                       what, n);
        if (pad > 2)
                return log_error_errno(EBADMSG, "%s: field \"signature\" is not valid base64: %zu padding characters",
                                       what, pad);
        if (n > INT32_MAX)
                return log_error_errno(EBADMSG, "%s: field \"signature\" is too long", what);

        der = malloc(n / 4 * 3);
        if (!der)
                return log_error_errno(ENOMEM, "%s: out of memory", what);
        int k = EVP_DecodeBlock(der, (const unsigned char *) compact, (int) n);
        if (k < 0 || (size_t) k != n / 4 * 3)
                return log_error_errno(EBADMSG, "%s: field \"signature\" is not valid base64: %s", what, openssl_reason());

        /* EVP_DecodeBlock counts the padding as zero bytes. */
        out->pkcs7_len = (size_t) k - pad;
        out->pkcs7 = TAKE_PTR(der);
        out->pkcs7_base64 = TAKE_PTR(compact);
        return 0;
}

/* The JSON text ends at the first NUL; all that follows must be NUL padding. */
static int split_padding(const unsigned char *p, size_t len, const char *what, size_t *ret_text_len) {
        const unsigned char *nul = memchr(p, 0, len);
        size_t text_len = nul ? (size_t) (nul - p) : len;

        for (size_t i = text_len; i < len; i++)
                if (p[i] != 0)
                        return log_error_errno(EBADMSG, "%s: non-NUL byte 0x%02x at offset %zu after the JSON text (which ends at %zu)",
                                               what, p[i], i, text_len);
        if (text_len == 0)
                return log_error_errno(EBADMSG, "%s: contains no JSON text (all NUL: no signature joined yet)", what);
        *ret_text_len = text_len;
        return 0;
}

static int parse_json_object(const char *text, size_t len, const char *what, json_object **ret) {
        _cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;

        tok = json_tokener_new();
        if (!tok)
                return log_error_errno(ENOMEM, "%s: out of memory", what);
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

        root = json_tokener_parse_ex(tok, text, (int) len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        if (!root && jerr == json_tokener_continue)
                return log_error_errno(EBADMSG, "%s: JSON text is truncated after %zu bytes", what, len);
        if (!root)
                return log_error_errno(EBADMSG, "%s: is not valid JSON: %s at offset %zu", what,
                                       json_tokener_error_desc(jerr), end);
        for (size_t i = end; i < len; i++)
                if (!strchr(" \t\r\n", text[i]))
                        return log_error_errno(EBADMSG, "%s: trailing data at offset %zu after the JSON object", what, i);
        if (!json_object_is_type(root, json_type_object))
                return log_error_errno(EBADMSG, "%s: JSON top level is a %s, not a JSON object", what,
                                       json_type_to_name(json_object_get_type(root)));
        *ret = TAKE_PTR(root);
        return 0;
}

int vr_signature_parse(const void *buf, size_t len, const char *what, struct vr_signature *out) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        struct vr_signature s = {};
        size_t text_len = 0;
        int r;

        *out = (struct vr_signature) {};
        if (len > VR_SIGNATURE_MAX_SIZE)
                return log_error_errno(EFBIG, "%s: signature partition is %zu bytes, more than the %u allowed", what, len,
                                       VR_SIGNATURE_MAX_SIZE);

        r = split_padding(buf, len, what, &text_len);
        if (r < 0)
                return r;
        r = parse_json_object(buf, text_len, what, &root);
        if (r < 0)
                return r;

        /* Unknown fields are ignored, so that newer writers can add some. */
        r = parse_root_hash(root, what, &s);
        if (r >= 0)
                r = parse_pkcs7(root, what, &s);
        if (r >= 0)
                r = parse_fingerprint(root, what, &s);
        if (r < 0) {
                vr_signature_done(&s);
                return r;
        }
        *out = s;
        return 0;
}

int vr_signature_read(const struct vr_region *r, struct vr_signature *out) {
        _cleanup_free_ unsigned char *buf = NULL;
        int k;

        *out = (struct vr_signature) {};
        if (r->size == 0)
                return log_error_errno(EBADMSG, "%s: signature partition is empty", r->what);
        if (r->size > VR_SIGNATURE_MAX_SIZE)
                return log_error_errno(EFBIG, "%s: signature partition is %llu bytes, more than the %u allowed", r->what,
                                       (unsigned long long) r->size, VR_SIGNATURE_MAX_SIZE);

        buf = malloc(r->size);
        if (!buf)
                return log_error_errno(ENOMEM, "%s: out of memory", r->what);
        k = vr_pread_full(r->fd, buf, r->size, r->offset);
        if (k < 0)
                return log_error_errno(k, "%s: failed to read %llu bytes: %s", r->what, (unsigned long long) r->size,
                                       strerror(-k));
        return vr_signature_parse(buf, r->size, r->what, out);
}

void vr_signature_done(struct vr_signature *s) {
        free(s->root_hash);
        free(s->pkcs7);
        free(s->pkcs7_base64);
        *s = (struct vr_signature) {};
}

static void vr_cert_free(struct vr_cert *c) {
        if (!c)
                return;
        X509_free(c->x509);
        free(c->subject);
        free(c->path);
        free(c);
}

static char *x509_subject(X509 *x) {
        _cleanup_(BIO_freep) BIO *b = BIO_new(BIO_s_mem());
        char *data;

        if (!b || X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) < 0)
                return NULL;
        long n = BIO_get_mem_data(b, &data);
        return n >= 0 ? strndup(data, (size_t) n) : NULL;
}

/* Returns 1 and the certificate, 0 if the file was skipped (warned), or -errno. */
static int load_cert(const char *path, struct vr_cert **ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        struct stat st;
        unsigned int mdlen = 0;

        f = fopen(path, "re");
        if (!f) {
                log_warning("Cannot open certificate %s, ignoring: %s", path, strerror(errno));
                return 0;
        }
        if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
                log_warning("Certificate %s is not a regular file, ignoring", path);
                return 0;
        }
        x = PEM_read_X509(f, NULL, NULL, NULL);
        if (!x) {
                log_warning("Certificate %s is not a PEM X.509 certificate, ignoring: %s", path, openssl_reason());
                return 0;
        }

        struct vr_cert *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->path = strdup(path);
        c->subject = x509_subject(x);
        if (!c->path || !c->subject || !X509_digest(x, EVP_sha256(), c->fingerprint, &mdlen) ||
            mdlen != sizeof(c->fingerprint)) {
                ERR_clear_error();
                vr_cert_free(c);
                return -ENOMEM;
        }
        c->x509 = TAKE_PTR(x);
        *ret = c;
        return 1;
}

static bool is_cert_name(const char *name) {
        size_t l = strlen(name);
        /* Hidden files are editor and package manager leftovers, as systemd treats them. */
        return name[0] != '.' && l > 4 && streq(name + l - 4, ".crt");
}

struct cert_file {
        char *name;
        char *path;
        bool masked;
};

struct cert_files {
        struct cert_file *items;
        size_t n;
};

static void cert_files_done(struct cert_files *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].name);
                free(l->items[i].path);
        }
        free(l->items);
        *l = (struct cert_files) {};
}

static bool cert_files_has(const struct cert_files *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].name, name))
                        return true;
        return false;
}

static int cert_files_add(struct cert_files *l, const char *dir, const char *name, bool masked) {
        struct cert_file *t = realloc(l->items, (l->n + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        l->items = t;
        t = &l->items[l->n];
        t->masked = masked;
        t->name = strdup(name);
        if (!t->name || asprintf(&t->path, "%s/%s", dir, name) < 0) {
                free(t->name);
                return -ENOMEM;
        }
        l->n++;
        return 0;
}

/* systemd's null_or_empty(): an empty file or a device node (a symlink to /dev/null). */
static bool is_mask(const struct stat *st) {
        return (S_ISREG(st->st_mode) && st->st_size == 0) || S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode);
}

/* With masking (systemd's CONF_FILES_REGULAR|CONF_FILES_FILTER_MASKED), only a regular
 * file or a mask claims its name; anything else is skipped and leaves the name to the
 * later directories. Without, every *.crt is listed and load_cert() judges it. */
static int add_cert_file(struct cert_files *l, const char *dir, const char *name, bool masking) {
        _cleanup_free_ char *path = NULL;
        struct stat st;

        if (!masking)
                return cert_files_add(l, dir, name, false);
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        if (stat(path, &st) < 0) {
                log_warning("Cannot access certificate %s, ignoring: %s", path, strerror(errno));
                return 0;
        }
        if (!S_ISREG(st.st_mode) && !is_mask(&st)) {
                log_warning("Certificate %s is not a regular file, ignoring", path);
                return 0;
        }
        return cert_files_add(l, dir, name, is_mask(&st));
}

/* Adds the *.crt of dir whose names no earlier directory has; a missing dir adds none. */
static int list_cert_files(const char *dir, bool masking, struct cert_files *l) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int r = 0;

        if (!d && errno == ENOENT) {
                log_debug("Certificate directory %s does not exist", dir);
                return 0;
        }
        if (!d)
                return log_error_errno(errno, "Failed to list certificates in %s: %s", dir, strerror(errno));
        while (r >= 0 && (de = readdir(d)))
                if (is_cert_name(de->d_name) && !cert_files_has(l, de->d_name))
                        r = add_cert_file(l, dir, de->d_name, masking);
        closedir(d);
        return r < 0 ? log_error_errno(r, "Out of memory listing %s", dir) : 0;
}

static int cmp_cert_files(const void *a, const void *b) {
        return strcmp(((const struct cert_file *) a)->name, ((const struct cert_file *) b)->name);
}

static int load_cert_files(const struct cert_files *l, struct vr_trust_store *ts) {
        int r;

        ts->certs = calloc(l->n ? l->n : 1, sizeof(*ts->certs));
        if (!ts->certs)
                return log_error_errno(ENOMEM, "Out of memory loading certificates from %s", ts->where);
        for (size_t i = 0; i < l->n; i++) {
                const char *path = l->items[i].path;
                struct vr_cert *c = NULL;

                if (l->items[i].masked) {
                        log_debug("Certificate %s is masked by %s", l->items[i].name, path);
                        continue;
                }
                r = load_cert(path, &c);
                if (r < 0)
                        return log_error_errno(r, "Failed to load certificate %s: %s", path, strerror(-r));
                if (r > 0) {
                        log_debug("Trusting %s (%s)", c->subject, path);
                        ts->certs[ts->n++] = c;
                }
        }
        return 0;
}

/* dirs in order of precedence; where names them in messages. */
static int trust_store_load_dirs(char *const *dirs, size_t n_dirs, bool masking, const char *where,
                                 struct vr_trust_store *ts) {
        _cleanup_(cert_files_done) struct cert_files files = {};
        int r;

        *ts = (struct vr_trust_store) {};
        ts->where = strdup(where);
        if (!ts->where)
                return log_error_errno(ENOMEM, "Out of memory loading %s", where);
        for (size_t i = 0; i < n_dirs; i++) {
                r = list_cert_files(dirs[i], masking, &files);
                if (r < 0)
                        goto fail;
        }
        /* Sorted by name across directories, so that certificates are tried in a stable order. */
        if (files.n > 0)
                qsort(files.items, files.n, sizeof(*files.items), cmp_cert_files);
        r = load_cert_files(&files, ts);
        if (r < 0)
                goto fail;
        if (ts->n == 0)
                log_debug("No trusted certificates in %s", where);
        return 0;
fail:
        vr_trust_store_done(ts);
        return r;
}

int vr_trust_store_load(const char *dir, struct vr_trust_store *ts) {
        return trust_store_load_dirs((char *const *) &dir, 1, false, dir, ts);
}

int vr_trust_store_load_file(const char *path, struct vr_trust_store *ts) {
        struct vr_cert *c = NULL;
        int r;

        *ts = (struct vr_trust_store) {};
        r = load_cert(path, &c);
        if (r < 0)
                return log_error_errno(r, "Failed to load certificate %s: %s", path, strerror(-r));
        if (r == 0) /* the warning above said why */
                return log_error_errno(EBADMSG, "%s: not a usable PEM certificate", path);
        ts->certs = calloc(1, sizeof(*ts->certs));
        ts->where = strdup(path);
        if (!ts->certs || !ts->where) {
                vr_cert_free(c);
                vr_trust_store_done(ts);
                return log_error_errno(ENOMEM, "Out of memory loading %s", path);
        }
        ts->certs[ts->n++] = c;
        return 0;
}

static void free_strv(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
}

int vr_trust_store_load_default(const char *root, struct vr_trust_store *ts) {
        static const char *const defaults[] = { VR_CERT_DIRS };
        enum { N = sizeof(defaults) / sizeof(defaults[0]) };
        char *dirs[N] = {};
        _cleanup_free_ char *where = NULL;
        size_t len = 0;
        int r;

        if (!root || streq(root, "/"))
                root = "";
        for (size_t i = 0; i < N; i++) {
                if (asprintf(&dirs[i], "%s%s", root, defaults[i]) < 0) {
                        dirs[i] = NULL;
                        free_strv(dirs, N);
                        return log_error_errno(ENOMEM, "Out of memory loading %s", VR_CERT_DIRS_TEXT);
                }
                len += strlen(dirs[i]) + 2;
        }
        where = malloc(len + 1);
        if (!where) {
                free_strv(dirs, N);
                return log_error_errno(ENOMEM, "Out of memory loading %s", VR_CERT_DIRS_TEXT);
        }
        where[0] = 0;
        for (size_t i = 0; i < N; i++) {
                if (i > 0)
                        strcat(where, ", ");
                strcat(where, dirs[i]);
        }
        r = trust_store_load_dirs(dirs, N, true, where, ts);
        free_strv(dirs, N);
        return r;
}

void vr_trust_store_done(struct vr_trust_store *ts) {
        for (size_t i = 0; i < ts->n; i++)
                vr_cert_free(ts->certs[i]);
        free(ts->certs);
        free(ts->where);
        *ts = (struct vr_trust_store) {};
}

X509 *vr_trust_store_cert(const struct vr_trust_store *ts, size_t i, const char **ret_path, const char **ret_subject) {
        if (i >= ts->n)
                return NULL;
        if (ret_path)
                *ret_path = ts->certs[i]->path;
        if (ret_subject)
                *ret_subject = ts->certs[i]->subject;
        return ts->certs[i]->x509;
}

int vr_trust_store_signer_fingerprint(const struct vr_trust_store *ts, const char *signer, unsigned char out[32]) {
        for (size_t i = 0; i < ts->n; i++) {
                const struct vr_cert *c = ts->certs[i];
                size_t l = strlen(c->subject);
                /* The names vr_signature_verify() and the Kiwi check give: "SUBJECT (PATH)". */
                if (strncmp(signer, c->subject, l) != 0 || strncmp(signer + l, " (", 2) != 0)
                        continue;
                const char *path = signer + l + 2;
                size_t pl = strlen(c->path);
                if (strncmp(path, c->path, pl) != 0 || !streq(path + pl, ")"))
                        continue;
                memcpy(out, c->fingerprint, sizeof(c->fingerprint));
                return 0;
        }
        return -ENOENT;
}

/* Whether cert alone signed the root hash: no chain, no certificates taken from the
 * PKCS#7 itself, so the pinned certificate is the whole of the trust. */
static bool pkcs7_signed_by(PKCS7 *p7, const struct vr_cert *c, const char *root_hash, const char **ret_reason) {
        _cleanup_(sk_X509_freep) STACK_OF(X509) *signers = sk_X509_new_null();
        _cleanup_(BIO_free_allp) BIO *data = BIO_new(BIO_f_null());
        BIO *mem = BIO_new_mem_buf(root_hash, (int) strlen(root_hash));

        /* Behind a null filter: given a bare memory BIO, OpenSSL 3.0's PKCS7_verify makes a
         * private copy of it that it leaks when the PKCS#7 names an unknown digest. */
        if (data && mem)
                BIO_push(data, TAKE_PTR(mem));
        BIO_free(mem);
        if (!signers || !data || !BIO_next(data) || !sk_X509_push(signers, c->x509)) {
                *ret_reason = "out of memory";
                ERR_clear_error();
                return false;
        }
        if (PKCS7_verify(p7, signers, NULL, data, NULL, PKCS7_NOINTERN | PKCS7_NOVERIFY | PKCS7_BINARY) == 1) {
                ERR_clear_error();
                return true;
        }
        *ret_reason = openssl_reason();
        return false;
}

static int decode_pkcs7(const struct vr_signature *s, const char *what, PKCS7 **ret) {
        const unsigned char *p = s->pkcs7;
        PKCS7 *p7;

        if (s->pkcs7_len == 0 || s->pkcs7_len > LONG_MAX)
                return log_error_errno(EBADMSG, "%s: signature is empty", what);
        p7 = d2i_PKCS7(NULL, &p, (long) s->pkcs7_len);
        if (!p7)
                return log_error_errno(EBADMSG, "%s: signature is not a DER PKCS#7 structure: %s", what, openssl_reason());
        if ((size_t) (p - s->pkcs7) != s->pkcs7_len) {
                PKCS7_free(p7);
                return log_error_errno(EBADMSG, "%s: signature has %zu bytes of trailing data after the PKCS#7 structure",
                                       what, s->pkcs7_len - (size_t) (p - s->pkcs7));
        }
        if (!PKCS7_type_is_signed(p7)) {
                PKCS7_free(p7);
                return log_error_errno(EBADMSG, "%s: signature is a PKCS#7 structure but not SignedData", what);
        }
        /* Embedded content would be verified instead of our root hash. */
        if (!PKCS7_get_detached(p7)) {
                PKCS7_free(p7);
                return log_error_errno(EBADMSG, "%s: signature is not detached (it embeds its own content)", what);
        }
        *ret = p7;
        return 0;
}

static int signer_string(const struct vr_cert *c, char **ret) {
        if (!ret)
                return 0;
        if (asprintf(ret, "%s (%s)", c->subject, c->path) < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

int vr_signature_verify(const struct vr_signature *s, const struct vr_trust_store *ts, const char *what,
                        char **ret_signer) {
        _cleanup_(PKCS7_freep) PKCS7 *p7 = NULL;
        const char *reason = NULL;
        char hex[65];
        int r;

        if (ret_signer)
                *ret_signer = NULL;
        if (ts->n == 0)
                return log_error_errno(ENOKEY, "%s: no trusted certificates in %s", what, ts->where ? ts->where : "(none)");

        r = decode_pkcs7(s, what, &p7);
        if (r < 0)
                return r;

        if (s->has_fingerprint) {
                vr_hex_encode(s->fingerprint, sizeof(s->fingerprint), hex);
                for (size_t i = 0; i < ts->n; i++) {
                        const struct vr_cert *c = ts->certs[i];
                        if (memcmp(c->fingerprint, s->fingerprint, sizeof(c->fingerprint)) != 0)
                                continue;
                        if (!pkcs7_signed_by(p7, c, s->root_hash, &reason))
                                return log_error_errno(EKEYREJECTED, "%s: signature of root hash %s does not verify with trusted certificate %s (%s): %s",
                                                       what, s->root_hash, c->path, c->subject, reason);
                        return signer_string(c, ret_signer) < 0 ? log_error_errno(ENOMEM, "%s: out of memory", what) : 0;
                }
                return log_error_errno(ENOKEY, "%s: signed by certificate with fingerprint %s which is not in %s", what, hex,
                                       ts->where);
        }

        for (size_t i = 0; i < ts->n; i++) {
                const struct vr_cert *c = ts->certs[i];
                if (pkcs7_signed_by(p7, c, s->root_hash, &reason))
                        return signer_string(c, ret_signer) < 0 ? log_error_errno(ENOMEM, "%s: out of memory", what) : 0;
                log_debug("%s: not signed by %s: %s", what, c->path, reason);
        }
        return log_error_errno(EKEYREJECTED, "%s: signature of root hash %s does not verify with any of the %zu trusted certificates in %s (last: %s)",
                               what, s->root_hash, ts->n, ts->where, reason);
}
