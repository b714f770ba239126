#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# pre-pivot hook (initrds without systemd), after mount-verity-usr.sh: the verified root
# (and /usr) must look like this machine's root, of the version its label chose; then the
# initrd's IPE policy, if it has one, goes active.

# --wants: 0 ours, 1 not ours; an invalid command line (3) is checked like ours.
/usr/lib/dracut-verity/verity-root-setup --wants --target root
[ $? -eq 1 ] && return 0
/usr/lib/dracut-verity/verity-root-check --sysroot "$NEWROOT" ||
    die "verity-root: refusing to switch to $NEWROOT (see the verity-root message above)"
[ ! -e /etc/verity-root/ipe-policy.p7s ] ||
    /usr/lib/dracut-verity/verity-root-check --ipe-policy /etc/verity-root/ipe-policy.p7s "$NEWROOT" ||
    die "verity-root: refusing to switch to $NEWROOT (see the verity-root message above)"
