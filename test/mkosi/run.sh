#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make check-mkosi: an image built by the distribution's own mkosi from examples/mkosi
# (an erofs root, its root-verity hash partition and a root-verity-sig partition signed
# with a key and certificate from `mkosi genkey`) boots with a dracut initrd carrying
# verity-root and that certificate:
#   (a) with no root arguments at all (partitions found by type, signature checked),
#   (b) with roothash= as mkosi would put it in a UKI's command line,
#   (c) not at all from a copy whose root data partition has one byte flipped.
# For each SUITE (default: trixie sid, i.e. mkosi 25.3 and 27.1) a root cached per suite
# and day in $MKOSI_CACHE: a copy of test/stacks/mkroot.sh's root plus mkosi. Inside it,
# with that root's tools: the project built and installed, mkosi, dracut; the host's QEMU
# boots that root's kernel. Prints versions and timings, ends with "N passed, N failed".
# Usage: test/mkosi/run.sh [SUITE...]
# Env: MKOSI_CACHE (default /var/tmp/dracut-verity-mkosi), STACK_CACHE and STACK_DATE
#      (as for mkroot.sh; STACK_DATE also names the mkosi root), QEMU_TIMEOUT,
#      KEEP_WORK=1 keeps the work directory (images, initrd, console logs),
#      BOOT_APPEND_EXTRA (test/boot/lib.sh) e.g. rd.verity.timeout=90 on a machine so loaded
#      that the guest's kernel probes the disk later than 30 s after verity-root starts.
# Lib.sh is sourced in subshells on purpose (its settings stay there).
# shellcheck disable=SC2030,SC2031
set -u

here=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$here/../.." && pwd)
# shellcheck source=test/stacks/chroot.sh
. "$TOP/test/stacks/chroot.sh"
suites=${*:-trixie sid}
MKOSI_CACHE=${MKOSI_CACHE:-/var/tmp/dracut-verity-mkosi}
day=${STACK_DATE:-$(date -u +%Y%m%d)}
# What examples/mkosi/mkosi.conf names its image (ImageId=).
IMAGE_ID=verity-demo
# Printed by test/mkosi/extra's unit once the image's own systemd runs.
export MARKER='VERITY-MKOSI-TEST: userspace of the image reached'
passed=0 failed=0
failures=()
report=()

msg() { echo "mkosi-test: $*" >&2; }

record() { # name status
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1)); echo "PASS $1"
	else
		failed=$((failed + 1)); failures+=("$1"); echo "FAIL $1"
	fi
}

root='' work=''
leave() {
	[ -n "$root" ] || return 0
	stack_chroot_release "$root" "$TOP" "$work"
}
trap leave EXIT
trap 'exit 130' INT TERM

# in_pivot ROOT CMD...: CMD with ROOT as the root of a new mount namespace. mkosi's
# sandbox (mkosi-sandbox) remounts / and unshares namespaces, which fails in a plain
# chroot (/ is no mount point there; no user namespace from inside a chroot).
in_pivot() {
	local r=$1
	shift
	mkdir -p "$r/.pivot-old"
	# shellcheck disable=SC2016
	unshare --mount --propagation private sh -c '
		r=$1; shift
		mount --rbind "$r" "$r" && cd "$r" && pivot_root . .pivot-old || exit 125
		cd / && umount -l /.pivot-old || exit 125
		exec /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TMPDIR=/tmp "$@"' \
		sh "$r" "$@"
}

