#!/bin/bash
# Case 01 in a non-systemd (shell init) dracut initrd.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_root "$WORK/root-10" shell-10
make_disk "$WORK/disk-10.img" "$WORK/root-10"
build_initrd "$WORK/initrd-10.img" shell
log=$(run_qemu 10-shell-initrd "$WORK/initrd-10.img" "roothash=$ROOTHASH" "$WORK/disk-10.img")
expect_booted "$log"
expect_init_field "$log" root /dev/mapper/root
expect_id "$log" shell-10
expect_console "$log" 'verity-root: .*verified'
