#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make demo: make a demo certificate and a tiny signed DPS disk image, build an initrd
# with the verity-root module, boot it in QEMU with no root= and no roothash=, and
# tell what was verified. Needs the packages of test/install-deps.sh and `make`.
set -euo pipefail
cd "$(dirname "$0")/.."
export WORK=${WORK:-$(mktemp -d /var/tmp/verity-root-demo.XXXXXX)}
# shellcheck source=test/boot/lib.sh
. test/boot/lib.sh

step() { printf '\n==> %s\n' "$*"; }
t0=$(date +%s)

step "Making a demo signing key and certificate (CN=demo)"
test/lib/mkcert.sh "$WORK/certs" demo > /dev/null
echo "    $WORK/certs/demo.crt  (in real use: your signing certificate in /etc/verity.d/)"

step "Building a tiny root file system (busybox) and a signed DPS disk image"
make_root "$WORK/root" demo
make_disk "$WORK/disk.img" "$WORK/root" --sign "$WORK/certs/demo.key" "$WORK/certs/demo.crt"
echo "    $WORK/disk.img: erofs root, dm-verity hash partition, signature partition"

step "What 'verity-root inspect' says about it (every data block checked)"
build/verity-root inspect "$WORK/disk.img" --certs "$WORK/certs" | sed 's/^/    /'

step "Building an initrd: dracut --add verity-root, demo certificate baked in (~10 s)"
CERTDIR=$WORK/certs build_initrd "$WORK/initrd.img" systemd
echo "    $WORK/initrd.img ($(du -m "$WORK/initrd.img" | cut -f1) MB, uncompressed)"

step "Booting it in QEMU (software emulation, ~20 s); kernel command line has no root= and no roothash="
log=$(run_qemu demo "$WORK/initrd.img" "" "$WORK/disk.img")
echo "    console log: $log"

step "What happened"
line() { grep -a -m1 -E "$1" "$log" | sed -E 's/^\[ *[0-9.]+\] //; s/^[a-z-]+\[[0-9]+\]: //'; }
verified=$(line 'verity-root: root verified')
status=$(line 'verity-root: /dev/mapper/root: dm-verity status')
init=$(grep -a -m1 'VERITY-ROOT-TEST: init reached' "$log" || true)
if [ -z "$verified" ] || [ -z "$init" ]; then
    echo "    The demo root did not boot. Last console lines:"
    tail -n 30 "$log" | sed 's/^/    | /'
    exit 1
fi
echo "$verified" | sed -E 's/^verity-root: root verified: /    found:     /; s/, hash /\n    hash:      /; s/, root hash /\n    root hash: /; s/ from a signature partition; signature: valid, signed by /\n    signer:    /; s/; signature: /\n    signature: /'
echo "    kernel:    ${status#verity-root: }"
echo "    switch root: done, the demo root's /sbin/init ran (${init#*init reached, })"
echo
echo "Demo finished in $(($(date +%s) - t0)) s. Files are in $WORK"
