#!/bin/bash
# Harness self-test of a separate verity /usr on stock dracut+systemd:
# plain root by root=PARTUUID=, usr partition by usrhash=.
set -eu
. "$(dirname "$0")/../lib.sh"

make_usr_split_root "$WORK/root-00c" "$WORK/usr-00c" stock-00c
mkfs.erofs --quiet --all-root -T0 "$WORK/plain-00c.erofs" "$WORK/root-00c" >&2
make_disk "$WORK/disk-00c.img" "$WORK/usr-00c" --usr \
	--extra-partition "generic:$WORK/plain-00c.erofs:plain-root"
build_initrd "$WORK/initrd-00c.img" stock-systemd
log=$(run_qemu 00c-stock-usrhash "$WORK/initrd-00c.img" \
	"root=PARTUUID=$EXTRA_UUID_1 rootfstype=erofs ro usrhash=$ROOTHASH" "$WORK/disk-00c.img")
expect_booted "$log"
expect_init_field "$log" usr /dev/mapper/usr
expect_console "$log" 'VERITY-ROOT-TEST: id=stock-00c usr-id=stock-00c-usr$'
