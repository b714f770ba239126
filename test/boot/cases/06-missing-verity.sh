#!/bin/bash
# The verity partition named by roothash= does not exist: after
# rd.verity.timeout the failure names the missing partition.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_root "$WORK/root-06" missing-06
make_disk "$WORK/disk-06.img" "$WORK/root-06" --omit-verity
build_initrd "$WORK/initrd-06.img" systemd
log=$(run_qemu 06-missing-verity "$WORK/initrd-06.img" "roothash=$ROOTHASH rd.verity.timeout=10" "$WORK/disk-06.img")
expect_not_booted "$log"
expect_console "$log" "verity-root: .*(timed out|missing).*$HASH_UUID"
