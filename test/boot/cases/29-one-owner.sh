#!/bin/bash
# One owner of /dev/mapper/root and /sysroot where systemd also wants the root: a UKI
# under OVMF (systemd-stub sets LoaderDevicePartUUID, so systemd 257+ runs gpt-auto in
# the initrd; 258+ also has udev's dissect_image builtin and /dev/disk/by-designator)
# with root=dissect, a signed root next to the ESP. Only verity-root's units attach and
# mount the root, one dm device exists, and the mounted-root check passes.
# Meant for the stack matrix (test/stacks/run.sh) as much as for the host.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 28 uki "verity-root-test-owner"
make_root "$WORK/root-28" owner-28
CERTDIR=$WORK/certs-28 build_uki "$WORK/uki-28.efi" \
	"console=ttyS0 panic=-1 rd.shell=0 rd.emergency=poweroff printk.time=1 root=dissect"
make_esp_fat "$WORK/esp-28.fat" "$WORK/uki-28.efi"
make_disk "$WORK/disk-28.img" "$WORK/root-28" --sign "$WORK/keys-28/uki.key" "$WORK/keys-28/uki.crt" \
	--extra-partition "esp:$WORK/esp-28.fat"
log=$(run_qemu_uefi 28-one-owner "$WORK/disk-28.img")
expect_console "$log" "$STUB_MARKER" "the firmware must start the UKI's stub"
expect_booted "$log"
expect_id "$log" owner-28
expect_init_field "$log" root /dev/mapper/root
expect_console "$log" "verity-root: root verified: .* root hash $ROOTHASH from a signature partition"
# The dm table check of the mounted root (verity-root-check --sysroot).
expect_console "$log" 'verity-root: /dev/mapper/root on /sysroot looks like this machine'"'"'s root'
# Exactly one attach of root, by verity-root's unit (systemd's status lines are cut to
# "Starting systemd-verityset…on Setup for root (verity-root)"); no other unit for it.
n=$(grep -c 'Starting systemd-verityset' "$log" || :)
[ "$n" -eq 1 ] || fail "systemd-veritysetup@ started $n times (expected once, for root)"
expect_console "$log" 'Starting systemd-verityset.*Setup for root \(verity-root\)'
# systemd 258+ (gpt-auto for root=dissect) also waits for /dev/disk/by-designator/root,
# udev's dissect_image link to the raw partition: a dependency, not an owner; it must
# not time out.
expect_no_console "$log" 'cryptsetup@root|gpt-auto-root|Timed out waiting|Dependency failed' \
	"no unit of gpt-auto or dissect may attach the root or time out waiting for it"
# One mount of /sysroot, ours, and the root sees exactly one dm device: root.
n=$(grep -c 'Mounted sysroot' "$log" || :)
[ "$n" -eq 1 ] || fail "/sysroot mounted $n times by units (expected 1)"
expect_console "$log" 'Mounted sysroot\.mount.*\(verity-root\)'
[ "$(grep -c 'VERITY-ROOT-TEST: dm-status ' "$log")" -eq 1 ] ||
	fail "dm devices seen by the root: $(grep 'VERITY-ROOT-TEST: dm-status ' "$log" | tr '\n' ';')"
expect_console "$log" 'VERITY-ROOT-TEST: dm-status root '
