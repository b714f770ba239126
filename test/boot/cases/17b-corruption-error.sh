#!/bin/bash
# rd.verity.corruption=restart+error asks dm-verity to treat I/O errors as corruption
# (restart_on_error: dm-verity 1.10, Linux 6.12+, and libcryptsetup 2.8+). Which outcome
# is due follows from the stack, never from the console: a kernel older than 6.12 stops
# the boot with one line naming its dm-verity version (host, Debian 12); a 6.12+ kernel
# with verity-root built against libcryptsetup < 2.8 stops with one line naming
# libcryptsetup (Debian 13); with both (sid) verity-root opens the device itself (no
# systemd-veritysetup release has the option word), the kernel's own table holds
# restart_on_corruption and restart_on_error, the post-attach table check passes and
# the root boots.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

# First version of the dotted version $1 and $2.
version_min() { printf '%s\n' "$1" "$2" | sort -V | head -n1; }

kver=$(kernel_version)
cs=$(in_stack pkg-config --modversion libcryptsetup) || fail "pkg-config --modversion libcryptsetup failed in ${STACK_ROOT:-the host}"
if [ "$(version_min 6.12 "${kver%%-*}")" != 6.12 ]; then
	outcome=old-kernel
elif [ "$(version_min 2.8 "$cs")" != 2.8 ]; then
	outcome=old-libcryptsetup
else
	outcome=boot
fi
log "kernel $kver, libcryptsetup $cs: expecting $outcome"

make_root "$WORK/root-17b" error-17b
make_disk "$WORK/disk-17b.img" "$WORK/root-17b"
# The kernel's table of every dm device, read in the initrd before switch-root.
probe=$(probe_overlay 'dmsetup table')
build_initrd "$WORK/initrd-17b.img" systemd --include "$probe" /
log=$(run_qemu 17b-corruption-error "$WORK/initrd-17b.img" "roothash=$ROOTHASH rd.verity.corruption=restart+error" "$WORK/disk-17b.img")
! qemu_timed_out "$log" || fail "the boot neither ended nor powered off within $QEMU_TIMEOUT s"

# expect_one_line LOG REGEX: exactly one console line matches, and it is the whole message
# (REGEX is anchored at the end: nothing after it on that line).
expect_one_line() {
	local n
	n=$(grep -Ec -- "$2\$" "$1" || :)
	[ "$n" -eq 1 ] && return 0
	show_tail "$1"
	fail "expected exactly one line /$2\$/, found $n"
}

refusal='verity-root: rd\.verity\.corruption=restart\+error needs'
case $outcome in
old-kernel)
	expect_not_booted "$log"
	expect_one_line "$log" "verity-root-setup\[[0-9]+\]: $refusal dm-verity 1\.10 \(Linux 6\.12\) or newer; kernel ${kver//./\\.} has dm-verity 1\.[0-9]\.[0-9]+"
	;;
old-libcryptsetup)
	expect_not_booted "$log"
	expect_one_line "$log" "verity-root-setup\[[0-9]+\]: $refusal libcryptsetup 2\.8 or newer; verity-root was built against an older one"
	;;
boot)
	expect_booted "$log"
	expect_id "$log" error-17b
	expect_init_field "$log" root /dev/mapper/root
	expect_no_console "$log" "$refusal" "dm-verity 1.10 and libcryptsetup $cs have the option"
	# Opened by verity-root-setup with libcryptsetup, then the table check (VR_TABLE_RESTART_ON_ERROR
	# in the expected table) and the read of the head and tail passed.
	expect_console "$log" 'verity-root: /dev/mapper/root: dm-verity status V \(verified\)$'
	# The kernel's word: both options, nothing else.
	expect_one_line "$log" "$PROBE_MARKER root: 0 [0-9]+ verity 1 [0-9]+:[0-9]+ [0-9]+:[0-9]+ 4096 4096 [0-9]+ [0-9]+ sha256 $ROOTHASH [0-9a-f]+ 2 restart_on_corruption restart_on_error"
	;;
esac
# The refusals come from verity-root-setup, before any device exists: nothing attached.
[ "$outcome" = boot ] || expect_no_console "$log" 'device-mapper: verity|dm-verity status' "refused before any dm-verity device"
