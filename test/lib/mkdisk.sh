#!/bin/bash
# Composes a Discoverable-Partitions GPT disk image with a dm-verity protected
# root (or /usr) into a plain file: no root privileges, no loop devices.
#
# Usage: mkdisk.sh [options] ROOTDIR IMAGE
#   --fs erofs|ext4|squashfs   filesystem of the data partition (erofs)
#   --layout split|appended    hash tree in its own partition, or appended to
#                              the data partition after the filesystem (split)
#   --usr                      usr / usr-verity / usr-verity-sig types
#   --arch x86-64|arm64        DPS architecture of the type UUIDs (x86-64)
#   --sign KEY CERT            add a verity-sig partition signed with KEY/CERT
#   --label NAME               GPT name of the data partition; the others get
#                              NAME-verity, NAME-verity-sig (root-<arch>)
#   --extra-partition TYPE:FILE[:NAME]
#                              add FILE as a partition; TYPE is a DPS name
#                              (root, usr, root-verity, esp, generic, ...) or a
#                              type UUID; repeatable
#   --corrupt-data-block N     flip a byte in data block N after formatting
#   --uuids-from-hash HEX      derive the PARTUUIDs from HEX instead of the
#                              real root hash (a "wrong root hash" image)
#   --wrong-verity-uuid        random UUID on the verity partition
#   --omit-verity              leave the verity partition out
# Prints eval-able lines: ROOTHASH= DATA_UUID= HASH_UUID= SIG_UUID= HASH_OFFSET=
# EXTRA_UUID_<n>= IMAGE=.
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/{/^set/d;s/^# \{0,1\}//;p}' "$0"; }

fs=erofs layout=split kind=root arch=x86-64 key='' cert='' label='' corrupt_block=''
uuids_from='' wrong_verity_uuid=0 omit_verity=0
extras=()
while [ $# -gt 0 ]; do
	case $1 in
	--fs) fs=$2; shift 2 ;;
	--layout) layout=$2; shift 2 ;;
	--usr) kind=usr; shift ;;
	--arch) arch=$2; shift 2 ;;
	--sign) key=$2 cert=$3; shift 3 ;;
	--label) label=$2; shift 2 ;;
	--extra-partition) extras+=("$2"); shift 2 ;;
	--corrupt-data-block) corrupt_block=$2; shift 2 ;;
	--uuids-from-hash) uuids_from=$2; shift 2 ;;
	--wrong-verity-uuid) wrong_verity_uuid=1; shift ;;
	--omit-verity) omit_verity=1; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || { usage >&2; exit 2; }
rootdir=$1 image=$2
[ -d "$rootdir" ] || die "root directory $rootdir does not exist"
case $fs in erofs|ext4|squashfs) ;; *) die "--fs: unsupported filesystem '$fs'" ;; esac
case $layout in split|appended) ;; *) die "--layout: expected split or appended, got '$layout'" ;; esac
[ -z "$key" ] || [ -r "$key" ] || die "--sign: cannot read key $key"
[ -z "$cert" ] || [ -r "$cert" ] || die "--sign: cannot read certificate $cert"

