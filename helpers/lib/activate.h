/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Turning a verdict into /dev/mapper/NAME: hand-off to systemd-veritysetup, or libcryptsetup. */
#pragma once

#include "cmdline.h"
#include "discover.h"
#include "dmtable.h"

#define VR_RUNDIR "/run/verity-root"

/* Whether systemd-veritysetup (v252) can open this layout: it reads the superblock at
 * offset 0 of the hash device and knows no hash-offset= yet, so not the appended one;
 * nor the +error modes of rd.verity.corruption=, for which it has no option word. */
bool vr_handoff_possible(const struct vr_verdict *v, const struct vr_cmdline *c);

/* For rd.verity.corruption=restart+error|panic+error: 0 when this libcryptsetup (2.8+)
 * and a kernel whose dm-verity target has dm_verity_version (1.10+, Linux 6.12) can set
 * restart_on_error/panic_on_error; otherwise -EOPNOTSUPP, with one line naming what is
 * missing. vr_activate() asks the kernel for the version and calls this. */
int vr_check_error_as_corruption(const struct vr_cmdline *c, const unsigned dm_verity_version[3]);

/* Writes KEY=value lines for systemd-veritysetup@NAME.service (EnvironmentFile=):
 * VERITY_DATA, VERITY_HASH, VERITY_ROOTHASH, VERITY_OPTIONS (rd.verity.* options plus
 * user_options, i.e. systemd.verity_*_options=, passed on as they are), VERITY_HANDOFF. */
int vr_write_handoff_env(const char *path, const struct vr_verdict *v, const struct vr_cmdline *c,
                         const char *user_options, bool handoff);

/* Opens /dev/mapper/NAME read-only with libcryptsetup, honouring rd.verity.corruption=,
 * rd.verity.kernel_sig= and the flag words of user_options (systemd.verity_*_options=).
 * Logs naming the device on failure. */
int vr_activate(const char *name, const struct vr_verdict *v, const struct vr_cmdline *c, const char *user_options);

/* The dm-verity table that opening v must produce, with the options rd.verity.* and
 * user_options ask for: what the active /dev/mapper/NAME is compared with. */
int vr_expected_table(const struct vr_verdict *v, const struct vr_cmdline *c, const char *user_options,
                      struct vr_verity_table *t);
