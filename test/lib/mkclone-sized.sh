#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Test fixture for issue 10 ("attacker-sized work at boot"): a sparse disk of SIZE
# holding a byte copy of SIGNED's root signature partition and a root partition as
# large as the rest with the PARTUUID that signature's root hash derives, and no
# verity partition. Nothing is written in the data partition.
#
#   mkclone-sized.sh SIGNED OUT SIZE      (SIZE in sfdisk/truncate terms: 64G)
set -euo pipefail

die() { echo "mkclone-sized.sh: $*" >&2; exit 1; }
[[ $# -eq 3 ]] || die "usage: mkclone-sized.sh SIGNED OUT SIZE"
signed=$1 out=$2 size=$3
lib=$(dirname "$0")
root_type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709
sig_type=41092b05-9fc8-4523-994f-2def0408b176

json=$(sfdisk -J "$signed")
field() { jq -r --arg t "$1" ".partitiontable.partitions[] | select(.type | ascii_downcase == \$t) | .$2" <<<"$json"; }
data_uuid=$(field "$root_type" uuid)
sig_start=$(field "$sig_type" start)
sig_sectors=$(field "$sig_type" size)
[[ -n $data_uuid && -n $sig_start && -n $sig_sectors ]] || die "$signed has no root and signature partition"

# The signature partition first, the root takes the rest of the disk.
"$lib/mkgpt.sh" "$out" "$size" \
	"type=$sig_type,name=root-x86-64-verity-sig,size=$((sig_sectors * 512 / 1024))K" \
	"type=$root_type,uuid=$data_uuid,name=root-x86-64"
new_start=$(sfdisk -J "$out" | jq -r ".partitiontable.partitions[] | select(.type | ascii_downcase == \"$sig_type\") | .start")
dd if="$signed" of="$out" bs=512 skip="$sig_start" seek="$new_start" count="$sig_sectors" conv=notrunc,sparse status=none
echo "DATA_UUID=$data_uuid"
