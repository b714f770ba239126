#!/bin/bash
# As 09b (no root or /usr arguments; a signed root and a signed /usr on one disk),
# plus a second disk holding only another /usr, validly signed by the same
# certificate and labelled as a newer version (usr-x86-64_99). The auto /usr is
# bound to the verified root's disk: the root's own /usr is mounted, the other is
# named and ignored.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_signed_root_usr_disk 09d usrauto-09d
root_usrhash=$USRHASH
make_usr_split_root "$WORK/root-09d-other" "$WORK/usr-09d-other" other-09d
make_disk "$WORK/disk-09d-other.img" "$WORK/usr-09d-other" --usr --label usr-x86-64_99 \
	--sign "$WORK/keys-09d/a.key" "$WORK/keys-09d/a.crt"
CERTDIR=$WORK/certs-09d build_initrd "$WORK/initrd-09d.img" systemd

log=$(run_qemu 09d-usr-auto-other-disk "$WORK/initrd-09d.img" "" "$WORK/disk-09d.img" "$WORK/disk-09d-other.img")
expect_booted "$log"
expect_init_field "$log" usr /dev/mapper/usr
expect_console "$log" 'VERITY-ROOT-TEST: id=usrauto-09d usr-id=usrauto-09d-usr$'
expect_console "$log" "verity-root: usr verified: .* on /dev/vda, .* root hash $root_usrhash from a signature partition"
expect_no_console "$log" 'usr verified: .*usr-x86-64_99' "the other disk's /usr must not be chosen"
