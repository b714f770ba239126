#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `verity-root inspect` on images built here: every binding and trust rule, each
# rejection with its message. No root or loop devices, except the systemd-repart
# cross-check (repart 252 needs a loop device to write the hash tree).
# Usage: test/inspect/run.sh [FILTER...]   Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
top=$PWD
VR=${VR:-$top/build/verity-root}
MKDISK=${MKDISK:-$top/test/lib/mkdisk.sh}
W=$(mktemp -d "${TMPDIR:-/tmp}/vr-inspect.XXXXXX")
trap 'rm -rf "$W"' EXIT

# shellcheck source=test/inspect/lib.sh
. test/inspect/lib.sh
inspect_filters "$@"

# --- fixtures -----------------------------------------------------------------
setup() {
    test/lib/mkroot.sh --id inspect "$W/root" > /dev/null
    dd if=/dev/urandom of="$W/root/blob" bs=64k count=16 status=none
    test/lib/mkcert.sh "$W/certs" alpha > /dev/null
    test/lib/mkcert.sh "$W/other" beta > /dev/null
    mkdir -p "$W/empty"
}

# mk NAME [mkdisk options]: builds $W/NAME.img and sets NAME_ROOTHASH etc.
mk() {
    local name=$1 out
    shift
    out=$("$MKDISK" "$@" "$W/root" "$W/$name.img") || { echo "mkdisk failed for $name" >&2; return 1; }
    eval "$(echo "$out" | sed -n "s/^\([A-Z_]*\)=/${name}_\1=/p")"
}

# part_offset IMAGE N: byte offset of partition N (sfdisk, not our own code).
part_offset() {
    sfdisk -J "$1" | jq -r ".partitiontable.partitions[$(($2 - 1))].start * 512"
}

setup || { echo "fixture setup failed"; echo "0 passed, 1 failed"; exit 1; }
C=(--certs "$W/certs")

# --- signed images ------------------------------------------------------------
mk signed --sign "$W/certs/alpha.key" "$W/certs/alpha.crt"
check signed-boots 0 "signed by CN ?= ?alpha" -- "$W/signed.img" "${C[@]}"
check_json signed-json '.bootable and .root.hash_source == "signature" and .root.roothash == "'"$signed_ROOTHASH"'" and .root.data == "'"$signed_DATA_UUID"'" and .root.checked == "full"' -- "$W/signed.img" "${C[@]}"
check signed-untrusted-cert 1 "not in .*other" -- "$W/signed.img" --certs "$W/other"
check signed-no-certs 1 "no trusted certificates" -- "$W/signed.img" --certs "$W/empty"
check signed-sig-off 1 "rd.verity.sig=off" -- "$W/signed.img" "${C[@]}" --sig off
check signed-required 0 "signed by" -- "$W/signed.img" "${C[@]}" --sig required
check signed-roothash-required 0 "valid, signed by" -- "$W/signed.img" "${C[@]}" --roothash "$signed_ROOTHASH" --sig required

# Only *.crt files are trusted: the same certificate as .pem is ignored.
mkdir -p "$W/pemonly" && cp "$W/certs/alpha.crt" "$W/pemonly/alpha.pem"
check only-crt-files 1 "no trusted certificates" -- "$W/signed.img" --certs "$W/pemonly"

# Tampered signature partition: one hex digit of rootHash changed.
cp "$W/signed.img" "$W/tampered.img"
sigoff=$(part_offset "$W/tampered.img" 3)
json=$(dd if="$W/tampered.img" bs=1 skip="$sigoff" count=200 status=none | tr -d '\0')
pos=$(echo "$json" | grep -bo '"rootHash": *"' | head -n 1 | cut -d: -f1)
len=$(echo "$json" | grep -o '"rootHash": *"' | head -n 1 | wc -c)
at=$((sigoff + pos + len - 1))
old=$(dd if="$W/tampered.img" bs=1 skip="$at" count=1 status=none)
[ "$old" = 0 ] && new=1 || new=0
printf '%s' "$new" | dd of="$W/tampered.img" bs=1 seek="$at" conv=notrunc status=none
check tampered-signature 1 "does not verify|does not match" -- "$W/tampered.img" "${C[@]}"

