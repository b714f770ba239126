#!/bin/sh
# Builds (or reuses) a Debian root for one suite, for the stack tests:
# debootstrap + the packages the project needs to build, test and make initrds.
# Cached as $STACK_CACHE/SUITE-YYYYMMDD (one per suite and day, rebuilt when missing
# or incomplete); prints the root's path on stdout, progress on stderr.
#   test/stacks/mkroot.sh SUITE
set -eu
suite=${1:?usage: mkroot.sh SUITE}
cache=${STACK_CACHE:-/var/tmp/dracut-verity-stacks}
day=${STACK_DATE:-$(date -u +%Y%m%d)}
root=$cache/$suite-$day
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/chroot.sh
. "$here/chroot.sh"

log() { echo "mkroot[$suite]: $*" >&2; }

# Something is mounted at or under DIR (a run using it): never delete it then.
busy() { awk -v d="$1" '$2 == d || index($2, d "/") == 1 { f = 1 } END { exit !f }' /proc/mounts; }

remove_root() {
	if busy "$1"; then
		log "$1 is in use (mounts under it), not removing it"
		return 1
	fi
	rm -rf --one-file-system "$1"
}

# The Debian mirror this host's apt uses: the first deb URI of a non-security suite
# in sources.list or the deb822 .sources files. Never a host name written here.
host_mirror() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++;
			if ($(i+1) !~ /-security/ && $(i+2) != "" ) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# Paragraphs: remember URIs/Suites/Types, print on the blank line or EOF.
		awk 'function flush() { if (t ~ /(^| )deb( |$)/ && s !~ /-security/ && u != "" && s != "") print u; t = u = s = "" }
			/^[ \t]*$/ { flush(); next }
			/^Types:/ { t = $0; sub(/^Types:[ \t]*/, "", t) }
			/^URIs:/ { u = $2 }
			/^Suites:/ { s = $0; sub(/^Suites:[ \t]*/, "", s) }
			END { flush() }' "$f"
	done
}

# util-linux-extra: switch_root since util-linux 2.42 (sid), which dracut's shell initrd needs.
# python3-virt-firmware: virt-fw-vars writes certificates into OVMF variable stores (UEFI db).
packages="build-essential pkgconf ca-certificates
libblkid-dev libfdisk-dev uuid-dev libudev-dev libcryptsetup-dev libdevmapper-dev libsystemd-dev libjson-c-dev libssl-dev libcmocka-dev libtss2-dev
dracut dracut-core systemd systemd-sysv udev systemd-cryptsetup systemd-boot-efi linux-image-amd64
busybox-static erofs-utils squashfs-tools e2fsprogs cryptsetup-bin dmsetup openssl fdisk util-linux kmod cpio zstd jq scdoc binutils
util-linux-extra python3-virt-firmware"

if [ -e "$root/.stack-complete" ]; then
	# A root cached before the list grew gets what it lacks (no rebuild).
	missing=$(for p in $packages; do
		chroot "$root" dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q ' installed$' || echo "$p"
	done)
	if [ -n "$missing" ]; then
		log "adding to $root: $(echo $missing)"
		stack_chroot_enter "$root"
		# shellcheck disable=SC2086
		if ! stack_chroot "$root" sh -c "export DEBIAN_FRONTEND=noninteractive INITRD=No; apt-get update &&
			apt-get install -y --no-install-recommends $(echo $missing)" >>"$root.apt.log" 2>&1; then
			stack_chroot_leave "$root"
			log "apt-get failed, see $root.apt.log"; tail -n 30 "$root.apt.log" >&2; exit 1
		fi
		stack_chroot_leave "$root"
	fi
	log "reusing $root"
	echo "$root"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || { log "must run as root (debootstrap, chroot)"; exit 1; }
command -v debootstrap >/dev/null || { log "debootstrap not installed (test/install-deps.sh)"; exit 1; }
mirror=$(host_mirror | head -n1)
[ -n "$mirror" ] || { log "no Debian mirror found in /etc/apt/sources.list(.d)"; exit 1; }
remove_root "$root"
mkdir -p "$cache"
t0=$(date +%s)
log "debootstrap $suite from $mirror into $root"
debootstrap --variant=minbase --include=ca-certificates "$suite" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
	{ log "debootstrap failed, see $root.debootstrap.log"; tail -n 20 "$root.debootstrap.log" >&2; exit 1; }
t1=$(date +%s)
# No daemons started by maintainer scripts inside the root.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
# The tests build their own initrds: none at kernel install (INITRD=No, for the
# kernel's postinst.d hook) nor at dracut's trigger (Debian's update-initramfs).
mkdir -p "$root/etc/initramfs-tools"
echo 'update_initramfs=no' > "$root/etc/initramfs-tools/update-initramfs.conf"
# sid's Release file is at times past its Valid-Until: accept it (the signature is still checked).
echo 'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/99stack-valid-until"
stack_chroot_enter "$root"
trap 'stack_chroot_leave "$root"' EXIT INT TERM
log "apt-get install ($(echo $packages | wc -w) packages)"
# shellcheck disable=SC2086
if ! stack_chroot "$root" sh -c "export DEBIAN_FRONTEND=noninteractive INITRD=No; apt-get update &&
	apt-get install -y --no-install-recommends $(echo $packages)" >"$root.apt.log" 2>&1; then
	log "apt-get failed, see $root.apt.log"; tail -n 30 "$root.apt.log" >&2; exit 1
fi
stack_chroot_leave "$root"
trap - EXIT INT TERM
t2=$(date +%s)
printf 'debootstrap_s=%s\napt_s=%s\nmirror=%s\n' $((t1 - t0)) $((t2 - t1)) "$mirror" > "$root/.stack-complete"
log "built $root (debootstrap $((t1 - t0)) s, apt $((t2 - t1)) s)"
# Older days of the same suite are stale now.
for old in "$cache/$suite"-*; do
	case $old in "$root"|"$root".*) continue ;; esac
	remove_root "$old" || :
done
echo "$root"
