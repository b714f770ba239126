/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <libdevmapper.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dmtable.h"
#include "util.h"

/* Options and how many arguments follow each, as the kernel prints them. */
static const struct {
        const char *name;
        unsigned flag, nargs;
} table_options[] = {
        { "ignore_corruption", VR_TABLE_IGNORE_CORRUPTION, 0 },
        { "restart_on_corruption", VR_TABLE_RESTART_ON_CORRUPTION, 0 },
        { "panic_on_corruption", VR_TABLE_PANIC_ON_CORRUPTION, 0 },
        { "restart_on_error", VR_TABLE_RESTART_ON_ERROR, 0 },
        { "panic_on_error", VR_TABLE_PANIC_ON_ERROR, 0 },
        { "ignore_zero_blocks", VR_TABLE_IGNORE_ZERO_BLOCKS, 0 },
        { "check_at_most_once", VR_TABLE_CHECK_AT_MOST_ONCE, 0 },
        { "root_hash_sig_key_desc", VR_TABLE_ROOT_HASH_SIG, 1 },
        { "use_fec_from_device", VR_TABLE_FEC, 1 },
        { "fec_roots", VR_TABLE_FEC, 1 },
        { "fec_blocks", VR_TABLE_FEC, 1 },
        { "fec_start", VR_TABLE_FEC, 1 },
};

/* The next space-separated word of *p into buf; false at the end or when it does not
 * fit, with buf saying which for messages. */
static bool next_word(const char **p, char *buf, size_t len) {
        const char *s = *p + strspn(*p, " \t\n");
        size_t n = strcspn(s, " \t\n");
        if (n == 0 || n >= len) {
                snprintf(buf, len, "%s", n == 0 ? "(missing)" : "(too long)");
                return false;
        }
        memcpy(buf, s, n);
        buf[n] = 0;
        *p = s + n;
        return true;
}

static bool parse_u64(const char *s, uint64_t *ret) {
        char *end;
        if (!*s || !strchr("0123456789", *s))
                return false;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || *end)
                return false;
        *ret = v;
        return true;
}

