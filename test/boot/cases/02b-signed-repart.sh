#!/bin/bash
# Cross-check with systemd's own writer: an ext4 root signed by
# systemd-repart (test/lib/mkdisk-repart.sh), no root arguments.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 02b a "verity-root-test-A"
make_root "$WORK/root-02b" repart-02b
out=$("$TOP/test/lib/mkdisk-repart.sh" --sign "$WORK/keys-02b/a.key" "$WORK/keys-02b/a.crt" \
	"$WORK/root-02b" "$WORK/disk-02b.img") || fail "mkdisk-repart.sh failed"
eval "$out"
CERTDIR=$WORK/certs-02b build_initrd "$WORK/initrd-02b.img" systemd
log=$(run_qemu 02b-signed-repart "$WORK/initrd-02b.img" "" "$WORK/disk-02b.img")
expect_booted "$log"
expect_init_field "$log" fstype ext4
expect_id "$log" repart-02b
expect_console "$log" 'verity-root: .*signed by'