# Garbage after the JSON text in the signature partition.
cp "$W/signed.img" "$W/trailing.img"
printf 'X' | dd of="$W/trailing.img" bs=1 seek=$((sigoff + 4000)) conv=notrunc status=none
check signature-trailing-bytes 1 "non-NUL|after the JSON" -- "$W/trailing.img" "${C[@]}"

# Malformed JSON.
cp "$W/signed.img" "$W/badjson.img"
printf '{"rootHash": ' | dd of="$W/badjson.img" bs=1 seek="$sigoff" conv=notrunc status=none
dd if=/dev/zero of="$W/badjson.img" bs=1 seek=$((sigoff + 13)) count=600 conv=notrunc status=none
check signature-malformed-json 1 "JSON" -- "$W/badjson.img" "${C[@]}"

# no-auto on the signature partition: discovery must ignore it.
cp "$W/signed.img" "$W/noauto.img"
sfdisk -q --part-attrs "$W/noauto.img" 3 "GUID:60,GUID:63" 2> /dev/null
check noauto-ignored 1 "no .*signature|nothing says which root hash" -- "$W/noauto.img" "${C[@]}"

# no-auto on the data partition of a signed root: not for automatic discovery either.
cp "$W/signed.img" "$W/noauto-data.img"
sfdisk -q --part-attrs "$W/noauto-data.img" 1 "GUID:63" 2> /dev/null
check noauto-data 1 "marked no-auto" -- "$W/noauto-data.img" "${C[@]}"

# The signature's rootHash must pair with the verity partition beside it.
mk wrongpair --sign "$W/certs/alpha.key" "$W/certs/alpha.crt" --wrong-verity-uuid
check signature-verity-mismatch 1 "does not match partition 2 .*root-verity" -- "$W/wrongpair.img" "${C[@]}"

# --- roothash= images ---------------------------------------------------------
mk plain
check roothash-boots 0 "from the command line" -- "$W/plain.img" --roothash "$plain_ROOTHASH"
check roothash-uppercase 0 "would boot" -- "$W/plain.img" --roothash "$(echo "$plain_ROOTHASH" | tr a-f A-F)"
check roothash-short 1 "63 hex digits|hex digits" -- "$W/plain.img" --roothash "${plain_ROOTHASH%?}"
check roothash-nonhex 1 "not a hex digit" -- "$W/plain.img" --roothash "z${plain_ROOTHASH#?}"
check roothash-unsigned-no-arg 1 "nothing says which root hash to trust" -- "$W/plain.img" "${C[@]}"
check roothash-required-unsigned 1 "signature required" -- "$W/plain.img" --roothash "$plain_ROOTHASH" --sig required "${C[@]}"
check_json roothash-json '.root.hash_source == "cmdline" and .root.layout == "split" and (.partitions | length) == 2' -- "$W/plain.img" --roothash "$plain_ROOTHASH"

# Partitions named after another hash (sha256 has no bits beyond the two PARTUUIDs):
# found by PARTUUID, refused by the tree.
wrong=$(echo "$plain_ROOTHASH" | tr 0-9a-f 1-9a-f0)
mk wronghash --uuids-from-hash "$wrong"
check wrong-roothash 1 "root hash does not match" -- "$W/wronghash.img" --roothash "$wrong"

mk corrupt --corrupt-data-block 3
check corrupt-block 1 "data block 3 " -- "$W/corrupt.img" --roothash "$corrupt_ROOTHASH"
check corrupt-block-quick 0 "top of the hash tree only" -- "$W/corrupt.img" --roothash "$corrupt_ROOTHASH" --quick
check_json corrupt-json '(.bootable | not) and (.root.reason | test("data block 3 "))' -- "$W/corrupt.img" --roothash "$corrupt_ROOTHASH"

mk noverity --omit-verity
check missing-verity 1 "missing root-verity partition with PARTUUID=$noverity_HASH_UUID" -- "$W/noverity.img" --roothash "$noverity_ROOTHASH"
check missing-data 1 "no root partition with PARTUUID" -- "$W/plain.img" --roothash "$(echo "$plain_ROOTHASH" | tr 0-9a-f 1-9a-f0)"

mk usronly --usr
check wrong-type 1 "not the root type" -- "$W/usronly.img" --roothash "$usronly_ROOTHASH"
check usr-boots 0 "usr: would boot" -- "$W/usronly.img" --roothash "$plain_ROOTHASH" --usrhash "$usronly_ROOTHASH" "$W/plain.img"

