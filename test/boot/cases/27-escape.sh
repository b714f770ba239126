#!/bin/bash
# A signed root whose GPT labels carry an ESC sequence and a backslash: it boots, and
# the console shows them escaped (\x1b, \\), never the raw ESC byte.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 27 a "verity-root-test-A"
make_root "$WORK/root-27" escape-27
make_disk "$WORK/disk-27.img" "$WORK/root-27" --label $'evil\e[31m\\red' \
	--sign "$WORK/keys-27/a.key" "$WORK/keys-27/a.crt"
CERTDIR=$WORK/certs-27 build_initrd "$WORK/initrd-27.img" systemd
log=$(run_qemu 27-escape "$WORK/initrd-27.img" "" "$WORK/disk-27.img")
expect_booted "$log"
expect_id "$log" escape-27
expect_console "$log" 'verity-root: .*verified: data partition 1 "evil\\x1b\[31m\\\\red"'
# The stripped log cannot tell: look at the bytes the console got.
raw=${log%.log}.raw.log
grep -aq 'evil\\x1b\[31m' "$raw" || fail "27-escape: the raw console log lacks evil\\x1b[31m"
if grep -a 'evil' "$raw" | grep -q $'\e'; then
	grep -a 'evil' "$raw" | cat -v | sed 's/^/    | /' >&2
	fail "27-escape: a console line with the label holds a raw ESC byte"
fi
