#!/bin/bash
# Shell (non-systemd) initrd, usrhash=: plain erofs root by root=PARTUUID=, /usr from
# a verity usr partition on the same disk (case 09 without systemd).
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_usr_split_root "$WORK/root-10c" "$WORK/usr-10c" shellusrhash-10c
mkfs.erofs --quiet --all-root -T0 "$WORK/plain-10c.erofs" "$WORK/root-10c" >&2
make_disk "$WORK/disk-10c.img" "$WORK/usr-10c" --usr \
	--extra-partition "generic:$WORK/plain-10c.erofs:plain-root"
build_initrd "$WORK/initrd-10c.img" shell
log=$(run_qemu 10c-shell-usrhash "$WORK/initrd-10c.img" \
	"root=PARTUUID=$EXTRA_UUID_1 rootfstype=erofs ro usrhash=$ROOTHASH" "$WORK/disk-10c.img")
expect_booted "$log"
expect_init_field "$log" usr /dev/mapper/usr
expect_console "$log" 'VERITY-ROOT-TEST: id=shellusrhash-10c usr-id=shellusrhash-10c-usr$'
expect_console "$log" 'verity-root: usr verified: .*from the kernel command line'
