/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cleanup helpers for libudev, the udev database reader used at boot. libudev is
 * systemd's client library over the same database as sd-device; it is chosen over
 * sd-device because libcryptsetup already brings it into every initrd, while
 * libsystemd.so.0 would add 845 KB there (BENCH.md, initrd size). */
#pragma once

#include <libudev.h>

static inline void udev_unrefp(struct udev **p) { if (*p) udev_unref(*p); }
static inline void udev_enumerate_unrefp(struct udev_enumerate **p) { if (*p) udev_enumerate_unref(*p); }
static inline void udev_device_unrefp(struct udev_device **p) { if (*p) udev_device_unref(*p); }
static inline void udev_monitor_unrefp(struct udev_monitor **p) { if (*p) udev_monitor_unref(*p); }
