#!/bin/bash
# Rollback: the signed release 1 relabelled root-x86-64_99 beside the real release 2
# (root-x86-64_2), same signer. The label wins the A/B choice, but the mounted image's
# IMAGE_VERSION=1 contradicts it: refused, naming both versions. Then release 2 alone
# with rd.verity.min_version=3: refused as older than the minimum.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 25 a "verity-root-test-A"
make_root "$WORK/root-25-old" release-1 --image-version 1
make_disk "$WORK/disk-25-old.img" "$WORK/root-25-old" --label root-x86-64_99 \
	--sign "$WORK/keys-25/a.key" "$WORK/keys-25/a.crt"
make_root "$WORK/root-25-new" release-2 --image-version 2
make_disk "$WORK/disk-25-new.img" "$WORK/root-25-new" --label root-x86-64_2 \
	--sign "$WORK/keys-25/a.key" "$WORK/keys-25/a.crt"
CERTDIR=$WORK/certs-25 build_initrd "$WORK/initrd-25.img" systemd

log=$(run_qemu 25-rollback "$WORK/initrd-25.img" "" "$WORK/disk-25-new.img" "$WORK/disk-25-old.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot: /dev/mapper/root has IMAGE_VERSION=1 but its partition label \(/dev/[a-z0-9]+\) says 99'
expect_console "$log" "$EMERGENCY_MARKER"

log=$(run_qemu 25-rollback-min "$WORK/initrd-25.img" "rd.verity.min_version=3" "$WORK/disk-25-new.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot: image version 2 of /dev/mapper/root is older than the minimum 3 \(rd.verity.min_version=\)'
