#!/bin/bash
# A/B: two signed roots labelled root-x86-64_1 and root-x86-64_2 on two
# disks, each with the matching IMAGE_VERSION; the newest version boots.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 07b a "verity-root-test-A"
for n in 1 2; do
	make_root "$WORK/root-07b-$n" version-$n --image-version "$n"
	make_disk "$WORK/disk-07b-$n.img" "$WORK/root-07b-$n" --label "root-x86-64_$n" \
		--sign "$WORK/keys-07b/a.key" "$WORK/keys-07b/a.crt"
done
CERTDIR=$WORK/certs-07b build_initrd "$WORK/initrd-07b.img" systemd
# Version 2 on the second disk, so first-found order would pick the wrong one.
log=$(run_qemu 07b-ab-versions "$WORK/initrd-07b.img" "" "$WORK/disk-07b-1.img" "$WORK/disk-07b-2.img")
expect_booted "$log"
expect_id "$log" version-2
expect_console "$log" 'verity-root: .*(newest|version)'
expect_console "$log" 'verity-root: /dev/mapper/root on /sysroot looks like this machine.s root, IMAGE_VERSION=2'
