#!/bin/bash
# No root or /usr arguments (the generic UKI case), one disk with a signed root and a
# signed /usr (both written by systemd-repart): both are verified, /usr is mounted from
# /dev/mapper/usr. Then the same disk with the /usr signature partition removed: an
# unsigned /usr next to the root is refused, never skipped or mounted unverified.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_signed_root_usr_disk 09b usrauto-09b
CERTDIR=$WORK/certs-09b build_initrd "$WORK/initrd-09b.img" systemd

log=$(run_qemu 09b-usr-signed-auto "$WORK/initrd-09b.img" "" "$WORK/disk-09b.img")
expect_booted "$log"
expect_init_field "$log" usr /dev/mapper/usr
expect_console "$log" 'VERITY-ROOT-TEST: id=usrauto-09b usr-id=usrauto-09b-usr$'
expect_console "$log" 'verity-root: usr verified: .*signed by CN=verity-root-test-A'

# The usr-verity-sig partition is the last one repart wrote (6).
cp "$WORK/disk-09b.img" "$WORK/disk-09b-unsigned.img"
sfdisk --quiet --no-reread --no-tell-kernel --delete "$WORK/disk-09b-unsigned.img" 6 >/dev/null 2>&1 \
	|| fail "sfdisk --delete failed"
log=$(run_qemu 09b-usr-unsigned "$WORK/initrd-09b.img" "" "$WORK/disk-09b-unsigned.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot the usr file system: .*'
