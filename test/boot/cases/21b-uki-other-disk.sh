#!/bin/bash
# Choices that unsigned disk contents must not make (see 21-uki-signed). The
# attacker controls every disk but not the signed UKI:
# 1. The ESP (LoaderDevicePartUUID) on disk 1, a validly signed root only on disk 2:
#    refused in one line naming both, never booted from the other disk.
# 2. The 21 layout (ESP and signed root on one disk) plus a copy of the ESP disk (a
#    USB stick cloning the ESP's PARTUUID): which disk is the boot disk is unknowable,
#    so the boot is refused naming the PARTUUID and both partitions.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 21b uki "verity-root-test-UKI"
make_root "$WORK/root-21b" uki-other-21b
CERTDIR=$WORK/certs-21b build_uki "$WORK/uki-21b.efi" "console=ttyS0 panic=-1 rd.shell=0 rd.emergency=poweroff printk.time=1"

make_esp "$WORK/esp-21b.img" "$WORK/uki-21b.efi"
make_disk "$WORK/disk-21b.img" "$WORK/root-21b" --sign "$WORK/keys-21b/uki.key" "$WORK/keys-21b/uki.crt"
log=$(run_qemu_uefi 21b-uki-other-disk "$WORK/esp-21b.img" "$WORK/disk-21b.img")
expect_console "$log" "$STUB_MARKER" "the firmware must start the UKI's stub"
expect_not_booted "$log"
expect_console "$log" "verity-root: refusing to boot the root file system: no signed root on the boot disk /dev/vda \
\(LoaderDevicePartUUID=[0-9a-f-]{36}\); roots on other disks are not considered: found partition 3 .*\
PARTUUID=$SIG_UUID\) on /dev/vdb"

make_esp_fat "$WORK/esp-21b.fat" "$WORK/uki-21b.efi"
make_disk "$WORK/disk-21b-esp.img" "$WORK/root-21b" --sign "$WORK/keys-21b/uki.key" "$WORK/keys-21b/uki.crt" \
	--extra-partition "esp:$WORK/esp-21b.fat"
cp "$WORK/disk-21b-esp.img" "$WORK/disk-21b-clone.img"
log=$(run_qemu_uefi 21b-uki-cloned-esp "$WORK/disk-21b-esp.img" "$WORK/disk-21b-clone.img")
expect_console "$log" "$STUB_MARKER" "the firmware must start the UKI's stub"
expect_not_booted "$log"
expect_console "$log" "verity-root: refusing to boot the root file system: the boot partition \
PARTUUID=$EXTRA_UUID_1 \(LoaderDevicePartUUID\) is on 2 partitions: partition 4 .* on /dev/vd[ab], \
partition 4 .* on /dev/vd[ab]"
