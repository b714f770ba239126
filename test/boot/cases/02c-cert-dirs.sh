#!/bin/bash
# The initrd trusts what the build host's verity.d directories hold, with systemd's
# conf-files rules (here a tree read as the host's: verityroot_certroot=): /etc, /run,
# /usr/local/lib, /usr/lib, the first directory's file of a name masking the later ones,
# an empty file or a /dev/null symlink masking without trusting, /run's entries kept in
# the initrd's /etc. Then boots: a root signed by a certificate found only in
# usr/lib/verity.d boots naming that file; one signed by a masked certificate is refused.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

make_cert "$WORK/keys-02c" a "verity-root-test-A"
make_cert "$WORK/keys-02c" b "verity-root-test-B"
make_cert "$WORK/keys-02c" c "verity-root-test-C"
t=$WORK/certroot-02c
rm -rf "$t"
mkdir -p "$t/etc/verity.d" "$t/run/verity.d" "$t/usr/local/lib/verity.d" "$t/usr/lib/verity.d"
cp "$WORK/keys-02c/a.crt" "$t/usr/lib/verity.d/a.crt"
cp "$WORK/keys-02c/b.crt" "$t/usr/lib/verity.d/b.crt"
: > "$t/etc/verity.d/b.crt"                                  # masks b
cp "$WORK/keys-02c/c.crt" "$t/run/verity.d/c.crt"
cp "$WORK/keys-02c/a.crt" "$t/usr/local/lib/verity.d/d.crt"
ln -s /dev/null "$t/etc/verity.d/d.crt"                     # masks d
cp "$WORK/keys-02c/b.crt" "$t/usr/local/lib/verity.d/b.pem"  # not *.crt: ignored

CERTROOT=$t build_initrd "$WORK/initrd-02c.img" systemd
# The stack's own lsinitrd: dracut-ng writes archives an older one lists only in part.
listing=$(in_stack lsinitrd "$WORK/initrd-02c.img" 2>/dev/null | grep -E 'verity\.d/' | awk '{print $5, $NF}') || :
has() { echo "$listing" | grep -qE "^$1 $2\$" || fail "initrd: expected $2 of size $1, initrd has: $(echo "$listing" | tr '\n' ';')"; }
hasnt() { ! echo "$listing" | grep -qE " $1\$" || fail "initrd: $1 must not be there"; }
has '[1-9][0-9]*' 'usr/lib/verity.d/a.crt'
has 0 'etc/verity.d/b.crt'
hasnt 'usr/lib/verity.d/b.crt'
has '[1-9][0-9]*' 'etc/verity.d/c.crt'
hasnt 'run/verity.d/c.crt'
has 0 'etc/verity.d/d.crt'
hasnt 'usr/local/lib/verity.d/d.crt'
hasnt 'usr/local/lib/verity.d/b.pem'

make_root "$WORK/root-02c" certdirs-02c
make_disk "$WORK/disk-02c-a.img" "$WORK/root-02c" --sign "$WORK/keys-02c/a.key" "$WORK/keys-02c/a.crt"
log=$(run_qemu 02c-cert-dirs "$WORK/initrd-02c.img" "" "$WORK/disk-02c-a.img")
expect_booted "$log"
expect_id "$log" certdirs-02c
expect_console "$log" 'verity-root: root verified: .*signed by CN ?= ?verity-root-test-A \(/usr/lib/verity.d/a.crt\)'

make_disk "$WORK/disk-02c-b.img" "$WORK/root-02c" --sign "$WORK/keys-02c/b.key" "$WORK/keys-02c/b.crt"
log=$(run_qemu 02c-cert-dirs-masked "$WORK/initrd-02c.img" "" "$WORK/disk-02c-b.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot the root file system: .*signed by certificate with fingerprint [0-9a-f]{64} which is not in /etc/verity.d, /run/verity.d, /usr/local/lib/verity.d, /usr/lib/verity.d'
