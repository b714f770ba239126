#!/bin/bash
# No QEMU: the images mkdisk.sh writes are what the boot cases claim they are
# (checked with veritysetup verify, sfdisk and openssl on extracted partitions).
set -eu
. "$(dirname "$0")/../lib.sh"

t=$WORK/00a
mkdir -p "$t"
make_root "$t/root" selftest

# part IMAGE N OUT: copy partition N of IMAGE into OUT.
part() {
	local start size
	read -r start size < <(sfdisk -d "$1" | sed -n "s/^[^:]*$2 : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p")
	[ -n "$start" ] || { fail "$1 has no partition $2"; return 1; }
	dd if="$1" of="$3" bs=512 skip="$start" count="$size" status=none
}

attr_of() { sfdisk -d "$1" | sed -n "/^[^:]*$2 :/{s/.*attrs=\"\([^\"]*\)\".*/\1/p}"; }

verify() {
	veritysetup verify "$@" >/dev/null 2>&1
}

for fs in erofs ext4 squashfs; do
	make_disk "$t/$fs.img" "$t/root" --fs "$fs"
	part "$t/$fs.img" 1 "$t/data"
	part "$t/$fs.img" 2 "$t/hash"
	verify "$t/data" "$t/hash" "$ROOTHASH" || fail "$fs split: veritysetup verify failed"
	[ "${ROOTHASH:0:8}-${ROOTHASH:8:4}" = "${DATA_UUID:0:13}" ] || fail "$fs: data PARTUUID $DATA_UUID not from $ROOTHASH"
	[ "${ROOTHASH:32:8}" = "${HASH_UUID:0:8}" ] || fail "$fs: verity PARTUUID $HASH_UUID not from $ROOTHASH"
	[ "$(attr_of "$t/$fs.img" 2)" = GUID:60 ] || fail "$fs: verity partition lacks the read-only attribute"
	blkid -p -o value -s TYPE "$t/data" | grep -qx "$fs" || fail "$fs: data partition is not $fs"
done

make_disk "$t/app.img" "$t/root" --layout appended
part "$t/app.img" 1 "$t/data"
[ -z "$HASH_UUID" ] || fail "appended: HASH_UUID set"
[ "$(sfdisk -d "$t/app.img" | grep -c 'start=')" = 1 ] || fail "appended: more than one partition"
verify "$t/data" "$t/data" "$ROOTHASH" --hash-offset="$HASH_OFFSET" || fail "appended: veritysetup verify failed"

make_disk "$t/bad.img" "$t/root" --corrupt-data-block 0
part "$t/bad.img" 1 "$t/data"
part "$t/bad.img" 2 "$t/hash"
! verify "$t/data" "$t/hash" "$ROOTHASH" || fail "--corrupt-data-block 0: image still verifies"

wrong=$(printf '%064d' 7)
make_disk "$t/wrong.img" "$t/root" --uuids-from-hash "$wrong"
[ "$DATA_UUID" = 00000000-0000-0000-0000-000000000000 ] && [ "$HASH_UUID" = 00000000-0000-0000-0000-000000000007 ] \
	|| fail "--uuids-from-hash: got $DATA_UUID $HASH_UUID"

make_disk "$t/omit.img" "$t/root" --omit-verity
[ "$(sfdisk -d "$t/omit.img" | grep -c 'start=')" = 1 ] || fail "--omit-verity: verity partition present"

make_cert "$t/keys" a "verity-root-test-A"
make_disk "$t/usr.img" "$t/root/usr" --usr --label usr-x86-64_3 --sign "$t/keys/a.key" "$t/keys/a.crt"
sfdisk -d "$t/usr.img" | grep -qi 'type=8484680C.*name="usr-x86-64_3"' || fail "--usr --label: no usr partition named usr-x86-64_3"
sfdisk -d "$t/usr.img" | grep -qi 'type=E7BB33FB.*uuid='"$SIG_UUID" || fail "--sign: no usr-verity-sig partition $SIG_UUID"
part "$t/usr.img" 3 "$t/sig"
[ $(( $(stat -c %s "$t/sig") % 4096 )) = 0 ] || fail "signature partition not a multiple of 4096"
tr -d '\0' < "$t/sig" > "$t/sig.json"
json_field() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" "$t/sig.json"; }
printf '%s' "$(json_field rootHash)" > "$t/sig.hash"
json_field certificateFingerprint > "$t/sig.fpr"
json_field signature | base64 -d > "$t/sig.der" || fail "signature is not base64"
[ "$(cat "$t/sig.hash")" = "$ROOTHASH" ] || fail "signature JSON rootHash is not $ROOTHASH"
[ "$(cat "$t/sig.fpr")" = "$(openssl x509 -in "$t/keys/a.crt" -outform DER | sha256sum | cut -d' ' -f1)" ] \
	|| fail "certificateFingerprint is not the SHA-256 of the DER certificate"
openssl smime -verify -binary -inform DER -in "$t/sig.der" -content "$t/sig.hash" \
	-CAfile "$t/keys/a.crt" -purpose any -out /dev/null 2>/dev/null || fail "PKCS#7 does not verify over the root hash"
# Detached: the signedData carries no content of its own.
openssl cms -cmsout -print -inform DER -in "$t/sig.der" 2>/dev/null | grep -q 'eContent: <ABSENT>' \
	|| fail "PKCS#7 signature is not detached"
rm -rf "$t"
