#!/bin/bash
# usrhash=: plain erofs root by root=PARTUUID=, /usr from a verity usr
# partition on the same disk.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_usr_split_root "$WORK/root-09" "$WORK/usr-09" usrhash-09
mkfs.erofs --quiet --all-root -T0 "$WORK/plain-09.erofs" "$WORK/root-09" >&2
make_disk "$WORK/disk-09.img" "$WORK/usr-09" --usr \
	--extra-partition "generic:$WORK/plain-09.erofs:plain-root"
build_initrd "$WORK/initrd-09.img" systemd
log=$(run_qemu 09-usrhash "$WORK/initrd-09.img" \
	"root=PARTUUID=$EXTRA_UUID_1 rootfstype=erofs ro usrhash=$ROOTHASH" "$WORK/disk-09.img")
expect_booted "$log"
expect_init_field "$log" usr /dev/mapper/usr
expect_console "$log" 'VERITY-ROOT-TEST: id=usrhash-09 usr-id=usrhash-09-usr$'
expect_console "$log" 'verity-root: '
