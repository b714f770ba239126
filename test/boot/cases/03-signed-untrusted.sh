#!/bin/bash
# The signed image of case 02, but the initrd trusts a different certificate:
# the root must be refused, naming the trust problem.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_cert "$WORK/keys-03" a "verity-root-test-A"
make_trusted_cert 03 b "verity-root-test-B"
make_root "$WORK/root-03" signed-03
make_disk "$WORK/disk-03.img" "$WORK/root-03" --sign "$WORK/keys-03/a.key" "$WORK/keys-03/a.crt"
CERTDIR=$WORK/certs-03 build_initrd "$WORK/initrd-03.img" systemd
log=$(run_qemu 03-signed-untrusted "$WORK/initrd-03.img" "" "$WORK/disk-03.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: .*(not trusted|no trusted|unknown certificate|not in )'