# roothash= and usrhash=: predict-pcr and ipe-policy see both, root first.
if selected usrhash-verbs; then
    run predict-pcr "$W/usronly.img" "$W/plain.img" --roothash "$plain_ROOTHASH" --usrhash "$usronly_ROOTHASH"
    events=$(echo "$out" | sed -n 's/^event: *verity-root:v1:\([a-z]*\):\([0-9a-f]*\):cmdline:-$/\1=\2/p' | paste -sd' ')
    if [ "$rc" -ne 0 ] || [ "$events" != "root=$plain_ROOTHASH usr=$usronly_ROOTHASH" ]; then
        fail usrhash-verbs "predict-pcr --usrhash: exit $rc, events \"$events\""
    else
        run ipe-policy "$W/usronly.img" "$W/plain.img" --roothash "$plain_ROOTHASH" --usrhash "$usronly_ROOTHASH"
        rules=$(echo "$out" | sed -n 's/^op=EXECUTE dmverity_roothash=sha256:\([0-9a-f]*\) action=ALLOW$/\1/p' | paste -sd' ')
        if [ "$rc" -ne 0 ] || [ "$rules" != "$plain_ROOTHASH $usronly_ROOTHASH" ]; then
            fail usrhash-verbs "ipe-policy --usrhash: exit $rc, allowed hashes \"$rules\""
        else
            run ipe-policy "$W/plain.img" --usrhash "$usronly_ROOTHASH"
            if [ "$rc" -eq 2 ] && echo "$out" | grep -q -- "--usrhash needs --roothash"; then
                pass usrhash-verbs
            else
                fail usrhash-verbs "ipe-policy --usrhash without --roothash: exit $rc"
            fi
        fi
    fi
fi

# Two disks carrying the same PARTUUIDs: never guess.
cp "$W/plain.img" "$W/clone.img"
check duplicate-partuuid 1 "ambiguous: 2 partitions have PARTUUID=$plain_DATA_UUID" -- "$W/plain.img" "$W/clone.img" --roothash "$plain_ROOTHASH"

# Data on one disk, its hash partition on another.
cp "$W/plain.img" "$W/dataonly.img" && sfdisk -q --delete "$W/dataonly.img" 2
cp "$W/plain.img" "$W/hashonly.img" && sfdisk -q --delete "$W/hashonly.img" 1
check cross-disk 1 "different disks" -- "$W/dataonly.img" "$W/hashonly.img" --roothash "$plain_ROOTHASH"

# --- appended hash tree -------------------------------------------------------
mk appended --layout appended
check appended-boots 0 "appended to the data partition" -- "$W/appended.img" --roothash "$appended_ROOTHASH"
check_json appended-json '.root.layout == "appended" and .root.hash_offset > 0 and .root.hash == .root.data' -- "$W/appended.img" --roothash "$appended_ROOTHASH"
mk appsigned --layout appended --sign "$W/certs/alpha.key" "$W/certs/alpha.crt"
check appended-signed 0 "signed by" -- "$W/appsigned.img" "${C[@]}"

# --- A/B and ambiguity across disks -------------------------------------------
mk slot1 --sign "$W/certs/alpha.key" "$W/certs/alpha.crt" --label root-x86-64_1.9
dd if=/dev/urandom of="$W/root/blob2" bs=4k count=4 status=none
mk slot2 --sign "$W/certs/alpha.key" "$W/certs/alpha.crt" --label root-x86-64_1.10
check ab-newest 0 "newest version label of 2" -- "$W/slot1.img" "$W/slot2.img" "${C[@]}"
check_json ab-json '.root.data == "'"$slot2_DATA_UUID"'"' -- "$W/slot1.img" "$W/slot2.img" "${C[@]}"
rm -f "$W/root/blob2"
dd if=/dev/urandom of="$W/root/blob3" bs=4k count=4 status=none
mk twin --sign "$W/certs/alpha.key" "$W/certs/alpha.crt"
check ambiguous-signed 1 "ambiguous: 2 signed root candidates" -- "$W/signed.img" "$W/twin.img" "${C[@]}"
rm -f "$W/root/blob3"

