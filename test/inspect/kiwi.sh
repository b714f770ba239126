#!/bin/bash
# shellcheck disable=SC2154 # NAME_ROOTHASH and friends are set by eval in mk().
# SPDX-License-Identifier: LGPL-2.1-or-later
# `verity-root inspect` on Kiwi images (embed_verity_metadata) built here with
# test/lib/mkkiwi.sh: trust policy, uniqueness, tampering, both Kiwi layouts. When Kiwi's
# Python module is installed (Debian package kiwi), also cross-checks against Kiwi's own
# code: images it writes must pass, and the metadata block must match ours byte for byte.
# KIWI_SRC=DIR adds the same cross-check for a Kiwi source tree (DIR/kiwi/...).
# Usage: test/inspect/kiwi.sh [FILTER...]   Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
VR=${VR:-$top/build/verity-root}
MKKIWI=$top/test/lib/mkkiwi.sh
KIWI_PYTHON=${KIWI_PYTHON:-/usr/bin/python3}
W=$(mktemp -d "${TMPDIR:-/tmp}/vr-kiwi.XXXXXX")
trap 'rm -rf "$W"' EXIT

# shellcheck source=test/inspect/lib.sh
. test/inspect/lib.sh
inspect_filters "$@"

# mk NAME [mkkiwi options]: builds $W/NAME.img and sets NAME_ROOTHASH, NAME_META_OFFSET etc.
mk() {
    local name=$1 out
    shift
    out=$("$MKKIWI" --meta-out "$W/$name.meta" "$@" "$W/root" "$W/$name.img") ||
        { echo "mkkiwi failed for $name" >&2; return 1; }
    eval "$(echo "$out" | sed -n "s/^\([A-Z_]*\)=/${name}_\1=/p")"
}

# patch IMAGE OFFSET BYTES: overwrite bytes in place (printf escapes: '\x00\x20').
patch() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

setup() {
    test/lib/mkroot.sh --id kiwi "$W/root" > /dev/null || return 1
    dd if=/dev/urandom of="$W/root/blob" bs=64k count=8 status=none
    test/lib/mkcert.sh "$W/certs" alpha > /dev/null
    test/lib/mkcert.sh "$W/other" beta > /dev/null
    mkdir -p "$W/empty"
    mk signed --sign "$W/certs/alpha.key" &&
        mk unsigned &&
        mk legacy --legacy --sign "$W/certs/alpha.key" &&
        mk ext4 --fs ext4 --sign "$W/certs/alpha.key" &&
        mk mbr --mbr --sign "$W/certs/alpha.key"
}
setup || { echo "fixture setup failed"; echo "0 passed, 1 failed"; exit 1; }
C=(--certs "$W/certs")

# --- MBR disks (Kiwi's BIOS builds) -------------------------------------------------
check kiwi-mbr-boots 0 "data: +partition 1 \(MBR type 0x83, PARTUUID=6b697769-01\) on .*mbr.img" -- "$W/mbr.img" "${C[@]}"
check kiwi-mbr-listed 0 "mbr.img: \(MBR partition table\)" -- "$W/mbr.img" "${C[@]}"
check_json kiwi-mbr-json '.bootable and .root.layout == "kiwi" and .root.data == "6b697769-01" and .partitions[0].table == "mbr" and .partitions[0].type == "0x83" and .root.checked == "full"' -- "$W/mbr.img" "${C[@]}"
check kiwi-mbr-untrusted 1 "does not verify with any of the 1 trusted RSA certificates" -- "$W/mbr.img" --certs "$W/other"
cp "$W/mbr.img" "$W/mbr-tampered.img"
patch "$W/mbr-tampered.img" $((mbr_PART_OFFSET + 8192)) '\x55'
check kiwi-mbr-tampered 1 "data block .* does not match the hash tree" -- "$W/mbr-tampered.img" "${C[@]}"
# --quick says what it did not check.
check kiwi-quick-wording 0 "would boot if its data matches the hash tree: --quick checked the signature and the top of the tree, not the data" -- "$W/mbr-tampered.img" "${C[@]}" --quick
check kiwi-quick-checked 0 "checked: +top of the hash tree only \(--quick\): data blocks NOT checked" -- "$W/mbr-tampered.img" "${C[@]}" --quick
# Neither layout: the refusal names both.
truncate -s 8M "$W/mbr-empty.img"
test/lib/mkgpt.sh --label=dos "$W/mbr-empty.img" 8 start=2048,size=4,type=83 > /dev/null
check kiwi-mbr-neither 1 "no signed root found: .*; no Kiwi root either \(no partition carries Kiwi verity metadata in its last 4 KiB\)" -- "$W/mbr-empty.img" "${C[@]}"

