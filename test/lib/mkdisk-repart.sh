#!/bin/bash
# Builds a signed DPS image with the real systemd-repart, for cross-checking
# test/lib/mkdisk.sh and the module against systemd's own writer.
# Usage: mkdisk-repart.sh [--usr] [--with-usr USRDIR] [--esp FAT] [--fs ext4|squashfs] --sign KEY CERT ROOTDIR IMAGE
# --with-usr: a second signed verity set, usr / usr-verity / usr-verity-sig, holding
# USRDIR, next to the root's on the same disk.
# --esp (with --with-usr): the FAT file system image FAT (e.g. from make_esp_fat) as an
# ESP, the first partition, so that firmware boots a UKI from the disk with the verity sets.
# Prints the same eval-able lines as mkdisk.sh: ROOTHASH= DATA_UUID= HASH_UUID=
# SIG_UUID= IMAGE= (of the root, or of /usr with --usr), and USRHASH= with --with-usr.
# systemd-repart 252 cannot format erofs.
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 1; }

kind=root fs=ext4 key='' cert='' usrdir='' esp=''
while [ $# -gt 0 ]; do
	case $1 in
	--usr) kind=usr; shift ;;
	--with-usr) usrdir=$2; shift 2 ;;
	--esp) esp=$(cd "$(dirname "$2")" && pwd)/${2##*/}; shift 2 ;;
	--fs) fs=$2; shift 2 ;;
	--sign) key=$2 cert=$3; shift 3 ;;
	-h|--help) sed -n '2,/^set -euo/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || die "usage: $prog [--usr] [--fs ext4|squashfs] --sign KEY CERT ROOTDIR IMAGE"
[ -n "$key" ] && [ -n "$cert" ] || die "--sign KEY CERT is required (repart signs the root hash)"
rootdir=$(cd "$1" && pwd) image=$2
command -v systemd-repart >/dev/null || die "systemd-repart not found"

defs=$(mktemp -d "${TMPDIR:-/tmp}/mkdisk-repart.XXXXXX")
trap 'rm -rf "$defs"' EXIT
# definitions PREFIX KIND [COPY]: data, hash and signature partitions of one verity set.
definitions() {
	cat > "$defs/${1}0-$2.conf" <<-CONF
	[Partition]
	Type=$2-x86-64
	Format=$fs
	CopyFiles=${3:-/}
	Verity=data
	VerityMatchKey=$2
	CONF
	cat > "$defs/${1}1-$2-verity.conf" <<-CONF
	[Partition]
	Type=$2-x86-64-verity
	Verity=hash
	VerityMatchKey=$2
	CONF
	cat > "$defs/${1}2-$2-verity-sig.conf" <<-CONF
	[Partition]
	Type=$2-x86-64-verity-sig
	Verity=signature
	VerityMatchKey=$2
	CONF
}
if [ -n "$usrdir" ]; then
	# repart copies from below one --root: give it both trees side by side.
	[ "$kind" = root ] || die "--with-usr needs a root image"
	tree=$defs/tree
	mkdir -p "$tree"
	cp -a "$rootdir" "$tree/root"
	cp -a "$usrdir" "$tree/usr"
	definitions 1 root /root/:/
	definitions 2 usr /usr/:/
	rootdir=$tree
else
	definitions 1 "$kind"
fi

if [ -n "$esp" ]; then
	# repart resolves CopyBlocks= below --root: the image goes into the side-by-side tree.
	[ -n "$usrdir" ] || die "--esp needs --with-usr"
	cp "$esp" "$tree/esp.fat" || die "--esp: cannot read $esp"
	cat > "$defs/00-esp.conf" <<-CONF
	[Partition]
	Type=esp
	CopyBlocks=/esp.fat
	CONF
fi

rm -f "$image"
systemd-repart --definitions="$defs" --empty=create --size=auto --dry-run=no \
	--root="$rootdir" --private-key="$key" --certificate="$cert" --no-pager "$image" >&2 \
	|| die "systemd-repart failed"

# The DPS ties the UUIDs to the root hash: data = first half, verity = second.
uuid_of() {
	sfdisk -d "$image" | sed -n "/type=$1/I{s/.*uuid=\([0-9A-Fa-f-]*\).*/\1/p;q}" | tr 'A-F' 'a-f'
}
case $kind in
root) data_type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709 hash_type=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5
      sig_type=41092b05-9fc8-4523-994f-2def0408b176 ;;
usr)  data_type=8484680c-9521-48c6-9c11-b0720656f69e hash_type=77ff5f63-e7b6-4633-acf4-1565b864c0e6
      sig_type=e7bb33fb-06cf-4e81-8273-e543b413e2e2 ;;
esac
if [ -n "$usrdir" ]; then
	echo "USRHASH=$(uuid_of 8484680c-9521-48c6-9c11-b0720656f69e | tr -d -)$(uuid_of 77ff5f63-e7b6-4633-acf4-1565b864c0e6 | tr -d -)"
fi
data_uuid=$(uuid_of "$data_type") hash_uuid=$(uuid_of "$hash_type") sig_uuid=$(uuid_of "$sig_type")
[ -n "$data_uuid" ] && [ -n "$hash_uuid" ] && [ -n "$sig_uuid" ] || die "$image lacks a $kind, verity or signature partition"
echo "ROOTHASH=${data_uuid//-/}${hash_uuid//-/}"
echo "DATA_UUID=$data_uuid"
echo "HASH_UUID=$hash_uuid"
echo "SIG_UUID=$sig_uuid"
echo "IMAGE=$image"
