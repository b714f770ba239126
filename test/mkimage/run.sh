#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `verity-root mkimage` and `verity-root cmdline` on images built here, checked by our
# own inspect and by independent tools: sfdisk, veritysetup verify/dump, openssl, jq,
# systemd-dissect when installed (it needs loop devices: root only), and a SoftHSM2 token
# through OpenSSL's pkcs11 engine when both are installed. systemd-repart's
# --join-signature= (systemd >= 258) is checked by repart-interop.sh, outside make check.
# Usage: test/mkimage/run.sh     Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
top=$PWD
VR=${VR:-$top/build/verity-root}
W=$(mktemp -d "${TMPDIR:-/tmp}/vr-mkimage.XXXXXX")
trap 'rm -rf "$W"' EXIT

passed=0 failed=0

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# t NAME COMMAND...: passes when the command exits 0 (its output is shown on failure).
t() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -n 4)"; fi
}

# expect_fail NAME REGEX COMMAND...: the command must fail and say REGEX.
expect_fail() {
    local name=$1 re=$2 out
    shift 2
    if out=$("$@" 2>&1); then
        fail "$name" "succeeded, expected failure"
    elif ! echo "$out" | grep -Eq -- "$re"; then
        fail "$name" "output does not match /$re/: $(echo "$out" | tail -n 2)"
    else
        pass "$name"
    fi
}

# --- fixtures -----------------------------------------------------------------
mkdir -p "$W/root/etc" "$W/root/usr/lib" "$W/root/sbin" "$W/empty"
echo verity-test > "$W/root/etc/hostname"
printf 'ID=vrtest\nNAME="verity test"\n' > "$W/root/usr/lib/os-release"
printf '#!/bin/sh\necho hello\n' > "$W/root/sbin/init"
chmod 755 "$W/root/sbin/init"
head -c 1500000 /dev/urandom > "$W/root/blob"
test/lib/mkcert.sh "$W/certs" alpha > /dev/null
test/lib/mkcert.sh "$W/other" beta > /dev/null
test/lib/mkcert.sh "$W/ec" gamma ec256 > /dev/null
KEY=(--key "$W/certs/alpha.key" --cert "$W/certs/alpha.crt")

# mk NAME ARGS...: builds $W/NAME.img; its summary in $W/NAME.out.
mk() {
    local name=$1
    shift
    "$VR" mkimage --root "$W/root" --out "$W/$name.img" "$@" > "$W/$name.out" 2> "$W/$name.err"
}
roothash_of() { sed -n 's/^  [a-z]* hash: *\([0-9a-f]*\) .*/\1/p' "$W/$1.out"; }
offset_of() { sed -n 's/.*appended to the data partition at byte \([0-9]*\).*/\1/p' "$W/$1.out"; }
# part IMAGE N OUT: copies partition N out with dd (offsets from sfdisk, not our code).
part() {
    local start size
    start=$(sfdisk -J "$1" | jq -r ".partitiontable.partitions[$(($2 - 1))].start")
    size=$(sfdisk -J "$1" | jq -r ".partitiontable.partitions[$(($2 - 1))].size")
    dd if="$1" of="$3" bs=512 skip="$start" count="$size" status=none
}
pfield() { sfdisk -J "$1" | jq -r ".partitiontable.partitions[$(($2 - 1))].$3 // empty"; }
uuid_of_hex() { echo "${1:0:8}-${1:8:4}-${1:12:4}-${1:16:4}-${1:20:12}"; }

