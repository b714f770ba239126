#!/bin/bash
# Shell (non-systemd) initrd, no root or /usr arguments, one disk with a signed root
# and a signed /usr (systemd-repart): both verified and opened, /usr mounted from
# /dev/mapper/usr by the module's pre-pivot hook.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_signed_root_usr_disk 10b shellusr-10b
CERTDIR=$WORK/certs-10b build_initrd "$WORK/initrd-10b.img" shell
log=$(run_qemu 10b-shell-usr-signed "$WORK/initrd-10b.img" "" "$WORK/disk-10b.img")
expect_booted "$log"
expect_init_field "$log" usr /dev/mapper/usr
expect_console "$log" 'VERITY-ROOT-TEST: id=shellusr-10b usr-id=shellusr-10b-usr$'
expect_console "$log" 'verity-root: usr verified: .*signed by CN=verity-root-test-A'
