#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# initqueue/settled hook (initrds without systemd): find, verify and open the root once.
# verity-root-setup waits for late partitions itself (udev events, rd.verity.timeout=).

[ -e /run/verity-root/root.done ] && return 0
/usr/lib/dracut-verity/verity-root-setup --wants --target root || return 0
mkdir -p /run/verity-root
: > /run/verity-root/root.done
if ! /usr/lib/dracut-verity/verity-root-setup --target root --activate; then
    die "verity-root: refusing to boot an unverified root (see the verity-root message above)"
fi
