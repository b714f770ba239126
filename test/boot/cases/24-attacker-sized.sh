#!/bin/bash
# Issue 10, attacker-sized work: beside the signed disk, a sparse 64 GiB disk with a
# copy of its signature partition and a root partition carrying the signed data
# PARTUUID, no verity partition. Two partitions claim one identity and no boot loader
# names the boot disk: refused as ambiguous, at once (the old code first scanned
# size/7 of the clone for an appended tree, then booted the signed disk).
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 24 a "verity-root-test-A"
make_root "$WORK/root-24" attacker-sized-24
make_disk "$WORK/disk-24.img" "$WORK/root-24" --sign "$WORK/keys-24/a.key" "$WORK/keys-24/a.crt"
"$(dirname "$MKDISK")/mkclone-sized.sh" "$WORK/disk-24.img" "$WORK/clone-24.img" 64G >/dev/null ||
	fail "mkclone-sized.sh failed"
CERTDIR=$WORK/certs-24 build_initrd "$WORK/initrd-24.img" systemd
log=$(run_qemu 24-attacker-sized "$WORK/initrd-24.img" "" "$WORK/clone-24.img" "$WORK/disk-24.img")
rm -f "$WORK/clone-24.img"
expect_not_booted "$log"
expect_console "$log" "verity-root: refusing to boot the root file system: ambiguous: 2 partitions have PARTUUID=$DATA_UUID"
# A behaviour bound, far above a normal refusal (~15 s unloaded, ~90 s seen with
# several QEMUs on 2 cores): not a benchmark.
expect_within "$log" 'verity-root: refusing to boot the root' 200
