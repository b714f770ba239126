#!/bin/bash
# Runs the QEMU boot tests in test/boot/cases/ one after the other.
# Usage: test/boot/run.sh [PREFIX...]   e.g. test/boot/run.sh 00 04 07b
# Env: WORK=DIR reuse a work dir (initrds are cached there by their inputs),
#      KEEP_WORK=1 keep it after a passing run, QEMU_TIMEOUT=seconds per boot,
#      VERBOSE=1 print dracut and QEMU timings, BOOT_APPEND_EXTRA="..." more
#      kernel cmdline (e.g. systemd.journald.forward_to_console=1 rd.debug).
# Prints PASS/FAIL/SKIP per case and ends with "N passed, N failed[, N skipped]".
set -u

here=$(cd "$(dirname "$0")" && pwd)
export TOP=${TOP:-$(cd "$here/../.." && pwd)}
export WORK=${WORK:-$(mktemp -d /var/tmp/dracut-verity-boot.XXXXXX)}
mkdir -p "$WORK"
# shellcheck source=lib.sh
. "$here/lib.sh"

# Missing tools are failures, not skips: CI installs test/install-deps.sh.
preflight() {
	local t missing=
	for t in qemu-system-x86_64 dracut mkfs.erofs mksquashfs mkfs.ext4 veritysetup \
		sfdisk openssl timeout make; do
		command -v "$t" >/dev/null || missing+=" $t"
	done
	[ -x /bin/busybox ] || missing+=" busybox-static"
	ls /boot/vmlinuz-* >/dev/null 2>&1 || missing+=" kernel(/boot/vmlinuz-*)"
	[ "$(id -u)" = 0 ] || missing+=" root-privileges"
	[ -z "$missing" ] && return 0
	echo "FAIL preflight: missing$missing (run test/install-deps.sh)"
	return 1
}

selected() {
	local name=$1 p
	[ ${#filters[@]} -eq 0 ] && return 0
	for p in "${filters[@]}"; do
		case $name in "$p"*) return 0 ;; esac
	done
	return 1
}

filters=("$@")
passed=0 failed=0 skipped=0
start=$(date +%s)
if ! preflight; then
	echo "0 passed, 1 failed"
	exit 1
fi
for script in "$here"/cases/[0-9][0-9]*-*.sh; do
	name=$(basename "$script" .sh)
	selected "$name" || continue
	export VERDICT=$WORK/$name.verdict
	rm -f "$VERDICT"
	t0=$(date +%s)
	bash "$script" > "$WORK/$name.out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	reason=$(sed -n 's/^\(FAIL\|SKIP\): //p' "$VERDICT" 2>/dev/null | head -n1)
	if [ "$rc" -eq 77 ]; then
		echo "SKIP $name: ${reason:-skipped}"
		skipped=$((skipped + 1))
	elif [ "$rc" -eq 0 ] && ! grep -q '^FAIL' "$VERDICT" 2>/dev/null; then
		echo "PASS $name (${secs} s)"
		passed=$((passed + 1))
	else
		echo "FAIL $name: ${reason:-exit status $rc} (${secs} s, output: $WORK/$name.out)"
		sed 's/^/    /' "$WORK/$name.out"
		failed=$((failed + 1))
	fi
done

echo "boot tests: $(( $(date +%s) - start )) s wall" >&2
[ -z "${VERBOSE:-}" ] || cat "$WORK/timings" >&2 2>/dev/null
if [ "$failed" -eq 0 ] && [ -z "${KEEP_WORK:-}" ]; then
	rm -rf "$WORK"
else
	echo "work dir kept: $WORK" >&2
fi
summary="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || summary+=", $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
