#!/bin/bash
# root=dissect (newer systemd's spelling of "find the root by DPS type"), no roothash=:
# dracut's own root= parser does not know it; the module claims it, verifies the
# signature partition and boots.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 11 a "verity-root-test-dissect"
make_root "$WORK/root-11" dissect-11
make_disk "$WORK/disk-11.img" "$WORK/root-11" --sign "$WORK/keys-11/a.key" "$WORK/keys-11/a.crt"
CERTDIR=$WORK/certs-11 build_initrd "$WORK/initrd-11.img" systemd
log=$(run_qemu 11-root-dissect "$WORK/initrd-11.img" "root=dissect" "$WORK/disk-11.img")
expect_booted "$log"
expect_id "$log" dissect-11
expect_init_field "$log" root /dev/mapper/root
expect_console "$log" 'verity-root: .*signed by CN ?= ?verity-root-test-dissect'
expect_no_console "$log" "Don't know how to handle"
