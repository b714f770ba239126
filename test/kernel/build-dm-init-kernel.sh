#!/bin/bash
# Builds a minimal x86-64 kernel for initramfs-less verity boots: tinyconfig
# plus CONFIG_DM_INIT (dm-mod.create=), dm-verity, virtio disks, GPT, erofs and
# a serial console, all built in. Used by test/boot/cases/22-dm-init.sh.
#
# Usage: build-dm-init-kernel.sh [OUTDIR]   (default /var/tmp/dracut-verity-dm-init)
# Writes OUTDIR/bzImage (and OUTDIR/config); the source tree stays in
# OUTDIR/linux-source-6.1 so a rerun only rebuilds what changed.
# Installs linux-source-6.1 and the build dependencies with apt-get if they
# are missing (needs root then). About 4 minutes on 2 cores.
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 1; }
[ "${1:-}" != -h ] && [ "${1:-}" != --help ] || { sed -n '2,/^set -euo/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0; }

outdir=${1:-/var/tmp/dracut-verity-dm-init}
srcpkg=linux-source-6.1
tarball=/usr/src/$srcpkg.tar.xz
deps="$srcpkg bc flex bison libelf-dev libssl-dev build-essential xz-utils"

# Everything the boot test relies on; each must end up =y. Order matters only
# for readability: olddefconfig resolves dependencies, then we check them all.
required=(
	64BIT PRINTK PRINTK_TIME TTY SERIAL_8250 SERIAL_8250_CONSOLE
	BLOCK BLK_DEV PARTITION_ADVANCED EFI_PARTITION
	PCI VIRTIO_MENU VIRTIO VIRTIO_PCI VIRTIO_BLK
	MD BLK_DEV_DM DM_INIT DM_VERITY CRYPTO_SHA256
	MISC_FILESYSTEMS EROFS_FS
	PROC_FS SYSFS DEVTMPFS DEVTMPFS_MOUNT BINFMT_ELF BINFMT_SCRIPT
	# The test root powers off with sysrq "o" / poweroff -f: QEMU only
	# exits on an ACPI power-off.
	MAGIC_SYSRQ ACPI
)

missing=
for p in $deps; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=" $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || die "missing packages:$missing (run as root to apt-get them)"
	echo "$prog: installing$missing" >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $missing >&2 \
		|| die "apt-get install$missing failed"
fi
[ -f "$tarball" ] || die "$tarball missing after installing $srcpkg"

mkdir -p "$outdir"
src=$outdir/$srcpkg
if [ ! -f "$src/Makefile" ] || [ "$tarball" -nt "$src/Makefile" ]; then
	echo "$prog: unpacking $tarball" >&2
	rm -rf "$src"
	tar -C "$outdir" -xJf "$tarball"
fi

cd "$src"
make -s tinyconfig
args=()
for opt in "${required[@]}"; do
	args+=(-e "$opt")
done
scripts/config "${args[@]}"
make -s olddefconfig

# olddefconfig silently drops an option whose dependencies are unmet.
dropped=
for opt in "${required[@]}"; do
	grep -qx "CONFIG_$opt=y" .config || dropped+=" CONFIG_$opt"
done
[ -z "$dropped" ] || die "olddefconfig dropped:$dropped (add their dependencies to 'required' in $0)"

t0=$(date +%s)
make -s -j"$(nproc)" bzImage
cp arch/x86/boot/bzImage "$outdir/bzImage.tmp"
cp .config "$outdir/config"
mv "$outdir/bzImage.tmp" "$outdir/bzImage"
echo "$prog: $outdir/bzImage ($(du -k "$outdir/bzImage" | cut -f1) KiB) built in $(( $(date +%s) - t0 )) s" >&2
