/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "image-policy.h"
#include "util.h"

static const char *const designator_names[_VR_DESIGNATOR_MAX] = {
        [VR_DESIGNATOR_ROOT] = "root",
        [VR_DESIGNATOR_USR] = "usr",
        [VR_DESIGNATOR_HOME] = "home",
        [VR_DESIGNATOR_SRV] = "srv",
        [VR_DESIGNATOR_ESP] = "esp",
        [VR_DESIGNATOR_XBOOTLDR] = "xbootldr",
        [VR_DESIGNATOR_SWAP] = "swap",
        [VR_DESIGNATOR_ROOT_VERITY] = "root-verity",
        [VR_DESIGNATOR_ROOT_VERITY_SIG] = "root-verity-sig",
        [VR_DESIGNATOR_USR_VERITY] = "usr-verity",
        [VR_DESIGNATOR_USR_VERITY_SIG] = "usr-verity-sig",
        [VR_DESIGNATOR_TMP] = "tmp",
        [VR_DESIGNATOR_VAR] = "var",
};

static const struct {
        const char *name;
        uint32_t flags;
} flag_names[] = {
        { "verity", VR_POLICY_VERITY },
        { "signed", VR_POLICY_SIGNED },
        { "encrypted", VR_POLICY_ENCRYPTED },
        { "encryptedwithintegrity", VR_POLICY_ENCRYPTED_INTEGRITY },
        { "unprotected", VR_POLICY_UNPROTECTED },
        { "unused", VR_POLICY_UNUSED },
        { "absent", VR_POLICY_ABSENT },
        { "open", VR_POLICY_OPEN },
        { "ignore", VR_POLICY_IGNORE },
        { "read-only-on", VR_POLICY_READ_ONLY_ON },
        { "read-only-off", VR_POLICY_READ_ONLY_OFF },
        { "growfs-on", VR_POLICY_GROWFS_ON },
        { "growfs-off", VR_POLICY_GROWFS_OFF },
        { "btrfs", VR_POLICY_BTRFS },
        { "erofs", VR_POLICY_EROFS },
        { "ext4", VR_POLICY_EXT4 },
        { "f2fs", VR_POLICY_F2FS },
        { "squashfs", VR_POLICY_SQUASHFS },
        { "vfat", VR_POLICY_VFAT },
        { "xfs", VR_POLICY_XFS },
};

enum vr_designator vr_designator_from_prefix(const char *s, size_t n) {
        for (enum vr_designator d = 0; d < _VR_DESIGNATOR_MAX; d++)
                if (strlen(designator_names[d]) == n && strncmp(s, designator_names[d], n) == 0)
                        return d;
        return VR_DESIGNATOR_INVALID;
}

const char *vr_designator_to_string(enum vr_designator d) {
        return d >= 0 && d < _VR_DESIGNATOR_MAX ? designator_names[d] : "?";
}

enum vr_designator vr_designator_from_role(enum vr_part_role role) {
        switch (role) {
        case VR_ROLE_ROOT:
                return VR_DESIGNATOR_ROOT;
        case VR_ROLE_ROOT_VERITY:
                return VR_DESIGNATOR_ROOT_VERITY;
        case VR_ROLE_ROOT_VERITY_SIG:
                return VR_DESIGNATOR_ROOT_VERITY_SIG;
        case VR_ROLE_USR:
                return VR_DESIGNATOR_USR;
        case VR_ROLE_USR_VERITY:
                return VR_DESIGNATOR_USR_VERITY;
        case VR_ROLE_USR_VERITY_SIG:
                return VR_DESIGNATOR_USR_VERITY_SIG;
        default:
                return VR_DESIGNATOR_INVALID;
        }
}