static bool parse_u32(const char *s, uint32_t *ret) {
        uint64_t v;
        if (!parse_u64(s, &v) || v > UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}

static bool parse_dev(const char *s, dev_t *ret) {
        const char *colon = strchr(s, ':');
        char major_s[16];
        uint32_t ma, mi;
        if (!colon || (size_t) (colon - s) >= sizeof(major_s))
                return false;
        memcpy(major_s, s, (size_t) (colon - s));
        major_s[colon - s] = 0;
        if (!parse_u32(major_s, &ma) || !parse_u32(colon + 1, &mi))
                return false;
        *ret = makedev(ma, mi);
        return true;
}

static bool is_lower_hex(const char *s) {
        return *s && strspn(s, "0123456789abcdef") == strlen(s);
}

#define BAD_FIELD(field, value) log_error_errno(EINVAL, "dm-verity table: invalid %s \"%s\"", (field), (value))

int vr_verity_table_parse(const char *params, struct vr_verity_table *t) {
        const char *p = params;
        char w[2 * 256 + 2];
        uint64_t nopts;

        *t = (struct vr_verity_table) {};
        if (!next_word(&p, w, sizeof(w)) || !parse_u32(w, &t->version) || t->version > 1)
                return BAD_FIELD("version", w);
        if (!next_word(&p, w, sizeof(w)) || !parse_dev(w, &t->data_dev))
                return BAD_FIELD("data device", w);
        if (!next_word(&p, w, sizeof(w)) || !parse_dev(w, &t->hash_dev))
                return BAD_FIELD("hash device", w);
        if (!next_word(&p, w, sizeof(w)) || !parse_u32(w, &t->data_block_size))
                return BAD_FIELD("data block size", w);
        if (!next_word(&p, w, sizeof(w)) || !parse_u32(w, &t->hash_block_size))
                return BAD_FIELD("hash block size", w);
        if (!next_word(&p, w, sizeof(w)) || !parse_u64(w, &t->data_blocks))
                return BAD_FIELD("number of data blocks", w);
        if (!next_word(&p, w, sizeof(w)) || !parse_u64(w, &t->hash_start))
                return BAD_FIELD("hash start block", w);
        if (!next_word(&p, t->algorithm, sizeof(t->algorithm)))
                return BAD_FIELD("algorithm", p);
        if (!next_word(&p, t->digest, sizeof(t->digest)) || !is_lower_hex(t->digest))
                return BAD_FIELD("root digest", t->digest);
        if (!next_word(&p, t->salt, sizeof(t->salt)) || (!streq(t->salt, "-") && !is_lower_hex(t->salt)))
                return BAD_FIELD("salt", t->salt);

        if (!next_word(&p, w, sizeof(w)))
                return 0;
        if (!parse_u64(w, &nopts))
                return BAD_FIELD("option count", w);
        for (uint64_t i = 0; i < nopts; i++) {
                size_t k;
                if (!next_word(&p, w, sizeof(w)))
                        return BAD_FIELD("option list", params);
                for (k = 0; k < ELEMENTSOF(table_options); k++)
                        if (streq(w, table_options[k].name))
                                break;
                /* An option whose meaning is unknown cannot be proven harmless. */
                if (k == ELEMENTSOF(table_options))
                        return BAD_FIELD("option", w);
                t->options |= table_options[k].flag;
                for (unsigned a = 0; a < table_options[k].nargs; a++, i++)
                        if (!next_word(&p, w, sizeof(w)))
                                return BAD_FIELD("option argument", table_options[k].name);
        }
        if (next_word(&p, w, sizeof(w)))
                return BAD_FIELD("trailing word", w);
        return 0;
}

int vr_verity_table_format(const struct vr_verity_table *t, char *buf, size_t len) {
        char opts[512] = "";
        unsigned nwords = 0;
        size_t o = 0;

        for (size_t k = 0; k < ELEMENTSOF(table_options); k++) {
                if (!(t->options & table_options[k].flag))
                        continue;
                /* Arguments are not compared: "*" keeps the word count right. */
                o += (size_t) snprintf(opts + o, sizeof(opts) - o, " %s%s", table_options[k].name,
                                       table_options[k].nargs ? " *" : "");
                nwords += 1 + table_options[k].nargs;
        }
        int n = snprintf(buf, len, "%u %u:%u %u:%u %" PRIu32 " %" PRIu32 " %" PRIu64 " %" PRIu64 " %s %s %s", t->version,
                         major(t->data_dev), minor(t->data_dev), major(t->hash_dev), minor(t->hash_dev),
                         t->data_block_size, t->hash_block_size, t->data_blocks, t->hash_start, t->algorithm,
                         t->digest, t->salt);
        if (n >= 0 && (size_t) n < len && nwords > 0)
                n += snprintf(buf + n, len - (size_t) n, " %u%s", nwords, opts);
        return n < 0 || (size_t) n >= len ? -ENOBUFS : 0;
}

static void options_to_string(unsigned options, char *buf, size_t len) {
        size_t o = 0;
        buf[0] = 0;
        for (size_t k = 0; k < ELEMENTSOF(table_options); k++)
                if ((options & table_options[k].flag) && o < len &&
                    (k == 0 || table_options[k].flag != table_options[k - 1].flag || !(options & table_options[k - 1].flag)))
                        o += (size_t) snprintf(buf + o, len - o, "%s%s", o ? "," : "", table_options[k].name);
        if (!buf[0])
                snprintf(buf, len, "none");
}

const char *vr_verity_table_diff(const struct vr_verity_table *want, const struct vr_verity_table *got, char *buf,
                                 size_t len) {
#define DIFF_NUM(field, name, fmt) \
        if (want->field != got->field) { \
                snprintf(buf, len, name " is " fmt ", not the verified " fmt, got->field, want->field); \
                return buf; \
        }
#define DIFF_DEV(field, name) \
        if (want->field != got->field) { \
                snprintf(buf, len, name " is %u:%u, not the verified %u:%u", major(got->field), minor(got->field), \
                         major(want->field), minor(want->field)); \
                return buf; \
        }
#define DIFF_STR(field, name) \
        if (!streq(want->field, got->field)) { \
                snprintf(buf, len, name " is %s, not the verified %s", got->field, want->field); \
                return buf; \
        }
        DIFF_STR(digest, "root hash");
        DIFF_DEV(data_dev, "data device");
        DIFF_DEV(hash_dev, "hash device");
        DIFF_NUM(hash_start, "hash start block", "%" PRIu64);
        DIFF_NUM(data_blocks, "number of data blocks", "%" PRIu64);
        DIFF_NUM(data_block_size, "data block size", "%" PRIu32);
        DIFF_NUM(hash_block_size, "hash block size", "%" PRIu32);
        DIFF_STR(algorithm, "hash algorithm");
        DIFF_STR(salt, "salt");
        DIFF_NUM(version, "hash format version", "%u");
        if (want->options != got->options) {
                char w[256], g[256];
                options_to_string(want->options, w, sizeof(w));
                options_to_string(got->options, g, sizeof(g));
                snprintf(buf, len, "options are %s, not the verified %s", g, w);
                return buf;
        }
        return NULL;
#undef DIFF_NUM
#undef DIFF_DEV
#undef DIFF_STR
}

void vr_dm_device_done(struct vr_dm_device *d) {
        free(d->params);
        *d = (struct vr_dm_device) {};
}

static void dm_task_destroyp(struct dm_task **t) {
        if (*t)
                dm_task_destroy(*t);
}

/* DM_DEVICE_INFO tells a missing device apart from a failure without an error message. */
static int dm_exists(const char *name) {
        _cleanup_(dm_task_destroyp) struct dm_task *dmt = dm_task_create(DM_DEVICE_INFO);
        struct dm_info info;
        if (!dmt)
                return -ENOMEM;
        if (!dm_task_set_name(dmt, name) || !dm_task_run(dmt) || !dm_task_get_info(dmt, &info))
                return -EIO;
        return info.exists ? 1 : 0;
}

int vr_dm_target_version(const char *target, unsigned ret[3]) {
        _cleanup_(dm_task_destroyp) struct dm_task *dmt = dm_task_create(DM_DEVICE_GET_TARGET_VERSION);
        struct dm_versions *v;

        if (!dmt)
                return -ENOMEM;
        if (!dm_task_set_name(dmt, target))
                return -EIO;
        if (!dm_task_run(dmt))
                return -ENOENT;
        v = dm_task_get_versions(dmt);
        if (!v || !streq(v->name, target))
                return -ENOENT;
        for (size_t i = 0; i < 3; i++)
                ret[i] = v->version[i];
        return 0;
}

int vr_dm_query(const char *name, struct vr_dm_device *ret) {
        _cleanup_(dm_task_destroyp) struct dm_task *dmt = NULL;
        struct dm_info info;
        uint64_t start = 0, length = 0;
        char *type = NULL, *params = NULL;
        const char *uuid;
        int r;

        *ret = (struct vr_dm_device) {};
        r = dm_exists(name);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        dmt = dm_task_create(DM_DEVICE_TABLE);
        if (!dmt)
                return -ENOMEM;
        if (!dm_task_set_name(dmt, name) || !dm_task_run(dmt) || !dm_task_get_info(dmt, &info))
                return -EIO;
        if (!info.exists)
                return -ENOENT;
        ret->devnum = makedev(info.major, info.minor);
        ret->target_count = (unsigned) info.target_count;
        uuid = dm_task_get_uuid(dmt);
        snprintf(ret->uuid, sizeof(ret->uuid), "%s", uuid && *uuid ? uuid : "none");
        if (info.target_count > 0)
                dm_get_next_target(dmt, NULL, &start, &length, &type, &params);
        snprintf(ret->target_type, sizeof(ret->target_type), "%s", type ?: "(none)");
        ret->start = start;
        ret->length = length;
        ret->params = strdup(params ?: "");
        return ret->params ? 0 : -ENOMEM;
}

int vr_dm_verify_verity(const char *name, const struct vr_verity_table *want, dev_t *ret_devnum) {
        _cleanup_(vr_dm_device_done) struct vr_dm_device d = {};
        struct vr_verity_table got;
        char why[512];
        int r;

        r = vr_dm_query(name, &d);
        if (r == -ENOENT)
                return log_error_errno(r, "/dev/mapper/%s does not exist", name);
        if (r < 0)
                return log_error_errno(r, "cannot read the device-mapper table of /dev/mapper/%s: %s", name, strerror(-r));
        if (d.target_count != 1 || !streq(d.target_type, "verity"))
                return log_error_errno(EBADMSG, "/dev/mapper/%s is a %s device (%u target%s, uuid %s), not the verified "
                                       "dm-verity device: refusing it", name, d.target_type, d.target_count,
                                       d.target_count == 1 ? "" : "s", d.uuid);
        r = vr_verity_table_parse(d.params, &got);
        if (r < 0)
                return log_error_errno(EBADMSG, "/dev/mapper/%s (uuid %s): unreadable dm-verity table: refusing it",
                                       name, d.uuid);
        if (vr_verity_table_diff(want, &got, why, sizeof(why)))
                return log_error_errno(EBADMSG, "/dev/mapper/%s (dm-verity, uuid %s) is not the verified device: its %s: "
                                       "refusing it", name, d.uuid, why);
        /* The target must map the whole data area, from sector 0. */
        if (d.start != 0 || d.length != want->data_blocks * (want->data_block_size / 512))
                return log_error_errno(EBADMSG, "/dev/mapper/%s (uuid %s) maps sectors %" PRIu64 "+%" PRIu64 ", not the "
                                       "verified 0+%" PRIu64 ": refusing it", name, d.uuid, d.start, d.length,
                                       want->data_blocks * (want->data_block_size / 512));
        if (ret_devnum)
                *ret_devnum = d.devnum;
        return 0;
}

int vr_verity_table_save(const char *path, const struct vr_verity_table *t) {
        char line[1024], *tmp;
        FILE *f;
        int r;

        r = vr_verity_table_format(t, line, sizeof(line));
        if (r < 0)
                return log_error_errno(r, "cannot format the expected dm-verity table for %s", path);
        f = vr_atomic_begin(path, &tmp);
        if (!f)
                return -EIO;
        fprintf(f, "%s\n", line);
        return vr_atomic_commit(f, tmp, path);
}

int vr_verity_table_load(const char *path, struct vr_verity_table *t) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[1024];
        if (!f)
                return log_error_errno(errno, "cannot read the verified dm-verity table %s: %s", path, strerror(errno));
        if (!fgets(line, sizeof(line), f))
                return log_error_errno(EBADMSG, "%s is empty", path);
        line[strcspn(line, "\n")] = 0;
        int r = vr_verity_table_parse(line, t);
        if (r < 0)
                return log_error_errno(r, "%s does not hold a dm-verity table", path);
        return 0;
}
