#!/bin/bash
# Images made by `verity-root mkimage` boot with the module: a signed split image with
# no root arguments, and an appended-layout image with the command line that
# `verity-root cmdline` prints for it.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

cli=$(verity_root_cli)
make_trusted_cert 19 k "verity-root-test-mkimage"
make_root "$WORK/root-19" mkimage-19
"$cli" mkimage --root "$WORK/root-19" --out "$WORK/disk-19.img" \
	--key "$WORK/keys-19/k.key" --cert "$WORK/keys-19/k.crt" > "$WORK/mkimage-19.log" 2>&1 ||
	fail "verity-root mkimage (signed) failed: $(tail -n 3 "$WORK/mkimage-19.log")"
"$cli" mkimage --root "$WORK/root-19" --out "$WORK/disk-19-appended.img" --fs ext4 --layout appended \
	> "$WORK/mkimage-19b.log" 2>&1 ||
	fail "verity-root mkimage (appended) failed: $(tail -n 3 "$WORK/mkimage-19b.log")"
hash=$("$cli" inspect --json --quick --certs "$WORK/certs-19" "$WORK/disk-19-appended.img" | jq -r '.root.roothash // empty')
[ -z "$hash" ] || fail "an unsigned image must not be bootable without a root hash"
hash=$(sed -n 's/^ *root hash: *\([0-9a-f]*\).*/\1/p' "$WORK/mkimage-19b.log" | head -n 1)
[ -n "$hash" ] || fail "no root hash in the mkimage summary"
cmdline=$("$cli" cmdline --roothash "$hash" "$WORK/disk-19-appended.img") || fail "verity-root cmdline failed"
CERTDIR=$WORK/certs-19 build_initrd "$WORK/initrd-19.img" systemd

log=$(run_qemu 19-mkimage "$WORK/initrd-19.img" "" "$WORK/disk-19.img")
expect_booted "$log"
expect_id "$log" mkimage-19
expect_console "$log" 'verity-root: root verified: .*signed by CN ?= ?verity-root-test-mkimage'

log=$(run_qemu 19-mkimage-appended "$WORK/initrd-19.img" "$cmdline" "$WORK/disk-19-appended.img")
expect_booted "$log"
expect_init_field "$log" fstype ext4
expect_console "$log" 'verity-root: root verified: .*appended to it'
