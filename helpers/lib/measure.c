/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Event strings, digests, PCR replay and systemd's userspace measurement log. */
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "measure.h"
#include "util.h"

const struct vr_pcr_bank vr_pcr_banks[] = {
        { "sha1", 0x0004, 20, "SHA1" },
        { "sha256", 0x000B, 32, "SHA256" },
        { "sha384", 0x000C, 48, "SHA384" },
        { "sha512", 0x000D, 64, "SHA512" },
};
const size_t vr_pcr_banks_n = ELEMENTSOF(vr_pcr_banks);

const struct vr_pcr_bank *vr_pcr_bank_by_alg(uint16_t tpm_alg) {
        for (size_t i = 0; i < vr_pcr_banks_n; i++)
                if (vr_pcr_banks[i].tpm_alg == tpm_alg)
                        return &vr_pcr_banks[i];
        return NULL;
}

const struct vr_pcr_bank *vr_pcr_bank_by_name(const char *name) {
        for (size_t i = 0; i < vr_pcr_banks_n; i++)
                if (streq(vr_pcr_banks[i].name, name))
                        return &vr_pcr_banks[i];
        return NULL;
}

static bool is_lower_hex(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

int vr_measure_event(enum vr_target target, const char *roothash_hex, enum vr_hash_source source,
                     const unsigned char *fingerprint, char **ret) {
        char fp[65] = "-";

        if (!roothash_hex || !is_lower_hex(roothash_hex) ||
            (source != VR_HASH_SOURCE_CMDLINE && source != VR_HASH_SOURCE_SIGNATURE))
                return -EINVAL;
        if (fingerprint)
                vr_hex_encode(fingerprint, 32, fp);
        if (asprintf(ret, VR_MEASURE_EVENT_PREFIX "%s:%s:%s:%s", vr_target_name(target), roothash_hex,
                     vr_hash_source_to_string(source), fp) < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

int vr_measure_event_for_verdict(enum vr_target target, const struct vr_verdict *v, const struct vr_trust_store *ts,
                                 char **ret) {
        const char *signer = startswith(v->signature_status, "valid, signed by ");
        unsigned char fp[32];
        bool has_fp = false;

        if (signer && ts) {
                int r = vr_trust_store_signer_fingerprint(ts, signer, fp);
                if (r < 0)
                        return log_error_errno(r, "the signer %s of the %s's root hash is not among the trusted "
                                               "certificates any more", signer, vr_target_name(target));
                has_fp = true;
        }
        int r = vr_measure_event(target, v->roothash_hex, v->source, has_fp ? fp : NULL, ret);
        if (r < 0)
                return log_error_errno(r, "cannot describe the %s for measurement (root hash %s, source %s)",
                                       vr_target_name(target), v->roothash_hex, vr_hash_source_to_string(v->source));
        return 0;
}

static int digest_parts(const struct vr_pcr_bank *bank, const void *a, size_t alen, const void *b, size_t blen,
                        unsigned char *out) {
        unsigned int n = 0;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        const EVP_MD *md = EVP_get_digestbyname(bank->evp_name);
        bool ok = ctx && md && EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, a, alen) == 1 &&
                  (!b || EVP_DigestUpdate(ctx, b, blen) == 1) && EVP_DigestFinal_ex(ctx, out, &n) == 1 &&
                  n == bank->size;
        EVP_MD_CTX_free(ctx);
        return ok ? 0 : log_error_errno(EIO, "cannot compute a %s digest", bank->name);
}

int vr_digest_data(const struct vr_pcr_bank *bank, const void *data, size_t len, struct vr_digest *d) {
        d->bank = bank;
        return digest_parts(bank, data, len, NULL, 0, d->bytes);
}

int vr_pcr_replay(const struct vr_pcr_bank *bank, unsigned char *pcr, const unsigned char *digest) {
        unsigned char out[VR_DIGEST_MAX];
        int r = digest_parts(bank, pcr, bank->size, digest, bank->size, out);
        if (r >= 0)
                memcpy(pcr, out, bank->size);
        return r;
}

static void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

json_object *vr_measure_record_json(unsigned pcr, const struct vr_digest *digests, size_t n, const char *event) {
        json_object *o = json_object_new_object(), *arr = json_object_new_array(), *content = json_object_new_object();
        char hex[2 * VR_DIGEST_MAX + 1];

        if (!o || !arr || !content) {
                json_object_put(o);
                json_object_put(arr);
                json_object_put(content);
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                json_object *d = json_object_new_object();
                vr_hex_encode(digests[i].bytes, digests[i].bank->size, hex);
                json_object_object_add(d, "hashAlg", json_object_new_string(digests[i].bank->name));
                json_object_object_add(d, "digest", json_object_new_string(hex));
                json_object_array_add(arr, d);
        }
        json_object_object_add(o, "pcr", json_object_new_int((int32_t) pcr));
        json_object_object_add(o, "digests", arr);
        json_object_object_add(o, "content_type", json_object_new_string("systemd"));
        json_object_object_add(content, "string", json_object_new_string(event));
        json_object_object_add(content, "eventType", json_object_new_string(VR_MEASURE_EVENT_TYPE));
        json_object_object_add(o, "content", content);
        return o;
}

int vr_measure_record(unsigned pcr, const struct vr_digest *digests, size_t n, const char *event, char **ret) {
        _cleanup_(json_object_putp) json_object *o = vr_measure_record_json(pcr, digests, n, event);
        const char *text = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                             : NULL;
        if (!text || asprintf(ret, "\x1e%s\n", text) < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int mkdir_parents(const char *path) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        return 0;
}

int vr_measure_log_open(const char *path) {
        int r = mkdir_parents(path);
        if (r < 0)
                return log_error_errno(r, "cannot create the directory of %s: %s", path, strerror(-r));
        int fd = open(path, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(errno, "cannot open %s: %s", path, strerror(errno));
        if (flock(fd, LOCK_EX) < 0) {
                r = log_error_errno(errno, "cannot lock %s: %s", path, strerror(errno));
                close(fd);
                return r;
        }
        return fd;
}

int vr_measure_log_write(int fd, const char *path, const char *record) {
        size_t len = strlen(record);
        const char *p = record;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return log_error_errno(n < 0 ? errno : EIO, "cannot append to %s: %s", path,
                                               strerror(n < 0 ? errno : EIO));
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

static int replay_record(json_object *o, unsigned pcr, const struct vr_pcr_bank *bank, unsigned char *value,
                         bool *ret_used) {
        json_object *jpcr, *digests;
        unsigned char d[VR_DIGEST_MAX];

        *ret_used = false;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "pcr", &jpcr) ||
            !json_object_is_type(jpcr, json_type_int))
                return -EBADMSG;
        if (json_object_get_int64(jpcr) != (int64_t) pcr)
                return 0;
        if (!json_object_object_get_ex(o, "digests", &digests) || !json_object_is_type(digests, json_type_array))
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(digests); i++) {
                json_object *e = json_object_array_get_idx(digests, i), *alg, *hex;
                if (!json_object_object_get_ex(e, "hashAlg", &alg) || !json_object_object_get_ex(e, "digest", &hex) ||
                    !json_object_is_type(alg, json_type_string) || !json_object_is_type(hex, json_type_string))
                        return -EBADMSG;
                if (!streq(json_object_get_string(alg), bank->name))
                        continue;
                if (vr_hex_decode(json_object_get_string(hex), (size_t) json_object_get_string_len(hex), d,
                                  bank->size) < 0 ||
                    (size_t) json_object_get_string_len(hex) != 2 * bank->size)
                        return -EBADMSG;
                *ret_used = true;
                return vr_pcr_replay(bank, value, d);
        }
        return -EBADMSG;
}

int vr_measure_log_replay(const char *text, size_t len, unsigned pcr, const struct vr_pcr_bank *bank,
                          unsigned char *pcr_out, size_t *ret_n) {
        size_t n = 0;

        memset(pcr_out, 0, bank->size);
        for (size_t i = 0; i < len;) {
                if (text[i] != '\x1e')
                        return log_error_errno(EBADMSG, "measurement log: byte %zu is not a record separator (0x1E)", i);
                size_t start = ++i;
                while (i < len && text[i] != '\x1e')
                        i++;
                _cleanup_free_ char *rec = strndup(text + start, i - start);
                if (!rec)
                        return -ENOMEM;
                json_object *o = json_tokener_parse(rec);
                bool used;
                int r = o ? replay_record(o, pcr, bank, pcr_out, &used) : -EBADMSG;
                json_object_put(o);
                if (r < 0)
                        return log_error_errno(r, "measurement log: the record at byte %zu is not a CEL-JSON record "
                                               "with a %s digest", start, bank->name);
                n += used;
        }
        if (ret_n)
                *ret_n = n;
        return 0;
}
