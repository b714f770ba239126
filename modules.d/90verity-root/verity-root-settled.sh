#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# initqueue/settled hook (initrds without systemd): find, verify and open the root, then
# /usr (asked for by usrhash=, or found on the root's disk when the command line names
# neither), once. verity-root-setup waits for late partitions itself (udev events,
# rd.verity.timeout=).

[ -e /run/verity-root/settled.done ] && return 0
mkdir -p /run/verity-root
: > /run/verity-root/settled.done
if /usr/lib/dracut-verity/verity-root-setup --wants --target root; then
    /usr/lib/dracut-verity/verity-root-setup --target root --activate ||
        die "verity-root: refusing to boot an unverified root (see the verity-root message above)"
fi
# usr.wanted: left by the root's setup when its disk holds a /usr.
if /usr/lib/dracut-verity/verity-root-setup --wants --target usr || [ -e /run/verity-root/usr.wanted ]; then
    /usr/lib/dracut-verity/verity-root-setup --target usr --activate ||
        die "verity-root: refusing to boot an unverified /usr (see the verity-root message above)"
fi
