#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# emergency.service of a systemd initrd without dracut-systemd: end the failed boot the
# way rd.shell= and rd.emergency= say. Whoever sits at the console may be the attacker,
# so a shell only on an explicit rd.shell (as dracut's die() does); otherwise
# rd.emergency= (reboot, poweroff, halt; halt by default).
type getarg > /dev/null 2>&1 || . /lib/dracut-lib.sh

if getargbool 0 rd.shell; then
    echo "verity-root: the boot failed; rd.shell: starting a shell on the console (exit it to try again)" > /dev/console
    # systemd's sulogin shell where dracut-ng's systemd-emergency module put it there.
    if [ -x /usr/lib/systemd/systemd-sulogin-shell ]; then
        exec /usr/lib/systemd/systemd-sulogin-shell emergency
    fi
    PS1='verity-root:${PWD}# ' /bin/sh -i
    # As dracut's emergency shell: leaving it retries the boot.
    systemctl --no-block default
    exit 0
fi

_action=$(getarg rd.emergency)
case $_action in
    reboot | poweroff | halt) ;;
    *) _action=halt ;;
esac
echo "verity-root: the boot failed; rd.emergency=$_action (rd.shell gives a shell instead)" > /dev/console
# --force: no clean stop of units that wait for a root that will not come.
exec systemctl --no-block --force "$_action"