# The GPT as systemd-repart lays it out: DPS types, derived PARTUUIDs, names, bit 60.
check_gpt() { # NAME IMAGE ROOTHASH LAYOUT SIGNED [PREFIX ARCH]
    local img=$2 h=$3 layout=$4 signed=$5 pre=${6:-root} arch=${7:-x86-64} n=1 types
    types=$(sfdisk -J "$img" | jq -r '[.partitiontable.partitions[].type] | join(" ")' | tr A-Z a-z)
    local want_types
    case $pre-$arch in
        root-x86-64) want_types=(4f68bce3-e8cd-4db1-96e7-fbcaf984b709 2c7357ed-ebd2-46d9-aec1-23d437ec2bf5 41092b05-9fc8-4523-994f-2def0408b176) ;;
        usr-x86-64) want_types=(8484680c-9521-48c6-9c11-b0720656f69e 77ff5f63-e7b6-4633-acf4-1565b864c0e6 e7bb33fb-06cf-4e81-8273-e543b413e2e2) ;;
        root-arm64) want_types=(b921b045-1df0-41c3-af44-4c6f280d3fae df3300ce-d69f-4c92-978c-9bfb0f38d820 6db69de6-29f4-4758-a7a5-962190f00ce3) ;;
    esac
    local want="${want_types[0]}" names="$pre-$arch"
    if [ "$layout" = split ]; then want+=" ${want_types[1]}"; names+=" $pre-$arch-verity"; fi
    if [ "$signed" = 1 ]; then want+=" ${want_types[2]}"; names+=" $pre-$arch-verity-sig"; fi
    [ "$types" = "$want" ] || { echo "types: $types, expected $want"; return 1; }
    [ "$(sfdisk -J "$img" | jq -r '[.partitiontable.partitions[].name] | join(" ")')" = "$names" ] ||
        { echo "names: $(sfdisk -J "$img" | jq -r '[.partitiontable.partitions[].name] | join(" ")'), expected $names"; return 1; }
    [ "$(pfield "$img" 1 uuid | tr A-Z a-z)" = "$(uuid_of_hex "${h:0:32}")" ] || { echo "data PARTUUID not from the root hash"; return 1; }
    if [ "$layout" = split ]; then
        [ "$(pfield "$img" 2 uuid | tr A-Z a-z)" = "$(uuid_of_hex "${h:32:32}")" ] || { echo "verity PARTUUID not from the root hash"; return 1; }
        n=2
    fi
    for i in $(seq 1 "$n"); do
        [ "$(pfield "$img" "$i" attrs)" = "GUID:60" ] || { echo "partition $i attrs: $(pfield "$img" "$i" attrs)"; return 1; }
    done
}

# veritysetup (cryptsetup's userspace verifier) on the extracted partitions.
check_veritysetup() { # IMAGE ROOTHASH LAYOUT OFFSET
    part "$1" 1 "$W/p1"
    if [ "$3" = split ]; then
        part "$1" 2 "$W/p2"
        veritysetup verify "$W/p1" "$W/p2" "$2"
    else
        veritysetup verify --hash-offset="$4" "$W/p1" "$W/p1" "$2"
    fi
}

# The signature partition, byte for byte the format systemd-repart writes.
check_sig() { # IMAGE PARTNO ROOTHASH CERT
    local j="$W/sig.json" size
    part "$1" "$2" "$W/sig.part"
    size=$(stat -c %s "$W/sig.part")
    [ $((size % 4096)) -eq 0 ] || { echo "size $size"; return 1; }
    tr -d '\0' < "$W/sig.part" > "$j"
    [ "$(tr -d '\0' < "$W/sig.part" | wc -c)" -eq "$(head -c "$(wc -c < "$j")" "$W/sig.part" | wc -c)" ] || return 1
    [ "$(jq -r 'keys | join(",")' "$j")" = "certificateFingerprint,rootHash,signature" ] || { echo "keys: $(jq -c keys "$j")"; return 1; }
    [ "$(jq -r .rootHash "$j")" = "$3" ] || { echo "rootHash"; return 1; }
    [ "$(jq -r .certificateFingerprint "$j")" = "$(openssl x509 -in "$4" -outform DER | sha256sum | cut -d' ' -f1)" ] ||
        { echo "fingerprint"; return 1; }
    jq -r .signature "$j" | base64 -d > "$W/sig.der" || return 1
    printf %s "$3" > "$W/content"
    openssl smime -verify -binary -inform DER -in "$W/sig.der" -content "$W/content" -certfile "$4" -nointern \
        -noverify -out /dev/null 2>&1 | grep -q "Verification successful" || { echo "openssl smime -verify failed"; return 1; }
    # PKCS7_NOATTR: no signed attributes (no signing time), like systemd-repart.
    ! openssl cms -cmsout -print -inform DER -in "$W/sig.der" | grep -q signingTime || { echo "has signingTime"; return 1; }
}

