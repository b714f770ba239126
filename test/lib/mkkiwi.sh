#!/bin/bash
# shellcheck disable=SC2154 # Kiwi's dict keys come from a file Python writes.
# SPDX-License-Identifier: LGPL-2.1-or-later
# Test fixture: a GPT (or MBR) disk image whose one partition is laid out as Kiwi lays out a root
# with verity_blocks="all" and embed_verity_metadata="true" (kiwi/builder/disk.py and
# kiwi/utils/veritysetup.py), built without Kiwi, in plain files (no root, no loop devices):
#
#   [file system][verity superblock + hash tree][... zeros ...][metadata block: last 4 KiB]
#
#   mkkiwi.sh [OPTIONS] TREE OUT.img
#     --fs erofs|ext4      file system (default erofs)
#     --legacy             Kiwi before 10.2.21: veritysetup --no-superblock, and "rw" in the
#                          header for writable file systems (Kiwi before 9.25.13)
#     --sign KEY           append Kiwi's signature (openssl dgst -sha256, RSA-PSS) made with KEY
#     --kiwi-python        let Kiwi's own Python module (import kiwi) format, write and sign
#                          the metadata instead of this script (the cross-check)
#     --label NAME         GPT partition name (default kiwi-root)
#     --mbr                an MBR (dos) partition table, type 0x83, as Kiwi writes for BIOS
#                          firmware; MBR_ID=0x... sets its disk signature (default 0x6b697769)
#     --slack-mib N        free MiB between the hash tree and the metadata block (default 1)
#     --meta-out FILE      also write the metadata block (4096 bytes) to FILE
#     --fs-out FILE        also keep the file system image (before veritysetup) as FILE
#
# Prints KEY=VALUE lines: ROOTHASH SALT HASH_TYPE DATA_BLOCK_SIZE HASH_BLOCK_SIZE DATA_BLOCKS
# ALGORITHM HASH_OFFSET FSTYPE PART_OFFSET PART_SIZE META_OFFSET (bytes in OUT.img).
set -euo pipefail

die() { echo "mkkiwi.sh: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)

fs=erofs legacy=0 key='' use_kiwi=0 label=kiwi-root slack=1 meta_out='' fs_out='' mbr=0
while [[ $# -gt 0 && $1 == --* ]]; do
    case $1 in
    --fs) fs=$2; shift 2 ;;
    --legacy) legacy=1; shift ;;
    --sign) key=$2; shift 2 ;;
    --kiwi-python) use_kiwi=1; shift ;;
    --label) label=$2; shift 2 ;;
    --mbr) mbr=1; shift ;;
    --slack-mib) slack=$2; shift 2 ;;
    --meta-out) meta_out=$2; shift 2 ;;
    --fs-out) fs_out=$2; shift 2 ;;
    *) die "unknown option $1" ;;
    esac
done
[[ $# -eq 2 ]] || die "usage: mkkiwi.sh [OPTIONS] TREE OUT.img"
tree=$1 out=$2
[[ -d $tree ]] || die "$tree is not a directory"

W=$(mktemp -d "${TMPDIR:-/tmp}/mkkiwi.XXXXXX")
trap 'rm -rf "$W"' EXIT
img=$W/root.img

# The file system ends on a 4096-byte boundary: Kiwi sizes it in whole MiB (ext4) or
# takes the file as mksquashfs/mkfs.erofs leave it (multiples of their 4 KiB blocks).
case $fs in
erofs)
    mkfs.erofs --quiet --all-root -T0 "$img" "$tree" >&2
    size=$(stat -c %s "$img")
    truncate -s $(( (size + 4095) / 4096 * 4096 )) "$img" ;;
ext4)
    mib=$(( $(du -sk --apparent-size "$tree" | cut -f1) / 1024 * 2 + 8 ))
    truncate -s "${mib}M" "$img"
    mkfs.ext4 -q -F -b 4096 -E root_owner=0:0 -d "$tree" "$img" >&2 ;;
*) die "unknown file system $fs (erofs or ext4)" ;;
esac
[[ -z $fs_out ]] || cp "$img" "$fs_out"
hash_offset=$(stat -c %s "$img")

if [[ $use_kiwi -eq 1 ]]; then
    # Kiwi's own code: VeritySetup.format() runs veritysetup on the file, then the metadata
    # is created, signed and written by the methods kiwi/filesystem/base.py calls.
    if [[ -n $key ]]; then
        mkdir -p "$W/home/.config/kiwi"
        printf 'credentials:\n  - verification_metadata_signing_key_file: %s\n' "$(realpath "$key")" \
            > "$W/home/.config/kiwi/config.yml"
    fi
    # Kiwi logs to stdout: values go to their own file. Debian's python3, where the
    # kiwi package installs its module (KIWI_PYTHON overrides).
    HOME=$W/home SIGN=${key:+1} IMG=$img META=$W/meta VALUES=$W/values \
        "${KIWI_PYTHON:-/usr/bin/python3}" - > "$W/kiwi.log" 2>&1 <<'EOF' ||
