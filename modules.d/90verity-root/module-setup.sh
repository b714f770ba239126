#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# dracut module verity-root: boot a dm-verity root found by GPT type (DPS),
# trusting roothash= or a signature partition checked against the trusted *.crt.

# Helpers of the build host (make install puts them here; dracut.conf may override).
verityroot_libexecdir=${verityroot_libexecdir:-@LIBEXECDIR@}
# Trusted certificates: by default the host's verity.d directories (systemd's conf-files
# order, as the helpers read them); verityroot_certdir= names one directory instead.
verityroot_certdir=${verityroot_certdir:-}
verityroot_certdirs="/etc/verity.d /run/verity.d /usr/local/lib/verity.d /usr/lib/verity.d"
# The tree those directories are read from: the host (empty), dracut --sysroot's root,
# or verityroot_certroot= (an image's root being built). Paths in the initrd stay the same.
verityroot_certroot=${verityroot_certroot:-${dracutsysrootdir:-}}
# The oldest IMAGE_VERSION this initrd boots (empty: no floor); see dracut.verity-root(7).
verityroot_min_version=${verityroot_min_version:-}
# The TPM libraries for rd.verity.measure= (tpm2-tss, about 1 MiB uncompressed): "auto"
# adds them where dracut's tpm2-tss module is in the initrd (the TPM support the distro
# or user chose, as systemd's own measurements need it), "yes" always, "no" never.
# Without them the root is not measured (one line says why; rd.verity.measure=required
# refuses to boot).
verityroot_tpm2=${verityroot_tpm2:-auto}
# A signed IPE policy (DER PKCS#7 with the policy inside, see verity-root ipe-policy) that
# the initrd loads and activates once the verified root is mounted and checked; empty: none.
verityroot_ipe_policy=${verityroot_ipe_policy:-}

check() {
    require_binaries "$verityroot_libexecdir"/verity-root-setup || return 1
    # Only on request (dracut --add verity-root, or add_dracutmodules+=).
    return 255
}

depends() {
    if dracut_module_included "systemd"; then
        # dracut's systemd-veritysetup module cannot be installed without the binary, and
        # dracut then only says that this module cannot be: name what is missing.
        if [ ! -x "${dracutsysrootdir-}$systemdutildir/systemd-veritysetup" ]; then
            derror "verity-root: $systemdutildir/systemd-veritysetup is missing; it comes with the package systemd-cryptsetup (systemd 256 and later, Debian 13 and later) or systemd (before that)"
        fi
        # Not dracut-systemd: the generator reads the command line itself, and
        # verity-root-emergency.service ends a failed boot where dracut's is missing.
        echo systemd-veritysetup dm
    else
        echo dm
    fi
    return 0
}

installkernel() {
    instmods dm-verity
    hostonly='' instmods erofs squashfs ext4
    # The TPM the verified file systems are measured into (built into Debian's kernel).
    hostonly='' instmods tpm_tis tpm_crb
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

# systemd's conf-files rules, as the helpers apply them: an empty file or a device node
# (a symlink to /dev/null) masks its name, a regular file is copied, anything else is
# skipped and leaves the name to the later directories. Returns 1 when skipped.
install_cert() {
    local _src=$1 _dst=$2
    if [ -c "$_src" ] || [ -b "$_src" ] || { [ -f "$_src" ] && [ ! -s "$_src" ]; }; then
        mkdir -p "$initdir${_dst%/*}"
        : > "$initdir$_dst"
    elif [ -f "$_src" ]; then
        # Under dracut --sysroot, dracut-install prefixes the source with it itself.
        inst_simple "${_src#"${dracutsysrootdir:-}"}" "$_dst"
    else
        dwarning "verity-root: $_src is not a regular file, ignoring"
        return 1
    fi
}

# Each name from the first directory that has it, into the same directory of the initrd.
# The initrd's /run is a fresh tmpfs, so /run's entries go to /etc, which comes right
# before it: that keeps both what they hide and what hides them.
install_certs() {
    local _dir _cert _name _to _seen=' ' _trusted=

    if [ -n "$verityroot_certdir" ]; then
        for _cert in "$verityroot_certdir"/*.crt; do
            [ -f "$_cert" ] || continue
            inst_simple "$_cert" "/etc/verity.d/${_cert##*/}"
            _trusted=1
        done
        [ -n "$_trusted" ] || dwarning "verity-root: no trusted certificates in $verityroot_certdir: only roothash= can boot"
        return 0
    fi

    for _dir in $verityroot_certdirs; do
        _to=$_dir
        [ "$_dir" != /run/verity.d ] || _to=/etc/verity.d
        for _cert in "$verityroot_certroot$_dir"/*.crt; do
            [ -e "$_cert" ] || [ -L "$_cert" ] || continue
            _name=${_cert##*/}
            case $_seen in *" $_name "*) continue ;; esac
            install_cert "$_cert" "$_to/$_name" || continue
            _seen="$_seen$_name "
            if [ -f "$_cert" ] && [ -s "$_cert" ]; then _trusted=1; fi
        done
    done
    [ -n "$_trusted" ] || dwarning "verity-root: no trusted certificates in ${verityroot_certdirs// /, }${verityroot_certroot:+ under $verityroot_certroot}: only roothash= can boot"
}

