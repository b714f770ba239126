#!/bin/bash
# Two disks, each with a valid signed root of the same unversioned name:
# no silent pick, the boot is refused as ambiguous.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 07 a "verity-root-test-A"
for n in 1 2; do
	make_root "$WORK/root-07-$n" ambiguous-07-$n
	make_disk "$WORK/disk-07-$n.img" "$WORK/root-07-$n" --sign "$WORK/keys-07/a.key" "$WORK/keys-07/a.crt"
done
CERTDIR=$WORK/certs-07 build_initrd "$WORK/initrd-07.img" systemd
log=$(run_qemu 07-ambiguous "$WORK/initrd-07.img" "" "$WORK/disk-07-1.img" "$WORK/disk-07-2.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: .*(ambiguous|candidates)'
