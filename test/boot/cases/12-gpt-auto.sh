#!/bin/bash
# root=gpt-auto with roothash=: systemd's gpt-auto-generator finds nothing without the
# boot loader's LoaderDevicePartUUID (direct kernel boot); verity-root owns the root
# instead, and exactly one unit opens it.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_root "$WORK/root-12" gptauto-12
make_disk "$WORK/disk-12.img" "$WORK/root-12"
build_initrd "$WORK/initrd-12.img" systemd
log=$(run_qemu 12-gpt-auto "$WORK/initrd-12.img" "root=gpt-auto roothash=$ROOTHASH" "$WORK/disk-12.img")
expect_booted "$log"
expect_id "$log" gptauto-12
expect_init_field "$log" root /dev/mapper/root
expect_console "$log" 'verity-root: root verified'
# Only our unit attaches the device (systemd's veritysetup generator is masked).
[ "$(grep -c 'Starting systemd-verityset' "$log")" -eq 1 ] || fail "systemd-veritysetup started more than once"
expect_console "$log" 'Setup for root \(verity-root\)'
