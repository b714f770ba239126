#!/bin/bash
# make check-kiwi: examples/kiwi/ built by real Kiwi, as its README says, checked with
# `verity-root inspect` and booted under QEMU from the disk (SeaBIOS -> GRUB -> the kernel
# and initrd Kiwi made), then a copy with one flipped byte in the root file system must
# be refused.
#
#   test/kiwi/run.sh [host] [sid]        (default: both)
#
# host: the Kiwi this Debian 12 machine has (kiwi-ng 9.24).
# sid:  the Kiwi from Debian sid (11.x), in a debootstrap root of its own, cached as
#       $KIWI_CACHE/sid-root (made from test/stacks/mkroot.sh's sid root plus kiwi; delete
#       it to refresh). Both build the same description (Debian 12 image packages, the
#       module built here and installed through root/).
#
# KIWI_REUSE=DIR: check the images an earlier run left in its work directory DIR
# (with its certificate) instead of building.
#
# Slow (each build downloads and installs a Debian system, each boot is a full Debian
# boot under TCG): not part of `make check`. Timings go to stderr and $WORK/timings.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
KIWI_CACHE=${KIWI_CACHE:-/var/tmp/dracut-verity-kiwi}
mkdir -p "$KIWI_CACHE"
WORK=$(mktemp -d "$KIWI_CACHE/run.XXXXXX")
QEMU_TIMEOUT=${QEMU_TIMEOUT:-400}
REFUSE_TIMEOUT=${REFUSE_TIMEOUT:-150}
VERDICT=$WORK/failures
export WORK QEMU_TIMEOUT VERDICT
# shellcheck source=../boot/lib.sh
. "$TOP/test/boot/lib.sh"
# shellcheck source=../stacks/chroot.sh
. "$TOP/test/stacks/chroot.sh"

USERSPACE_MARKER='VERITY-ROOT-KIWI: userspace reached'
CERT_CN='dracut-verity kiwi check'
HERE=$TOP/test/kiwi
sid_root=$KIWI_CACHE/sid-root

note() { echo "check-kiwi: $*" >&2; }
stamp() { date +%s; }
timing() { echo "$1: $2 s" | tee -a "$WORK/timings" >&2; }

require_host_tools() {
	local t missing=
	for t in kiwi-ng sgdisk rsync qemu-img parted partx mksquashfs qemu-system-x86_64 debootstrap; do
		command -v "$t" > /dev/null || missing+=" $t"
	done
	[ -d /usr/lib/grub/i386-pc ] || missing+=" grub-pc-bin"
	[ -z "$missing" ] || { note "missing on the build host:$missing (make deps)"; exit 1; }
}

# The image description as a user prepares it (README steps 1 and 3), plus a unit that
# reports the mounted root on the console and powers off: the test's only addition.
prepare_description() {
	local d=$1
	rm -rf "$d"
	cp -a "$TOP/examples/kiwi" "$d"
	make -s -C "$TOP" install DESTDIR="$d/root" > /dev/null
	cp "$WORK/signing.crt" "$d/root/etc/verity.d/"
	mkdir -p "$d/root/etc/systemd/system/multi-user.target.wants"
	cat > "$d/root/etc/systemd/system/kiwi-check.service" <<-EOF
	[Unit]
	Description=check-kiwi: report the root file system and power off
	After=multi-user.target

	[Service]
	Type=oneshot
	ExecStart=/bin/sh -c 'echo "$USERSPACE_MARKER, / is \$\$(findmnt -no SOURCE,FSTYPE,OPTIONS /)" > /dev/console; systemctl --no-block poweroff'

	[Install]
	WantedBy=multi-user.target
	EOF
	ln -sf ../kiwi-check.service "$d/root/etc/systemd/system/multi-user.target.wants/kiwi-check.service"
}

# Kiwi's runtime configuration (README step 2): the signing key, and the overlayroot
# package check off (it wants SUSE's package name, dracut-kiwi-overlay). Kiwi 9 reads
# its sections as lists, Kiwi 10 and later as mappings.
write_kiwi_config() {
	local home=$1 major=$2 key=$3
	mkdir -p "$home/.config/kiwi"
	if [ "$major" -lt 10 ]; then
		printf 'credentials:\n  - verification_metadata_signing_key_file: %s\nruntime_checks:\n  - disable: %s\n' \
			"$key" check_dracut_module_for_disk_overlay_in_package_list
	else
		printf 'credentials:\n  verification_metadata_signing_key_file: %s\nruntime_checks:\n  disable:\n    - %s\n' \
			"$key" check_dracut_module_for_disk_overlay_in_package_list
	fi > "$home/.config/kiwi/config.yml"
}

kiwi_major() { "$@" --version 2>/dev/null | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | tail -n 1; }