# mkosi_root SUITE: prints the path of the suite's mkosi root, made when missing from
# a copy of test/stacks/mkroot.sh's root (reused or built) plus mkosi from the archive.
mkosi_root() {
	local suite=$1 r base t0 old
	r=$MKOSI_CACHE/$suite-$day
	if [ -e "$r/.mkosi-complete" ]; then
		msg "reusing $r"
		echo "$r"
		return 0
	fi
	base=$(STACK_DATE=$day "$TOP/test/stacks/mkroot.sh" "$suite") || return 1
	t0=$(date +%s)
	rm -rf --one-file-system "$r.tmp"
	mkdir -p "$MKOSI_CACHE"
	# Not while a stack run has /proc and /dev bound in it (test/stacks/run.sh holds this lock).
	(
		flock -w 1800 9 || exit 1
		cp -a -x --reflink=auto "$base" "$r.tmp"
	) 9> "${STACK_CACHE:-/var/tmp/dracut-verity-stacks}/$suite.lock" || { msg "copying $base failed"; return 1; }
	rm -f "$r.tmp/.stack-complete"
	stack_chroot_enter "$r.tmp"
	# Recommends would bring QEMU, dnf, zypper, pacman: not needed to build a Debian image.
	if ! stack_chroot "$r.tmp" sh -c 'export DEBIAN_FRONTEND=noninteractive INITRD=No; apt-get update &&
		apt-get install -y --no-install-recommends mkosi' > "$r.apt.log" 2>&1; then
		stack_chroot_leave "$r.tmp"
		msg "apt-get install mkosi failed, see $r.apt.log"; tail -n 20 "$r.apt.log" >&2
		return 1
	fi
	stack_chroot_leave "$r.tmp"
	cp "$base/.stack-complete" "$r.tmp/.stack-complete"
	echo "mkosi_apt_s=$(( $(date +%s) - t0 ))" > "$r.tmp/.mkosi-complete"
	mv "$r.tmp" "$r"
	for old in "$MKOSI_CACHE/$suite"-*; do
		case $old in "$r"|"$r".*|*.lock) continue ;; esac
		awk -v d="$old" '$2 == d || index($2, d "/") == 1 { f = 1 } END { exit !f }' /proc/mounts ||
			rm -rf --one-file-system "$old"
	done
	echo "$r"
}

versions() {
	# shellcheck disable=SC2016
	q() { chroot "$1" dpkg-query -W -f '${Version}' "$2" 2>/dev/null || echo "?"; }
	local k
	k=$(find "$1/boot" -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sort -V | tail -n1)
	echo "mkosi $(q "$1" mkosi), systemd $(q "$1" systemd), dracut $(q "$1" dracut-core)," \
		"kernel ${k##*/vmlinuz-}, erofs-utils $(q "$1" erofs-utils)"
}

# part_field IMAGE TYPE-UUID FIELD: start|size|uuid of the (only) partition of that type.
part_field() {
	sfdisk --json "$1" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
p = [p for p in t["partitions"] if p["type"].lower() == sys.argv[1]]
if len(p) != 1: sys.exit("%d partitions of type %s" % (len(p), sys.argv[1]))
print(str(p[0][sys.argv[2]]).lower())' "$2" "$3"
}

ROOT_TYPE=4f68bce3-e8cd-4db1-96e7-fbcaf984b709
VERITY_TYPE=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5
SIG_TYPE=41092b05-9fc8-4523-994f-2def0408b176

# sig_roothash IMAGE: rootHash of the signature partition's JSON.
sig_roothash() {
	local start size
	start=$(part_field "$1" $SIG_TYPE start) && size=$(part_field "$1" $SIG_TYPE size) || return 1
	dd if="$1" bs=512 skip="$start" count="$size" status=none | tr -d '\000' |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["rootHash"])'
}

# flip_byte IMAGE OFFSET: inverts one byte in place.
flip_byte() {
	python3 - "$1" "$2" <<-'PY'
	import sys
	with open(sys.argv[1], "r+b") as f:
	    f.seek(int(sys.argv[2]))
	    b = f.read(1)
	    f.seek(int(sys.argv[2]))
	    f.write(bytes([b[0] ^ 0xff]))
	PY
}

# lsinitrd_has INITRD: the initrd holds the module's helper and a certificate in /etc/verity.d.
lsinitrd_has() {
	local list
	list=$(stack_chroot "$root" lsinitrd "$1" 2>/dev/null) || return 1
	grep -q 'verity-root-setup' <<< "$list" && grep -q 'etc/verity.d/mkosi-test.crt' <<< "$list"
}

