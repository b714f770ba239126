#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# cmdline hook: claim the root when the kernel command line leaves it to verity-root.

# verity-root-setup --wants: 0 ours, 1 not ours, anything else (3: an invalid value,
# printed above) means the command line cannot be trusted to say whose root it is.
/usr/lib/dracut-verity/verity-root-setup --wants --target root
_verity_root_wants=$?
if [ "$_verity_root_wants" -gt 1 ] && [ ! -d /run/systemd/system ]; then
    die "verity-root: refusing to boot: invalid kernel command line (see the verity-root message above)"
fi
# With systemd the generator has taken the root on the same error, and
# verity-root-setup@root stops the boot: treat it as ours here too.
if [ "$_verity_root_wants" -ne 1 ]; then
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
unset _verity_root_wants
# usrhash= with a root of its own: the initqueue must not finish before /usr is open.
if [ ! -d /run/systemd/system ] && /usr/lib/dracut-verity/verity-root-setup --wants --target usr; then
    wait_for_dev -n /dev/mapper/usr
fi