# DPS type UUIDs (UAPI discoverable partitions specification).
dps_type() {
	case $arch-$1 in
	x86-64-root) echo 4f68bce3-e8cd-4db1-96e7-fbcaf984b709 ;;
	x86-64-root-verity) echo 2c7357ed-ebd2-46d9-aec1-23d437ec2bf5 ;;
	x86-64-root-verity-sig) echo 41092b05-9fc8-4523-994f-2def0408b176 ;;
	x86-64-usr) echo 8484680c-9521-48c6-9c11-b0720656f69e ;;
	x86-64-usr-verity) echo 77ff5f63-e7b6-4633-acf4-1565b864c0e6 ;;
	x86-64-usr-verity-sig) echo e7bb33fb-06cf-4e81-8273-e543b413e2e2 ;;
	arm64-root) echo b921b045-1df0-41c3-af44-4c6f280d3fae ;;
	arm64-root-verity) echo df3300ce-d69f-4c92-978c-9bfb0f38d820 ;;
	arm64-root-verity-sig) echo 6db69de6-29f4-4758-a7a5-962190f00ce3 ;;
	arm64-usr) echo b0e01050-ee5f-4390-949a-9101b17104e9 ;;
	arm64-usr-verity) echo 6e11a4e7-fbca-4ded-b9e9-e1a512bb664e ;;
	arm64-usr-verity-sig) echo c23ce4ff-44bd-4b00-b2d4-b41b3419e02a ;;
	*-esp) echo c12a7328-f81f-11d2-ba4b-00a0c93ec93b ;;
	*-xbootldr) echo bc13c2ff-59e6-4262-a352-b275fd6f7172 ;;
	*-home) echo 933ac7e1-2eb4-4f13-b844-0e14e2aef915 ;;
	*-var) echo 4d21b016-b534-45c2-a9fb-5c16e091fd2d ;;
	*-generic) echo 0fc63daf-8483-4772-8e79-3d69d8477de4 ;;
	*) [[ $1 =~ ^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$ ]] \
		|| die "unknown partition type '$1' for architecture $arch"
	   echo "$1" ;;
	esac
}

hex_to_uuid() {
	local h=$1
	echo "${h:0:8}-${h:8:4}-${h:12:4}-${h:16:4}-${h:20:12}"
}

random_uuid() { cat /proc/sys/kernel/random/uuid; }

file_size() { stat -c %s "$1"; }

pad_to() {
	local f=$1 align=$2 size
	size=$(file_size "$f")
	truncate -s $(( (size + align - 1) / align * align )) "$f"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/mkdisk.XXXXXX")
trap 'rm -rf "$work"' EXIT
data=$work/data.img hash=$work/hash.img sig=$work/sig.img

make_fs() {
	case $fs in
	erofs)
		mkfs.erofs --quiet --all-root -T0 "$data" "$rootdir" >&2 ;;
	squashfs)
		mksquashfs "$rootdir" "$data" -quiet -noappend -all-root \
			-mkfs-time 0 -all-time 0 -no-progress >&2 ;;
	ext4)
		local kib
		kib=$(du -sk "$rootdir" | cut -f1)
		kib=$(( kib * 3 / 2 + 4096 ))
		: > "$data"
		mkfs.ext4 -q -F -b 4096 -O ^has_journal -E root_owner=0:0 -L "$kind" \
			-d "$rootdir" "$data" "${kib}k" >&2 ;;
	esac
	pad_to "$data" 4096
}

# Sets roothash, hash_offset.
make_verity() {
	local out
	if [ "$layout" = split ]; then
		out=$(veritysetup format "$data" "$hash")
		pad_to "$hash" 4096
		hash_offset=
	else
		hash_offset=$(file_size "$data")
		out=$(veritysetup format "$data" "$data" --hash-offset="$hash_offset" \
			--data-blocks=$(( hash_offset / 4096 )))
		pad_to "$data" 4096
	fi
	roothash=$(printf '%s\n' "$out" | sed -n 's/^Root hash:[[:space:]]*//p')
	[[ $roothash =~ ^[0-9a-f]{64}$ ]] || die "veritysetup format printed no sha256 root hash: $out"
}

# Flips one byte in the data area only after the hash tree was computed.
corrupt_block() {
	local off byte
	off=$(( corrupt_block * 4096 + 512 ))
	[ "$off" -lt "$(file_size "$data")" ] || die "--corrupt-data-block $corrupt_block is beyond the data"
	byte=$(od -An -tu1 -j "$off" -N1 "$data" | tr -d ' ')
	# shellcheck disable=SC2059 # the format is the octal escape of one byte
	printf "\\$(printf '%03o' $(( byte ^ 0xff )))" |
		dd of="$data" bs=1 seek="$off" count=1 conv=notrunc status=none
}

