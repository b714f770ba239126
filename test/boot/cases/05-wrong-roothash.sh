#!/bin/bash
# roothash= names partitions that exist (their PARTUUIDs are derived from it)
# but is not the hash of their content: refused as a mismatch.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

wrong=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
make_root "$WORK/root-05" wrong-05
make_disk "$WORK/disk-05.img" "$WORK/root-05" --uuids-from-hash "$wrong"
[ "$wrong" != "$ROOTHASH" ]
build_initrd "$WORK/initrd-05.img" systemd
log=$(run_qemu 05-wrong-roothash "$WORK/initrd-05.img" "roothash=$wrong" "$WORK/disk-05.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: .*root hash does not match'
# Refused in seconds, through the emergency path: not after systemd's 90 s device timeout.
expect_no_console "$log" 'Timed out waiting for device' "verity-root must fail before the device timeout"
