/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image versions: the order that picks the newest A/B root, and which strings are versions. */
#pragma once

#include <stdbool.h>

/* Runs of digits compare numerically, everything else bytewise (the order systemd uses
 * to pick the newest of several A/B partitions). NULL is the empty string. */
int vr_version_compare(const char *a, const char *b);

/* Non-empty and only os-release's IMAGE_VERSION characters: [a-zA-Z0-9._~+^-]. */
bool vr_version_is_valid(const char *v);

/* The version a GPT label carries after its last '_' ("root-x86-64_1.10" -> "1.10"),
 * or NULL when it carries none. Not validated: see vr_version_is_valid(). */
const char *vr_label_version(const char *label);
