#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make check-stacks: the project on other Debian stacks. For each SUITE (default:
# trixie sid) a root from test/stacks/mkroot.sh (cached per suite and day); inside it,
# with that root's compiler: make all unit-tests, the unit tests, make install; then
# boot cases (test/boot/run.sh) whose initrds that root's dracut builds for that root's
# kernel, booted by the host's QEMU. Prints each stack's versions and timings and ends
# with "N passed, N failed[, N skipped]".
# Usage: test/stacks/run.sh [SUITE...]
# Env: STACK_CASES="01-roothash 11 ..." boot case prefixes (default below),
#      QEMU_TIMEOUT, KEEP_WORK=1 as for test/boot/run.sh, STACK_CACHE, STACK_DATE (mkroot.sh).
set -u

here=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/chroot.sh
. "$here/chroot.sh"
suites=${*:-trixie sid}
STACK_CASES=${STACK_CASES:-01-roothash 02b-signed-repart 04-corrupt-block 05-wrong-roothash 10-shell-initrd 11-root-dissect 12-gpt-auto 17b-corruption-error 20-uki-roothash 21-uki-signed 23b-luks-gpt-auto 29-one-owner 29b-usr-dissect 30-image-policy 02c-cert-dirs 31-own-emergency 33-kernel-keyring 34-ipe}
passed=0 failed=0 skipped=0
failures=()
report=()

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

# versions ROOT: one line, from the root's package database and its /boot.
versions() {
	local k
	# shellcheck disable=SC2016
	q() { chroot "$1" dpkg-query -W -f '${Version}' "$2" 2>/dev/null || echo "?"; }
	k=$(ls "$1"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1)
	echo "dracut $(q "$1" dracut-core), systemd $(q "$1" systemd), kernel ${k##*/vmlinuz-}," \
		"cryptsetup $(q "$1" cryptsetup-bin), gcc $(chroot "$1" gcc -dumpfullversion 2>/dev/null)"
}

in_root() { stack_chroot "$root" "$@"; }

run_stack() {
	local suite=$1 t0 t1 log rc line p f s t secs
	t0=$(date +%s)
	echo "==== stack $suite"
	# One run per suite at a time: another run's exit would unmount this one's /proc, /dev.
	mkdir -p "${STACK_CACHE:-/var/tmp/dracut-verity-stacks}"
	exec 9> "${STACK_CACHE:-/var/tmp/dracut-verity-stacks}/$suite.lock"
	if ! flock -n 9; then
		echo "$suite: another stack run uses this suite's root; waiting for it"
		flock 9
	fi
	root=$("$here/mkroot.sh" "$suite") || { record "$suite: root (mkroot.sh)" 1; root=''; return; }
	t1=$(date +%s)
	report+=("$suite: $(versions "$root")")
	# shellcheck disable=SC1091
	. "$root/.stack-complete"
	report+=("$suite: root ready in $((t1 - t0)) s (when built: debootstrap ${debootstrap_s:-?} s, apt ${apt_s:-?} s)")
	work=$(mktemp -d "/var/tmp/dracut-verity-stack-$suite.XXXXXX")
	# The boot cases' WORK; prepare_dracut's make install reuses the build in it.
	mkdir -p "$work/boot"
	stack_chroot_enter "$root"
	mkdir -p "$root$TOP" "$root$work"
	if ! mount --bind "$TOP" "$root$TOP" || ! mount --bind "$work" "$root$work"; then
		record "$suite: bind $TOP and $work" 1
		leave
		root=''
		return
	fi

	t0=$(date +%s)
	in_root make -C "$TOP" -j2 B="$work/boot/build" all unit-tests > "$work/make.log" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || tail -n 30 "$work/make.log"
	record "$suite: make all unit-tests ($(( $(date +%s) - t0 )) s)" "$rc"
	report+=("$suite: make all unit-tests $(( $(date +%s) - t0 )) s")
	if [ "$rc" -eq 0 ]; then
		t0=$(date +%s)
		for t in "$work"/boot/build/test/test-*; do
			[ -x "$t" ] || continue
			# shellcheck disable=SC2016
			in_root sh -c 'cd "$1" && exec "$2"' sh "$TOP" "$t" > "$work/${t##*/}.log" 2>&1
			rc=$?
			[ "$rc" -eq 0 ] || tail -n 30 "$work/${t##*/}.log"
			record "$suite: unit ${t##*/}: $(sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' "$work/${t##*/}.log" | tail -n1) tests" "$rc"
		done
		report+=("$suite: unit tests $(( $(date +%s) - t0 )) s")
		in_root make -C "$TOP" -s B="$work/boot/build" PREFIX=/usr uninstall install > "$work/install.log" 2>&1
		rc=$?
		[ "$rc" -eq 0 ] || tail -n 30 "$work/install.log"
		record "$suite: make install into the root" "$rc"
	fi

	t0=$(date +%s)
	log=$work/boot.log
	# shellcheck disable=SC2086
	STACK_ROOT=$root WORK=$work/boot KEEP_WORK=1 "$TOP/test/boot/run.sh" $STACK_CASES 2>&1 |
		sed -u "s/^\(PASS\|FAIL\|SKIP\) /\1 $suite: /" | tee "$log"
	rc=${PIPESTATUS[0]}
	secs=$(( $(date +%s) - t0 ))
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
	if [ -z "$line" ]; then
		record "$suite: boot cases (no summary line)" 1
	else
		p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<< "$line")
		f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<< "$line")
		s=$(sed -nE 's/.*, ([0-9]+) skipped.*/\1/p' <<< "$line")
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
		[ "$f" -eq 0 ] || failures+=("$suite: boot cases")
		[ "$rc" -eq 0 ] || [ "$f" -ne 0 ] || record "$suite: boot run.sh (exit $rc)" 1
	fi
	report+=("$suite: boot cases $secs s ($(grep -E '^(PASS|FAIL)' "$log" | sed -nE 's/^(PASS|FAIL) [^:]+: ([^ :]+).*\(([0-9]+) s.*/\2 \3 s/p' | paste -sd, - | sed 's/,/, /g'))")
	leave
	if grep -q '^FAIL' "$log" || [ -n "${KEEP_WORK:-}" ]; then
		echo "work dir kept: $work"
	else
		rm -rf --one-file-system "$work"
	fi
	root='' work=''
	exec 9>&-
}

for suite in $suites; do
	run_stack "$suite"
done

echo
echo "Stacks:"
for l in "${report[@]}"; do echo "  $l"; done
for f in "${failures[@]}"; do echo "FAILED: $f"; done
summary="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || summary+=", $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
