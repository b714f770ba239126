#!/bin/bash
# A signature covers only the root hash: a trusted signer's image that is not a root
# (here: a system extension, and a tree without os-release) typed as root-x86-64 must
# be refused after mounting, before switch-root; in the systemd and the shell initrd.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_trusted_cert 26 a "verity-root-test-A"
make_root "$WORK/root-26-sysext" sysext-26
mkdir -p "$WORK/root-26-sysext/usr/lib/extension-release.d"
echo "ID=_any" > "$WORK/root-26-sysext/usr/lib/extension-release.d/extension-release.tools"
make_disk "$WORK/disk-26-sysext.img" "$WORK/root-26-sysext" --sign "$WORK/keys-26/a.key" "$WORK/keys-26/a.crt"
CERTDIR=$WORK/certs-26 build_initrd "$WORK/initrd-26.img" systemd
log=$(run_qemu 26-retyped-sysext "$WORK/initrd-26.img" "" "$WORK/disk-26-sysext.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot: /sysroot/usr/lib/extension-release.d/extension-release.tools exists'

# systemd's switch-root refuses a tree without os-release by itself; dracut's shell
# initrd does not: the module's pre-pivot hook must.
make_root "$WORK/root-26-noos" noos-26
rm "$WORK/root-26-noos/etc/os-release" "$WORK/root-26-noos/usr/lib/os-release"
make_disk "$WORK/disk-26-noos.img" "$WORK/root-26-noos" --sign "$WORK/keys-26/a.key" "$WORK/keys-26/a.crt"
CERTDIR=$WORK/certs-26 build_initrd "$WORK/initrd-26-shell.img" shell
log=$(run_qemu 26-retyped-noos "$WORK/initrd-26-shell.img" "" "$WORK/disk-26-noos.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot: /sysroot has no etc/os-release or usr/lib/os-release'