# --- trust policy ---------------------------------------------------------------
check kiwi-signed-boots 0 "layout: +kiwi.*with superblock" -- "$W/signed.img" "${C[@]}"
check kiwi-signed-signer 0 "signed by CN ?= ?alpha" -- "$W/signed.img" "${C[@]}"
check_json kiwi-signed-json '.bootable and .root.layout == "kiwi" and .root.superblock == true and .root.hash_source == "signature" and .root.roothash == "'"$signed_ROOTHASH"'" and .root.hash_offset == '"$signed_HASH_OFFSET"' and .root.checked == "full"' -- "$W/signed.img" "${C[@]}"
check kiwi-untrusted-cert 1 "does not verify with any of the 1 trusted RSA certificates" -- "$W/signed.img" --certs "$W/other"
check kiwi-no-certs 1 "signed, but there are no trusted certificates" -- "$W/signed.img" --certs "$W/empty"
check kiwi-sig-off 1 "rd.verity.sig=off" -- "$W/signed.img" "${C[@]}" --sig off
check kiwi-signed-roothash 0 "valid, signed by" -- "$W/signed.img" "${C[@]}" --roothash "$signed_ROOTHASH" --sig required
check kiwi-signed-roothash-untrusted 0 "signature: +not valid: .*does not verify" -- "$W/signed.img" --certs "$W/other" --roothash "$signed_ROOTHASH"
check kiwi-required-untrusted 1 "signature required .*does not verify" -- "$W/signed.img" --certs "$W/other" --roothash "$signed_ROOTHASH" --sig required
check kiwi-unsigned-refused 1 "Kiwi verity metadata on .* is unsigned and no roothash= was given" -- "$W/unsigned.img" "${C[@]}"
check kiwi-unsigned-roothash 0 "from the command line" -- "$W/unsigned.img" "${C[@]}" --roothash "$unsigned_ROOTHASH"
check kiwi-unsigned-required 1 "rd.verity.sig=required.*unsigned" -- "$W/unsigned.img" "${C[@]}" --roothash "$unsigned_ROOTHASH" --sig required
check kiwi-roothash-mismatch 1 "roothash=$signed_ROOTHASH does not match the Kiwi verity metadata" -- "$W/unsigned.img" "${C[@]}" --roothash "$signed_ROOTHASH"

# --- layouts --------------------------------------------------------------------
check_json kiwi-legacy '.bootable and .root.layout == "kiwi" and .root.superblock == false and .root.hash_source == "signature"' -- "$W/legacy.img" "${C[@]}"
check kiwi-ext4 0 "signed by CN ?= ?alpha" -- "$W/ext4.img" "${C[@]}"
check kiwi-quick 0 "top of the hash tree only" -- "$W/signed.img" "${C[@]}" --quick

# --- tampering ------------------------------------------------------------------
# "ro" made "rw": the block still parses, the signature no longer covers it.
cp "$W/signed.img" "$W/tampered.img"
patch "$W/tampered.img" $((signed_META_OFFSET + 9)) "w"
check kiwi-tampered-metadata 1 "does not verify .*or the metadata was altered" -- "$W/tampered.img" "${C[@]}"

