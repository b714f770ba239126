#!/bin/bash
# Harness self-test of the non-systemd (shell) initrd flavour on stock dracut:
# a plain erofs root found by root=PARTUUID=, no verity.
set -eu
. "$(dirname "$0")/../lib.sh"

make_root "$WORK/root-00b" plain-00b
mkfs.erofs --quiet --all-root -T0 "$WORK/plain-00b.erofs" "$WORK/root-00b" >&2
make_disk "$WORK/disk-00b.img" "$WORK/root-00b" --extra-partition "generic:$WORK/plain-00b.erofs:plain-root"
build_initrd "$WORK/initrd-00b.img" stock-shell
log=$(run_qemu 00b-shell-plain-root "$WORK/initrd-00b.img" \
	"root=PARTUUID=$EXTRA_UUID_1 rootfstype=erofs ro" "$WORK/disk-00b.img")
expect_booted "$log"
expect_init_field "$log" root "/dev/vda3"
expect_id "$log" plain-00b
