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
        # dm-verity devices are read-only: dracut's fsck of an ext4 root cannot even
        # open one, and there is nothing it may repair.
        fastboot=yes
        wait_for_dev -n /dev/mapper/root
    fi
fi
# usrhash= with a root of its own: the initqueue must not finish before /usr is open.
if [ ! -d /run/systemd/system ] && /usr/lib/dracut-verity/verity-root-setup --wants --target usr; then
    wait_for_dev -n /dev/mapper/usr
fi
