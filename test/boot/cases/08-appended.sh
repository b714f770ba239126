#!/bin/bash
# Appended layout: the hash tree follows the filesystem inside the data
# partition; no verity partition.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_root "$WORK/root-08" appended-08
make_disk "$WORK/disk-08.img" "$WORK/root-08" --layout appended
build_initrd "$WORK/initrd-08.img" systemd
log=$(run_qemu 08-appended "$WORK/initrd-08.img" "roothash=$ROOTHASH" "$WORK/disk-08.img")
expect_booted "$log"
expect_id "$log" appended-08