# Debian 12's Kiwi on this machine. The partx wrapper: see test/kiwi/partx-add.
build_host() {
	local t0 major
	t0=$(stamp)
	major=$(kiwi_major kiwi-ng)
	prepare_description "$WORK/host/desc"
	write_kiwi_config "$WORK/host/home" "$major" "$WORK/signing.key"
	mkdir -p "$WORK/host/bin"
	install -m 0755 "$HERE/partx-add" "$WORK/host/bin/partx"
	note "host: building with $(kiwi-ng --version | tail -n 1) (log: $WORK/host/build.log)"
	if ! HOME=$WORK/host/home PATH=$WORK/host/bin:$PATH \
		kiwi-ng --debug system build --description "$WORK/host/desc" --target-dir "$WORK/host/out" \
		> "$WORK/host/build.log" 2>&1; then
		grep -v DEBUG "$WORK/host/build.log" | tail -n 30 >&2
		fail "host: kiwi-ng system build failed"
		return 1
	fi
	rm -rf --one-file-system "$WORK/host/out/build" # the image's root tree
	timing "host: kiwi build ($(kiwi-ng --version | tail -n 1))" $(($(stamp) - t0))
}

# A sid root with Kiwi, made once from the stack tests' sid root. The veritysetup
# wrapper: see test/kiwi/veritysetup-bytes.
prepare_sid_root() {
	local base t0
	if [ ! -x "$sid_root/usr/bin/kiwi-ng" ]; then
		t0=$(stamp)
		base=$("$TOP/test/stacks/mkroot.sh" sid)
		rm -rf --one-file-system "$sid_root.tmp"
		cp -a --reflink=auto "$base" "$sid_root.tmp"
		stack_chroot_enter "$sid_root.tmp"
		if ! { stack_chroot "$sid_root.tmp" apt-get -o Acquire::Check-Valid-Until=false update &&
			stack_chroot "$sid_root.tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
				kiwi gdisk rsync qemu-utils grub-pc-bin parted kpartx dosfstools erofs-utils squashfs-tools \
				e2fsprogs; } > "$KIWI_CACHE/sid-root.apt.log" 2>&1; then
			stack_chroot_leave "$sid_root.tmp"
			fail "sid: installing kiwi failed, see $KIWI_CACHE/sid-root.apt.log"
			return 1
		fi
		stack_chroot_leave "$sid_root.tmp"
		mv "$sid_root.tmp" "$sid_root"
		timing "sid: root with kiwi made" $(($(stamp) - t0))
	fi
	install -m 0755 "$HERE/veritysetup-bytes" "$sid_root/usr/local/sbin/veritysetup"
	install -m 0755 "$HERE/partx-add" "$sid_root/usr/local/sbin/partx"
}