static enum vr_designator verity_data_of(enum vr_designator d) {
        switch (d) {
        case VR_DESIGNATOR_ROOT_VERITY:
        case VR_DESIGNATOR_ROOT_VERITY_SIG:
                return VR_DESIGNATOR_ROOT;
        case VR_DESIGNATOR_USR_VERITY:
        case VR_DESIGNATOR_USR_VERITY_SIG:
                return VR_DESIGNATOR_USR;
        default:
                return VR_DESIGNATOR_INVALID;
        }
}

static bool is_sig(enum vr_designator d) {
        return d == VR_DESIGNATOR_ROOT_VERITY_SIG || d == VR_DESIGNATOR_USR_VERITY_SIG;
}

/* Unspecified fields mean "any". */
static uint32_t extend(uint32_t f) {
        if (!(f & VR_POLICY_USE_MASK))
                f |= VR_POLICY_OPEN;
        if (!(f & VR_POLICY_READ_ONLY_MASK))
                f |= VR_POLICY_READ_ONLY_MASK;
        if (!(f & VR_POLICY_GROWFS_MASK))
                f |= VR_POLICY_GROWFS_MASK;
        if (!(f & VR_POLICY_FSTYPE_MASK))
                f |= VR_POLICY_FSTYPE_MASK;
        return f;
}

static uint32_t normalize(uint32_t f, enum vr_designator d) {
        f = extend(f);
        /* A verity or signature partition is the protection: it has none of its own. */
        if (verity_data_of(d) >= 0)
                f &= ~(VR_POLICY_VERITY | VR_POLICY_SIGNED | VR_POLICY_ENCRYPTED | VR_POLICY_ENCRYPTED_INTEGRITY |
                       VR_POLICY_FSTYPE_MASK);
        /* Only root and usr have verity partitions in the DPS. */
        if (d != VR_DESIGNATOR_ROOT && d != VR_DESIGNATOR_USR)
                f &= ~(VR_POLICY_VERITY | VR_POLICY_SIGNED);
        if ((f & VR_POLICY_USE_MASK) == VR_POLICY_ABSENT)
                f &= ~(VR_POLICY_READ_ONLY_MASK | VR_POLICY_GROWFS_MASK | VR_POLICY_FSTYPE_MASK);
        return f;
}

uint32_t vr_image_policy_get(const struct vr_image_policy *p, enum vr_designator d) {
        if (!p)
                return normalize(VR_POLICY_OPEN, d);
        if (p->listed[d])
                return normalize(p->flags[d], d);

        /* A verity partition may be used when its data partition may be used with verity; a
         * signature partition only when signed; either may be unused or absent when the data
         * partition may. */
        enum vr_designator data = verity_data_of(d);
        if (data >= 0) {
                uint32_t df = vr_image_policy_get(p, data);
                uint32_t need = is_sig(d) ? VR_POLICY_SIGNED : (VR_POLICY_SIGNED | VR_POLICY_VERITY);
                if (df & need)
                        return normalize(VR_POLICY_UNPROTECTED | (df & (VR_POLICY_UNUSED | VR_POLICY_ABSENT)) |
                                                 (df & (VR_POLICY_READ_ONLY_MASK | VR_POLICY_GROWFS_MASK)),
                                         d);
        }
        return normalize(p->default_flags, d);
}

static int parse_flags(const char *s, size_t len, uint32_t *ret) {
        uint32_t flags = 0;
        const char *end = s + len;

        if (len == 0 || (len == 1 && *s == '-')) {
                *ret = 0;
                return 0;
        }
        while (s <= end) {
                const char *plus = memchr(s, '+', (size_t) (end - s));
                size_t n = (size_t) ((plus ?: end) - s);
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(flag_names); i++)
                        if (strlen(flag_names[i].name) == n && strncmp(s, flag_names[i].name, n) == 0) {
                                flags |= flag_names[i].flags;
                                found = true;
                        }
                if (!found)
                        return log_error_errno(-EBADRQC, "Unknown partition policy flag \"%.*s\" in image policy",
                                               (int) (n > 64 ? 64 : n), s);
                if (!plus)
                        break;
                s = plus + 1;
        }
        *ret = flags;
        return 0;
}