# --- systemd.image_policy= and systemd.image_filter= (--image-policy, --image-filter) ---
check policy-signed 0 "signed by" -- "$W/signed.img" "${C[@]}" --image-policy root=signed
check policy-open 0 "signed by" -- "$W/signed.img" "${C[@]}" --image-policy '*'
check policy-verity-no-roothash 1 "gives root=verity and root-verity-sig=unused\+absent: signatures may not be used, and no roothash=" -- "$W/signed.img" "${C[@]}" --image-policy root=verity
check policy-verity-roothash 0 "not used \(systemd.image_policy= allows no signed root\)" -- "$W/signed.img" "${C[@]}" --image-policy root=verity --roothash "$signed_ROOTHASH"
check policy-signed-needs-signature 1 "signature required \(systemd.image_policy= allows root=signed, not verity\)" -- "$W/plain.img" "${C[@]}" --image-policy root=signed --roothash "$plain_ROOTHASH"
check policy-unprotected 1 "gives root=unprotected: it allows no dm-verity protected root" -- "$W/signed.img" "${C[@]}" --image-policy root=unprotected
check policy-ignore 1 "gives root=unused\+absent" -- "$W/signed.img" "${C[@]}" --image-policy -
check policy-sig-contradiction 1 "rd.verity.sig=required contradicts" -- "$W/signed.img" "${C[@]}" --image-policy root=verity --roothash "$signed_ROOTHASH" --sig required
check policy-read-only-on 1 "partition 1 .*read-only flag is off but the policy wants read-only-on" -- "$W/signed.img" "${C[@]}" --image-policy root=signed+read-only-on
check policy-verity-unused 1 "gives root-verity=unused: partition 2 .* may not be used" -- "$W/signed.img" "${C[@]}" --image-policy root=signed:root-verity=unused
check policy-absent-present 1 "gives root-verity-sig=absent, but the disk holds partition 3" -- "$W/signed.img" "${C[@]}" --image-policy root=verity:root-verity-sig=absent --roothash "$signed_ROOTHASH"
check policy-invalid 2 "Unknown partition policy flag \"bogus\"" -- "$W/signed.img" "${C[@]}" --image-policy root=verity+bogus
check policy-invalid-designator 2 "Unknown partition designator \"rot\"" -- "$W/signed.img" "${C[@]}" --image-policy rot=verity
# A/B: the filter picks the older slot; a filter nothing matches leaves nothing to boot.
mk fslot1 --sign "$W/certs/alpha.key" "$W/certs/alpha.crt" --label root-x86-64_1.9
dd if=/dev/urandom of="$W/root/blob4" bs=4k count=4 status=none
mk fslot2 --sign "$W/certs/alpha.key" "$W/certs/alpha.crt" --label root-x86-64_1.10
rm -f "$W/root/blob4"
check_json filter-none '.root.data == "'"$fslot2_DATA_UUID"'"' -- "$W/fslot1.img" "$W/fslot2.img" "${C[@]}"
check_json filter-older-slot '.bootable and .root.data == "'"$fslot1_DATA_UUID"'"' -- "$W/fslot1.img" "$W/fslot2.img" "${C[@]}" --image-filter 'root=root-x86-64_1.9'
check filter-glob 0 "root-x86-64_1.10" -- "$W/fslot1.img" "$W/fslot2.img" "${C[@]}" --image-filter 'root=*_1.1?'
check filter-nothing 1 "partitions? set aside: labelled \"_empty\" or not matching systemd.image_filter=" -- "$W/fslot1.img" "$W/fslot2.img" "${C[@]}" --image-filter 'root=*_2.*'
check filter-invalid 2 "Unknown partition designator \"rot\" in image filter" -- "$W/signed.img" "${C[@]}" --image-filter rot=x
# repart's placeholder for an empty A/B slot is never used, filter or not.
cp "$W/fslot2.img" "$W/emptyslot.img"
sfdisk -q --part-label "$W/emptyslot.img" 1 _empty 2> /dev/null
check empty-slot-ignored 1 "1 partition set aside: labelled \"_empty\"" -- "$W/emptyslot.img" "${C[@]}"
check empty-slot-other-slot 0 "root-x86-64_1.9" -- "$W/fslot1.img" "$W/emptyslot.img" "${C[@]}"