run_suite() {
	local suite=$1 t0 t1 rc mk ver extra=() img rh rh_uuid rh_sig rh_file start initrd out mirror suites kver
	echo "==== mkosi on $suite"
	mkdir -p "$MKOSI_CACHE"
	exec 9> "$MKOSI_CACHE/$suite.lock"
	flock -n 9 || { record "$suite: another mkosi run uses this suite's root" 1; return; }
	t0=$(date +%s)
	root=$(mkosi_root "$suite") || { record "$suite: root (mkroot.sh + mkosi)" 1; root=''; return; }
	t1=$(date +%s)
	report+=("$suite: $(versions "$root")")
	report+=("$suite: root ready in $((t1 - t0)) s")
	work=$(mktemp -d "/var/tmp/dracut-verity-mkosi-$suite.XXXXXX")
	mkdir -p "$work/boot"
	stack_chroot_enter "$root"
	mkdir -p "$root$TOP" "$root$work"
	if ! mount --bind "$TOP" "$root$TOP" || ! mount --bind "$work" "$root$work"; then
		record "$suite: bind $TOP and $work" 1
		leave; root=''
		return
	fi

	# The project, as test/stacks/run.sh builds and installs it; build_initrd stages
	# the module from the same build directory.
	t0=$(date +%s)
	stack_chroot "$root" make -C "$TOP" -j2 -s B="$work/boot/build" all > "$work/make.log" 2>&1 &&
		stack_chroot "$root" make -C "$TOP" -s B="$work/boot/build" PREFIX=/usr uninstall install >> "$work/make.log" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || tail -n 30 "$work/make.log"
	record "$suite: make all install in the root ($(( $(date +%s) - t0 )) s)" "$rc"
	[ "$rc" -eq 0 ] || { leave; root=''; return; }

	# The example configuration as a user has it, a key pair from mkosi itself.
	mk=$work/mkosi
	cp -a "$TOP/examples/mkosi" "$mk"
	rm -rf "$mk/mkosi.output" "$mk"/mkosi.key "$mk"/mkosi.crt "$mk/${IMAGE_ID:?}"*
	# mkosi's own repository list for Debian adds http://deb.debian.org/debian-debug,
	# which this network's mirror does not serve: a sandbox tree with the mirror the root
	# was made from replaces it (only the build uses it; the image's apt sources are mkosi's).
	# shellcheck disable=SC1091
	mirror=$(. "$root/.stack-complete"; echo "${mirror:-http://deb.debian.org/debian}")
	mkdir -p "$mk/mkosi.sandbox/etc/apt/sources.list.d"
	case $suite in
	sid|unstable) suites=$suite ;;
	*) suites="$suite $suite-updates" ;;
	esac
	printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$mirror" "$suites" > "$mk/mkosi.sandbox/etc/apt/sources.list.d/mkosi.sources"
	ver=$(in_pivot "$root" mkosi --version 2>/dev/null | awk '{ print $2 }')
	# mkosi 26+ writes IMAGE.roothash on request; 25.x has no such artifact. mkosi 27.1
	# asks systemd-repart >= 261 for an El Torito boot catalog by default (ElTorito=auto),
	# which repart refuses for an image without ESP ("El Torito boot catalog requires an
	# ESP"); mkosi 25.3 knows no ElTorito= and refuses the setting, so not in mkosi.conf.
	case $ver in
	2[0-5]|2[0-5].*|1*) ;;
	*) extra+=(--split-artifacts=roothash --el-torito=no) ;;
	esac
	t0=$(date +%s)
	# shellcheck disable=SC2016
	in_pivot "$root" sh -c 'cd "$1" && shift && mkosi genkey && exec mkosi "$@" build' sh "$mk" \
		--release="$suite" --extra-tree="$TOP/test/mkosi/extra" "${extra[@]}" > "$work/mkosi.log" 2>&1
	rc=$?
	img=$mk/$IMAGE_ID.raw
	if [ "$rc" -ne 0 ] || [ ! -f "$img" ]; then
		tail -n 30 "$work/mkosi.log"
		rc=1
	fi
	record "$suite: mkosi $ver build ($(( $(date +%s) - t0 )) s, $( [ -f "$img" ] && du -m "$img" | cut -f1) MB)" "$rc"
	report+=("$suite: mkosi $ver build $(( $(date +%s) - t0 )) s: $(grep -m1 -o "$IMAGE_ID.raw size is.*" "$work/mkosi.log")")
	[ "$rc" -eq 0 ] || { leave; root=''; return; }

	# The root hash: what mkosi would put on a UKI's command line is systemd-repart's
	# roothash; the DPS PARTUUIDs are its two halves, the signature covers it.
	rh_uuid=$(part_field "$img" $ROOT_TYPE uuid)$(part_field "$img" $VERITY_TYPE uuid)
	rh_uuid=${rh_uuid//-/}
	rh_sig=$(sig_roothash "$img")
	rh_file=
	[ ! -f "$mk/$IMAGE_ID.roothash" ] || rh_file=$(sed 's/^roothash=//' "$mk/$IMAGE_ID.roothash" | tr -d '\n')
	rh=$rh_uuid
	rc=0
	[ -n "$rh" ] && [ "$rh_sig" = "$rh" ] || rc=1
	[ ${#extra[@]} -eq 0 ] || [ "$rh_file" = "$rh" ] || rc=1
	record "$suite: root hash $rh (PARTUUIDs), signature partition ${rh_sig:-none}${rh_file:+, $IMAGE_ID.roothash $rh_file}" "$rc"
	sfdisk -d "$img" | grep '^/' | sed 's/^/    /'
	mkdir -p "$work/certs"
	cp "$mk/mkosi.crt" "$work/certs/mkosi.crt"
	# The project's own reader of the image agrees (the rules of the boot, on the file).
	out=$(stack_chroot "$root" verity-root cmdline "$img" --certs "$work/certs" 2>&1)
	rc=$?
	echo "    verity-root cmdline: $out"
	[ "$rc" -eq 0 ] && [[ " $out " == *" roothash=$rh "* ]]
	record "$suite: verity-root cmdline on mkosi's image gives roothash=$rh" $?

	# The initrd: the harness's lean systemd initrd with the module and mkosi.crt as the
	# one trusted certificate (in its /etc/verity.d).
	initrd=$work/initrd.img
	(
		export STACK_ROOT=$root WORK=$work/boot KEEP_WORK=1 VERDICT=$work/verdict
		# shellcheck source=test/boot/lib.sh disable=SC2030,SC2031
		. "$TOP/test/boot/lib.sh"
		CERTDIR=$work/certs build_initrd "$initrd" systemd
	)
	rc=$?
	record "$suite: dracut initrd with verity-root and mkosi.crt" "$rc"
	[ "$rc" -eq 0 ] || { leave; root=''; return; }

	# The boots. Each check is eval'ed in the boot's subshell (hence single quotes);
	# each boot a subshell: lib.sh's checks return 1 on a mismatch.
	boot_case() { # name initrd append disk checks...
		local name=$1 initrd=$2 append=$3 disk=$4 t0 rc
		t0=$(date +%s)
		shift 4
		(
			export STACK_ROOT=$root WORK=$work/boot KEEP_WORK=1 VERDICT=$work/verdict
			# shellcheck source=test/boot/lib.sh disable=SC2030,SC2031
			. "$TOP/test/boot/lib.sh"
			log=$(run_qemu "$name" "$initrd" "$append" "$disk") || exit 1
			! qemu_timed_out "$log" || { show_tail "$log"; fail "timed out after $QEMU_TIMEOUT s"; exit 1; }
			for c in "$@"; do eval "$c" || exit 1; done
			grep -E -m3 "verity-root: |VERITY-MKOSI-TEST" "$log" | sed 's/^/    | /'
		)
		rc=$?
		record "$suite: boot $name ($(( $(date +%s) - t0 )) s wall)" "$rc"
	}
	# shellcheck disable=SC2016
	boot_case "$suite-no-root-args" "$initrd" "" "$img" \
		'expect_console "$log" "verity-root: root verified: .* root hash $rh from a signature partition; signature: valid, signed by CN ?= ?mkosi of root \(/etc/verity.d/mkosi.crt\)"' \
		'expect_console "$log" "$MARKER, root=/dev/mapper/root fstype=erofs"'
	# shellcheck disable=SC2016
	boot_case "$suite-roothash" "$initrd" "roothash=$rh" "$img" \
		'expect_console "$log" "verity-root: root verified: .* root hash $rh from the kernel command line"' \
		'expect_console "$log" "$MARKER, root=/dev/mapper/root fstype=erofs"'
	# Tampered: byte 1024 + 16 of the root data partition is inside erofs's superblock,
	# which any mount reads; the signature and hash tree are untouched.
	cp --reflink=auto "$img" "$work/tampered.raw"
	start=$(part_field "$img" $ROOT_TYPE start)
	flip_byte "$work/tampered.raw" $(( start * 512 + 1024 + 16 ))
	# shellcheck disable=SC2016
	boot_case "$suite-tampered" "$initrd" "" "$work/tampered.raw" \
		'expect_console "$log" "verity-root: /dev/mapper/root: data block 0 of /dev/vda1 is corrupted .*: refusing to boot"' \
		'expect_no_console "$log" "$MARKER" "the tampered root must not boot"' \
		'expect_no_console "$log" "Timed out waiting for device" "verity-root must refuse before a device timeout"'

	# (d) As a user builds it: the installed module (make install above), mkosi.crt in the
	# root's /etc/verity.d, the root's dracut with its own defaults (every module, no
	# harness overlay) and --add verity-root; not compressed, to save the test's time.
	kver=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n1)
	kver=${kver##*/vmlinuz-}
	mkdir -p "$root/etc/verity.d"
	cp "$mk/mkosi.crt" "$root/etc/verity.d/mkosi-test.crt"
	t0=$(date +%s)
	stack_chroot "$root" dracut --force --no-hostonly --no-compress --add verity-root \
		--kver "$kver" "$work/initrd-user.img" > "$work/dracut-user.log" 2>&1
	rc=$?
	rm -f "$root/etc/verity.d/mkosi-test.crt"
	rmdir "$root/etc/verity.d" 2>/dev/null
	if [ "$rc" -ne 0 ] || ! lsinitrd_has "$work/initrd-user.img"; then
		tail -n 20 "$work/dracut-user.log"
		rc=1
	fi
	record "$suite: dracut --no-hostonly --add verity-root as a user runs it ($(( $(date +%s) - t0 )) s, $(du -m "$work/initrd-user.img" 2>/dev/null | cut -f1) MB)" "$rc"
	# shellcheck disable=SC2016
	[ "$rc" -ne 0 ] || boot_case "$suite-user-initrd" "$work/initrd-user.img" "" "$img" \
		'expect_console "$log" "verity-root: root verified: .* root hash $rh from a signature partition; signature: valid, signed by CN ?= ?mkosi of root \(/etc/verity.d/mkosi-test.crt\)"' \
		'expect_console "$log" "$MARKER, root=/dev/mapper/root fstype=erofs"'
	unset -f boot_case
	report+=("$suite: $(grep -E '^(dracut|qemu)' "$work/boot/timings" 2>/dev/null | paste -sd';' - | sed 's/;/; /g')")

	leave
	# shellcheck disable=SC2031
	if [ -n "${KEEP_WORK:-}" ] || [ ${#failures[@]} -ne 0 ]; then
		echo "work dir kept: $work"
	else
		rm -rf --one-file-system "$work"
	fi
	root='' work=''
	exec 9>&-
}

[ "$(id -u)" -eq 0 ] || { msg "must run as root (chroot, mount namespaces, loop-free images)"; exit 1; }
for suite in $suites; do
	t_suite=$(date +%s)
	run_suite "$suite"
	report+=("$suite: total $(( $(date +%s) - t_suite )) s")
done

echo
echo "mkosi stacks:"
for l in "${report[@]}"; do echo "  $l"; done
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
