#!/bin/bash
# One corrupted data block (roothash= on the cmdline): stock systemd waits
# 90 s for a device that never comes; verity-root must name the corruption
# early and never reach the device timeout.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_root "$WORK/root-04" corrupt-04
make_disk "$WORK/disk-04.img" "$WORK/root-04" --corrupt-data-block 0
build_initrd "$WORK/initrd-04.img" systemd
log=$(run_qemu 04-corrupt-block "$WORK/initrd-04.img" "roothash=$ROOTHASH" "$WORK/disk-04.img")
expect_not_booted "$log"
expect_within "$log" 'verity-root: .*corrupt' 60
expect_no_console "$log" 'Timed out waiting for device' "verity-root must fail before the device timeout"
