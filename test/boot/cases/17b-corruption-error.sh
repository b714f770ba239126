#!/bin/bash
# rd.verity.corruption=restart+error asks dm-verity to treat I/O errors as corruption
# (restart_on_error, Linux 6.12+ and libcryptsetup 2.8+). Where the kernel is older the
# boot stops with one line saying what is missing; where it has it, the device is opened
# with the option (the post-attach table check includes it) and the root boots.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_root "$WORK/root-17b" error-17b
make_disk "$WORK/disk-17b.img" "$WORK/root-17b"
build_initrd "$WORK/initrd-17b.img" systemd
log=$(run_qemu 17b-corruption-error "$WORK/initrd-17b.img" "roothash=$ROOTHASH rd.verity.corruption=restart+error" "$WORK/disk-17b.img")
kver=$(kernel_version)
if [ "$(printf '%s\n' 6.12 "${kver%%-*}" | sort -V | head -n1)" != 6.12 ]; then
	expect_not_booted "$log"
	expect_console "$log" "verity-root: rd.verity.corruption=restart\+error needs dm-verity 1.10 \(Linux 6.12\) or newer; kernel ${kver//./\\.} has dm-verity 1\."
elif grep -q 'needs libcryptsetup 2.8 or newer' "$log"; then
	expect_not_booted "$log"
else
	expect_booted "$log"
	expect_id "$log" error-17b
fi
