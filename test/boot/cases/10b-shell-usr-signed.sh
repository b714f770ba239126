#!/bin/bash
# Shell (non-systemd) initrd, no root or /usr arguments, one disk with a signed root
# and a signed /usr (systemd-repart): both verified and opened, /usr mounted from
# /dev/mapper/usr by the module's pre-pivot hook.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_cert "$WORK/keys-10b" a "verity-root-test-A"
mkdir -p "$WORK/certs-10b"
cp "$WORK/keys-10b/a.crt" "$WORK/certs-10b/"
make_usr_split_root "$WORK/root-10b" "$WORK/usr-10b" shellusr-10b
out=$("$TOP/test/lib/mkdisk-repart.sh" --with-usr "$WORK/usr-10b" --sign "$WORK/keys-10b/a.key" \
	"$WORK/keys-10b/a.crt" "$WORK/root-10b" "$WORK/disk-10b.img") || fail "mkdisk-repart.sh failed"
eval "$out"
CERTDIR=$WORK/certs-10b build_initrd "$WORK/initrd-10b.img" shell
log=$(run_qemu 10b-shell-usr-signed "$WORK/initrd-10b.img" "" "$WORK/disk-10b.img")
expect_booted "$log"
expect_init_field "$log" usr /dev/mapper/usr
expect_console "$log" 'VERITY-ROOT-TEST: id=shellusr-10b usr-id=shellusr-10b-usr$'
expect_console "$log" 'verity-root: usr verified: .*signed by CN=verity-root-test-A'
