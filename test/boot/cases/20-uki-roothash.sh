#!/bin/bash
# A UKI built with dracut --uefi (systemd-stub, conf/uki-virt.conf) with
# roothash= in its embedded .cmdline, started by OVMF from a GPT ESP as
# \EFI\BOOT\BOOTX64.EFI: no -kernel/-initrd/-append, the firmware boots it.
# The verity disk is a second virtio disk. systemd-stub 252 sets
# LoaderDevicePartUUID to the ESP's partition (no systemd-boot needed), so the
# module is told the boot disk, which does not hold the root: it must still
# find the root on the other disk.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_root "$WORK/root-20" uki-20
make_disk "$WORK/disk-20.img" "$WORK/root-20"
build_uki "$WORK/uki-20.efi" "console=ttyS0 panic=-1 rd.shell=0 rd.emergency=poweroff printk.time=1 roothash=$ROOTHASH"
make_esp "$WORK/esp-20.img" "$WORK/uki-20.efi"
log=$(run_qemu_uefi 20-uki-roothash "$WORK/esp-20.img" "$WORK/disk-20.img")
expect_console "$log" "$STUB_MARKER" "the firmware must start the UKI's stub"
expect_console "$log" "Command line: .*roothash=$ROOTHASH" "the kernel must get the UKI's embedded cmdline"
expect_booted "$log"
expect_init_field "$log" root /dev/mapper/root
expect_id "$log" uki-20
expect_console "$log" 'verity-root: root verified'
expect_console "$log" "root hash $ROOTHASH from the kernel command line"
esp_uuid=$(sfdisk --part-uuid "$WORK/esp-20.img" 1)
expect_console "$log" "boot loader names the boot partition: PARTUUID=$esp_uuid" \
	"systemd-stub sets LoaderDevicePartUUID to the ESP"