# --- labels from the disk reach the terminal escaped ---------------------------
# set_gpt_name IMAGE N HEX: writes raw UTF-16LE bytes as the GPT name of partition N and
# fixes the CRCs (sfdisk refuses names that are not valid UTF-8).
set_gpt_name() {
    python3 - "$@" << 'EOF'
import struct, sys, zlib
path, n, name = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
with open(path, "r+b") as f:
    f.seek(512)
    hdr = bytearray(f.read(92))
    lba, count, size = struct.unpack_from("<QII", hdr, 72)
    f.seek(lba * 512)
    entries = bytearray(f.read(count * size))
    entries[(n - 1) * size + 56:(n - 1) * size + 128] = name.ljust(72, b"\0")
    struct.pack_into("<I", hdr, 88, zlib.crc32(entries))
    struct.pack_into("<I", hdr, 16, 0)
    struct.pack_into("<I", hdr, 16, zlib.crc32(hdr))
    f.seek(512)
    f.write(hdr)
    f.seek(lba * 512)
    f.write(entries)
EOF
}

mk escape --sign "$W/certs/alpha.key" "$W/certs/alpha.crt" --label $'evil\e[31m\\red'
check escape-label-text 0 'evil\\x1b\[31m\\\\red-verity" \(root-verity' -- "$W/escape.img" "${C[@]}"
check_printable escape-label-raw -- "$W/escape.img" "${C[@]}"
check escape-label-refusal 1 'NOT boot: partition 3 "evil\\x1b\[31m\\\\red-verity-sig"' -- "$W/escape.img" --certs "$W/empty"
check_printable escape-refusal-raw -- "$W/escape.img" --certs "$W/empty"
check_json escape-label-json '.bootable and .partitions[0].label == "evil\\x1b[31m\\\\red"' -- "$W/escape.img" "${C[@]}"
check_printable escape-json-raw -- --json "$W/escape.img" "${C[@]}"
# Not UTF-8 once libblkid decodes it: "x" ESC "[1m", a lone UTF-16 surrogate, "y".
if command -v python3 > /dev/null; then
    cp "$W/plain.img" "$W/surrogate.img"
    set_gpt_name "$W/surrogate.img" 1 78001b005b0031006d0000d87900
    check_json escape-surrogate-json '.partitions[0].label | test("^x\\\\x1b\\[1m\\\\x.*y$")' -- "$W/surrogate.img" --roothash "$plain_ROOTHASH"
    check_printable escape-surrogate-raw -- --json "$W/surrogate.img" --roothash "$plain_ROOTHASH"
else
    skip escape-surrogate "no python3 to write a raw GPT name"
fi

# --- not a DPS disk -----------------------------------------------------------
truncate -s 1M "$W/zero.img"
check no-gpt 1 "No partition table on .*zero.img: neither a GPT .* nor an MBR" -- "$W/zero.img"
check no-such-file 1 "nosuchfile.img" -- "$W/nosuchfile.img"

# --- cross-check with systemd-repart (the reference implementation) -----------
repart_case() {
    local d=$W/repart
    mkdir -p "$d/defs" "$d/root"
    cp -a "$W/root/." "$d/root/"
    rm -f "$d/root/blob"
    cat > "$d/defs/10-root.conf" << 'EOF'
[Partition]
Type=root
Format=ext4
CopyFiles=/
Verity=data
VerityMatchKey=root
Minimize=guess
EOF
    cat > "$d/defs/20-root-verity.conf" << 'EOF'
[Partition]
Type=root-verity
Verity=hash
VerityMatchKey=root
EOF
    cat > "$d/defs/30-root-verity-sig.conf" << 'EOF'
[Partition]
Type=root-verity-sig
Verity=signature
VerityMatchKey=root
EOF
    # repart 252 has no Minimize=: give the file system a fixed size instead.
    sed -i 's/^Minimize=guess$/SizeMinBytes=64M/' "$d/defs/10-root.conf"
    systemd-repart --definitions="$d/defs" --root="$d/root" --empty=create --size=auto \
        --dry-run=no --no-pager --private-key="$W/certs/alpha.key" --certificate="$W/certs/alpha.crt" \
        --seed=0b5a1e2f-6c8d-4e3a-9f00-123456789abc "$d/disk.img" > "$d/log" 2>&1
}
if repart_case; then
    check repart-signed 0 "signed by CN ?= ?alpha" -- "$W/repart/disk.img" "${C[@]}"
    check repart-untrusted 1 "not in " -- "$W/repart/disk.img" --certs "$W/other"
else
    out=$(tail -n 5 "$W/repart/log")
    fail repart-signed "systemd-repart could not build the image"
fi

summary
