#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Offline signing against systemd-repart --join-signature= (systemd >= 258), which Debian 12
# does not have: repart runs chrooted in ROOT, a Debian trixie/sid tree with systemd-repart
# installed; verity-root, openssl and mkfs.erofs run on the host. Not part of make check
# (it needs such a tree). One way to get one without touching a shared tree:
#   mount -t overlay overlay -o lowerdir=/var/tmp/dracut-verity-stacks/sid-DATE,upperdir=U,workdir=W M
#   mount -t proc proc M/proc; chroot M apt-get install -y --no-install-recommends systemd-repart
# Usage: test/mkimage/repart-interop.sh ROOT     Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
top=$PWD
VR=${VR:-$top/build/verity-root}
ROOT=${1:?usage: $0 ROOT (a tree with systemd-repart >= 258)}
ROOT=$(realpath "$ROOT")
chroot "$ROOT" systemd-repart --help 2>/dev/null | grep -q -- --join-signature= ||
    { echo "$ROOT has no systemd-repart with --join-signature= (systemd >= 258)" >&2; exit 2; }
W=$(mktemp -d "$ROOT/tmp/vr-repart.XXXXXX")
IN=${W#"$ROOT"} # the same directory as the chroot sees it
trap 'rm -rf "$W"' EXIT

passed=0 failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
t() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -n 4)"; fi
}
repart() { chroot "$ROOT" systemd-repart --definitions="$IN/defs" --offline=yes --seed=0b6f1c35-3a1e-4a43-9a69-5f4b2fd1d2a4 "$@"; }
smime_sign() { openssl smime -sign -binary -noattr -outform DER -in "$1" -signer "$W/c/alpha.crt" -inkey "$W/c/alpha.key" -out "$2"; }
# sigpart IMAGE OUT: the verity-sig partition's bytes (offsets from sfdisk).
sigpart() {
    local p
    p=$(sfdisk -J "$1" | jq -c '.partitiontable.partitions[] | select(.type == "41092B05-9FC8-4523-994F-2DEF0408B176")')
    dd if="$1" of="$2" bs=512 skip="$(echo "$p" | jq .start)" count="$(echo "$p" | jq .size)" status=none
}
signed_by_alpha() { "$VR" inspect --certs "$W/c" "$1" | grep -q 'valid, signed by CN=alpha'; }

test/lib/mkcert.sh "$W/c" alpha > /dev/null
mkdir -p "$W/tree/etc" "$W/defs"
echo interop > "$W/tree/etc/hostname"
mkfs.erofs --quiet -T0 "$W/fs.erofs" "$W/tree"
printf '[Partition]\nType=root\nCopyBlocks=%s/fs.erofs\nVerity=data\nVerityMatchKey=root\n' "$IN" > "$W/defs/10-root.conf"
printf '[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\n' > "$W/defs/20-root-verity.conf"
printf '[Partition]\nType=root-verity-sig\nVerity=signature\nVerityMatchKey=root\n' > "$W/defs/30-root-verity-sig.conf"

# 1. repart's own offline flow (its man page, example 3); our tools read and repeat it.
repart --defer-partitions=root-verity-sig --empty=create --size=auto --json=short "$IN/r.raw" > "$W/r.json" 2> "$W/r.err" ||
    fail "repart --defer-partitions=root-verity-sig" "$(tail -n 3 "$W/r.err")"
h=$(jq -r '.[0].roothash' "$W/r.json")
printf %s "$h" > "$W/r.roothash"
smime_sign "$W/r.roothash" "$W/r.p7s"
cp "$W/r.raw" "$W/r-deferred.raw"
t "repart --join-signature= takes the openssl smime signature" \
    repart --dry-run=no --join-signature="$h:$IN/r.p7s" --certificate="$IN/c/alpha.crt" "$IN/r.raw"
t "verity-root inspect verifies repart's joined signature" signed_by_alpha "$W/r.raw"
# Our join into the same image, its signature partition emptied, gives repart's bytes.
cp "$W/r.raw" "$W/r-ours.raw"
sigpart "$W/r.raw" "$W/r.sig"
p=$(sfdisk -J "$W/r.raw" | jq -c '.partitiontable.partitions[] | select(.type == "41092B05-9FC8-4523-994F-2DEF0408B176")')
dd if=/dev/zero of="$W/r-ours.raw" bs=512 seek="$(echo "$p" | jq .start)" count="$(echo "$p" | jq .size)" conv=notrunc status=none
t "verity-root join-signature takes the same HASH:SIG" \
    "$VR" join-signature "$W/r-ours.raw" --signature="$h:$W/r.p7s" --cert "$W/c/alpha.crt"
t "verity-root join-signature writes repart's bytes exactly" cmp "$W/r-ours.raw" "$W/r.raw"

# 2. Our offline flow; repart joins our hash and signature file into our image.
"$VR" mkimage --root "$W/tree" --out "$W/o-deferred.img" --defer-signature --roothash-file "$W/o.roothash" > /dev/null 2>&1 &&
    "$VR" mkimage --root "$W/tree" --out "$W/o-signed.img" --key "$W/c/alpha.key" --cert "$W/c/alpha.crt" > /dev/null 2>&1 ||
    fail "verity-root mkimage" "failed"
smime_sign "$W/o.roothash" "$W/o.p7s"
# repart fills only a signature partition it creates, never an existing one, so it gets
# our image with that partition taken out of the GPT (what --defer-partitions leaves).
cp "$W/o-deferred.img" "$W/o-repart.img"
sfdisk -q --delete "$W/o-repart.img" 3
t "repart --join-signature= takes our root hash file and signature" \
    repart --dry-run=no --join-signature="$(cat "$W/o.roothash"):$IN/o.p7s" --certificate="$IN/c/alpha.crt" "$IN/o-repart.img"
sigpart "$W/o-repart.img" "$W/o-repart.sig"
sigpart "$W/o-signed.img" "$W/o-signed.sig"
t "repart's signature partition on our image equals our one-step one" cmp "$W/o-repart.sig" "$W/o-signed.sig"
t "verity-root inspect verifies it" signed_by_alpha "$W/o-repart.img"
# The known limit, checked so that it is noticed when it changes.
cp "$W/o-deferred.img" "$W/o-exists.img"
repart --dry-run=no --join-signature="$(cat "$W/o.roothash"):$IN/o.p7s" --certificate="$IN/c/alpha.crt" "$IN/o-exists.img" > /dev/null 2>&1
sigpart "$W/o-exists.img" "$W/o-exists.sig"
t "repart leaves an existing empty verity-sig partition empty (known limit)" bash -c "! tr -d '\\0' < '$W/o-exists.sig' | grep -q ."

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
