#!/bin/bash
# A systemd initrd without dracut-systemd (the module no longer pulls it in) and
# without the test overlay: the module's own verity-root-emergency.service ends a
# refused boot as rd.shell= and rd.emergency= say. No rd.shell: no shell (whoever is
# at the console may be the attacker), the rd.emergency= action; rd.shell: a shell on
# the console, driven here through the serial port.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module
[ "${WITH_DRACUT_SYSTEMD:-0}" = 0 ] || skip "tests the initrd without dracut-systemd"

wrong=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
make_root "$WORK/root-31" wrong-31
make_disk "$WORK/disk-31.img" "$WORK/root-31" --uuids-from-hash "$wrong"
NO_EMERGENCY_OVERLAY=1 build_initrd "$WORK/initrd-31.img" systemd
listing=$(in_stack lsinitrd "$WORK/initrd-31.img" 2>/dev/null)
if grep -q 'dracut-emergency' <<<"$listing"; then
	fail "the initrd has dracut-systemd's emergency path: the module must not pull dracut-systemd in"
fi
# Where systemd reads it, whatever dracut's --hostonly variables are (dracut-ng leaves
# $systemdsystemconfdir empty without --hostonly: the unit once landed in / instead).
files=$(awk '{print $NF}' <<<"$listing")
grep -qx 'etc/systemd/system/emergency.service' <<<"$files" ||
	fail "the initrd has no etc/systemd/system/emergency.service"
! grep -qx 'emergency.service' <<<"$files" || fail "the initrd has an emergency.service at its top"

# boot31 NAME APPEND [QEMU-ARGS...]: like run_qemu, but the whole command line is APPEND.
boot31() {
	local name=$1 append=$2 kernel
	shift 2
	kernel=$(newest_kernel) || return 1
	qemu_boot "$name" qemu -m 1024 -kernel "$kernel" -initrd "$WORK/initrd-31.img" \
		-append "console=ttyS0 panic=-1 printk.time=1 roothash=$wrong $append" \
		-drive "file=$WORK/disk-31.img,if=virtio,format=raw,readonly=on" "$@"
}

# No rd.shell at all (dracut's emergency.service would start a shell): powered off.
log=$(boot31 31-no-shell "rd.emergency=poweroff")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot the root file system: .*root hash does not match'
expect_console "$log" 'verity-root: the boot failed; rd\.emergency=poweroff \(rd\.shell gives a shell instead\)'
expect_console "$log" 'reboot: Power down'
! qemu_timed_out "$log" || fail "31-no-shell: the guest did not power off"

# rd.shell=0 and rd.emergency=reboot: restarted (QEMU runs with -no-reboot).
log=$(boot31 31-reboot "rd.shell=0 rd.emergency=reboot")
expect_not_booted "$log"
expect_console "$log" 'rd\.emergency=reboot'
expect_console "$log" 'reboot: Restarting system'
! qemu_timed_out "$log" || fail "31-reboot: the guest did not restart"

# rd.shell: a shell on the console. Once it says so, type a command whose output only a
# shell gives (the typed line echoes as "$((6*7))"), then power off from it. The console
# is a socket here, so qemu_boot's serial file is not used.
sock=$WORK/31-shell.sock log=$WORK/31-shell.log
rm -f "$sock" "$log"
( for _ in $(seq 1 "$QEMU_TIMEOUT"); do
	sleep 1
	[ -S "$sock" ] && grep -q 'rd.shell: starting a shell' "$log" 2>/dev/null || continue
	sleep 2
	python3 - "$sock" <<-'PY'
	import socket, sys, time
	s = socket.socket(socket.AF_UNIX)
	s.connect(sys.argv[1])
	for line in (b"echo VR-SHELL-$((6*7))\n", b"systemctl --force poweroff\n"):
	    s.sendall(line)
	    time.sleep(2)
	s.close()
	PY
	break
done ) &
typer=$!
rc=0
timeout --kill-after=5 "$QEMU_TIMEOUT" qemu-system-x86_64 -accel tcg -smp 2 -no-reboot -nodefaults \
	-display none -monitor none -nic none -m 1024 -kernel "$(newest_kernel)" -initrd "$WORK/initrd-31.img" \
	-append "console=ttyS0 panic=-1 printk.time=1 roothash=$wrong rd.shell" \
	-drive "file=$WORK/disk-31.img,if=virtio,format=raw,readonly=on" \
	-chardev "socket,id=con,path=$sock,server=on,wait=off,logfile=$log" -serial chardev:con \
	< /dev/null > "$WORK/31-shell.qemu.log" 2>&1 || rc=$?
wait "$typer" || true
sed -i 's/\x1b\[[0-9;:?!]*[A-Za-z]//g; s/\r//g' "$log"
expect_not_booted "$log"
expect_console "$log" 'verity-root: the boot failed; rd\.shell: starting a shell on the console'
expect_console "$log" '^VR-SHELL-42'
[ "$rc" -eq 0 ] || { show_tail "$log"; fail "31-shell: QEMU ended with $rc: the shell did not power the guest off"; }