# A salt digit changed: the superblock (unsigned, but checked against it) disagrees first.
cp "$W/signed.img" "$W/tampered-salt.img"
at=$((signed_META_OFFSET + $(grep -abo "$signed_SALT" "$W/signed.meta" | cut -d: -f1)))
[ "${signed_SALT:0:1}" = 0 ] && new=1 || new=0
patch "$W/tampered-salt.img" "$at" "$new"
check kiwi-tampered-salt 1 "disagrees with the Kiwi metadata on the salt" -- "$W/tampered-salt.img" "${C[@]}"
cp "$W/legacy.img" "$W/tampered-legacy.img"
at=$((legacy_META_OFFSET + $(grep -abo "$legacy_SALT" "$W/legacy.meta" | cut -d: -f1)))
[ "${legacy_SALT:0:1}" = 0 ] && new=1 || new=0
patch "$W/tampered-legacy.img" "$at" "$new"
check kiwi-tampered-salt-legacy 1 "does not verify .*or the metadata was altered" -- "$W/tampered-legacy.img" "${C[@]}"

# One byte of file system data: found by the full check, named by its block.
cp "$W/signed.img" "$W/corrupt.img"
patch "$W/corrupt.img" $((signed_PART_OFFSET + 5 * 4096 + 100)) "X"
check kiwi-corrupt-data 1 "data block 5 " -- "$W/corrupt.img" "${C[@]}"

# The top of the tree: caught even by --quick.
cp "$W/signed.img" "$W/corrupt-tree.img"
patch "$W/corrupt-tree.img" $((signed_PART_OFFSET + signed_HASH_OFFSET + 4096 + 8)) "XXXX"
check kiwi-corrupt-tree-quick 1 "does not match|mismatch" -- "$W/corrupt-tree.img" "${C[@]}" --quick

# A malformed field is reported, not skipped as "no Kiwi root".
cp "$W/unsigned.img" "$W/malformed.img"
at=$((unsigned_META_OFFSET + $(grep -abo " $unsigned_DATA_BLOCKS " "$W/unsigned.meta" | head -n 1 | cut -d: -f1) + 1))
patch "$W/malformed.img" "$at" "x"
check kiwi-malformed-field 1 "Kiwi verity metadata: data block count \"x" -- "$W/malformed.img" "${C[@]}"

# The unsigned superblock must agree with the signed metadata.
cp "$W/signed.img" "$W/sbdiff.img"
patch "$W/sbdiff.img" $((signed_PART_OFFSET + signed_HASH_OFFSET + 64)) '\x00\x20'
check kiwi-superblock-disagrees 1 "superblock .* disagrees with the Kiwi metadata on the data block size" -- "$W/sbdiff.img" "${C[@]}"

# --- discovery ------------------------------------------------------------------
check kiwi-ambiguous 1 "ambiguous: 2 partitions carry Kiwi verity metadata" -- "$W/signed.img" "$W/legacy.img" "${C[@]}"
check kiwi-ambiguous-resolved-by-hash 0 "from the command line" -- "$W/signed.img" "$W/legacy.img" "${C[@]}" --roothash "$legacy_ROOTHASH"
sfdisk -q --part-attrs "$W/legacy.img" 1 "GUID:63" 2> /dev/null
check kiwi-noauto-ignored 0 "signed by CN ?= ?alpha" -- "$W/signed.img" "$W/legacy.img" "${C[@]}"

# A signed DPS root on another disk wins; Kiwi is only the fallback.
if test/lib/mkdisk.sh --sign "$W/certs/alpha.key" "$W/certs/alpha.crt" "$W/root" "$W/dps.img" > /dev/null 2>&1; then
    check_json kiwi-dps-first '.bootable and .root.layout == "split"' -- "$W/dps.img" "$W/signed.img" "${C[@]}"
else
    selected kiwi-dps-first && fail kiwi-dps-first "mkdisk.sh failed"
fi