# The signature partition: NUL-padded JSON with a detached PKCS#7 over the
# exact root hash string, as systemd-repart writes it.
make_sig() {
	local fpr b64
	fpr=$(openssl x509 -in "$cert" -outform DER | sha256sum | cut -d' ' -f1)
	printf '%s' "$roothash" > "$work/roothash.txt"
	openssl smime -sign -binary -noattr -outform DER -md sha256 \
		-in "$work/roothash.txt" -signer "$cert" -inkey "$key" -out "$work/sig.der"
	b64=$(base64 -w0 < "$work/sig.der")
	printf '{"rootHash":"%s","certificateFingerprint":"%s","signature":"%s"}' \
		"$roothash" "$fpr" "$b64" > "$sig"
	pad_to "$sig" 4096
}

make_fs
make_verity
[ -z "$corrupt_block" ] || corrupt_block
[ -z "$cert" ] || make_sig

uuid_source=${uuids_from:-$roothash}
[[ $uuid_source =~ ^[0-9a-fA-F]{64}$ ]] || die "--uuids-from-hash: expected 64 hex digits, got '$uuid_source'"
uuid_source=${uuid_source,,}
data_uuid=$(hex_to_uuid "${uuid_source:0:32}")
hash_uuid=$(hex_to_uuid "${uuid_source:32:32}")
[ "$wrong_verity_uuid" = 0 ] || hash_uuid=$(random_uuid)
sig_uuid=
[ -z "$cert" ] || sig_uuid=$(random_uuid)
[ -n "$label" ] || label=$kind-$arch

# Partition list: file|type|uuid|name|attrs
parts=("$data|$(dps_type "$kind")|$data_uuid|$label|")
if [ "$layout" = split ] && [ "$omit_verity" = 0 ]; then
	parts+=("$hash|$(dps_type "$kind-verity")|$hash_uuid|$label-verity|GUID:60")
fi
# No read-only bit on the signature partition, as systemd-repart writes it.
[ -z "$cert" ] || parts+=("$sig|$(dps_type "$kind-verity-sig")|$sig_uuid|$label-verity-sig|")
extra_uuids=()
for spec in "${extras[@]}"; do
	IFS=: read -r etype efile ename <<< "$spec"
	[ -r "$efile" ] || die "--extra-partition: cannot read $efile"
	cp "$efile" "$work/extra${#extra_uuids[@]}.img"
	pad_to "$work/extra${#extra_uuids[@]}.img" 4096
	u=$(random_uuid)
	parts+=("$work/extra${#extra_uuids[@]}.img|$(dps_type "$etype")|$u|${ename:-$etype}|")
	extra_uuids+=("$u")
done

# 1 MiB aligned starts; the last MiB holds the backup GPT.
mib=2048 start=$mib table="label: gpt
unit: sectors
first-lba: $mib
"
starts=()
for p in "${parts[@]}"; do
	IFS='|' read -r f type uuid name attrs <<< "$p"
	sectors=$(( $(file_size "$f") / 512 ))
	table+="start=$start, size=$sectors, type=$type, uuid=$uuid, name=\"$name\""
	[ -z "$attrs" ] || table+=", attrs=\"$attrs\""
	table+=$'\n'
	starts+=("$start")
	start=$(( (start + sectors + mib - 1) / mib * mib ))
done
rm -f "$image"
truncate -s $(( (start + mib) * 512 )) "$image"
printf '%s' "$table" | sfdisk --quiet --no-reread --no-tell-kernel "$image" >&2 \
	|| die "sfdisk failed on $image"
i=0
for p in "${parts[@]}"; do
	IFS='|' read -r f _ <<< "$p"
	dd if="$f" of="$image" bs=4096 seek=$(( starts[i] / 8 )) conv=notrunc status=none
	i=$(( i + 1 ))
done

echo "ROOTHASH=$roothash"
echo "DATA_UUID=$data_uuid"
echo "HASH_UUID=$([ "$layout" = split ] && echo "$hash_uuid")"
echo "SIG_UUID=$sig_uuid"
echo "HASH_OFFSET=$hash_offset"
i=1
for u in "${extra_uuids[@]}"; do
	echo "EXTRA_UUID_$i=$u"
	i=$(( i + 1 ))
done
echo "IMAGE=$image"
