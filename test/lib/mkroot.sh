#!/bin/sh
# Builds a tiny test root: busybox-static, os-release, an id marker and a
# /sbin/init that reports what it booted from, then powers the machine off.
# Usage: mkroot.sh [--id ID] [--image-version V] OUTDIR
set -eu

id=test-root
image_version=
while [ $# -gt 0 ]; do
	case $1 in
	--id) id=$2; shift 2 ;;
	--image-version) image_version=$2; shift 2 ;;
	-h|--help) echo "usage: ${0##*/} [--id ID] [--image-version V] OUTDIR"; exit 0 ;;
	-*) echo "${0##*/}: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: ${0##*/} [--id ID] [--image-version V] OUTDIR" >&2; exit 2; }
out=$1
# busybox-static: the root has no libc.
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "${0##*/}: $busybox missing (install busybox-static)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
# Not usr-merged on purpose: / must boot on its own when /usr is a separate
# (verity) partition mounted by the initrd.
mkdir -p "$out/bin" "$out/sbin" "$out/etc" "$out/usr/lib" "$out/proc" "$out/sys" \
	"$out/dev" "$out/run" "$out/tmp" "$out/mnt"
cp "$busybox" "$out/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$out/bin/$applet"
done

cat > "$out/usr/lib/os-release" <<OS
NAME="verity-root test"
ID=verity-root-test
VERSION_ID=1
PRETTY_NAME="verity-root test root ($id)"
OS
[ -z "$image_version" ] || echo "IMAGE_VERSION=$image_version" >> "$out/usr/lib/os-release"
# systemd's switch-root accepts either; / keeps one so a separate /usr works.
cp "$out/usr/lib/os-release" "$out/etc/os-release"
printf '%s\n' "$id" > "$out/etc/verity-root-test-id"
printf '%s\n' "$id" > "$out/usr/lib/verity-root-test-usr-id"

cat > "$out/sbin/init" <<'INIT'
#!/bin/sh
# Test init: one report line, then power off.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
[ -c /dev/console ] || mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
grep -q ' /proc proc ' /proc/mounts 2>/dev/null || mount -t proc proc /proc
grep -q ' /sys sysfs ' /proc/mounts || mount -t sysfs sysfs /sys

mount_field() {
	# Last match wins: / can appear twice (rootfs, then the real root).
	awk -v mp="$1" -v f="$2" '$2 == mp { v = $f } END { print (v == "" ? "none" : v) }' /proc/mounts
}
read -r up _ < /proc/uptime
echo "VERITY-ROOT-TEST: init reached, root=$(mount_field / 1) fstype=$(mount_field / 3) usr=$(mount_field /usr 1) uptime=$up"
echo "VERITY-ROOT-TEST: id=$(cat /etc/verity-root-test-id 2>/dev/null || echo none) usr-id=$(cat /usr/lib/verity-root-test-usr-id 2>/dev/null || echo none)"
for d in /sys/block/dm-*; do
	[ -e "$d/dm/name" ] || continue
	name=$(cat "$d/dm/name")
	echo "VERITY-ROOT-TEST: dm-status $name ${d##*/} uuid=$(cat "$d/dm/uuid") ro=$(cat "$d/ro") sectors=$(cat "$d/size") slaves=$(ls "$d/slaves" | tr '\n' ',')"
done
# With a TPM: PCR 15 as the kernel reads it, and the measurement log the initrd left in
# /run (base64: its records start with the control character 0x1E).
if [ -r /sys/class/tpm/tpm0/pcr-sha256/15 ]; then
	echo "VERITY-ROOT-TEST: tpm pcr-sha256-15=$(cat /sys/class/tpm/tpm0/pcr-sha256/15)"
	echo "VERITY-ROOT-TEST: tpm measure-log=$(base64 -w0 /run/log/systemd/tpm2-measure.log 2>/dev/null || echo none)"
fi
# With IPE (CONFIG_SECURITY_IPE): the active policy, and whether a copy of busybox on a
# tmpfs runs (an IPE policy of verity-root ipe-policy refuses it).
grep -q ' /sys/kernel/security securityfs ' /proc/mounts ||
	mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
if [ -d /sys/kernel/security/ipe ]; then
	ipe_active=none
	for p in /sys/kernel/security/ipe/policies/*; do
		[ "$(cat "$p/active" 2>/dev/null)" = 1 ] && ipe_active=${p##*/}
	done
	ipe_exec=ran
	if ! mount -t tmpfs -o mode=0755 tmpfs /tmp || ! cp /bin/busybox /tmp/ipe-busybox; then
		ipe_exec=no-tmpfs
	elif ! /tmp/ipe-busybox true; then
		ipe_exec=refused
	fi
	echo "VERITY-ROOT-TEST: ipe policy=$ipe_active tmpfs-exec=$ipe_exec"
fi
sync
echo o > /proc/sysrq-trigger
sleep 5
poweroff -f
INIT
chmod 0755 "$out/sbin/init"
