#!/bin/bash
# Non-systemd initrd, failure path: a signature by a certificate the initrd does not
# trust is refused with the same message as with systemd, and the root never boots.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_cert "$WORK/keys-15" signer "verity-root-test-signer"
make_trusted_cert 15 other "verity-root-test-other"
make_root "$WORK/root-15" shelluntrusted-15
make_disk "$WORK/disk-15.img" "$WORK/root-15" --sign "$WORK/keys-15/signer.key" "$WORK/keys-15/signer.crt"
CERTDIR=$WORK/certs-15 build_initrd "$WORK/initrd-15.img" shell
log=$(run_qemu 15-shell-untrusted "$WORK/initrd-15.img" "rd.verity.timeout=10" "$WORK/disk-15.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot the root file system: .*which is not in /etc/verity.d'
