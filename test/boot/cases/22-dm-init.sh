#!/bin/bash
# Initramfs-less boot: a kernel with CONFIG_DM_INIT and dm-verity built in
# (test/kernel/build-dm-init-kernel.sh) sets up the verity root itself from
# the dm-mod.create= line that `verity-root cmdline --dm-mod-create` prints
# (devices by PARTUUID=), with no initrd at all. A corrupted data block must
# stop the boot in the kernel: the root mount fails and the kernel panics.
# Skipped when that kernel has not been built (or DM_INIT_KERNEL= names none).
set -eu
. "$(dirname "$0")/../lib.sh"

[ -f "$DM_INIT_KERNEL" ] || skip "no CONFIG_DM_INIT kernel at $DM_INIT_KERNEL: build it with test/kernel/build-dm-init-kernel.sh (~4 min) or set DM_INIT_KERNEL=PATH"
cli=$(verity_root_cli)

make_root "$WORK/root-22" dm-init-22
make_disk "$WORK/disk-22.img" "$WORK/root-22"
cmdline=$("$cli" cmdline --dm-mod-create "$WORK/disk-22.img" --roothash "$ROOTHASH") \
	|| { fail "verity-root cmdline --dm-mod-create refused disk-22.img"; exit 1; }
case $cmdline in
*"dm-mod.create="*" root=/dev/dm-0") ;;
*) fail "unexpected cmdline: $cmdline"; exit 1 ;;
esac
log=$(run_qemu_noinitrd 22-dm-init "$DM_INIT_KERNEL" "rootfstype=erofs ro $cmdline" "$WORK/disk-22.img")
expect_console "$log" 'dm-0 \(vroot\) is ready' "dm-init must create the verity device"
expect_booted "$log"
# The kernel mounts its root device as /dev/root; dm-0 is named on the dm line.
expect_init_field "$log" fstype erofs
expect_console "$log" 'VERITY-ROOT-TEST: dm-status vroot dm-0 .*ro=1 .*slaves=vda1,vda2,' "the root must be dm-0 on the data and hash partitions"
expect_id "$log" dm-init-22

# Same root hash, one data block flipped after formatting. The full check of
# the cmdline verb catches it; --quick (top of the hash tree only) prints the
# line the kernel then has to refuse on its own.
make_disk "$WORK/disk-22c.img" "$WORK/root-22" --corrupt-data-block 0
if "$cli" cmdline --dm-mod-create "$WORK/disk-22c.img" --roothash "$ROOTHASH" > /dev/null 2> "$WORK/22c.cmdline.err"; then
	fail "verity-root cmdline printed a command line for a corrupted image"
	exit 1
fi
grep -qi 'block 0' "$WORK/22c.cmdline.err" || { fail "cmdline refusal does not name block 0: $(cat "$WORK/22c.cmdline.err")"; exit 1; }
cmdline=$("$cli" cmdline --quick --dm-mod-create "$WORK/disk-22c.img" --roothash "$ROOTHASH")
log=$(run_qemu_noinitrd 22-dm-init-corrupt "$DM_INIT_KERNEL" "rootfstype=erofs ro $cmdline" "$WORK/disk-22c.img")
expect_not_booted "$log"
expect_console "$log" 'verity: .*data block 0 is corrupted'
expect_console "$log" 'Kernel panic' "a root that cannot be mounted must end the boot"
qemu_timed_out "$log" && { fail "22-dm-init-corrupt ran into the QEMU timeout instead of panicking"; exit 1; }
exit 0
