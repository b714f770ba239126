#!/bin/bash
# Issue 10, attack 1: something other than verity-root creates /dev/mapper/root. A test
# unit in the initrd stands for it (gpt-auto's LUKS unit, any other generator): it opens
# the attacker's own dm-verity image (a valid tree, another root hash) as "root" before
# verity-root-setup runs, or maps the attacker's partition with dm-linear between
# verity-root-setup and systemd-veritysetup ("already active" for the latter). The order
# is fixed by units, not left to a race. Either way the verified disk is there and valid;
# the boot must stop naming the foreign device, never mount it.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 23 a "verity-root-test-A"
make_root "$WORK/root-23-good" good-23
make_root "$WORK/root-23-evil" evil-23
make_disk "$WORK/disk-23-evil.img" "$WORK/root-23-evil"
evil_hash=$ROOTHASH evil_data=$DATA_UUID evil_verity=$HASH_UUID
make_disk "$WORK/disk-23.img" "$WORK/root-23-good" --sign "$WORK/keys-23/a.key" "$WORK/keys-23/a.crt"
good_hash=$ROOTHASH
evil_sectors=$(sfdisk -J "$WORK/disk-23-evil.img" | jq -r '.partitiontable.partitions[0].size')

# attacker_overlay NAME ORDERING COMMAND: a unit that runs COMMAND once the attacker's
# partitions exist, wanted by systemd-veritysetup@root.service and ordered by ORDERING.
attacker_overlay() {
	local d=$WORK/overlay-23-$1 units dev_data dev_verity
	units=$d/etc/systemd/system
	rm -rf "$d"
	mkdir -p "$units/systemd-veritysetup@root.service.wants"
	dev_data=$(systemd-escape --path --suffix=device "/dev/disk/by-partuuid/$evil_data")
	dev_verity=$(systemd-escape --path --suffix=device "/dev/disk/by-partuuid/$evil_verity")
	cat > "$units/attacker-23.service" <<-UNIT
	[Unit]
	Description=boot test: another component creates /dev/mapper/root
	DefaultDependencies=no
	Requires=$dev_data $dev_verity
	After=$dev_data $dev_verity
	$2

	[Service]
	Type=oneshot
	RemainAfterExit=yes
	ExecStart=$3
	UNIT
	ln -s ../attacker-23.service "$units/systemd-veritysetup@root.service.wants/"
	echo "$d"
}

overlay=$(attacker_overlay verity-first "Before=verity-root-setup@root.service" \
	"/usr/lib/systemd/systemd-veritysetup attach root /dev/disk/by-partuuid/$evil_data /dev/disk/by-partuuid/$evil_verity $evil_hash")
CERTDIR=$WORK/certs-23 build_initrd "$WORK/initrd-23a.img" systemd --include "$overlay" /
log=$(run_qemu 23-foreign-verity-first "$WORK/initrd-23a.img" "" "$WORK/disk-23.img" "$WORK/disk-23-evil.img")
expect_console "$log" "boot test: another component creates /dev/mapper/root|attacker-23"
expect_not_booted "$log"
expect_no_console "$log" "id=evil-23" "the attacker's root must never be mounted"
expect_console "$log" "verity-root: .*/dev/mapper/root \(dm-verity, uuid [^)]*\) is not the verified device: its root hash is $evil_hash, not the verified $good_hash"
expect_console "$log" "verity-root: refusing to boot: /dev/mapper/root was created by something other than verity-root"
expect_no_console "$log" "dm-verity status V" "no verdict on a device that was not checked"

overlay=$(attacker_overlay linear-between \
	"After=verity-root-setup@root.service
Before=systemd-veritysetup@root.service" \
	"/sbin/dmsetup create root --table \"0 $evil_sectors linear /dev/disk/by-partuuid/$evil_data 0\"")
CERTDIR=$WORK/certs-23 build_initrd "$WORK/initrd-23b.img" systemd --include "$overlay" /
log=$(run_qemu 23-foreign-linear-between "$WORK/initrd-23b.img" "" "$WORK/disk-23.img" "$WORK/disk-23-evil.img")
expect_console "$log" "verity-root: root verified: .* root hash $good_hash"
expect_not_booted "$log"
expect_no_console "$log" "id=evil-23" "the attacker's root must never be mounted"
expect_console "$log" "verity-root: /dev/mapper/root is a linear device \(1 target, uuid [^)]*\), not the verified dm-verity device"
expect_no_console "$log" "dm-verity status V" "no verdict on a device that was not checked"
