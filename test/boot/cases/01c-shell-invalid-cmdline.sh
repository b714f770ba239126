#!/bin/bash
# Case 01b in a non-systemd initrd: dracut stops in its cmdline hook.
# Boot 1: root=PARTUUID= of the raw data partition with roothash= and an invalid
# timeout: when the command line was dropped, dracut mounted that partition unverified.
# Boot 2: no root=, a signed root and a typo'd key: the policy it meant was dropped.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 01c a "verity-root-test-01c"
make_root "$WORK/root-01c" shellinvalid-01c
make_disk "$WORK/disk-01c.img" "$WORK/root-01c" --sign "$WORK/keys-01c/a.key" "$WORK/keys-01c/a.crt"
CERTDIR=$WORK/certs-01c build_initrd "$WORK/initrd-01c.img" shell

log=$(run_qemu 01c-invalid-timeout "$WORK/initrd-01c.img" \
	"root=PARTUUID=$DATA_UUID roothash=$ROOTHASH rd.verity.timeout=0" "$WORK/disk-01c.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: Invalid value for rd\.verity\.timeout: "0"'
expect_console "$log" 'verity-root: refusing to boot: invalid kernel command line'

log=$(run_qemu 01c-unknown-key "$WORK/initrd-01c.img" "rd.verity.sigg=required" "$WORK/disk-01c.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: Unknown kernel command line key rd\.verity\.sigg="required"'
expect_console "$log" 'verity-root: refusing to boot: invalid kernel command line'
