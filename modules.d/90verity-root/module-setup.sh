#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# dracut module verity-root: boot a dm-verity root found by GPT type (DPS),
# trusting roothash= or a signature partition checked against /etc/verity.d/*.crt.

# Helpers of the build host (make install puts them here; dracut.conf may override).
verityroot_libexecdir=${verityroot_libexecdir:-@LIBEXECDIR@}
# Trusted certificates copied into the initrd.
verityroot_certdir=${verityroot_certdir:-/etc/verity.d}
# The oldest IMAGE_VERSION this initrd boots (empty: no floor); see dracut.verity-root(7).
verityroot_min_version=${verityroot_min_version:-}

check() {
    require_binaries "$verityroot_libexecdir"/verity-root-setup || return 1
    # Only on request (dracut --add verity-root, or add_dracutmodules+=).
    return 255
}

depends() {
    if dracut_module_included "systemd"; then
        # dracut-systemd: the cmdline hooks (root=dissect) and dracut's emergency
        # path, which honours rd.shell, when a root is refused.
        echo systemd-veritysetup dracut-systemd dm
    else
        echo dm
    fi
    return 0
}

installkernel() {
    instmods dm-verity
    hostonly='' instmods erofs squashfs ext4
}

# Same characters as os-release's IMAGE_VERSION; verity-root-check refuses anything else.
install_min_version() {
    [ -n "$verityroot_min_version" ] || return 0
    case $verityroot_min_version in
    *[!a-zA-Z0-9._~+^-]*)
        derror "verity-root: verityroot_min_version=\"$verityroot_min_version\" is not a version ([a-zA-Z0-9._~+^-])"
        return 1 ;;
    esac
    mkdir -p "$initdir/etc/verity-root"
    printf '%s\n' "$verityroot_min_version" > "$initdir/etc/verity-root/min-version"
}

install() {
    local _cert _found=

    inst_binary "$verityroot_libexecdir"/verity-root-setup /usr/lib/dracut-verity/verity-root-setup
    inst_binary "$verityroot_libexecdir"/verity-root-check /usr/lib/dracut-verity/verity-root-check
    inst_hook cmdline 30 "$moddir/parse-verity-root.sh"
    install_min_version || return 1

    if dracut_module_included "systemd"; then
        inst_binary "$verityroot_libexecdir"/verity-root-generator \
            "$systemdutildir"/system-generators/verity-root-generator
        inst_simple "$moddir/verity-root-setup@.service" "$systemdsystemunitdir/verity-root-setup@.service"
        # One owner for /dev/mapper/root: our generator replaces systemd's in the initrd.
        mkdir -p "$initdir/etc/systemd/system-generators"
        ln -sf /dev/null "$initdir/etc/systemd/system-generators/systemd-veritysetup-generator"
    else
        inst_hook initqueue/settled 30 "$moddir/verity-root-settled.sh"
        inst_hook pre-pivot 10 "$moddir/mount-verity-usr.sh"
        inst_hook pre-pivot 20 "$moddir/check-verity-sysroot.sh"
    fi

    for _cert in "$verityroot_certdir"/*.crt; do
        [ -f "$_cert" ] || continue
        inst_simple "$_cert" "/etc/verity.d/${_cert##*/}"
        _found=1
    done
    [ -n "$_found" ] || dwarning "verity-root: no trusted certificates in $verityroot_certdir: only roothash= can boot"
}
