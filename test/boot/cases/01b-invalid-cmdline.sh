#!/bin/bash
# systemd initrd: an invalid value of a key verity-root reads stops the boot, naming
# the key and the value, instead of leaving /sysroot to whoever else mounts it.
# Boot 1: no root= at all, a signed root, and a typo'd policy value.
# Boot 2: root=PARTUUID= of the raw data partition with roothash=: when the command
# line was dropped as a whole, fstab-generator mounted that partition unverified.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 01b a "verity-root-test-01b"
make_root "$WORK/root-01b" invalid-01b
make_disk "$WORK/disk-01b.img" "$WORK/root-01b" --sign "$WORK/keys-01b/a.key" "$WORK/keys-01b/a.crt"
CERTDIR=$WORK/certs-01b build_initrd "$WORK/initrd-01b.img" systemd

log=$(run_qemu 01b-invalid-sig "$WORK/initrd-01b.img" "rd.verity.sig=Required" "$WORK/disk-01b.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: Invalid value for rd\.verity\.sig: "Required" \(expected required, optional or off\)'
expect_console "$log" 'verity-root: refusing to boot the root file system: the kernel command line is invalid'
expect_console "$log" "$EMERGENCY_MARKER"

log=$(run_qemu 01b-invalid-verity "$WORK/initrd-01b.img" \
	"root=PARTUUID=$DATA_UUID roothash=$ROOTHASH systemd.verity=maybe" "$WORK/disk-01b.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: Invalid value for systemd\.verity: "maybe"'
expect_console "$log" 'verity-root: refusing to boot the root file system: the kernel command line is invalid'
