/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <strings.h>

#include "cmdline.h"
#include "image-filter.h"
#include "image-policy.h"
#include "roothash.h"
#include "util.h"
#include "version.h"

#define CMDLINE_SIZE_MAX (1024u * 1024u)

/* systemd keys that also exist with "rd." in front; inside the initrd the rd. one
 * wins whatever the order, so each remembers whether its rd. form was seen. */
enum rd_key {
        RD_KEY_VERITY,
        RD_KEY_ROOT_DATA,
        RD_KEY_ROOT_HASH,
        RD_KEY_ROOT_OPTIONS,
        RD_KEY_USR_DATA,
        RD_KEY_USR_HASH,
        RD_KEY_USR_OPTIONS,
        _RD_KEY_MAX,
};

static const char *const rd_key_names[_RD_KEY_MAX] = {
        [RD_KEY_VERITY] = "systemd.verity",
        [RD_KEY_ROOT_DATA] = "systemd.verity_root_data",
        [RD_KEY_ROOT_HASH] = "systemd.verity_root_hash",
        [RD_KEY_ROOT_OPTIONS] = "systemd.verity_root_options",
        [RD_KEY_USR_DATA] = "systemd.verity_usr_data",
        [RD_KEY_USR_HASH] = "systemd.verity_usr_hash",
        [RD_KEY_USR_OPTIONS] = "systemd.verity_usr_options",
};

struct parse_state {
        bool rd_seen[_RD_KEY_MAX];
};

void vr_cmdline_init(struct vr_cmdline *c) {
        *c = (struct vr_cmdline) {
                .root_mode = VR_ROOT_UNSET,
                .verity = -1,
                .sig = VR_SIG_OPTIONAL,
                .measure = VR_MEASURE_AUTO,
                .measure_pcr = VR_MEASURE_DEFAULT_PCR,
                .timeout_sec = VR_DEFAULT_TIMEOUT_SEC,
                .corruption = VR_CORRUPTION_EIO,
                .userspace_verity = true,
        };
}

void vr_cmdline_done(struct vr_cmdline *c) {
        free(c->root);
        free(c->rootfstype);
        free(c->mount_usr);
        free(c->roothash);
        free(c->root_data);
        free(c->root_hash_device);
        free(c->root_options);
        free(c->usrhash);
        free(c->usr_data);
        free(c->usr_hash_device);
        free(c->usr_options);
        free(c->min_version);
        free(c->init);
        free(c->image_policy);
        free(c->image_filter);
        vr_cmdline_init(c);
}

/* Like the kernel and systemd, '-' and '_' are the same character in key names. */
static bool key_eq(const char *a, const char *b) {
        for (; *a && *b; a++, b++) {
                char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
                if (x != y)
                        return false;
        }
        return *a == *b;
}

static const char *key_startswith(const char *key, const char *prefix) {
        for (; *prefix; key++, prefix++) {
                char x = *key == '-' ? '_' : *key, y = *prefix == '-' ? '_' : *prefix;
                if (!*key || x != y)
                        return NULL;
        }
        return key;
}

static bool is_space(char ch) {
        return ch && strchr(" \t\n\r\v\f", ch);
}

/* Extracts the next whitespace-separated word. Double or single quotes group and are
 * dropped (key="a b" and "key=a b" alike); an unclosed quote runs to the end. */
static int next_word(const char **p, char **ret) {
        const char *start = *p, *s;
        char quote = 0, *word, *w;

        while (is_space(*start))
                start++;
        if (!*start) {
                *p = start;
                *ret = NULL;
                return 0;
        }

        /* The word's own length, not the rest of the line: keeps huge lines linear. */
        for (s = start; *s && (quote || !is_space(*s)); s++)
                if (quote ? *s == quote : (*s == '"' || *s == '\''))
                        quote = quote ? 0 : *s;

        w = word = malloc((size_t) (s - start) + 1);
        if (!word)
                return -ENOMEM;

        for (quote = 0; start < s; start++) {
                if (quote ? *start == quote : (*start == '"' || *start == '\''))
                        quote = quote ? 0 : *start;
                else
                        *w++ = *start;
        }
        *w = 0;

        *p = s;
        *ret = word;
        return 1;
}