build_sid() {
	local t0 major in=/var/tmp/check-kiwi rc=0
	t0=$(stamp)
	prepare_sid_root || return 1
	rm -rf --one-file-system "${sid_root:?}$in"
	mkdir -p "$sid_root$in" "$WORK/sid"
	prepare_description "$sid_root$in/desc"
	cp "$WORK/signing.key" "$sid_root$in/"
	major=$(chroot "$sid_root" kiwi-ng --version 2>/dev/null | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | tail -n 1)
	write_kiwi_config "$sid_root$in/home" "$major" "$in/signing.key"
	note "sid: building with $(chroot "$sid_root" kiwi-ng --version | tail -n 1) (log: $WORK/sid/build.log)"
	stack_chroot_enter "$sid_root"
	chroot "$sid_root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin HOME=$in/home \
		LANG=C.UTF-8 TMPDIR=/tmp kiwi-ng --debug system build --description "$in/desc" --target-dir "$in/out" \
		> "$WORK/sid/build.log" 2>&1 || rc=$?
	stack_chroot_leave "$sid_root"
	if [ "$rc" -ne 0 ]; then
		grep -v DEBUG "$WORK/sid/build.log" | tail -n 30 >&2
		fail "sid: kiwi-ng system build failed"
		return 1
	fi
	mkdir -p "$WORK/sid/out"
	mv "$sid_root$in"/out/*.raw "$WORK/sid/out/"
	rm -rf --one-file-system "${sid_root:?}$in"
	timing "sid: kiwi build ($(chroot "$sid_root" kiwi-ng --version | tail -n 1))" $(($(stamp) - t0))
}

# The partition whose last 4 KiB hold Kiwi's verity metadata: "START SIZE" in bytes.
kiwi_root_partition() {
	local img=$1 start size
	while read -r start size; do
		if dd if="$img" bs=4096 skip=$(((start + size) / 4096 - 1)) count=1 status=none |
			head -c 32 | grep -aq '^1 [a-z0-9]* r[ow] verity'; then
			echo "$start $size"
			return 0
		fi
	done < <(sfdisk -J "$img" | jq -r '.partitiontable.partitions[] | "\(.start * 512) \(.size * 512)"')
	return 1
}

boot_disk() {
	local name=$1 img=$2
	qemu_boot "$name" kiwi -m 1536 \
		-drive "file=$img,if=none,id=d0,format=raw,snapshot=on" -device virtio-blk-pci,drive=d0,bootindex=0
}

check_image() {
	local which=$1 img log part t0 out
	img=$(find "$WORK/$which/out" -maxdepth 1 -name '*.raw' | head -n 1)
	[ -n "$img" ] || { fail "$which: no .raw image in $WORK/$which/out"; return 1; }
	note "$which: image $img ($(sfdisk -d "$img" | sed -n 's/^label: //p') partition table)"

	t0=$(stamp)
	if ! out=$("$TOP/build/verity-root" inspect "$img" --certs "$WORK/certs" 2>&1); then
		printf '%s\n' "$out" >&2
		fail "$which: verity-root inspect refuses the image Kiwi built"
		return 1
	fi
	printf '%s\n' "$out" | sed "s/^/    $which inspect | /" >&2
	printf '%s\n' "$out" | grep -Eq 'layout: +kiwi' || fail "$which: inspect does not report layout: kiwi"
	timing "$which: verity-root inspect (full)" $(($(stamp) - t0))

	log=$(boot_disk "kiwi-$which" "$img")
	expect_console "$log" "verity-root: root verified: .*from signed Kiwi verity metadata; signature: valid, signed by CN ?= ?$CERT_CN" "the module verified Kiwi's signed metadata"
	expect_console "$log" "$USERSPACE_MARKER, / is /dev/mapper/root squashfs ro" "the image's own userspace on the verified root"
	# Wall time: the marker comes from a userspace unit, without a kernel timestamp.
	timing "$which: boot to userspace (wall)" \
		"$(sed -n "s/^kiwi kiwi-$which: \([0-9]*\) s wall.*/\1/p" "$WORK/timings" | tail -n 1)"

	part=$(kiwi_root_partition "$img") || { fail "$which: no partition with Kiwi verity metadata"; return 1; }
	cp --reflink=auto --sparse=always "$img" "$WORK/$which/tampered.raw"
	# One byte inside the first block of the root file system (its superblock's block).
	printf '\x5a' | dd of="$WORK/$which/tampered.raw" bs=1 seek=$((${part% *} + 1000)) conv=notrunc status=none
	if out=$("$TOP/build/verity-root" inspect "$WORK/$which/tampered.raw" --certs "$WORK/certs" 2>&1); then
		fail "$which: verity-root inspect accepts the tampered copy"
	else
		printf '%s\n' "$out" | grep -q 'data block 0 .* does not match the hash tree' ||
			fail "$which: inspect refuses the tampered copy, but not for its changed block: $out"
	fi
	# The image's command line has no rd.emergency=poweroff: a refused boot waits in
	# dracut's emergency shell until QEMU's timeout, which the refusal comes well before.
	log=$(QEMU_TIMEOUT=$REFUSE_TIMEOUT boot_disk "kiwi-$which-tampered" "$WORK/$which/tampered.raw")
	expect_no_console "$log" "$USERSPACE_MARKER" "a tampered root must not boot"
	expect_console "$log" 'verity-root: /dev/mapper/root: data block 0 of .* is corrupted' "the module names the changed block"
}

main() {
	local which t0 builders=("$@")
	[ "${#builders[@]}" -gt 0 ] || builders=(host sid)
	[ "$(id -u)" -eq 0 ] || { note "must run as root (Kiwi, loop devices, chroot)"; exit 1; }
	require_host_tools
	t0=$(stamp)
	make -s -C "$TOP" all > /dev/null
	mkdir -p "$WORK/certs"
	if [ -n "${KIWI_REUSE:-}" ]; then
		cp "$KIWI_REUSE/signing.key" "$KIWI_REUSE/signing.crt" "$WORK/"
	else
		openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=$CERT_CN" \
			-keyout "$WORK/signing.key" -out "$WORK/signing.crt" 2> /dev/null
	fi
	cp "$WORK/signing.crt" "$WORK/certs/"
	for which in "${builders[@]}"; do
		case $which in
		host | sid) ;;
		*) note "unknown builder $which (host or sid)"; exit 2 ;;
		esac
		mkdir -p "$WORK/$which"
		if [ -n "${KIWI_REUSE:-}" ]; then
			mkdir -p "$WORK/$which/out"
			ln -s "$KIWI_REUSE/$which/out/"*.raw "$WORK/$which/out/"
			check_image "$which" || :
		elif "build_$which"; then
			check_image "$which" || :
		fi
	done
	timing "check-kiwi total" $(($(stamp) - t0))
	if grep -q '^FAIL' "$VERDICT" 2> /dev/null; then
		note "FAILED (work dir kept: $WORK)"
		exit 1
	fi
	note "passed"
}

main "$@"
