#!/bin/sh
# Installs every Debian 12 package needed to build, test and demo dracut-verity
# (a no-op when they are all installed). --list prints the package names only.
set -eu
export DEBIAN_FRONTEND=noninteractive
pkgs="build-essential pkgconf clang libclang-rt-14-dev llvm
libblkid-dev libfdisk-dev uuid-dev libudev-dev libcryptsetup-dev libdevmapper-dev libsystemd-dev libjson-c-dev libssl-dev libcmocka-dev libtss2-dev
dracut-core systemd systemd-container cryptsetup-bin erofs-utils squashfs-tools e2fsprogs fdisk util-linux
openssl softhsm2 libengine-pkcs11-openssl jq busybox-static qemu-system-x86 swtpm swtpm-tools linux-image-amd64 kmod cpio zstd
systemd-boot-efi ovmf dosfstools mtools kiwi hyperfine
gdisk rsync qemu-utils grub-pc-bin parted
dpkg-dev debhelper devscripts lintian fakeroot scdoc rpm man-db debootstrap"
if [ "${1:-}" = --list ]; then
    echo $pkgs
    exit 0
fi
# shellcheck disable=SC2086
if dpkg-query -W -f='${Status}\n' $pkgs 2>/dev/null | grep -qv 'install ok installed' ||
    [ "$(dpkg-query -W -f='${Status}\n' $pkgs 2>/dev/null | wc -l)" -ne "$(echo $pkgs | wc -w)" ]; then
    :
else
    echo "install-deps: all $(echo $pkgs | wc -w) packages already installed"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get)" >&2
	exit 1
fi
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $pkgs
