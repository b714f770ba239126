#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# pre-pivot hook (initrds without systemd), after mount-verity-usr.sh: the verified root
# (and /usr) must look like this machine's root, of the version its label chose.

/usr/lib/dracut-verity/verity-root-setup --wants --target root || return 0
/usr/lib/dracut-verity/verity-root-check --sysroot "$NEWROOT" ||
    die "verity-root: refusing to switch to $NEWROOT (see the verity-root message above)"
