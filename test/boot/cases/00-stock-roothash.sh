#!/bin/bash
# Harness self-test on stock dracut + systemd-veritysetup (no verity-root
# module): roothash= on the cmdline, erofs root, split layout.
set -eu
. "$(dirname "$0")/../lib.sh"

make_root "$WORK/root-00" stock-00
make_disk "$WORK/disk-00.img" "$WORK/root-00" --fs erofs --layout split
build_initrd "$WORK/initrd-00.img" stock-systemd
log=$(run_qemu 00-stock-roothash "$WORK/initrd-00.img" "roothash=$ROOTHASH" "$WORK/disk-00.img")
expect_booted "$log"
expect_init_field "$log" root /dev/mapper/root
expect_init_field "$log" fstype erofs
expect_id "$log" stock-00
