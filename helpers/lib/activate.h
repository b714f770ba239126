/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Turning a verdict into /dev/mapper/NAME: hand-off to systemd-veritysetup, or libcryptsetup. */
#pragma once

#include "cmdline.h"
#include "discover.h"

#define VR_RUNDIR "/run/verity-root"

/* Whether systemd-veritysetup (v252) can open this layout: it reads the superblock at
 * offset 0 of the hash device and knows no hash-offset= yet, so not the appended one. */
bool vr_handoff_possible(const struct vr_verdict *v);

/* Writes KEY=value lines for systemd-veritysetup@NAME.service (EnvironmentFile=):
 * VERITY_DATA, VERITY_HASH, VERITY_ROOTHASH, VERITY_OPTIONS, VERITY_HANDOFF. */
int vr_write_handoff_env(const char *path, const struct vr_verdict *v, const struct vr_cmdline *c, bool handoff);

/* Opens /dev/mapper/NAME read-only with libcryptsetup, honouring rd.verity.corruption=
 * and rd.verity.kernel_sig=. Logs naming the device on failure. */
int vr_activate(const char *name, const struct vr_verdict *v, const struct vr_cmdline *c);
