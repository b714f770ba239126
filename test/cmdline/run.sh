#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The built verity-root-setup and verity-root-generator against a kernel command line
# of the test's choosing: each run is in a private mount namespace with a file bound
# over /proc/cmdline, the only place the binaries read it from. Needs root.
# Usage: test/cmdline/run.sh [FILTER...]   Ends with "N passed, N failed[, N skipped]".
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-$PWD/build}
SETUP=$B/verity-root-setup
GENERATOR=$B/verity-root-generator
W=$(mktemp -d "${TMPDIR:-/tmp}/vr-cmdline.XXXXXX")
trap 'rm -rf "$W"' EXIT

# shellcheck source=test/inspect/lib.sh
. test/inspect/lib.sh
inspect_filters "$@"

# with_cmdline LINE CMD...: runs CMD with /proc/cmdline reading LINE; sets out and rc.
with_cmdline() {
    printf '%s\n' "$1" > "$W/cmdline"
    shift
    out=$(unshare -m sh -c 'mount --bind "$0" /proc/cmdline && exec "$@"' "$W/cmdline" "$@" 2>&1)
    rc=$?
}

# wants NAME LINE EXPECTED_RC [REGEX]: verity-root-setup --wants --target root.
wants() {
    local name=$1 line=$2 want=$3 re=${4:-}
    selected "$name" || return 0
    with_cmdline "$line" "$SETUP" --wants --target root
    if [ "$rc" -ne "$want" ]; then fail "$name" "exit $rc, expected $want"
    elif [ -n "$re" ] && ! echo "$out" | grep -Eq -- "$re"; then fail "$name" "output does not match /$re/"
    else pass "$name"; fi
}

# generate NAME LINE UNITS...: the generator's early directory holds exactly UNITS.
generate() {
    local name=$1 line=$2 got want
    shift 2
    selected "$name" || return 0
    want=$(for u in "$@"; do echo "$u"; done | sort | tr '\n' ' ')
    rm -rf "$W/gen" && mkdir -p "$W/gen/normal" "$W/gen/early" "$W/gen/late"
    with_cmdline "$line" "$GENERATOR" "$W/gen/normal" "$W/gen/early" "$W/gen/late"
    got=$(cd "$W/gen/early" && find . -name '*.service' -o -name '*.mount' | sed 's|.*/||' | sort -u | tr '\n' ' ')
    if [ "$rc" -ne 0 ]; then fail "$name" "generator exited $rc"
    elif [ "$got" != "$want" ]; then fail "$name" "wrote \"$got\", expected \"$want\""
    elif ! masks_only "$W/gen/early"; then fail "$name" "a systemd-cryptsetup@ unit or sysusr-usr.mount is not masked (-> /dev/null)"
    else pass "$name"; fi
}

# One owner: other generators' units for /dev/mapper/root|usr (and systemd's mount of
# /usr on /sysusr/usr) are masks, nothing else.
masks_only() {
    local u
    for u in "$1"/systemd-cryptsetup@*.service "$1"/sysusr-usr.mount; do
        [ -e "$u" ] || [ -L "$u" ] || continue
        [ "$(readlink "$u")" = /dev/null ] || return 1
    done
}

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    skip all "needs root and mount namespaces (unshare -m)"
    summary
    exit 77
fi
for b in "$SETUP" "$GENERATOR"; do
    [ -x "$b" ] || { echo "FAIL setup: $b missing (make all)"; echo "0 passed, 1 failed"; exit 1; }
done

H=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

wants wants-generic-uki "quiet" 0
wants wants-other-root "root=/dev/vda1" 1
wants wants-verity-off "systemd.verity=0" 1
# An invalid value is neither "ours" nor "not ours": 3, naming the key and the value.
wants invalid-sig "root=/dev/vda1 rd.verity.sig=Required" 3 'Invalid value for rd.verity.sig: "Required"'
wants invalid-verity "systemd.verity=maybe" 3 'Invalid value for systemd.verity: "maybe"'
wants invalid-timeout "rd.verity.timeout=0" 3 'Invalid value for rd.verity.timeout: "0"'
wants unknown-own-key "rd.verity.sigg=required" 3 'rd.verity.sigg="required"'
wants invalid-roothash "root=/dev/vda1 roothash=${H}0" 3 "Invalid value for roothash: \"${H}0\""
wants invalid-usrhash "usrhash=xyz" 3 'Invalid value for usrhash: "xyz"'
wants bare-data-key "systemd.verity_root_data" 3 'Invalid value for systemd.verity_root_data'

