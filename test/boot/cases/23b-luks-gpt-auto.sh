#!/bin/bash
# Issue 10, attack 1 as reported: a generic UKI (no root arguments) started by OVMF, so
# systemd-stub sets LoaderDevicePartUUID and systemd-gpt-auto-generator is active in the
# initrd. The boot disk holds the ESP, a validly signed DPS root, and one more partition
# of the root type holding LUKS2, labelled root-x86-64_99 so gpt-auto prefers it. The
# attacker can unlock it (a key file in /etc/cryptsetup-keys.d stands for their TPM2
# token or typed passphrase). A test drop-in makes verity-root-setup@root wait for
# systemd-cryptsetup@root, so before the fix /dev/mapper/root was the attacker's dm-crypt
# device every time, not by a race. Now gpt-auto's unit must not run at all and the
# signed root boots.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

command -v cryptsetup >/dev/null || { fail "cryptsetup missing (install cryptsetup-bin)"; exit 1; }
make_trusted_cert 23b uki "verity-root-test-UKI"
make_root "$WORK/root-23b" luks-23b
printf 'attacker-passphrase' > "$WORK/luks-23b.key"
rm -f "$WORK/luks-23b.img"
truncate -s 24M "$WORK/luks-23b.img"
# Cheap key derivation: TCG is slow, and the attacker picks the parameters anyway.
cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--key-file "$WORK/luks-23b.key" "$WORK/luks-23b.img" >&2 || { fail "luksFormat failed"; exit 1; }

overlay=$WORK/overlay-23b
rm -rf "$overlay"
mkdir -p "$overlay/etc/cryptsetup-keys.d" "$overlay/etc/systemd/system/verity-root-setup@root.service.d"
cp "$WORK/luks-23b.key" "$overlay/etc/cryptsetup-keys.d/root.key"
cat > "$overlay/etc/systemd/system/verity-root-setup@root.service.d/after-luks.conf" <<-EOF2
[Unit]
Wants=systemd-cryptsetup@root.service
After=systemd-cryptsetup@root.service
EOF2

CERTDIR=$WORK/certs-23b build_uki "$WORK/uki-23b.efi" "console=ttyS0 panic=-1 rd.shell=0 rd.emergency=poweroff printk.time=1" \
	--add crypt --include "$overlay" /
make_esp "$WORK/esp-23b.img" "$WORK/uki-23b.efi"
# The ESP image's only partition, as a file to put on the boot disk.
dd if="$WORK/esp-23b.img" of="$WORK/esp-23b.fat" bs=1M skip=1 status=none
make_disk "$WORK/disk-23b.img" "$WORK/root-23b" --sign "$WORK/keys-23b/uki.key" "$WORK/keys-23b/uki.crt" \
	--extra-partition "root:$WORK/luks-23b.img:root-x86-64_99" --extra-partition "esp:$WORK/esp-23b.fat:esp"
log=$(run_qemu_uefi 23b-luks-gpt-auto "$WORK/disk-23b.img")
expect_console "$log" "$STUB_MARKER" "the firmware must start the UKI's stub"
expect_booted "$log"
expect_id "$log" luks-23b
expect_init_field "$log" root /dev/mapper/root
expect_console "$log" "verity-root: root verified: .* root hash $ROOTHASH from a signature partition"
expect_no_console "$log" "Finished .*Cryptography Setup for root|Starting .*Cryptography Setup for root" \
	"gpt-auto's systemd-cryptsetup@root must not run while verity-root owns the root"