/* systemd's spellings, case-insensitive; a bare key means true. */
static int parse_boolean(const char *v) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        if (!v)
                return 1;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(v, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(v, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

static int parse_seconds(const char *v, unsigned *ret) {
        unsigned long n;
        char *end;

        if (!v || !*v || !strchr("0123456789", *v))
                return -EINVAL;
        errno = 0;
        n = strtoul(v, &end, 10);
        if (errno != 0 || *end || n == 0 || n > UINT_MAX)
                return -EINVAL;
        *ret = (unsigned) n;
        return 0;
}

#define INVALID_VALUE(key, value, expected) \
        log_error_errno(-EINVAL, "Invalid value for %s: \"%s\" (expected %s)", (key), (value) ?: "", (expected))

/* An empty value resets the field. A bare key carries nothing to store: for the keys
 * this module owns that is an error (a policy must not vanish silently), for root= and
 * rootfstype=, which only describe someone else's root, a warning. */
static int set_string(char **field, const char *key, const char *value, bool required) {
        char *copy = NULL;

        if (!value) {
                if (required)
                        return INVALID_VALUE(key, value, "a value after \"=\"");
                log_warning("Missing value for kernel command line key %s, ignoring.", key);
                return 0;
        }
        if (*value) {
                copy = strdup(value);
                if (!copy)
                        return log_error_errno(-ENOMEM, "Out of memory storing %s", key);
        }
        free(*field);
        *field = copy;
        return 0;
}

static char **rd_key_field(struct vr_cmdline *c, enum rd_key k) {
        switch (k) {
        case RD_KEY_ROOT_DATA:
                return &c->root_data;
        case RD_KEY_ROOT_HASH:
                return &c->root_hash_device;
        case RD_KEY_ROOT_OPTIONS:
                return &c->root_options;
        case RD_KEY_USR_DATA:
                return &c->usr_data;
        case RD_KEY_USR_HASH:
                return &c->usr_hash_device;
        case RD_KEY_USR_OPTIONS:
                return &c->usr_options;
        default:
                return NULL;
        }
}

static int parse_systemd_key(struct vr_cmdline *c, struct parse_state *st, enum rd_key k, bool rd,
                             const char *key, const char *value) {
        /* A plain key overridden by its rd. form is still checked: a malformed value is
         * a mistake on the command line wherever it stands. */
        bool store = rd || !st->rd_seen[k];

        if (rd)
                st->rd_seen[k] = true;

        if (k == RD_KEY_VERITY) {
                int b = parse_boolean(value);
                if (b < 0)
                        return INVALID_VALUE(key, value, "a boolean");
                if (store)
                        c->verity = b;
                return 0;
        }
        if (!value)
                return INVALID_VALUE(key, value, "a value after \"=\"");
        return store ? set_string(rd_key_field(c, k), key, value, true) : 0;
}

/* roothash= and usrhash= are checked here, by the rules discovery applies later, so
 * that a malformed hash stops the boot even when nothing would look at it. */
static int set_hash(char **field, const char *key, const char *value) {
        struct vr_roothash h;
        char what[320];
        int r;

        if (value && *value) {
                snprintf(what, sizeof(what), "Invalid value for %s: \"%.200s%s\"", key, value,
                         strlen(value) > 200 ? "..." : "");
                r = vr_roothash_parse(value, NULL, what, &h);
                if (r < 0)
                        return r;
        }
        return set_string(field, key, value, true);
}

/* "+error": an I/O error of the data or hash device counts as corruption too (dm-verity's
 * restart_on_error/panic_on_error, cryptsetup's --error-as-corruption), so that a disk
 * cannot hide a block by failing to read it. */
static int parse_corruption(const char *value, struct vr_cmdline *c) {
        static const struct {
                const char *value;
                enum vr_corruption mode;
                bool error_as_corruption;
        } values[] = {
                { "eio", VR_CORRUPTION_EIO, false },
                { "restart", VR_CORRUPTION_RESTART, false },
                { "panic", VR_CORRUPTION_PANIC, false },
                { "restart+error", VR_CORRUPTION_RESTART, true },
                { "panic+error", VR_CORRUPTION_PANIC, true },
        };
        for (size_t i = 0; value && i < ELEMENTSOF(values); i++)
                if (streq(value, values[i].value)) {
                        c->corruption = values[i].mode;
                        c->error_as_corruption = values[i].error_as_corruption;
                        return 0;
                }
        return -EINVAL;
}

int vr_measure_policy_parse(const char *value, enum vr_measure_policy *ret_policy, unsigned *ret_pcr) {
        static const char *const off[] = { "no", "0", "false", "off", "n" };
        if (!value)
                return -EINVAL;
        if (streq(value, "required")) {
                *ret_policy = VR_MEASURE_REQUIRED;
                *ret_pcr = VR_MEASURE_DEFAULT_PCR;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(off); i++)
                if (streq(value, off[i])) {
                        *ret_policy = VR_MEASURE_OFF;
                        return 0;
                }
        /* "0" means off above, as a boolean: PCR 0 belongs to the firmware anyway. */
        char *end;
        errno = 0;
        unsigned long n = strtoul(value, &end, 10);
        if (errno || end == value || *end || value[0] < '0' || value[0] > '9' || n > VR_MEASURE_PCR_MAX ||
            (value[0] == '0' && value[1]))
                return -EINVAL;
        *ret_policy = VR_MEASURE_AUTO;
        *ret_pcr = (unsigned) n;
        return 0;
}

const char *vr_measure_policy_to_string(enum vr_measure_policy p) {
        switch (p) {
        case VR_MEASURE_REQUIRED:
                return "required";
        case VR_MEASURE_OFF:
                return "no";
        default:
                return "auto";
        }
}

static int parse_own_key(struct vr_cmdline *c, const char *name, const char *key, const char *value) {
        if (key_eq(name, "sig")) {
                if (value && streq(value, "required"))
                        c->sig = VR_SIG_REQUIRED;
                else if (value && streq(value, "optional"))
                        c->sig = VR_SIG_OPTIONAL;
                else if (value && streq(value, "off"))
                        c->sig = VR_SIG_OFF;
                else
                        return INVALID_VALUE(key, value, "required, optional or off");
        } else if (key_eq(name, "timeout")) {
                if (parse_seconds(value, &c->timeout_sec) < 0)
                        return INVALID_VALUE(key, value, "a positive number of seconds");
        } else if (key_eq(name, "corruption")) {
                if (parse_corruption(value, c) < 0)
                        return INVALID_VALUE(key, value, "eio, restart, panic, restart+error or panic+error");
        } else if (key_eq(name, "check")) {
                if (value && streq(value, "full"))
                        c->check_full = true;
                else if (value && streq(value, "none"))
                        c->check_full = false;
                else
                        return INVALID_VALUE(key, value, "full or none");
        } else if (key_eq(name, "kernel_sig")) {
                int b = value && streq(value, "required") ? 2 : parse_boolean(value);
                if (b < 0)
                        return INVALID_VALUE(key, value, "a boolean or required");
                c->kernel_sig = b == 2 ? VR_KERNEL_SIG_REQUIRED : b ? VR_KERNEL_SIG_ON : VR_KERNEL_SIG_OFF;
        } else if (key_eq(name, "measure")) {
                if (vr_measure_policy_parse(value, &c->measure, &c->measure_pcr) < 0)
                        return INVALID_VALUE(key, value, "a PCR number (1-23), required or no");
        } else if (key_eq(name, "min_version")) {
                if (!vr_version_is_valid(value))
                        return INVALID_VALUE(key, value, "a version of characters [a-zA-Z0-9._~+^-]");
                return set_string(&c->min_version, key, value, true);
        } else
                /* A typo (rd.verity.sgi=required) must not drop the policy it meant. */
                return log_error_errno(-EINVAL, "Unknown kernel command line key %s=\"%s\" "
                                       "(rd.verity.* keys: sig, timeout, corruption, check, kernel_sig, min_version, measure)",
                                       key, value ?: "");
        return 0;
}

static int parse_item(struct vr_cmdline *c, struct parse_state *st, const char *key, const char *value) {
        const char *rest;

        if (key_eq(key, "root"))
                return set_string(&c->root, key, value, false);
        if (key_eq(key, "rootfstype"))
                return set_string(&c->rootfstype, key, value, false);
        if (key_eq(key, "mount.usr"))
                return set_string(&c->mount_usr, key, value, false);
        if (key_eq(key, "roothash"))
                return set_hash(&c->roothash, key, value);
        if (key_eq(key, "usrhash"))
                return set_hash(&c->usrhash, key, value);
        if (key_eq(key, "init"))
                return set_string(&c->init, key, value, false);
        if (key_eq(key, "systemd.image_policy")) {
                struct vr_image_policy p;
                if (value && *value && vr_image_policy_parse(value, &p) < 0)
                        return INVALID_VALUE(key, value, "an image policy, see systemd.image-policy(7)");
                /* Empty is systemd's "-": nothing may be used. */
                return set_string(&c->image_policy, key, value && !*value ? "-" : value, true);
        }
        if (key_eq(key, "systemd.image_filter")) {
                struct vr_image_filter f;
                if (value && *value) {
                        if (vr_image_filter_parse(value, &f) < 0)
                                return INVALID_VALUE(key, value, "an image filter, see systemd.image-filter(7)");
                        vr_image_filter_done(&f);
                }
                return set_string(&c->image_filter, key, value, true);
        }
        /* The kernel's key, read only to know whether dm-verity will insist on signatures
         * before it is loaded; never refused here (the kernel's parser decides). */
        if (key_eq(key, "dm_verity.require_signatures")) {
                c->dm_verity_require_signatures = parse_boolean(value) != 0;
                return 0;
        }
        if (key_eq(key, "systemd.allow_userspace_verity")) {
                int b = parse_boolean(value);
                if (b < 0)
                        return INVALID_VALUE(key, value, "a boolean");
                c->userspace_verity = b;
                return 0;
        }

        if ((rest = key_startswith(key, "rd.verity.")))
                return parse_own_key(c, rest, key, value);

        rest = key_startswith(key, "rd.");
        for (enum rd_key k = 0; k < _RD_KEY_MAX; k++) {
                if (key_eq(key, rd_key_names[k]))
                        return parse_systemd_key(c, st, k, false, key, value);
                if (rest && key_eq(rest, rd_key_names[k]))
                        return parse_systemd_key(c, st, k, true, key, value);
        }
        return 0;
}

static enum vr_root_mode root_mode_from_string(const char *root) {
        if (!root)
                return VR_ROOT_UNSET;
        if (streq(root, "gpt-auto") || streq(root, "dissect"))
                return VR_ROOT_AUTO;
        if (streq(root, "/dev/mapper/root"))
                return VR_ROOT_MAPPER;
        return VR_ROOT_OTHER;
}

int vr_cmdline_parse(const char *line, struct vr_cmdline *c) {
        struct parse_state st = { .rd_seen = { false } };
        const char *p = line ?: "";
        int r;

        for (;;) {
                _cleanup_free_ char *word = NULL;
                char *eq;

                r = next_word(&p, &word);
                if (r < 0)
                        return log_error_errno(r, "Out of memory splitting the kernel command line");
                if (r == 0)
                        break;

                eq = strchr(word, '=');
                if (eq)
                        *eq++ = 0;
                r = parse_item(c, &st, word, eq);
                if (r < 0)
                        return r;
        }

        c->root_mode = root_mode_from_string(c->root);
        return 0;
}

static int read_cmdline_file(const char *path, char **ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t n;

        f = fopen(path, "re");
        if (!f)
                return log_error_errno(errno, "Failed to open kernel command line %s: %s", path, strerror(errno));

        buf = malloc(CMDLINE_SIZE_MAX + 1);
        if (!buf)
                return log_error_errno(-ENOMEM, "Out of memory reading %s", path);

        n = fread(buf, 1, CMDLINE_SIZE_MAX + 1, f);
        if (ferror(f))
                return log_error_errno(-EIO, "Failed to read kernel command line %s", path);
        if (n > CMDLINE_SIZE_MAX)
                return log_error_errno(-E2BIG, "Kernel command line %s is larger than %u bytes", path,
                                       CMDLINE_SIZE_MAX);
        /* A NUL inside the file ends the command line, as it would for the kernel. */
        buf[n] = 0;

        *ret = TAKE_PTR(buf);
        return 0;
}

int vr_cmdline_read(const char *path, struct vr_cmdline *c) {
        _cleanup_free_ char *line = NULL;
        int r;

        if (!path)
                path = "/proc/cmdline";

        r = read_cmdline_file(path, &line);
        if (r < 0)
                return r;
        return vr_cmdline_parse(line, c);
}

bool vr_cmdline_wants_root(const struct vr_cmdline *c) {
        if (c->verity == 0)
                return false;
        if (c->roothash)
                return true;
        return c->root_mode == VR_ROOT_UNSET || c->root_mode == VR_ROOT_AUTO || c->root_mode == VR_ROOT_MAPPER;
}

bool vr_cmdline_wants_usr(const struct vr_cmdline *c) {
        return c->verity != 0 && (c->usrhash || c->usr_data);
}

bool vr_cmdline_auto_usr(const struct vr_cmdline *c) {
        /* mount.usr= naming a device is the user's /usr: not ours to find. */
        bool usr_auto = !c->mount_usr || streq(c->mount_usr, "dissect") || streq(c->mount_usr, "gpt-auto");
        return c->verity != 0 && !c->roothash && !c->root_data && !vr_cmdline_wants_usr(c) && usr_auto &&
               (c->root_mode == VR_ROOT_UNSET || c->root_mode == VR_ROOT_AUTO);
}

bool vr_cmdline_kernel_sig(const struct vr_cmdline *c) {
        return c->kernel_sig != VR_KERNEL_SIG_OFF || !c->userspace_verity;
}

const char *vr_sig_policy_to_string(enum vr_sig_policy p) {
        switch (p) {
        case VR_SIG_OPTIONAL:
                return "optional";
        case VR_SIG_REQUIRED:
                return "required";
        case VR_SIG_OFF:
                return "off";
        }
        return NULL;
}

const char *vr_corruption_to_string(enum vr_corruption c) {
        switch (c) {
        case VR_CORRUPTION_EIO:
                return "eio";
        case VR_CORRUPTION_RESTART:
                return "restart";
        case VR_CORRUPTION_PANIC:
                return "panic";
        }
        return NULL;
}
