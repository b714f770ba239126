#!/bin/bash
# rd.verity.kernel_sig=1 also hands the PKCS#7 signature to the kernel
# (CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG). Our certificate is trusted by the initrd but
# not by the kernel's keyrings, so the kernel must refuse, and the console must say so.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 14 a "verity-root-test-kernelsig"
make_root "$WORK/root-14" kernelsig-14
make_disk "$WORK/disk-14.img" "$WORK/root-14" --sign "$WORK/keys-14/a.key" "$WORK/keys-14/a.crt"
CERTDIR=$WORK/certs-14 build_initrd "$WORK/initrd-14.img" systemd
log=$(run_qemu 14-kernel-sig "$WORK/initrd-14.img" "rd.verity.kernel_sig=1" "$WORK/disk-14.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: the kernel refused .*with rd.verity.kernel_sig=1 it checks the root hash signature itself, and none of its keyrings trusts the signer CN ?= ?verity-root-test-kernelsig .*\(\.builtin_trusted_keys: '
expect_no_console "$log" 'Timed out waiting for device'
