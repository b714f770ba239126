#!/bin/bash
# Ambiguity that shows up late: the first disk holds a valid signed root, nine
# unrelated disks follow, and the last disk holds a second valid root of the same
# name. The first root is found long before udev reaches the last disk; the choice
# must still wait for every block device and then refuse as ambiguous.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 07c a "verity-root-test-A"
for n in 1 2; do
	make_root "$WORK/root-07c-$n" late-07c-$n
	make_disk "$WORK/disk-07c-$n.img" "$WORK/root-07c-$n" --sign "$WORK/keys-07c/a.key" "$WORK/keys-07c/a.crt"
done
fillers=()
for n in $(seq 1 9); do
	truncate -s 4M "$WORK/filler-07c-$n.img"
	printf 'label: gpt\nsize=2048, type=0fc63daf-8483-4772-8e79-3d69d8477de4\n' |
		sfdisk --quiet --no-reread --no-tell-kernel "$WORK/filler-07c-$n.img" >/dev/null
	fillers+=("$WORK/filler-07c-$n.img")
done
CERTDIR=$WORK/certs-07c build_initrd "$WORK/initrd-07c.img" systemd
log=$(run_qemu 07c-ambiguous-late-disk "$WORK/initrd-07c.img" "" \
	"$WORK/disk-07c-1.img" "${fillers[@]}" "$WORK/disk-07c-2.img")
expect_console "$log" 'vdk: vdk1'
expect_not_booted "$log"
expect_console "$log" 'verity-root: .*(ambiguous|candidates)'
