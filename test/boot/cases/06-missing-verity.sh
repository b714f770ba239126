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
# While waiting: what is awaited and what is there, not the interim refusal as if final.
expect_console "$log" 'verity-root: waiting up to 10s for the root partitions \(a root-x86-64 partition and its root-verity-x86-64 partition \(or appended hash tree\) with the PARTUUIDs roothash= derives\); seen so far: [0-9]+ partitions? on [0-9]+ disks?, '
expect_no_console "$log" 'verity-root: waiting up to [0-9]+s for the root partitions: '
expect_console "$log" "verity-root: .*timed out after 10s: missing root-verity partition with PARTUUID=$HASH_UUID"
