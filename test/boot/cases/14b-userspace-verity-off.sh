#!/bin/bash
# systemd.allow_userspace_verity=0: only the kernel may accept the signature, so it is
# handed to the kernel without rd.verity.kernel_sig=1. The initrd trusts the signer but
# the kernel's keyrings do not: the boot must be refused (it boots when the key is ignored).
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 14b a "verity-root-test-userspace-off"
make_root "$WORK/root-14b" userspace-off-14b
make_disk "$WORK/disk-14b.img" "$WORK/root-14b" --sign "$WORK/keys-14b/a.key" "$WORK/keys-14b/a.crt"
CERTDIR=$WORK/certs-14b build_initrd "$WORK/initrd-14b.img" systemd
log=$(run_qemu 14b-userspace-verity-off "$WORK/initrd-14b.img" "systemd.allow_userspace_verity=0" "$WORK/disk-14b.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: the kernel refused .*with systemd.allow_userspace_verity=0 it checks the root hash signature itself, and none of its keyrings trusts the signer CN ?= ?verity-root-test-userspace-off '
expect_no_console "$log" 'Timed out waiting for device'
