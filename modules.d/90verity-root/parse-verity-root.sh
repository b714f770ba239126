#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# cmdline hook: claim the root when the kernel command line leaves it to verity-root.

if /usr/lib/dracut-verity/verity-root-setup --wants --target root; then
    # root=dissect is unknown to dracut's own parser; the device is ours either way.
    rootok=1
    if [ ! -d /run/systemd/system ]; then
        root=block:/dev/mapper/root
        [ -n "$fstype" ] && [ "$fstype" != auto ] || fstype=auto
        rflags="${rflags:+$rflags,}ro"
        wait_for_dev -n /dev/mapper/root
    fi
fi
