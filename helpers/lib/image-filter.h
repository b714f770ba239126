/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd.image_filter= (systemd.image-filter(7)): per designator, a glob the GPT label of
 * a partition must match for the partition to be considered at all (A/B slot choice). */
#pragma once

#include <stdbool.h>
#include "image-policy.h"
#include "partition.h"

struct vr_image_filter {
        char *pattern[_VR_DESIGNATOR_MAX]; /* NULL: no filter for that designator */
};

/* Parses "designator=glob:designator=glob"; errors logged naming the rule: -EBADSLT
 * unknown designator, -ENOTUNIQ a designator twice, -EINVAL malformed or empty glob. */
int vr_image_filter_parse(const char *s, struct vr_image_filter *ret);
void vr_image_filter_done(struct vr_image_filter *f);

/* Whether p takes part in discovery: not labelled "_empty" (systemd never uses those) and,
 * when it has a DPS type with a filter pattern, its label matches the pattern. */
bool vr_image_filter_keeps(const struct vr_image_filter *f, const struct vr_partition *p);