# Without --wants the setup refuses the boot in one more line.
if selected refuse-invalid; then
    with_cmdline "rd.verity.corruption=ignore" "$SETUP" --target root
    if [ "$rc" -eq 1 ] && echo "$out" | grep -q 'Invalid value for rd.verity.corruption: "ignore"' &&
        echo "$out" | grep -q 'refusing to boot the root file system: the kernel command line is invalid'; then
        pass refuse-invalid
    else fail refuse-invalid "exit $rc"; fi
fi

generate gen-not-ours "root=/dev/vda1"
generate gen-roothash "root=/dev/vda1 roothash=$H" systemd-cryptsetup@root.service systemd-veritysetup@root.service \
    verity-root-sysroot.service
generate gen-generic "quiet" sysroot.mount systemd-cryptsetup@root.service systemd-veritysetup@root.service \
    systemd-cryptsetup@usr.service systemd-veritysetup@usr.service sysroot-usr.mount sysusr-usr.mount \
    verity-root-sysroot.service
# systemd 258+ sets up /usr itself for mount.usr=dissect: the same units, its /sysusr/usr masked.
generate gen-usr-dissect "root=dissect mount.usr=dissect" sysroot.mount systemd-cryptsetup@root.service \
    systemd-veritysetup@root.service systemd-cryptsetup@usr.service systemd-veritysetup@usr.service \
    sysroot-usr.mount sysusr-usr.mount verity-root-sysroot.service
# Invalid: the root is taken (nothing else may mount /sysroot) so that its setup
# unit can stop the boot; fstab's root=/dev/vda1 must not win.
generate gen-invalid "root=/dev/vda1 rd.verity.sig=Required" sysroot.mount systemd-cryptsetup@root.service \
    systemd-veritysetup@root.service
generate gen-invalid-off "systemd.verity=0 rd.verity.check=some" sysroot.mount systemd-cryptsetup@root.service \
    systemd-veritysetup@root.service

# The automatic /usr's setup waits for the root's, which records the disk it reads; a /usr
# of usrhash= does not.
if selected gen-usr-after-root; then
    rm -rf "$W/gen" && mkdir -p "$W/gen/n" "$W/gen/e" "$W/gen/l"
    with_cmdline "root=dissect mount.usr=dissect" "$GENERATOR" "$W/gen/n" "$W/gen/e" "$W/gen/l"
    auto=$(cat "$W/gen/e/verity-root-setup@usr.service.d/after-root.conf" 2>/dev/null)
    rm -rf "$W/gen" && mkdir -p "$W/gen/n" "$W/gen/e" "$W/gen/l"
    with_cmdline "roothash=$H usrhash=$H" "$GENERATOR" "$W/gen/n" "$W/gen/e" "$W/gen/l"
    if ! printf '%s\n' "$auto" | grep -qx 'After=verity-root-setup@root.service'; then
        fail gen-usr-after-root "automatic /usr: no After=verity-root-setup@root.service drop-in"
    elif [ -e "$W/gen/e/verity-root-setup@usr.service.d/after-root.conf" ]; then
        fail gen-usr-after-root "usrhash=: the /usr setup must not wait for the root's"
    else pass gen-usr-after-root; fi
fi

# VERITY_ROOT_CMDLINE was once a test hook; production binaries must not honour it
# (a shell initrd exports kernel command line words into the environment).
printf 'systemd.verity=0\n' > "$W/env-cmdline"
if selected env-ignored-setup; then
    VERITY_ROOT_CMDLINE=$W/env-cmdline with_cmdline "quiet" "$SETUP" --wants --target root
    if [ "$rc" -eq 0 ]; then pass env-ignored-setup
    else fail env-ignored-setup "exit $rc: followed VERITY_ROOT_CMDLINE"; fi
fi
if selected env-ignored-generator; then
    rm -rf "$W/gen" && mkdir -p "$W/gen/n" "$W/gen/e" "$W/gen/l"
    VERITY_ROOT_CMDLINE=$W/env-cmdline with_cmdline "quiet" "$GENERATOR" "$W/gen/n" "$W/gen/e" "$W/gen/l"
    if [ -e "$W/gen/e/sysroot.mount" ]; then pass env-ignored-generator
    else fail env-ignored-generator "no sysroot.mount: followed VERITY_ROOT_CMDLINE"; fi
fi

summary
