#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# initqueue/settled hook (initrds without systemd): find, verify and open the root, then
# /usr (asked for by usrhash=, or found on the root's disk when the command line names
# neither), once. verity-root-setup waits for late partitions itself (kernel and udev events,
# rd.verity.timeout=).

# --wants TARGET: 0 ours, 1 not ours; anything else (3: invalid kernel command line,
# printed by verity-root-setup) stops the boot.
verity_root_wants() {
    /usr/lib/dracut-verity/verity-root-setup --wants --target "$1"
    case $? in
        0) return 0 ;;
        1) return 1 ;;
        *) die "verity-root: refusing to boot: invalid kernel command line (see the verity-root message above)" ;;
    esac
}

[ -e /run/verity-root/settled.done ] && return 0
mkdir -p /run/verity-root
: > /run/verity-root/settled.done
if verity_root_wants root; then
    /usr/lib/dracut-verity/verity-root-setup --target root --activate ||
        die "verity-root: refusing to boot an unverified root (see the verity-root message above)"
fi
# usr.wanted: left by the root's setup when its disk holds a /usr.
if verity_root_wants usr || [ -e /run/verity-root/usr.wanted ]; then
    /usr/lib/dracut-verity/verity-root-setup --target usr --activate ||
        die "verity-root: refusing to boot an unverified /usr (see the verity-root message above)"
fi