# rd.verity.measure=: the helpers dlopen() these when measuring into the TPM. Without
# them the initrd still boots (one line says the root is not measured), unless the
# command line says rd.verity.measure=required.
install_tpm2() {
    local _arch=${DRACUT_ARCH:-$(uname -m)}
    case $verityroot_tpm2 in
    yes) ;;
    no) return 0 ;;
    auto) dracut_module_included "tpm2-tss" || return 0 ;;
    *)
        derror "verity-root: verityroot_tpm2=\"$verityroot_tpm2\" is not one of auto, yes, no"
        return 1 ;;
    esac
    # Named one by one: dracut does not follow the libraries these need in turn.
    inst_libdir_file {"$_arch/",}"libtss2-esys.so.0*" {"$_arch/",}"libtss2-tcti-device.so.0*" \
        {"$_arch/",}"libtss2-mu.so.0*" {"$_arch/",}"libtss2-sys.so.1*"
}

# The initrd refuses to boot when it cannot load the policy; checked there, by the kernel.
install_ipe_policy() {
    [ -n "$verityroot_ipe_policy" ] || return 0
    if [ ! -f "$verityroot_ipe_policy" ] || [ ! -s "$verityroot_ipe_policy" ]; then
        derror "verity-root: verityroot_ipe_policy=\"$verityroot_ipe_policy\" is not a non-empty file"
        return 1
    fi
    inst_simple "$verityroot_ipe_policy" /etc/verity-root/ipe-policy.p7s
}

install() {

    inst_binary "$verityroot_libexecdir"/verity-root-setup /usr/lib/dracut-verity/verity-root-setup
    inst_binary "$verityroot_libexecdir"/verity-root-check /usr/lib/dracut-verity/verity-root-check
    # Run by the shell init and by dracut-systemd's dracut-cmdline.service only.
    if ! dracut_module_included "systemd" || dracut_module_included "dracut-systemd"; then
        inst_hook cmdline 30 "$moddir/parse-verity-root.sh"
    fi
    install_min_version || return 1
    install_ipe_policy || return 1

    if dracut_module_included "systemd"; then
        inst_binary "$verityroot_libexecdir"/verity-root-generator \
            "$systemdutildir"/system-generators/verity-root-generator
        inst_simple "$moddir/verity-root-setup@.service" "$systemdsystemunitdir/verity-root-setup@.service"
        # One owner for /dev/mapper/root: our generator replaces systemd's in the initrd.
        mkdir -p "$initdir/etc/systemd/system-generators"
        ln -sf /dev/null "$initdir/etc/systemd/system-generators/systemd-veritysetup-generator"
        # Without dracut-systemd there is no emergency.service that honours rd.shell and
        # rd.emergency (or none at all: emergency.target then fails to start, and a
        # refused root leaves the boot sitting there). /etc: over systemd's own too.
        # dracut-ng sets $systemdsystemconfdir only for --hostonly: never rely on it.
        if ! dracut_module_included "dracut-systemd"; then
            inst_script "$moddir/verity-root-emergency.sh" /usr/lib/dracut-verity/verity-root-emergency
            inst_simple "$moddir/verity-root-emergency.service" \
                "${systemdsystemconfdir:-/etc/systemd/system}/emergency.service" || return 1
        fi
    else
        inst_hook initqueue/settled 30 "$moddir/verity-root-settled.sh"
        inst_hook pre-pivot 10 "$moddir/mount-verity-usr.sh"
        inst_hook pre-pivot 20 "$moddir/check-verity-sysroot.sh"
    fi

    install_certs
    install_tpm2
}
