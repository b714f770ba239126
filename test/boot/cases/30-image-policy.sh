#!/bin/bash
# systemd.image_policy= and systemd.image_filter= at boot, with systemd's meaning: two
# signed A/B slots (1 and 2) on two disks and no root arguments. image_filter= picks the
# older slot, which then boots; a policy that allows the root only as "verity" (no
# signature use) with no roothash= stops the boot in one line naming the policy; a
# policy that allows a signed root also boots the newest slot; one that allows only
# other file systems than the root's is refused after mounting, naming both.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 30 a "verity-root-test-A"
for n in 1 2; do
	make_root "$WORK/root-30-$n" slot-30-$n --image-version "$n"
	make_disk "$WORK/disk-30-$n.img" "$WORK/root-30-$n" --label "root-x86-64_$n" \
		--sign "$WORK/keys-30/a.key" "$WORK/keys-30/a.crt"
done
CERTDIR=$WORK/certs-30 build_initrd "$WORK/initrd-30.img" systemd
disks=("$WORK/disk-30-1.img" "$WORK/disk-30-2.img")

log=$(run_qemu 30-image-filter "$WORK/initrd-30.img" "systemd.image_filter=root=root-x86-64_1" "${disks[@]}")
expect_booted "$log"
expect_id "$log" slot-30-1
expect_console "$log" 'verity-root: /dev/mapper/root on /sysroot looks like this machine.s root, IMAGE_VERSION=1'

log=$(run_qemu 30-image-policy-verity "$WORK/initrd-30.img" "systemd.image_policy=root=verity" "${disks[@]}")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot the root file system: systemd.image_policy= gives root=verity and root-verity-sig=unused\+absent: signatures may not be used, and no roothash= says which root hash to trust'

log=$(run_qemu 30-image-policy-signed "$WORK/initrd-30.img" "systemd.image_policy=root=signed+read-only-off:root-verity=read-only-on" "${disks[@]}")
expect_booted "$log"
expect_id "$log" slot-30-2

# File system flags: checked on the verified, mounted tree (the roots here are erofs).
log=$(run_qemu 30-image-policy-fstype "$WORK/initrd-30.img" "systemd.image_policy=root=signed+ext4+squashfs" "${disks[@]}")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot: /sysroot is erofs, but systemd.image_policy= allows root only as ext4\+squashfs'
