#!/bin/bash
# One owner of /dev/mapper/usr and /sysroot/usr where systemd also wants /usr: a UKI under
# OVMF (systemd-stub sets LoaderDevicePartUUID: gpt-auto runs in the initrd) with
# root=dissect mount.usr=dissect (systemd 258+ then sets up /usr from the booted disk
# itself: veritysetup, /sysusr/usr and a bind mount on /sysroot/usr; older systemd
# ignores the value), on one disk holding the ESP, a signed root and a signed /usr
# (systemd-repart). Only verity-root's units attach and mount /usr and the root, each
# veritysetup unit starts once, /usr is /dev/mapper/usr with the /usr content, mounted
# once, and the root boots.
# Meant for the stack matrix (test/stacks/run.sh) as much as for the host.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

# What only the initrd can see, before switch-root (shell builtins, systemctl,
# journalctl and dmsetup: the initrd has no grep or awk).
probe=$(probe_overlay '
dmsetup ls | while read -r name dev; do echo "dm $name $dev"; done
while read -r _id _parent majmin _root mp rest; do
	echo "mount $mp $majmin ${rest##* - }"
done < /proc/self/mountinfo
systemctl list-units --all --plain --no-legend --full "systemd-veritysetup@*" "systemd-cryptsetup@*" "*.mount" |
while read -r unit load active _; do
	echo "unit $unit $load $active $(systemctl show -P FragmentPath -- "$unit")"
done
journalctl -b -q -o cat --output-fields=UNIT MESSAGE_ID=7d4958e842da4a758f6c1cdc7b36dcc5 |
while read -r unit; do echo "started $unit"; done
for f in /run/systemd/generator*/*usr* /run/systemd/generator*/*/*usr*; do
	[ -e "$f" ] || [ -L "$f" ] && echo "generated $f"
done
')
make_trusted_cert 29b a "verity-root-test-A"
CERTDIR=$WORK/certs-29b build_uki "$WORK/uki-29b.efi" \
	"console=ttyS0 panic=-1 rd.shell=0 rd.emergency=poweroff printk.time=1 root=dissect mount.usr=dissect" \
	--include "$probe" /
make_esp_fat "$WORK/esp-29b.fat" "$WORK/uki-29b.efi"
make_signed_root_usr_disk 29b usrdissect-29b --esp "$WORK/esp-29b.fat"
log=$(run_qemu_uefi 29b-usr-dissect "$WORK/disk-29b.img")
! qemu_timed_out "$log" || fail "the boot neither ended nor powered off within $QEMU_TIMEOUT s"
expect_console "$log" "$STUB_MARKER" "the firmware must start the UKI's stub"
expect_booted "$log"
expect_console "$log" 'VERITY-ROOT-TEST: id=usrdissect-29b usr-id=usrdissect-29b-usr$'
expect_init_field "$log" root /dev/mapper/root
expect_init_field "$log" usr /dev/mapper/usr
expect_console "$log" "verity-root: root verified: .* root hash $ROOTHASH from a signature partition"
expect_console "$log" "verity-root: usr verified: .* root hash $USRHASH from a signature partition"
expect_console "$log" 'verity-root: /dev/mapper/root on /sysroot looks like this machine'"'"'s root'
expect_no_console "$log" 'Timed out waiting|Dependency failed' "no unit may time out waiting for the root or /usr"

# count REGEX: console lines that match (whole probe lines, anchored at both ends).
count() { grep -Ec -- "^$PROBE_MARKER $1\$" "$log" || :; }
expect_count() { # REGEX N WHAT
	local n
	n=$(count "$1")
	[ "$n" -eq "$2" ] && return 0
	show_tail "$log"
	fail "$3: $n probe lines /$1/, expected $2; the probe said: $(grep -F "$PROBE_MARKER" "$log" | tr '\n' ';')"
}
# The probe ran, and the only dm devices are root and usr.
expect_count 'dm .*' 2 "dm devices in the initrd"
expect_count 'dm root \([0-9]+:[0-9]+\)' 1 "dm device root"
usr_dev=$(sed -n "s/^$PROBE_MARKER dm usr (\([0-9]*:[0-9]*\))\$/\1/p" "$log")
[ -n "$usr_dev" ] || fail "no dm device usr in the initrd: $(grep -F "$PROBE_MARKER" "$log" | tr '\n' ';')"
# One attach each, by verity-root's units (the early generator directory, which wins over
# gpt-auto's and fstab's), and nothing else's veritysetup or cryptsetup unit started.
expect_count 'started systemd-veritysetup@usr\.service' 1 "starts of systemd-veritysetup@usr"
expect_count 'started systemd-veritysetup@root\.service' 1 "starts of systemd-veritysetup@root"
expect_count 'started systemd-(verity|crypt)setup@.*' 2 "starts of veritysetup and cryptsetup units"
expect_count 'unit systemd-veritysetup@usr\.service loaded active /run/systemd/generator\.early/systemd-veritysetup@usr\.service' 1 \
	"systemd-veritysetup@usr from verity-root-generator"
expect_count 'unit systemd-veritysetup@root\.service loaded active /run/systemd/generator\.early/systemd-veritysetup@root\.service' 1 \
	"systemd-veritysetup@root from verity-root-generator"
expect_count 'unit sysroot-usr\.mount loaded active /run/systemd/generator\.early/sysroot-usr\.mount' 1 \
	"sysroot-usr.mount from verity-root-generator"
expect_count 'unit sysroot\.mount loaded active /run/systemd/generator\.early/sysroot\.mount' 1 \
	"sysroot.mount from verity-root-generator"
# systemd's mount of /usr on /sysusr/usr (fstab-generator for mount.usr=, gpt-auto for
# mount.usr=dissect on 258+), where it exists, is masked.
expect_count 'unit sysusr-usr\.mount loaded .*' 0 "sysusr-usr.mount loaded, not masked"
# /dev/mapper/usr is mounted once in the initrd, on /sysroot/usr (no /sysusr/usr, no
# bind of it anywhere).
expect_count "mount [^ ]+ $usr_dev .*" 1 "mounts of /dev/mapper/usr ($usr_dev)"
expect_count "mount /sysroot/usr $usr_dev [^ ]+ /dev/mapper/usr .*" 1 "/sysroot/usr from /dev/mapper/usr"
expect_count 'mount /sysusr.*' 0 "mounts on /sysusr"
# The root sees the same two dm devices.
[ "$(grep -c 'VERITY-ROOT-TEST: dm-status ' "$log")" -eq 2 ] ||
	fail "dm devices seen by the root: $(grep 'VERITY-ROOT-TEST: dm-status ' "$log" | tr '\n' ';')"

# mount.usr=dissect where the root's disk holds no /usr (a signed root alone; -kernel, no
# UKI): the boot stops, and the one line says there is no usr partition on that disk.
make_trusted_cert 29c a "verity-root-test-A"
make_root "$WORK/root-29c" nousr-29c
make_disk "$WORK/disk-29c.img" "$WORK/root-29c" --sign "$WORK/keys-29c/a.key" "$WORK/keys-29c/a.crt"
CERTDIR=$WORK/certs-29c build_initrd "$WORK/initrd-29c.img" systemd
log=$(run_qemu 29b-usr-dissect-no-usr "$WORK/initrd-29c.img" "root=dissect mount.usr=dissect" "$WORK/disk-29c.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot the usr file system: /usr was asked for \(mount.usr=\?\), but the root.s disk /dev/vda holds no usr partition'
