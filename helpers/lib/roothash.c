/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <openssl/evp.h>

#include "roothash.h"
#include "util.h"

/* dm-verity hands the name to the kernel crypto API, so only kernel spellings are
 * accepted; OpenSSL is asked for the digest size under its own name. */
static const struct {
        const char *kernel;
        const char *openssl;
} hash_algorithms[] = {
        { "sha1", "SHA1" },
        { "sha224", "SHA224" },
        { "sha256", "SHA256" },
        { "sha384", "SHA384" },
        { "sha512", "SHA512" },
        { "sha3-224", "SHA3-224" },
        { "sha3-256", "SHA3-256" },
        { "sha3-384", "SHA3-384" },
        { "sha3-512", "SHA3-512" },
        { "sm3", "SM3" },
        { "blake2b-512", "BLAKE2b512" },
};

size_t vr_hash_algorithm_size(const char *algorithm) {
        if (!algorithm)
                return 0;

        for (size_t i = 0; i < ELEMENTSOF(hash_algorithms); i++) {
                if (!streq(algorithm, hash_algorithms[i].kernel))
                        continue;

                const EVP_MD *md = EVP_get_digestbyname(hash_algorithms[i].openssl);
                if (!md)
                        return 0;
                int size = EVP_MD_get_size(md);
                return size > 0 && size <= VR_ROOTHASH_MAX ? (size_t) size : 0;
        }
        return 0;
}

/* Root hashes that leave 16 distinct bytes at each end for the two PARTUUIDs. */
static bool derivable_size(size_t bytes) {
        return bytes == 32 || bytes == 48 || bytes == 64;
}

int vr_roothash_parse(const char *hex, const char *algorithm, const char *what, struct vr_roothash *out) {
        size_t digits, expected = 0;

        *out = (struct vr_roothash) { .len = 0 };
        if (!what)
                what = "root hash";

        if (!hex || !*hex)
                return log_error_errno(-EINVAL, "%s: empty, expected a hex root hash", what);

        digits = strlen(hex);
        for (size_t i = 0; i < digits; i++)
                if (!isxdigit((unsigned char) hex[i])) {
                        if (isprint((unsigned char) hex[i]))
                                return log_error_errno(-EINVAL, "%s: '%c' at position %zu is not a hex digit",
                                                       what, hex[i], i + 1);
                        return log_error_errno(-EINVAL, "%s: byte 0x%02x at position %zu is not a hex digit",
                                               what, (unsigned char) hex[i], i + 1);
                }

        if (algorithm) {
                expected = vr_hash_algorithm_size(algorithm);
                if (expected == 0)
                        return log_error_errno(-EINVAL, "%s: unknown or unsupported hash algorithm \"%s\"",
                                               what, algorithm);
                if (digits != 2 * expected)
                        return log_error_errno(-EINVAL, "%s: %zu hex digits, %s needs %zu",
                                               what, digits, algorithm, 2 * expected);
        } else {
                if (digits % 2 != 0)
                        return log_error_errno(-EINVAL, "%s: %zu hex digits, an odd number cannot be a hash",
                                               what, digits);
                if (digits == 40)
                        return log_error_errno(-EINVAL,
                                               "%s: 40 hex digits (sha1) is too short to derive both the data "
                                               "and the verity PARTUUID; use sha256, sha384 or sha512",
                                               what);
                if (!derivable_size(digits / 2))
                        return log_error_errno(-EINVAL,
                                               "%s: %zu hex digits, expected 64, 96 or 128 (sha256, sha384, sha512)",
                                               what, digits);
                expected = digits / 2;
        }

        if (vr_hex_decode(hex, digits, out->bytes, expected) < 0)
                return log_error_errno(-EINVAL, "%s: not a valid hex string", what);
        out->len = expected;
        return 0;
}

char *vr_roothash_to_string(const struct vr_roothash *h, char *buf) {
        vr_hex_encode(h->bytes, h->len, buf);
        return buf;
}

/* Hashes shorter than 16 bytes cannot come out of vr_roothash_parse; zeros keep it defined. */
void vr_roothash_data_uuid(const struct vr_roothash *h, unsigned char out[16]) {
        memset(out, 0, 16);
        if (h->len >= 16)
                memcpy(out, h->bytes, 16);
}

void vr_roothash_verity_uuid(const struct vr_roothash *h, unsigned char out[16]) {
        memset(out, 0, 16);
        if (h->len >= 16)
                memcpy(out, h->bytes + h->len - 16, 16);
}
