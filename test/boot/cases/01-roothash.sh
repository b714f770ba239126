#!/bin/bash
# verity-root with roothash= on the cmdline: erofs root, split layout.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_root "$WORK/root-01" roothash-01
make_disk "$WORK/disk-01.img" "$WORK/root-01"
build_initrd "$WORK/initrd-01.img" systemd
log=$(run_qemu 01-roothash "$WORK/initrd-01.img" "roothash=$ROOTHASH" "$WORK/disk-01.img")
expect_booted "$log"
expect_init_field "$log" root /dev/mapper/root
expect_id "$log" roothash-01
expect_console "$log" 'verity-root: '
expect_console "$log" 'verity-root: .*verified'