import os, shutil
from kiwi.utils.veritysetup import VeritySetup
v = VeritySetup(os.environ['IMG'])
d = v.format()
v.create_verity_verification_metadata()
if os.environ.get('SIGN'):
    v.sign_verification_metadata()
shutil.copyfile(v.verification_metadata_file.name, os.environ['META'])
with open(os.environ['VALUES'], 'w') as f:
    for k in ('Hashtype', 'Datablocksize', 'Hashblocksize', 'Datablocks', 'Hashalgorithm', 'Roothash', 'Salt'):
        f.write(k + '=' + d[k] + '\n')
EOF
        die "Kiwi's VeritySetup failed: $(tail -n 5 "$W/kiwi.log")"
    # shellcheck disable=SC1091
    . "$W/values"
    hash_type=$Hashtype dbs=$Datablocksize hbs=$Hashblocksize blocks=$Datablocks
    alg=$Hashalgorithm root=$Roothash salt=$Salt
    fstype=$(blkid -s TYPE -o value "$img")
else
    sb=()
    [[ $legacy -eq 0 ]] || sb=(--no-superblock)
    vout=$(veritysetup format "$img" "$img" "${sb[@]}" --hash-offset="$hash_offset" --hash-block-size=4096)
    # The first word of the value: cryptsetup 2.8 prints sizes as "4096 [bytes]".
    field() { awk -F: -v k="$1" '{ key = $1; gsub(/[ \t]/, "", key) } key == k { split($2, v, " "); print v[1] }' <<<"$vout"; }
    hash_type=$(field Hashtype) dbs=$(field Datablocksize) hbs=$(field Hashblocksize) blocks=$(field Datablocks)
    alg=$(field Hashalgorithm) root=$(field Roothash) salt=$(field Salt)
    [[ -n $root && -n $salt ]] || die "cannot read veritysetup output: $vout"
    # The header names the file system as blkid does (Kiwi's BlockID.get_filesystem).
    fstype=$(blkid -s TYPE -o value "$img")
    access=ro
    [[ $legacy -eq 0 || $fstype == squashfs ]] || access=rw
    {
        printf '1 %s %s verity\xff' "$fstype" "$access"
        printf '%s %s %s %s %s %s %s %s\xff\x00' "$hash_type" "$dbs" "$hbs" "$blocks" \
            $((hash_offset / hbs)) "$alg" "$root" "$salt"
    } > "$W/meta"
    if [[ -n $key ]]; then
        openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 \
            -sigopt rsa_mgf1_md:sha256 -sign "$key" -out "$W/sig" "$W/meta"
        cat "$W/sig" >> "$W/meta"
    fi
fi
meta_len=$(stat -c %s "$W/meta")
[[ $meta_len -le 4096 ]] || die "metadata is $meta_len bytes, more than 4096"

# Partition: file system + verity, then slack, then the 4 KiB block, in whole MiB.
used=$(stat -c %s "$img")
part_mib=$(( (used + 4096 + 1048575) / 1048576 + slack ))
if [[ $mbr -eq 1 ]]; then
    "$here/mkgpt.sh" --label=dos --label-id="${MBR_ID:-0x6b697769}" "$out" $((part_mib + 2)) "type=83,size=$part_mib"
else
    "$here/mkgpt.sh" "$out" $((part_mib + 2)) \
        "type=0fc63daf-8483-4772-8e79-3d69d8477de4,name=$label,size=$part_mib"
fi
part_offset=$(sfdisk -J "$out" | jq -r '.partitiontable.partitions[0].start * 512')
part_size=$((part_mib * 1048576))
meta_offset=$((part_offset + part_size - 4096))
dd if="$img" of="$out" bs=1M oflag=seek_bytes seek="$part_offset" conv=notrunc status=none
dd if="$W/meta" of="$out" bs=4096 oflag=seek_bytes seek="$meta_offset" conv=notrunc status=none
if [[ -n $meta_out ]]; then
    cp "$W/meta" "$meta_out"
    truncate -s 4096 "$meta_out"
fi

cat <<EOF
ROOTHASH=$root
SALT=$salt
HASH_TYPE=$hash_type
DATA_BLOCK_SIZE=$dbs
HASH_BLOCK_SIZE=$hbs
DATA_BLOCKS=$blocks
ALGORITHM=$alg
HASH_OFFSET=$hash_offset
FSTYPE=$fstype
PART_OFFSET=$part_offset
PART_SIZE=$part_size
META_OFFSET=$meta_offset
EOF
