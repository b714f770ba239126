/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The TPM, through tpm2-tss (libtss2-esys and a TCTI library, loaded with dlopen() as
 * systemd does, so that initrds without them still boot): extend one PCR in every
 * active bank, and record it in systemd's userspace measurement log. */
#pragma once

#include <stdint.h>
#include "measure.h"

#define VR_TPM2_ESYS_LIB "libtss2-esys.so.0"
/* The resource manager's node first (as systemd), the raw one if the kernel has no rm. */
#define VR_TPM2_RM_NODE "/dev/tpmrm0"
#define VR_TPM2_RAW_NODE "/dev/tpm0"

/* Which TPM to use: TCTI driver ("device" loads libtss2-tcti-device.so.0) and its
 * configuration (the device node). */
struct vr_tpm2_target {
        const char *driver;
        const char *conf;
};

/* The TPM device node, waiting up to wait_usec for it while the firmware announces a
 * TPM (ACPI TPM2 table) or the kernel has one (/sys/class/tpm/tpm0) whose node is not
 * there yet. -ENODEV at once when nothing announces one; -ETIMEDOUT when the wait ends. */
int vr_tpm2_find_device(uint64_t wait_usec, const char **ret_node);

/* Extends pcr in every active bank this module can hash with HASH_bank(data) and
 * returns those digests (ret must hold vr_pcr_banks_n). Errors are logged, naming the
 * library or TPM command at fault: -ENOPKG when a library is missing. */
int vr_tpm2_extend(const struct vr_tpm2_target *t, unsigned pcr, const void *data, size_t len, struct vr_digest *ret,
                   size_t *ret_n);

/* The whole measurement, as systemd's: lock log_path, extend, append the record. */
int vr_tpm2_measure(const struct vr_tpm2_target *t, unsigned pcr, const char *event, const char *log_path);
