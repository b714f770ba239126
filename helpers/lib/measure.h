/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a verified root (or /usr) is measured as: the event string, its digests per PCR
 * bank, the PCR replay, and the record in systemd's userspace measurement log. The same
 * code runs at boot (verity-root-setup) and on the host (verity-root predict-pcr). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "discover.h"
#include "signature.h"

/* systemd's userspace measurement log (TCG CEL-JSON records, JSON-SEQ framed). */
#define VR_MEASURE_LOG_PATH "/run/log/systemd/tpm2-measure.log"
/* The eventType systemd gives its own dm-verity measurements. */
#define VR_MEASURE_EVENT_TYPE "dm-verity"
/* The first field of every event string; the second is the format version. */
#define VR_MEASURE_EVENT_PREFIX "verity-root:v1:"

#define VR_DIGEST_MAX 64
struct vr_pcr_bank {
        const char *name;    /* "sha256": the hashAlg of the log */
        uint16_t tpm_alg;    /* TPM2_ALG_SHA256 */
        size_t size;
        const char *evp_name;
};

/* The banks this module can hash: sha1, sha256, sha384, sha512. */
extern const struct vr_pcr_bank vr_pcr_banks[];
extern const size_t vr_pcr_banks_n;
const struct vr_pcr_bank *vr_pcr_bank_by_alg(uint16_t tpm_alg);
const struct vr_pcr_bank *vr_pcr_bank_by_name(const char *name);

struct vr_digest {
        const struct vr_pcr_bank *bank;
        unsigned char bytes[VR_DIGEST_MAX];
};

/* The event string of a verified target (format version 1, see dracut.verity-root(7)):
 *   verity-root:v1:TARGET:ROOTHASH:SOURCE:FINGERPRINT
 * TARGET root or usr, ROOTHASH lowercase hex, SOURCE cmdline or signature, FINGERPRINT the
 * lowercase hex SHA-256 of the DER certificate whose signature over this root hash
 * verified, or "-" when none did. Returns -EINVAL for a malformed piece. */
int vr_measure_event(enum vr_target target, const char *roothash_hex, enum vr_hash_source source,
                     const unsigned char *fingerprint, char **ret);
/* The event string of a verdict: the signer, if any, is looked up in ts by the name the
 * verdict gives it. */
int vr_measure_event_for_verdict(enum vr_target target, const struct vr_verdict *v, const struct vr_trust_store *ts,
                                 char **ret);

/* d->bytes = HASH_bank(data). */
int vr_digest_data(const struct vr_pcr_bank *bank, const void *data, size_t len, struct vr_digest *d);
/* pcr = HASH_bank(pcr || digest): what PCR_Extend does with one digest. */
int vr_pcr_replay(const struct vr_pcr_bank *bank, unsigned char *pcr, const unsigned char *digest);

/* One log record as systemd writes it: 0x1E, the JSON object
 * {"pcr":N,"digests":[{"hashAlg":"sha256","digest":"HEX"},...],"content_type":"systemd",
 *  "content":{"string":EVENT,"eventType":"dm-verity"}}, then a newline. */
int vr_measure_record(unsigned pcr, const struct vr_digest *digests, size_t n, const char *event, char **ret);

/* The same record as a JSON object (NULL when out of memory). */
json_object *vr_measure_record_json(unsigned pcr, const struct vr_digest *digests, size_t n, const char *event);

/* Opens (creating it and its directory, mode 0600) and locks the log for appending, as
 * systemd does before it extends; the fd holds the lock until closed. */
int vr_measure_log_open(const char *path);
/* Appends one record; returns -errno, logged naming path. */
int vr_measure_log_write(int fd, const char *path, const char *record);

/* Replays every record of the log text for pcr in bank from a zeroed PCR into pcr_out
 * (bank->size bytes); *ret_n counts the records replayed. A record of that PCR that lacks
 * the bank's digest or does not parse is an error (-EBADMSG). */
int vr_measure_log_replay(const char *text, size_t len, unsigned pcr, const struct vr_pcr_bank *bank,
                          unsigned char *pcr_out, size_t *ret_n);
