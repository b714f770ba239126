#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes a partition table into a plain image file with sfdisk (no root, no loop devices).
#
#   mkgpt.sh [OPTIONS] OUT SIZE [PART...]
#
# SIZE and size= are MiB when plain numbers; a unit suffix is passed on (64K, 2M, 16KiB).
# PART is a comma-separated list of key=value:
#   type=<uuid>  uuid=<uuid>  name=<label>  size=<MiB|N[KMG]>  start=<sector>
#   number=<GPT entry number, default: the next free one>
#   attrs=<GUID:60,GUID:63,...>   (words after attrs= without '=' are more attribute bits)
# OPTIONS (table header):
#   --label=gpt|dos  --label-id=<uuid|0x..>  --table-length=N  --first-lba=N  --grain=BYTES
# Names may not contain commas or double quotes.
set -euo pipefail

die() { echo "mkgpt.sh: $*" >&2; exit 1; }

label=gpt
header=()
while [[ $# -gt 0 && $1 == --* ]]; do
        case $1 in
        --label=*) label=${1#*=} ;;
        --label-id=*) header+=("label-id: ${1#*=}") ;;
        --table-length=*) header+=("table-length: ${1#*=}") ;;
        --first-lba=*) header+=("first-lba: ${1#*=}") ;;
        --grain=*) header+=("grain: ${1#*=}") ;;
        *) die "unknown option $1" ;;
        esac
        shift
done
[[ $# -ge 2 ]] || die "usage: mkgpt.sh [OPTIONS] OUT SIZE [PART...]"
out=$1 size=$2
shift 2

with_unit() {
        if [[ $1 =~ ^[0-9]+$ ]]; then echo "$1M"; else echo "$1"; fi
}

# One sfdisk script line ("size=1M, type=..., attrs=\"GUID:60,GUID:63\"") from one PART spec.
part_line() {
        local spec=$1 field key val line="" attrs="" prefix=""
        local -a fields
        IFS=, read -r -a fields <<<"$spec"
        for field in "${fields[@]}"; do
                if [[ $field != *=* ]]; then
                        [[ -n $attrs ]] || die "stray '$field' in '$spec'"
                        attrs+=",$field"
                        continue
                fi
                key=${field%%=*} val=${field#*=}
                case $key in
                type | uuid | start) line+="$key=$val, " ;;
                name) line+="name=\"$val\", " ;;
                size) line+="size=$(with_unit "$val"), " ;;
                attrs) attrs=$val ;;
                number) prefix="part$val : " ;; # sfdisk takes the entry number from the trailing digits
                *) die "unknown key '$key' in '$spec'" ;;
                esac
        done
        [[ -z $attrs ]] || line+="attrs=\"$attrs\", "
        echo "$prefix${line%, }"
}

script="label: $label"$'\n'
for h in "${header[@]}"; do
        script+="$h"$'\n'
done
for p in "$@"; do
        script+="$(part_line "$p")"$'\n'
done

rm -f "$out"
truncate -s "$(with_unit "$size")" "$out"
if ! printf '%s' "$script" | sfdisk --quiet --no-reread --no-tell-kernel "$out" >/dev/null; then
        die "sfdisk failed on this script:"$'\n'"$script"
fi
