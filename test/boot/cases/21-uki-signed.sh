#!/bin/bash
# The generic-UKI case: a UKI (dracut --uefi, conf/uki-virt.conf) with no root
# arguments at all in its embedded cmdline, booted by OVMF from a GPT ESP as
# \EFI\BOOT\BOOTX64.EFI (no -kernel/-initrd/-append). The root is found by
# its DPS type and trusted through its root-verity-sig partition, signed by a
# certificate baked into the UKI's initrd (CERTDIR). The ESP and the signed root
# are on one disk, the one LoaderDevicePartUUID (set by systemd-stub) names: a
# signed root is looked for there only (21b: on another disk it is refused).
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 21 uki "verity-root-test-UKI"
make_root "$WORK/root-21" uki-signed-21
CERTDIR=$WORK/certs-21 build_uki "$WORK/uki-21.efi" "console=ttyS0 panic=-1 rd.shell=0 rd.emergency=poweroff printk.time=1"
make_esp_fat "$WORK/esp-21.fat" "$WORK/uki-21.efi"
make_disk "$WORK/disk-21.img" "$WORK/root-21" --sign "$WORK/keys-21/uki.key" "$WORK/keys-21/uki.crt" \
	--extra-partition "esp:$WORK/esp-21.fat"
log=$(run_qemu_uefi 21-uki-signed "$WORK/disk-21.img")
expect_console "$log" "$STUB_MARKER" "the firmware must start the UKI's stub"
expect_no_console "$log" 'Command line: .*(roothash|root)=' "the UKI carries no root arguments"
expect_booted "$log"
expect_init_field "$log" root /dev/mapper/root
expect_id "$log" uki-signed-21
expect_console "$log" "verity-root: root verified: .* root hash $ROOTHASH from a signature partition"
expect_console "$log" "verity-root: boot loader names the boot partition: PARTUUID=$EXTRA_UUID_1"
expect_console "$log" 'verity-root-test-UKI'
