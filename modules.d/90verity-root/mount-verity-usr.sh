#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# pre-pivot hook (initrds without systemd): mount the /usr that verity-root opened,
# read-only, before dracut's usrmount would look at the new root's fstab.

[ -e /run/verity-root/usr.activated ] || return 0
ismounted "$NEWROOT/usr" && return 0
mount -o ro /dev/mapper/usr "$NEWROOT/usr" ||
    die "verity-root: cannot mount /dev/mapper/usr on $NEWROOT/usr"