int vr_image_policy_parse(const char *s, struct vr_image_policy *ret) {
        struct vr_image_policy p = { .default_flags = VR_POLICY_IGNORE };
        bool default_seen = false;
        int r;

        if (!s || !*s || streq(s, "-")) {
                *ret = p;
                return 0;
        }
        if (streq(s, "*") || streq(s, "~")) {
                p.default_flags = streq(s, "*") ? VR_POLICY_OPEN : VR_POLICY_ABSENT;
                *ret = p;
                return 0;
        }

        for (const char *rule = s;;) {
                const char *colon = strchr(rule, ':');
                size_t n = colon ? (size_t) (colon - rule) : strlen(rule);
                const char *eq = memchr(rule, '=', n);
                if (!eq)
                        return log_error_errno(-EINVAL, "Image policy rule \"%.*s\" has no \"=\"",
                                               (int) (n > 64 ? 64 : n), rule);
                size_t dn = (size_t) (eq - rule);
                uint32_t flags = 0;
                enum vr_designator d = vr_designator_from_prefix(rule, dn);
                if (dn > 0 && d < 0)
                        return log_error_errno(-EBADSLT, "Unknown partition designator \"%.*s\" in image policy",
                                               (int) (dn > 64 ? 64 : dn), rule);
                r = parse_flags(eq + 1, n - dn - 1, &flags);
                if (r < 0)
                        return r;
                if (dn == 0) {
                        if (default_seen)
                                return log_error_errno(-ENOTUNIQ, "Image policy gives the default (\"=...\") twice");
                        default_seen = true;
                        p.default_flags = flags;
                } else {
                        if (p.listed[d])
                                return log_error_errno(-ENOTUNIQ, "Image policy names %s twice",
                                                       vr_designator_to_string(d));
                        p.listed[d] = true;
                        p.flags[d] = flags;
                }
                if (!colon)
                        break;
                rule = colon + 1;
        }
        *ret = p;
        return 0;
}

const char *vr_image_policy_flags_to_string(uint32_t flags, char *buf, size_t len) {
        size_t used = 0;

        if (len == 0)
                return buf;
        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(flag_names); i++) {
                uint32_t f = flag_names[i].flags;
                if ((f & (f - 1)) || !(flags & f))
                        continue; /* shortcuts ("open", "ignore") are not spelled */
                int n = snprintf(buf + used, len - used, "%s%s", used ? "+" : "", flag_names[i].name);
                if (n < 0 || (size_t) n >= len - used)
                        break;
                used += (size_t) n;
        }
        if (!used)
                snprintf(buf, len, "-");
        return buf;
}

uint32_t vr_image_policy_fstype_flag(const char *fstype) {
        for (size_t i = 0; fstype && i < ELEMENTSOF(flag_names); i++)
                if ((flag_names[i].flags & VR_POLICY_FSTYPE_MASK) && streq(fstype, flag_names[i].name))
                        return flag_names[i].flags;
        return 0;
}

int vr_image_policy_check_gpt_flags(uint32_t flags, uint64_t gpt_flags, char *why, size_t len) {
        static const struct {
                uint64_t bit;
                uint32_t on, off;
                const char *name;
        } bits[] = {
                { VR_GPT_FLAG_READ_ONLY, VR_POLICY_READ_ONLY_ON, VR_POLICY_READ_ONLY_OFF, "read-only" },
                { VR_GPT_FLAG_GROWFS, VR_POLICY_GROWFS_ON, VR_POLICY_GROWFS_OFF, "growfs" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bits); i++) {
                bool set = gpt_flags & bits[i].bit;
                if (!(flags & (set ? bits[i].on : bits[i].off))) {
                        snprintf(why, len, "its GPT %s flag is %s but the policy wants %s-%s", bits[i].name,
                                 set ? "on" : "off", bits[i].name, set ? "off" : "on");
                        return -EPERM;
                }
        }
        return 0;
}
