/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What booting an image sets up, for the verbs that answer in advance (predict-pcr,
 * ipe-policy): the verdicts the initrd reaches, in the order it reaches them. */
#pragma once

#include "discover.h"

/* The root (Kiwi layouts included), then /usr: the one usrhash names, or without roothash
 * (no root arguments, as at boot) a signed /usr on the root's disk. usrhash needs
 * roothash. Fills v[0] and maybe v[1] (the caller frees both with vr_verdict_done) and
 * returns how many (1 or 2); logs naming the file system that would not boot and why,
 * and returns a negative errno, otherwise. */
int vr_image_verdicts(const struct vr_partition_list *parts, const char *roothash, const char *usrhash,
                      const struct vr_trust_store *trust, struct vr_verdict v[2]);