# --- cross-check against Kiwi's own code ------------------------------------------
# kiwi_crosscheck LABEL [PYTHONPATH]: Kiwi's VeritySetup writes and signs an image (must
# boot), and turns our veritysetup values into a block that must equal ours.
kiwi_crosscheck() {
    local label=$1 pp=${2:-} legacy=() name
    if ! PYTHONPATH=$pp "$KIWI_PYTHON" -c 'import kiwi.utils.veritysetup' 2> /dev/null; then
        for name in "kiwi-$label-image" "kiwi-$label-bytes"; do
            selected "$name" && skip "$name" "Kiwi's Python module is not importable (apt-get install kiwi)"
        done
        return 0
    fi
    # Which generation: Kiwi before 10.2.21 formats with --no-superblock.
    if PYTHONPATH=$pp "$KIWI_PYTHON" -c 'import inspect, sys, kiwi.utils.veritysetup as v; sys.exit(0 if "--no-superblock" in inspect.getsource(v) else 1)'; then
        legacy=(--legacy)
    fi

    if selected "kiwi-$label-image"; then
        if PYTHONPATH=$pp KIWI_PYTHON=$KIWI_PYTHON mk "py$label" --kiwi-python --sign "$W/certs/alpha.key" 2> "$W/py.err"; then
            local js=true
            [ ${#legacy[@]} -eq 0 ] || js=false
            check_json "kiwi-$label-image" '.bootable and .root.layout == "kiwi" and .root.superblock == '"$js"' and .root.hash_source == "signature" and .root.checked == "full"' -- "$W/py$label.img" "${C[@]}"
        else
            out=$(cat "$W/py.err")
            fail "kiwi-$label-image" "mkkiwi.sh --kiwi-python failed"
        fi
    fi

    if selected "kiwi-$label-bytes"; then
        local v
        v=$("$MKKIWI" "${legacy[@]}" --fs-out "$W/bytes.fs" --meta-out "$W/bytes.meta" "$W/root" "$W/bytes.img") ||
            { out=$v; fail "kiwi-$label-bytes" "mkkiwi.sh failed"; return 0; }
        # shellcheck disable=SC2046 # KEY=VALUE words, no spaces in them
        out=$(env $(echo "$v" | grep -E '^[A-Z_]+=') FS="$W/bytes.fs" OURS="$W/bytes.meta" PYTHONPATH=$pp \
            "$KIWI_PYTHON" - 2>&1 <<'EOF'
import os
from kiwi.utils.veritysetup import VeritySetup
e = os.environ
v = VeritySetup(e['FS'], hash_offset=int(e['HASH_OFFSET']))
# The dict VeritySetup.format() builds from veritysetup's output, from our run.
v.verity_dict = {
    'Hashtype': e['HASH_TYPE'], 'Datablocksize': e['DATA_BLOCK_SIZE'],
    'Hashblocksize': e['HASH_BLOCK_SIZE'], 'Datablocks': e['DATA_BLOCKS'],
    'Hashalgorithm': e['ALGORITHM'], 'Roothash': e['ROOTHASH'], 'Salt': e['SALT'],
}
v.create_verity_verification_metadata()
kiwi = open(v.verification_metadata_file.name, 'rb').read()
ours = open(e['OURS'], 'rb').read()
if ours[:len(kiwi)] != kiwi or any(ours[len(kiwi):]):
    raise SystemExit('differ:\n kiwi %r\n ours %r' % (kiwi, ours.rstrip(b'\0')))
print('identical, %d bytes' % len(kiwi))
EOF
        )
        if [ $? -eq 0 ] && [[ $out == *"identical, "* ]]; then pass "kiwi-$label-bytes"; else fail "kiwi-$label-bytes" "metadata differs from Kiwi's"; fi
    fi
}
kiwi_crosscheck python
[ -z "${KIWI_SRC:-}" ] || kiwi_crosscheck src "$KIWI_SRC"

summary