check_dissect() { # IMAGE SIGNED
    local out
    out=$(systemd-dissect --json=short "$1") || { echo "$out"; return 1; }
    if [ "$2" = 1 ]; then
        echo "$out" | jq -e '.mounts[] | select(.designator == "root") | .verity == "signed"' > /dev/null
    else
        echo "$out" | jq -e '[.mounts[] | select(.designator == "root")] | length == 1' > /dev/null
    fi
    echo "$out" | jq -e '.osRelease | index("ID=vrtest") != null' > /dev/null || { echo "$out"; return 1; }
}

# cmdline output, field by field against the superblock as veritysetup dump reads it.
check_dm_mod_create() { # IMAGE LAYOUT ROOTHASH OFFSET CMDLINE-ARGS...
    local img=$1 layout=$2 h=$3 off=$4 line dump
    shift 4
    line=$("$VR" cmdline --dm-mod-create "$@" "$img") || return 1
    # dm-mod.create="vroot,,,ro,0 SECTORS verity V DATA HASH DBS HBS BLOCKS START ALG DIGEST SALT" root=/dev/dm-0
    [[ $line =~ ^dm-mod\.create=\"vroot,,,ro,0\ ([^\"]*)\"\ root=/dev/dm-0$ ]] || { echo "shape: $line"; return 1; }
    read -r sectors target version data hash dbs hbs blocks start alg digest salt extra <<< "${BASH_REMATCH[1]}"
    part "$img" 1 "$W/p1"
    if [ "$layout" = split ]; then
        part "$img" 2 "$W/p2"
        dump=$(veritysetup dump "$W/p2") || return 1
    else
        dump=$(veritysetup dump --hash-offset="$off" "$W/p1") || return 1
    fi
    f() { echo "$dump" | sed -n "s/^$1:[[:space:]]*//p"; }
    local want_hash_uuid want_start
    if [ "$layout" = split ]; then
        want_hash_uuid=$(pfield "$img" 2 uuid | tr A-Z a-z)
        want_start=1
    else
        want_hash_uuid=$(pfield "$img" 1 uuid | tr A-Z a-z)
        want_start=$((off / 4096 + 1))
    fi
    [ "$target" = verity ] && [ -z "$extra" ] || { echo "target/extra: $target $extra"; return 1; }
    [ "$version" = "$(f 'Hash type')" ] || { echo "version $version"; return 1; }
    [ "$data" = "PARTUUID=$(pfield "$img" 1 uuid | tr A-Z a-z)" ] || { echo "data $data"; return 1; }
    [ "$hash" = "PARTUUID=$want_hash_uuid" ] || { echo "hash $hash"; return 1; }
    [ "$dbs" = "$(f 'Data block size')" ] || { echo "data_bs $dbs"; return 1; }
    [ "$hbs" = "$(f 'Hash block size')" ] || { echo "hash_bs $hbs"; return 1; }
    [ "$blocks" = "$(f 'Data blocks')" ] || { echo "data blocks $blocks vs $(f 'Data blocks')"; return 1; }
    [ "$sectors" = $((blocks * dbs / 512)) ] || { echo "sectors $sectors"; return 1; }
    [ "$start" = "$want_start" ] || { echo "hash start $start, expected $want_start"; return 1; }
    [ "$alg" = "$(f 'Hash algorithm')" ] || { echo "alg $alg"; return 1; }
    [ "$digest" = "$h" ] || { echo "digest $digest"; return 1; }
    [ "$salt" = "$(f 'Salt')" ] || { echo "salt $salt vs $(f Salt)"; return 1; }
    # The kernel's view: the same numbers make veritysetup verify succeed without a superblock.
    if [ "$layout" = split ]; then
        veritysetup verify --no-superblock --format="$version" --data-block-size="$dbs" --hash-block-size="$hbs" \
            --data-blocks="$blocks" --hash-offset=$((start * hbs)) --hash="$alg" --salt="$salt" "$W/p1" "$W/p2" "$digest"
    else
        veritysetup verify --no-superblock --format="$version" --data-block-size="$dbs" --hash-block-size="$hbs" \
            --data-blocks="$blocks" --hash-offset=$((start * hbs)) --hash="$alg" --salt="$salt" "$W/p1" "$W/p1" "$digest"
    fi
}

check_fragment() { # IMAGE LAYOUT ROOTHASH OFFSET CMDLINE-ARGS...
    local img=$1 layout=$2 h=$3 off=$4 line d
    shift 4
    line=$("$VR" cmdline "$@" "$img") || return 1
    if [ "$layout" = split ]; then
        [ "$line" = "roothash=$h" ] || { echo "got: $line"; return 1; }
    else
        d=$(pfield "$img" 1 uuid | tr A-Z a-z)
        [ "$line" = "roothash=$h systemd.verity_root_data=/dev/disk/by-partuuid/$d systemd.verity_root_hash=/dev/disk/by-partuuid/$d systemd.verity_root_options=hash-offset=$off" ] ||
            { echo "got: $line"; return 1; }
        [ "$off" = "$(veritysetup dump --hash-offset="$off" "$W/p1" > /dev/null && echo "$off")" ] || return 1
    fi
}

# --- every file system, both layouts, signed and unsigned -----------------------
fss="erofs ext4"
if command -v mksquashfs > /dev/null; then fss+=" squashfs"; else echo "NOTE: mksquashfs not installed, squashfs skipped"; fi
have_dissect=0
if command -v systemd-dissect > /dev/null; then have_dissect=1; else echo "NOTE: systemd-dissect not installed, its cross-check skipped"; fi

for fs in $fss; do
    for layout in split appended; do
        for signed in 0 1; do
            name=$fs-$layout-$([ $signed = 1 ] && echo signed || echo unsigned)
            args=(--fs "$fs" --layout "$layout")
            [ $signed = 1 ] && args+=("${KEY[@]}")
            if ! mk "$name" "${args[@]}"; then
                fail "$name mkimage" "$(tail -n 3 "$W/$name.err")"
                continue
            fi
            pass "$name mkimage"
            img=$W/$name.img h=$(roothash_of "$name") off=$(offset_of "$name")
            if [ $signed = 1 ]; then
                t "$name inspect (signed by CN=alpha)" bash -c "'$VR' inspect --certs '$W/certs' '$img' | grep -q 'valid, signed by CN=alpha'"
                t "$name signature partition" check_sig "$img" "$([ $layout = split ] && echo 3 || echo 2)" "$h" "$W/certs/alpha.crt"
                expect_fail "$name untrusted signer refused" "would NOT boot" "$VR" inspect --certs "$W/other" "$img"
                cargs=(--certs "$W/certs")
            else
                t "$name inspect --roothash" bash -c "'$VR' inspect --certs '$W/empty' --roothash '$h' '$img' | grep -q 'root: would boot'"
                expect_fail "$name cmdline refuses without a trusted hash" "refusing to print a command line: .* would not boot" \
                    "$VR" cmdline --certs "$W/empty" "$img"
                cargs=(--certs "$W/empty" --roothash "$h")
            fi
            t "$name GPT" check_gpt "$name" "$img" "$h" "$layout" "$signed"
            t "$name veritysetup verify" check_veritysetup "$img" "$h" "$layout" "$off"
            t "$name cmdline fragment" check_fragment "$img" "$layout" "$h" "$off" "${cargs[@]}"
            t "$name cmdline --dm-mod-create" check_dm_mod_create "$img" "$layout" "$h" "$off" "${cargs[@]}"
            if [ $have_dissect = 1 ] && [ $layout = split ]; then
                t "$name systemd-dissect" check_dissect "$img" "$signed"
            fi
        done
    done
done
if [ $have_dissect = 1 ]; then
    # systemd (up to at least 258) knows no appended layout in DPS images: documented limit.
    expect_fail "systemd-dissect refuses the signed appended layout (known limit)" "No root partition" \
        systemd-dissect --json=short "$W/erofs-appended-signed.img"
fi

# --- tampering ------------------------------------------------------------------
for layout in split appended; do
    name=erofs-$layout-signed
    cp "$W/$name.img" "$W/tampered.img"
    start=$(pfield "$W/tampered.img" 1 start)
    # One byte in the middle of the random blob, inside the file system.
    pos=$((start * 512 + 1024 * 1024))
    orig=$(dd if="$W/tampered.img" bs=1 skip=$pos count=1 status=none | od -An -tu1 | tr -d ' ')
    printf "$(printf '\\%03o' $(((orig + 1) % 256)))" | dd of="$W/tampered.img" bs=1 seek=$pos conv=notrunc status=none
    expect_fail "tampered data byte ($layout) fails inspect" "would NOT boot.*(corrupt|does not match|mismatch)" \
        "$VR" inspect --certs "$W/certs" "$W/tampered.img"
    expect_fail "tampered data byte ($layout) refused by cmdline" "refusing" "$VR" cmdline --certs "$W/certs" "$W/tampered.img"
done
expect_fail "cmdline with a wrong --roothash refuses" "refusing" \
    "$VR" cmdline --certs "$W/empty" --roothash "$(printf '%064d' 1)" "$W/erofs-split-unsigned.img"

# --- reproducibility ------------------------------------------------------------
for fs in $fss; do
    mk repro-$fs-a --fs "$fs" "${KEY[@]}" && mk repro-$fs-b --fs "$fs" "${KEY[@]}" &&
        t "$fs: two signed RSA runs are byte-identical" cmp "$W/repro-$fs-a.img" "$W/repro-$fs-b.img" ||
        fail "$fs reproducibility" "mkimage failed"
done
mk repro-appended-a --layout appended "${KEY[@]}" && mk repro-appended-b --layout appended "${KEY[@]}"
t "appended: two runs are byte-identical" cmp "$W/repro-appended-a.img" "$W/repro-appended-b.img"
mk seed --seed 0b6f1c35-3a1e-4a43-9a69-5f4b2fd1d2a4
expect_fail "another --seed gives another image" "differ" cmp "$W/seed.img" "$W/erofs-split-unsigned.img"
t "another --seed gives another root hash" test "$(roothash_of seed)" != "$(roothash_of erofs-split-unsigned)"
mk ec-a --key "$W/ec/gamma.key" --cert "$W/ec/gamma.crt" && mk ec-b --key "$W/ec/gamma.key" --cert "$W/ec/gamma.crt"
t "ECDSA signed image inspects (signed by CN=gamma)" bash -c "'$VR' inspect --certs '$W/ec' '$W/ec-a.img' | grep -q 'signed by CN=gamma'"
t "ECDSA: same root hash, only the signature differs" test "$(roothash_of ec-a)" = "$(roothash_of ec-b)"

# --- a finished file system image, --usr, --arch ----------------------------------
mkfs.erofs --quiet --all-root -T0 "$W/given.erofs" "$W/root" > /dev/null
if "$VR" mkimage --root "$W/given.erofs" --out "$W/given.img" "${KEY[@]}" > "$W/given.out" 2> "$W/given.err"; then
    pass "mkimage from a finished erofs image"
    t "given image: inspect" bash -c "'$VR' inspect --certs '$W/certs' '$W/given.img' | grep -q 'signed by CN=alpha'"
    part "$W/given.img" 1 "$W/p1"
    t "given image: data partition starts with the image" cmp -n "$(stat -c %s "$W/given.erofs")" "$W/p1" "$W/given.erofs"
else
    fail "mkimage from a finished erofs image" "$(tail -n 3 "$W/given.err")"
fi

if mk usr --usr "${KEY[@]}"; then
    pass "mkimage --usr"
    h=$(roothash_of usr)
    t "--usr GPT" check_gpt usr "$W/usr.img" "$h" split 1 usr
    t "--usr: inspect says usr would boot" bash -c "'$VR' inspect --json --certs '$W/certs' '$W/usr.img' | jq -e '.usr.bootable and .usr.signature_status == \"valid, signed by CN=alpha ($W/certs/alpha.crt)\"'"
    t "--usr: cmdline prints usrhash=" test "$("$VR" cmdline --usr --certs "$W/certs" "$W/usr.img")" = "usrhash=$h"
    expect_fail "--usr with --dm-mod-create is refused" "root device only" \
        "$VR" cmdline --usr --dm-mod-create --certs "$W/certs" "$W/usr.img"
else
    fail "mkimage --usr" "$(tail -n 3 "$W/usr.err")"
fi

if mk arm64 --arch arm64 "${KEY[@]}"; then
    pass "mkimage --arch arm64"
    t "--arch arm64 GPT" check_gpt arm64 "$W/arm64.img" "$(roothash_of arm64)" split 1 root arm64
    t "--arch arm64: inspect --arch arm64" "$VR" inspect --arch arm64 --certs "$W/certs" "$W/arm64.img"
else
    fail "mkimage --arch arm64" "$(tail -n 3 "$W/arm64.err")"
fi

# --- signing offline (join-signature) ------------------------------------------------
# smime signs as PKCS7_sign does (systemd-repart's man page uses it too); the one-step image
# is the reference: the same seed, root and certificate must give the same bytes.
smime_sign() { # HASHFILE KEY CERT OUT [openssl args...]
    local in=$1 key=$2 crt=$3 out=$4
    shift 4
    openssl smime -sign -binary -noattr -outform DER -in "$in" -signer "$crt" -inkey "$key" -out "$out" "$@"
}
sig_is_empty() { part "$1" "$2" "$W/sigpart" && [ "$(stat -c %s "$W/sigpart")" = 16384 ] && ! tr -d '\0' < "$W/sigpart" | grep -q .; }
for layout in split appended; do
    name=deferred-$layout n=$([ $layout = split ] && echo 3 || echo 2)
    if ! mk "$name" --layout "$layout" --defer-signature --roothash-file "$W/$name.hash"; then
        fail "$name mkimage --defer-signature" "$(tail -n 3 "$W/$name.err")"
        continue
    fi
    h=$(roothash_of "$name")
    t "$name: --roothash-file holds the root hash, no newline" test "$(cat "$W/$name.hash")" = "$h" -a "$(stat -c %s "$W/$name.hash")" = 64
    t "$name: summary says the signature is deferred" grep -q "signature deferred" "$W/$name.out"
    t "$name: the verity-sig partition is there, 16 KiB of NUL" sig_is_empty "$W/$name.img" "$n"
    t "$name GPT (as signed)" check_gpt "$name" "$W/$name.img" "$h" "$layout" 1
    expect_fail "$name: inspect says no signature joined yet" "no signature joined yet" "$VR" inspect --certs "$W/certs" "$W/$name.img"
    smime_sign "$W/$name.hash" "$W/certs/alpha.key" "$W/certs/alpha.crt" "$W/$name.p7s"
    cp "$W/$name.img" "$W/$name.unsigned.img"
    t "$name: join-signature" "$VR" join-signature "$W/$name.img" --signature "$h:$W/$name.p7s" --cert "$W/certs/alpha.crt"
    t "$name: joined image is byte-identical to signing at once" cmp "$W/$name.img" "$W/erofs-$layout-signed.img"
    t "$name: joined image inspects (signed by CN=alpha)" bash -c "'$VR' inspect --certs '$W/certs' '$W/$name.img' | grep -q 'valid, signed by CN=alpha'"
done

D=$W/deferred-split
h=$(roothash_of deferred-split)
cp "$D.unsigned.img" "$W/j.img"
t "join: base64: form gives the same image" bash -c "'$VR' join-signature '$W/j.img' --signature '$h:base64:$(base64 -w0 "$D.p7s")' --cert '$W/certs/alpha.crt' && cmp '$W/j.img' '$W/erofs-split-signed.img'"
expect_fail "join: a filled partition is refused" "already holds a signature; --force replaces it" \
    "$VR" join-signature "$W/j.img" --signature "$h:$D.p7s" --cert "$W/certs/alpha.crt"
t "join --force replaces it" "$VR" join-signature "$W/j.img" --signature "$h:$D.p7s" --cert "$W/certs/alpha.crt" --force
t "join --force: still byte-identical" cmp "$W/j.img" "$W/erofs-split-signed.img"

# Each refusal leaves the image as it was.
refused() { # NAME REGEX JOIN-ARGS...
    local name=$1 re=$2
    shift 2
    cp "$D.unsigned.img" "$W/r.img"
    expect_fail "join refuses $name" "$re" "$VR" join-signature "$W/r.img" "$@"
    t "join refuses $name: image unchanged" cmp "$W/r.img" "$D.unsigned.img"
}
refused "another certificate" "does not verify with trusted certificate $W/other/beta.crt \(CN=beta\)" \
    --signature "$h:$D.p7s" --cert "$W/other/beta.crt"
printf %s "$(roothash_of seed)" > "$W/seed.hash"
smime_sign "$W/seed.hash" "$W/certs/alpha.key" "$W/certs/alpha.crt" "$W/seed.p7s"
refused "a signature of another hash" "signature file $W/seed.p7s: signature of root hash $h does not verify" \
    --signature "$h:$W/seed.p7s" --cert "$W/certs/alpha.crt"
refused "another image's hash" "the root hash $(roothash_of seed) in --signature is not this image's" \
    --signature "$(roothash_of seed):$W/seed.p7s" --cert "$W/certs/alpha.crt"
refused "a tampered hash" "root hash 0{63}1 in --signature is not this image's" \
    --signature "$(printf '%064d' 1):$D.p7s" --cert "$W/certs/alpha.crt"
refused "a file that is no PKCS#7" "signature file $W/certs/alpha.crt: signature is not a DER PKCS#7" \
    --signature "$h:$W/certs/alpha.crt" --cert "$W/certs/alpha.crt"
refused "a missing signature file" "signature file $W/nope.p7s: No such file" --signature "$h:$W/nope.p7s" --cert "$W/certs/alpha.crt"
refused "no HASH:" "--signature: expected HASH:SIG" --signature "$D.p7s" --cert "$W/certs/alpha.crt"
refused "a hash that is not hex" "--signature \(the hash before the colon\)" --signature "xyz:$D.p7s" --cert "$W/certs/alpha.crt"
refused "a missing --cert" "--cert is missing" --signature "$h:$D.p7s"
refused "the usr of a root image" "is not this image's" --usr --signature "$h:$D.p7s" --cert "$W/certs/alpha.crt"
expect_fail "join refuses an image without a verity-sig partition" "has no root-verity-sig partition for x86-64" \
    "$VR" join-signature "$W/erofs-split-unsigned.img" --signature "$(roothash_of erofs-split-unsigned):$D.p7s" --cert "$W/certs/alpha.crt"
expect_fail "--defer-signature with --key is refused" "--defer-signature .* takes no --key or --cert" \
    "$VR" mkimage --root "$W/root" --out "$W/x.img" --defer-signature "${KEY[@]}"

# openssl cms encodes the digest algorithm without its NULL parameter: a valid signature
# that is accepted, but not the bytes of a one-step image.
openssl cms -sign -binary -noattr -nosmimecap -outform DER -in "$D.hash" -signer "$W/certs/alpha.crt" \
    -inkey "$W/certs/alpha.key" -out "$W/cms.p7s"
cp "$D.unsigned.img" "$W/cms.img"
t "join: an openssl cms signature is accepted and verifies" bash -c "'$VR' join-signature '$W/cms.img' --signature '$h:$W/cms.p7s' --cert '$W/certs/alpha.crt' > /dev/null && '$VR' inspect --certs '$W/certs' '$W/cms.img' | grep -q 'valid, signed by CN=alpha'"

if mk usr-deferred --usr --defer-signature --roothash-file "$W/usr.hash"; then
    smime_sign "$W/usr.hash" "$W/certs/alpha.key" "$W/certs/alpha.crt" "$W/usr.p7s"
    t "--usr: join-signature --usr is byte-identical to signing at once" bash -c \
        "'$VR' join-signature --usr '$W/usr-deferred.img' --signature '$(cat "$W/usr.hash"):$W/usr.p7s' --cert '$W/certs/alpha.crt' > /dev/null && cmp '$W/usr-deferred.img' '$W/usr.img'"
else
    fail "mkimage --usr --defer-signature" "$(tail -n 3 "$W/usr-deferred.err")"
fi

# --- signing with a key on a PKCS#11 token (SoftHSM2) ------------------------------------
engine=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"/\1/p')/pkcs11.so
softhsm=$(ls /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so 2>/dev/null | head -n 1)
if ! command -v softhsm2-util > /dev/null || [ -z "$softhsm" ] || [ ! -e "$engine" ]; then
    echo "NOTE: softhsm2 or libengine-pkcs11-openssl not installed, PKCS#11 signing skipped"
else
    mkdir -p "$W/hsm/tokens"
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$W/hsm/tokens" > "$W/hsm/softhsm2.conf"
    export SOFTHSM2_CONF=$W/hsm/softhsm2.conf PKCS11_MODULE_PATH=$softhsm
    softhsm2-util --init-token --free --label vr-test --pin 1234 --so-pin 5678 > /dev/null &&
        openssl pkcs8 -topk8 -nocrypt -in "$W/certs/alpha.key" -out "$W/hsm/alpha.p8" &&
        softhsm2-util --import "$W/hsm/alpha.p8" --token vr-test --label alpha --id 01 --pin 1234 > /dev/null ||
        fail "SoftHSM2 token" "cannot create the token or import the key"
    uri="pkcs11:token=vr-test;object=alpha;type=private"
    printf 1234 > "$W/hsm/pin"
    if mk pkcs11 --key "$uri?pin-value=1234" --cert "$W/certs/alpha.crt"; then
        pass "mkimage --key pkcs11: (SoftHSM2)"
        t "PKCS#11: byte-identical to signing with the PEM key" cmp "$W/pkcs11.img" "$W/repro-erofs-a.img"
    else
        fail "mkimage --key pkcs11: (SoftHSM2)" "$(tail -n 3 "$W/pkcs11.err")"
    fi
    mk pkcs11-file --key "$uri?pin-source=file:$W/hsm/pin" --cert "$W/certs/alpha.crt" &&
        t "PKCS#11: pin-source=file: works, same image" cmp "$W/pkcs11-file.img" "$W/repro-erofs-a.img" ||
        fail "mkimage --key pkcs11:...pin-source=file:" "$(tail -n 3 "$W/pkcs11-file.err")"
    expect_fail "PKCS#11: a wrong PIN is refused" "no such private key on any PKCS#11 token" \
        "$VR" mkimage --root "$W/root" --out "$W/x.img" --key "$uri?pin-value=98765" --cert "$W/certs/alpha.crt"
    t "PKCS#11: the PIN is in no message" bash -c "! '$VR' mkimage --root '$W/root' --out '$W/x.img' --key '$uri?pin-value=98765' --cert '$W/certs/alpha.crt' 2>&1 | grep -q 98765"
    expect_fail "PKCS#11: the key of another certificate is refused" "private key $uri does not belong to certificate" \
        "$VR" mkimage --root "$W/root" --out "$W/x.img" --key "$uri?pin-value=1234" --cert "$W/other/beta.crt"
    expect_fail "PKCS#11: without the engine, the message names the package" "install libengine-pkcs11-openssl" \
        env OPENSSL_ENGINES=/nonexistent "$VR" mkimage --root "$W/root" --out "$W/x.img" --key "$uri?pin-value=1234" --cert "$W/certs/alpha.crt"
    # Offline signing on the token with openssl itself, then joined.
    cp "$D.unsigned.img" "$W/hsm.img"
    smime_sign "$D.hash" "$uri;pin-value=1234" "$W/certs/alpha.crt" "$W/hsm.p7s" -engine pkcs11 -keyform engine 2> /dev/null
    t "PKCS#11: openssl smime -engine pkcs11 signature joined is byte-identical" bash -c \
        "'$VR' join-signature '$W/hsm.img' --signature '$h:$W/hsm.p7s' --cert '$W/certs/alpha.crt' > /dev/null && cmp '$W/hsm.img' '$W/erofs-split-signed.img'"
    unset SOFTHSM2_CONF PKCS11_MODULE_PATH
fi

# --- refusals ---------------------------------------------------------------------
expect_fail "--key without --cert" "--key and --cert go together" "$VR" mkimage --root "$W/root" --out "$W/x.img" --key "$W/certs/alpha.key"
expect_fail "key of another certificate" "does not belong to certificate" \
    "$VR" mkimage --root "$W/root" --out "$W/x.img" --key "$W/other/beta.key" --cert "$W/certs/alpha.crt"
expect_fail "unknown --fs" "--fs: expected erofs, ext4 or squashfs" "$VR" mkimage --root "$W/root" --out "$W/x.img" --fs btrfs
expect_fail "unknown --layout" "--layout: expected split or appended" "$VR" mkimage --root "$W/root" --out "$W/x.img" --layout x
expect_fail "unknown --arch" "not an architecture of the DPS" "$VR" mkimage --root "$W/root" --out "$W/x.img" --arch vax
expect_fail "missing --root" "--root $W/nope: No such file" "$VR" mkimage --root "$W/nope" --out "$W/x.img"
expect_fail "--root is a device node" "neither a directory nor a file system image" "$VR" mkimage --root /dev/null --out "$W/x.img"
expect_fail "missing --out" "--out is missing" "$VR" mkimage --root "$W/root"
t "failed runs leave no output or scratch files" bash -c "! ls -A '$W' | grep -E '^(x\\.img|\\.mkimage)'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
