#!/bin/bash
# A Kiwi-layout root (embed_verity_metadata: hash tree after the file system, signed
# metadata in the last 4 KiB of the partition, no DPS types), no root arguments: the
# module finds it by its metadata, verifies Kiwi's RSA-PSS signature against the
# certificate in the initrd and boots it; current Kiwi (verity superblock) and older
# Kiwi (no superblock) both, on a GPT disk and on the MBR disk Kiwi makes for BIOS
# firmware (with Kiwi's own command line). Unsigned-by-us metadata is refused.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_cert "$WORK/keys-18" other "verity-root-test-other"
make_trusted_cert 18 k "verity-root-test-kiwi"
make_root "$WORK/root-18" kiwi-18
"$TOP/test/lib/mkkiwi.sh" --sign "$WORK/keys-18/k.key" "$WORK/root-18" "$WORK/disk-18.img" > /dev/null ||
	fail "mkkiwi.sh failed"
"$TOP/test/lib/mkkiwi.sh" --legacy --sign "$WORK/keys-18/k.key" "$WORK/root-18" "$WORK/disk-18-legacy.img" > /dev/null ||
	fail "mkkiwi.sh --legacy failed"
"$TOP/test/lib/mkkiwi.sh" --sign "$WORK/keys-18/other.key" "$WORK/root-18" "$WORK/disk-18-other.img" > /dev/null ||
	fail "mkkiwi.sh (other key) failed"
"$TOP/test/lib/mkkiwi.sh" --mbr --fs ext4 --sign "$WORK/keys-18/k.key" "$WORK/root-18" "$WORK/disk-18-mbr.img" > /dev/null ||
	fail "mkkiwi.sh --mbr failed"
CERTDIR=$WORK/certs-18 build_initrd "$WORK/initrd-18.img" systemd

log=$(run_qemu 18-kiwi "$WORK/initrd-18.img" "" "$WORK/disk-18.img")
expect_booted "$log"
expect_id "$log" kiwi-18
expect_init_field "$log" root /dev/mapper/root
expect_console "$log" 'verity-root: root verified: .*appended to it.*signed by CN ?= ?verity-root-test-kiwi'

log=$(run_qemu 18-kiwi-legacy "$WORK/initrd-18.img" "" "$WORK/disk-18-legacy.img")
expect_booted "$log"
expect_init_field "$log" root /dev/mapper/root

log=$(run_qemu 18-kiwi-untrusted "$WORK/initrd-18.img" "" "$WORK/disk-18-other.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot the root file system: .*Kiwi'

# Kiwi's BIOS layout: MBR disk, ext4, and the command line config.kiwi sets.
log=$(run_qemu 18-kiwi-mbr "$WORK/initrd-18.img" "root=/dev/mapper/root ro rd.verity.sig=required" "$WORK/disk-18-mbr.img")
expect_booted "$log"
expect_id "$log" kiwi-18
expect_console "$log" 'verity-root: root verified: .*MBR type 0x83, PARTUUID=6b697769-01.*signed by CN ?= ?verity-root-test-kiwi'
