#!/bin/bash
# systemd.verity_root_hash= names the hash device explicitly (systemd's meaning): it
# wins over the PARTUUID derived from roothash=, here on a disk whose verity partition
# has an unrelated PARTUUID. Without it the same disk is refused.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_root "$WORK/root-16" explicit-16
make_disk "$WORK/disk-16.img" "$WORK/root-16" --wrong-verity-uuid
hash_uuid=$(sfdisk -J "$WORK/disk-16.img" | jq -r '.partitiontable.partitions[1].uuid' | tr A-F a-f)
build_initrd "$WORK/initrd-16.img" systemd
log=$(run_qemu 16-explicit-devices "$WORK/initrd-16.img" \
	"roothash=$ROOTHASH systemd.verity_root_hash=PARTUUID=$hash_uuid" "$WORK/disk-16.img")
expect_booted "$log"
expect_id "$log" explicit-16
expect_console "$log" "verity-root: root verified: .*PARTUUID=$hash_uuid"

log=$(run_qemu 16-explicit-devices-without "$WORK/initrd-16.img" "roothash=$ROOTHASH" "$WORK/disk-16.img")
expect_not_booted "$log"
expect_console "$log" "verity-root: refusing .*does not match partition 2"
