#!/bin/bash
# No root arguments at all: the root is found by its DPS type and trusted
# through a signed root-verity-sig partition whose certificate is in the initrd.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 02 a "verity-root-test-A"
make_root "$WORK/root-02" signed-02
make_disk "$WORK/disk-02.img" "$WORK/root-02" --sign "$WORK/keys-02/a.key" "$WORK/keys-02/a.crt"
CERTDIR=$WORK/certs-02 build_initrd "$WORK/initrd-02.img" systemd
log=$(run_qemu 02-signed-trusted "$WORK/initrd-02.img" "" "$WORK/disk-02.img")
expect_booted "$log"
expect_id "$log" signed-02
expect_console "$log" 'verity-root: .*signed by'
expect_console "$log" 'verity-root-test-A'
