#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Test fixture: a small erofs image protected by dm-verity, built in plain files
# (no root, no loop devices).
#
#   mkverity.sh [--size-kib N] DATA HASH [-- VERITYSETUP-FORMAT-OPTIONS...]
#   mkverity.sh [--size-kib N] --appended DATA [-- VERITYSETUP-FORMAT-OPTIONS...]
#
# Prints the root hash. With --appended the tree goes into DATA after the file system
# (rounded up to 4096 bytes) and a second line gives that hash offset in bytes.
set -euo pipefail

usage() { echo "usage: $0 [--size-kib N] [--appended] DATA [HASH] [-- veritysetup options]" >&2; exit 2; }

appended=0
size_kib=1200
while [[ $# -gt 0 ]]; do
    case $1 in
        --appended) appended=1; shift ;;
        --size-kib) size_kib=$2; shift 2 ;;
        --) break ;;
        -*) usage ;;
        *) break ;;
    esac
done
[[ $# -ge 1 && $1 != -- ]] || usage
data=$1; shift
hash=
if [[ $appended -eq 0 ]]; then
    [[ $# -ge 1 && $1 != -- ]] || usage
    hash=$1; shift
fi
[[ $# -eq 0 || $1 == -- ]] || usage
[[ $# -gt 0 ]] && shift

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/etc" "$tree/usr/lib" "$tree/sbin"
printf 'ID=verity-test\nNAME="verity test root"\n' > "$tree/usr/lib/os-release"
ln -s ../usr/lib/os-release "$tree/etc/os-release"
printf '#!/bin/sh\necho VERITY-TEST-ROOT\n' > "$tree/sbin/init"
chmod 0755 "$tree/sbin/init"
# Incompressible-looking but reproducible bulk, so the image spans many blocks.
{ seq 1 10000000 || true; } | head -c $((size_kib * 1024)) > "$tree/usr/lib/bulk"

rm -f "$data"
mkfs.erofs --quiet --all-root -T0 "$data" "$tree" >&2

if [[ $appended -eq 1 ]]; then
    size=$(stat -c %s "$data")
    offset=$(( (size + 4095) / 4096 * 4096 ))
    truncate -s "$offset" "$data"
    out=$(veritysetup format "$@" --hash-offset="$offset" "$data" "$data")
else
    rm -f "$hash"
    out=$(veritysetup format "$@" "$data" "$hash")
fi

root=$(awk -F'[ \t]+' '/^Root hash:/ { print $3 }' <<<"$out")
[[ -n $root ]] || { echo "$0: no root hash in veritysetup output:" >&2; echo "$out" >&2; exit 1; }
echo "$root"
[[ $appended -eq 0 ]] || echo "$offset"
