#!/bin/bash
# rd.verity.corruption=panic: the first corrupted read panics the kernel (dm-verity's
# panic_on_corruption, passed through systemd-veritysetup's options).
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_root "$WORK/root-17" panic-17
make_disk "$WORK/disk-17.img" "$WORK/root-17" --corrupt-data-block 0
build_initrd "$WORK/initrd-17.img" systemd
log=$(run_qemu 17-corruption-panic "$WORK/initrd-17.img" "roothash=$ROOTHASH rd.verity.corruption=panic" "$WORK/disk-17.img")
expect_not_booted "$log"
expect_console "$log" 'dm-verity device corrupted'
expect_console "$log" 'Kernel panic'
