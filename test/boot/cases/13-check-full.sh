#!/bin/bash
# rd.verity.check=full reads every block before switch root: a good image boots with
# progress on the console; a corrupted block in the middle of the data (which neither
# udev nor mount would read) is found and named before the root is used.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_root "$WORK/root-13" full-13
dd if=/dev/urandom of="$WORK/root-13/payload" bs=64k count=48 status=none
make_disk "$WORK/disk-13.img" "$WORK/root-13"
good_hash=$ROOTHASH
make_disk "$WORK/disk-13b.img" "$WORK/root-13" --corrupt-data-block 500
bad_hash=$ROOTHASH
build_initrd "$WORK/initrd-13.img" systemd

log=$(run_qemu 13-check-full "$WORK/initrd-13.img" "roothash=$good_hash rd.verity.check=full" "$WORK/disk-13.img")
expect_booted "$log"
expect_console "$log" 'verity-root: checking every block of /dev/mapper/root: 100%'
expect_console "$log" 'every block read and checked'

log=$(run_qemu 13-check-full-corrupt "$WORK/initrd-13.img" "roothash=$bad_hash rd.verity.check=full" "$WORK/disk-13b.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: /dev/mapper/root: data block 500 of /dev/vda1 is corrupted'
