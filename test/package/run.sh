#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Package test (make check-package): from a `make dist` tarball (a clean copy of the tree),
# build the tarball on its own, `make install` into a staging root, build the .deb with
# dpkg-buildpackage, run lintian (errors fail), unpack the .deb and check that dracut, man
# and the shell find what it ships, build real initrds with its dracut.conf.d snippet,
# compare --help with the man page, parse (and build) the RPM spec.
# Needs: dpkg-dev debhelper lintian scdoc rpm dracut-core man-db (test/install-deps.sh).
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD

passed=0
failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { # description command...
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
    echo
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

W=$(mktemp -d /tmp/vr-package.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT
t0=$(date +%s)

missing=
for tool in git make dpkg-buildpackage dh lintian scdoc rpmspec dracut lsinitrd man; do
    command -v "$tool" > /dev/null || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    fail "tools missing:$missing (run test/install-deps.sh)"
    finish
fi

VERSION=$(sed -nE 's/^VERSION +:= *//p' Makefile)
NAME=dracut-verity-$VERSION

# --- make dist: one versioned tarball of the tree, nothing built in it
if make -s dist DISTDIR="$W" B="$W/build-dist" > "$W/dist.log" 2>&1 && [ -f "$W/$NAME.tar.gz" ]; then
    pass "make dist wrote $NAME.tar.gz"
else
    cat "$W/dist.log"
    fail "make dist did not write $NAME.tar.gz"
    finish
fi
list=$(tar -tzf "$W/$NAME.tar.gz")
check "tarball has everything under $NAME/ and the debian/, man/, conf/ and spec sources" \
    bash -c '! grep -qv "^$1/" <<< "$2" && for f in Makefile debian/rules debian/control dracut-verity.spec \
        man/verity-root.1.scd conf/50-verity-root.conf modules.d/90verity-root/module-setup.sh LICENSE; do
        grep -qxF "$1/$f" <<< "$2" || { echo "missing $f"; exit 1; }; done' _ "$NAME" "$list"
check "tarball holds no build output" bash -c '! grep -E "/(build[^/]*|debian/dracut-verity)/|\.o$|\.deb$" <<< "$1"' _ "$list"

# --- the tarball builds on its own (no git), and make install stays inside DESTDIR+PREFIX
mkdir -p "$W/src"
tar -xzf "$W/$NAME.tar.gz" -C "$W/src"
S=$W/src/$NAME
if (cd "$S" && GIT_CEILING_DIRECTORIES="$W" make -j"$(nproc)") > "$W/tarball-make.log" 2>&1 &&
    [ -x "$S/build/verity-root" ] && [ -f "$S/build/man/verity-root.1" ] && [ -f "$S/build/man/dracut.verity-root.7" ]; then
    pass "the dist tarball builds on its own (binaries and man pages)"
else
    tail -n 30 "$W/tarball-make.log"
    fail "the dist tarball does not build on its own (log: $W/tarball-make.log)"
fi
P=/opt/vr-package-test-$$
if make -s -C "$S" install DESTDIR="$W/stage" PREFIX="$P" SYSCONFDIR="$P/etc" > "$W/install.log" 2>&1; then
    outside=$(cd "$W/stage" && find . -mindepth 1 \( -type f -o -type l \) ! -path ".$P/*")
    if [ -z "$outside" ] && [ ! -e "$P" ] && [ -x "$W/stage$P/bin/verity-root" ] &&
        [ -f "$W/stage$P/lib/dracut/modules.d/90verity-root/module-setup.sh" ] &&
        [ -f "$W/stage$P/share/man/man7/dracut.verity-root.7" ] &&
        [ -f "$W/stage$P/lib/dracut/dracut.conf.d/50-verity-root.conf" ] &&
        grep -q "verityroot_libexecdir:-$P/lib/dracut-verity}" "$W/stage$P/lib/dracut/modules.d/90verity-root/module-setup.sh"; then
        pass "make install DESTDIR= PREFIX=$P puts every file under DESTDIR$P and nothing else"
    else
        echo "files outside $P: ${outside:-none}"
        fail "make install DESTDIR= PREFIX=$P: wrong layout"
    fi
    make -s -C "$S" uninstall DESTDIR="$W/stage" PREFIX="$P" SYSCONFDIR="$P/etc" > /dev/null 2>&1
    left=$(find "$W/stage" \( -type f -o -type l \))
    check "make uninstall removes every installed file" test -z "$left"
else
    cat "$W/install.log"
    fail "make install DESTDIR= PREFIX=$P failed"
fi

# --- dpkg-buildpackage from another clean copy of the tarball
mkdir -p "$W/deb"
tar -xzf "$W/$NAME.tar.gz" -C "$W/deb"
if (cd "$W/deb/$NAME" && GIT_CEILING_DIRECTORIES="$W" dpkg-buildpackage -us -uc -b) > "$W/deb/build.log" 2>&1; then
    pass "dpkg-buildpackage -us -uc -b"
else
    tail -n 40 "$W/deb/build.log"
    fail "dpkg-buildpackage -us -uc -b (log: $W/deb/build.log)"
    finish
fi
deb=$(ls "$W"/deb/dracut-verity_*.deb)
changes=$(ls "$W"/deb/dracut-verity_*.changes)
check "the package build ran the unit tests, and only those" \
    bash -c 'grep -q "^\[  PASSED  \]" "$1" && ! grep -qE "^\[  FAILED  \]|qemu-system|test/boot|run-tests.sh" "$1"' _ "$W/deb/build.log"

# --- lintian: no errors (warnings and the rest are listed)
lintian_root=
[ "$(id -u)" -eq 0 ] && lintian_root=--allow-root
lintian $lintian_root -I -E --pedantic --show-overrides "$changes" > "$W/lintian.log" 2>&1
[ -s "$W/lintian.log" ] || echo "lintian: no tags"
for tag_kind in E W I P X O; do
    n=$(grep -c "^$tag_kind: " "$W/lintian.log")
    [ "$n" -gt 0 ] && echo "lintian $tag_kind: $n: $(grep "^$tag_kind: " "$W/lintian.log" | awk '{print $3}' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
done
check "lintian reports no errors" bash -c '! grep -q "^E: " "$1"' _ "$W/lintian.log"

# --- the unpacked package: where dracut, man and the shell look
R=$W/root
dpkg-deb -x "$deb" "$R"
fields=$(dpkg-deb -f "$deb" Package Version Depends Recommends)
check "control: dracut-verity $VERSION, Depends on dracut-core, dmsetup and the shared libraries" \
    bash -c 'grep -q "^Package: dracut-verity$" <<< "$1" && grep -q "^Version: $2$" <<< "$1" &&
        grep -qE "^Depends:.*dracut-core" <<< "$1" && grep -qE "^Depends:.*dmsetup" <<< "$1" &&
        grep -qE "^Depends:.*libcryptsetup12" <<< "$1" && grep -qE "^Depends:.*libudev1" <<< "$1"' _ "$fields" "$VERSION"
# systemd-veritysetup: systemd (252 on Debian 12) before 256, systemd-cryptsetup from 256.
check "control: Depends on what ships systemd-veritysetup on each release" \
    bash -c 'grep -qE "^Depends:.*systemd-cryptsetup \| systemd \(<< 256~\)" <<< "$1"' _ "$fields"
# Installing for real would change this machine's dracut; apt's simulation resolves the
# Depends against Debian 12 without touching it.
check "apt-get install --simulate of the .deb resolves its dependencies" \
    bash -c 'apt-get install -s "$1" > "$2" 2>&1 && grep -q "^Inst dracut-verity " "$2"' _ "$deb" "$W/apt-sim.log"
M=$R/usr/lib/dracut/modules.d/90verity-root
check "module in /usr/lib/dracut/modules.d/90verity-root with an executable module-setup.sh" test -x "$M/module-setup.sh"
check "module files have @LIBEXECDIR@ substituted with /usr/lib/dracut-verity" \
    bash -c '! grep -rq "@LIBEXECDIR@" "$1" && grep -q "verityroot_libexecdir:-/usr/lib/dracut-verity}" "$1/module-setup.sh"' _ "$M"
for h in verity-root-setup verity-root-generator verity-root-check; do
    check "helper /usr/lib/dracut-verity/$h is an executable ELF file" \
        bash -c '[ -x "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d " ")" = "177ELF" ]' _ "$R/usr/lib/dracut-verity/$h"
    # Whatever a boot helper links lands in every initrd: libsystemd.so.0 alone is 845 KB,
    # while libudev and libuuid are already there (BENCH.md, initrd size).
    check "helper $h does not link libsystemd (initrd size)" \
        bash -c 'readelf -d "$1" > "$2" && grep -q NEEDED "$2" && ! grep -q "libsystemd\.so" "$2"' \
        _ "$R/usr/lib/dracut-verity/$h" "$W/needed-$h"
done
check "/usr/bin/verity-root runs from the package: --version says $VERSION" \
    bash -c '[ "$("$1" --version)" = "verity-root $2" ]' _ "$R/usr/bin/verity-root" "$VERSION"
check "the package owns /etc/verity.d (empty)" bash -c '[ -d "$1" ] && [ -z "$(ls -A "$1")" ]' _ "$R/etc/verity.d"
for page in man1/verity-root.1 man7/dracut.verity-root.7; do
    f=$R/usr/share/man/$page.gz
    check "man page /usr/share/man/$page.gz renders with man -l, without warnings" \
        bash -c '[ -f "$1" ] && out=$(MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null) && [ -z "$out" ] &&
            [ "$(MANWIDTH=80 man -l "$1" 2>/dev/null | wc -l)" -gt 40 ]' _ "$f"
done
check "man finds verity-root(1) and dracut.verity-root(7) in the package's man tree" \
    bash -c '[ "$(MANPATH=$1/usr/share/man man -w 1 verity-root)" = "$1/usr/share/man/man1/verity-root.1.gz" ] &&
        [ "$(MANPATH=$1/usr/share/man man -w 7 dracut.verity-root)" = "$1/usr/share/man/man7/dracut.verity-root.7.gz" ]' _ "$R"
C=$R/usr/lib/dracut/dracut.conf.d/50-verity-root.conf
check "dracut.conf.d snippet in /usr/lib/dracut/dracut.conf.d, valid shell" bash -n "$C"
check "verity-root --help and verity-root inspect --help agree with man/verity-root.1.scd" \
    test/package/help-vs-man.sh "$R/usr/bin/verity-root" man/verity-root.1.scd

# --- dracut: a dracutbasedir that is the system's plus the packaged module and snippet
# (nothing is installed on this machine). The snippet must add the module to a plain
# dracut run exactly when the certificate directory holds *.crt files.
D=$W/dracut
mkdir -p "$D/modules.d" "$D/dracut.conf.d" "$W/conf" "$W/certs" "$W/nocerts"
for f in /usr/lib/dracut/*; do
    case ${f##*/} in modules.d | dracut.conf.d) ;; *) ln -s "$f" "$D/" ;; esac
done
for f in /usr/lib/dracut/modules.d/*; do
    [ "${f##*/}" = 90verity-root ] || ln -s "$f" "$D/modules.d/"
done
ln -s "$M" "$D/modules.d/90verity-root"
cp "$C" "$D/dracut.conf.d/"
test/lib/mkcert.sh "$W/certs" package-test > /dev/null
rm -f "$W/certs/package-test.key"
check "dracut --list-modules lists verity-root from the package" \
    bash -c 'dracutbasedir="$1" dracut --list-modules --no-kernel --conf /dev/null --confdir "$2" 2>/dev/null | grep -qx verity-root' _ "$D" "$W/conf"
kver=$(ls /lib/modules | sort -V | tail -n 1)
build_initrd() { # certdir out [dracut args...]
    local certdir=$1 out=$2
    shift 2
    printf 'verityroot_libexecdir=%s\nverityroot_certdir=%s\n' "$R/usr/lib/dracut-verity" "$certdir" > "$W/conf/10-test.conf"
    dracutbasedir="$D" dracut --force --no-kernel --no-compress --no-early-microcode --conf /dev/null \
        --confdir "$W/conf" "$@" "$out" "${kver:-0}" > "$out.log" 2>&1
}
initrd_modules() { lsinitrd -f usr/lib/dracut/modules.txt "$1" 2>/dev/null; }
export -f initrd_modules
# A plain dracut: no -m, no --add (the system's default module set, here with systemd).
if build_initrd "$W/certs" "$W/initrd-certs.img"; then
    check "plain dracut with a certificate: verity-root, its helpers, units and the certificate are in" \
        bash -c 'l=$(lsinitrd "$1" 2>/dev/null); initrd_modules "$1" | grep -qx verity-root &&
            grep -q " usr/lib/dracut-verity/verity-root-setup$" <<< "$l" && grep -q " etc/verity.d/package-test.crt$" <<< "$l" &&
            grep -q "system-generators/verity-root-generator$" <<< "$l" && grep -q "verity-root-setup@.service$" <<< "$l" &&
            grep -q "/systemd-veritysetup$" <<< "$l" && ! grep -q "should have surrounding white spaces" "$1.log"' _ "$W/initrd-certs.img"
else
    tail -n 20 "$W/initrd-certs.img.log"
    fail "plain dracut with a certificate failed (log: $W/initrd-certs.img.log)"
fi
if build_initrd "$W/nocerts" "$W/initrd-nocerts.img"; then
    check "plain dracut without certificates: verity-root is not added" \
        bash -c '! initrd_modules "$1" | grep -qx verity-root && initrd_modules "$1" | grep -qx base' _ "$W/initrd-nocerts.img"
else
    tail -n 20 "$W/initrd-nocerts.img.log"
    fail "plain dracut without certificates failed (log: $W/initrd-nocerts.img.log)"
fi
# An empty file of the same name in the admin's confdir (/etc/dracut.conf.d) opts out.
: > "$W/conf/50-verity-root.conf"
if build_initrd "$W/certs" "$W/initrd-optout.img" -m base; then
    check "an empty /etc/dracut.conf.d/50-verity-root.conf opts out despite a certificate" \
        bash -c '! initrd_modules "$1" | grep -qx verity-root && initrd_modules "$1" | grep -qx base' _ "$W/initrd-optout.img"
else
    tail -n 20 "$W/initrd-optout.img.log"
    fail "dracut with the opt-out file failed (log: $W/initrd-optout.img.log)"
fi
rm -f "$W/conf/50-verity-root.conf"

# --- RPM spec: parses, same version, and (when rpmbuild is there) builds with its %files
spec_version=$(rpmspec -q --qf '%{VERSION}\n' --srpm dracut-verity.spec 2>/dev/null)
check "rpmspec -P parses dracut-verity.spec" bash -c 'rpmspec -P dracut-verity.spec > /dev/null'
check "spec, Makefile and debian/changelog agree on version $VERSION" \
    bash -c '[ "$1" = "$2" ] && [ "$(dpkg-parsechangelog -S Version | sed "s/-[^-]*$//")" = "$2" ]' _ "$spec_version" "$VERSION"
if command -v rpmbuild > /dev/null; then
    mkdir -p "$W/rpm/SOURCES"
    cp "$W/$NAME.tar.gz" "$W/rpm/SOURCES/"
    # --nodeps: the BuildRequires are Fedora names, not in this machine's rpm database.
    if rpmbuild --define "_topdir $W/rpm" --nodeps -bb dracut-verity.spec > "$W/rpm/build.log" 2>&1; then
        files=$(rpm -qlp "$W"/rpm/RPMS/*/dracut-verity-"$VERSION"-*.rpm 2>/dev/null)
        check "rpmbuild -bb: %files holds the module, verity-root, the snippet and both man pages" \
            bash -c 'for f in /usr/lib/dracut/modules.d/90verity-root/module-setup.sh /usr/bin/verity-root \
                /usr/lib/dracut/dracut.conf.d/50-verity-root.conf /usr/share/man/man1/verity-root.1 \
                /usr/share/man/man7/dracut.verity-root.7 /usr/libexec/dracut-verity/verity-root-setup; do
                grep -qE "^$f(\.gz)?$" <<< "$1" || { echo "missing $f"; exit 1; }; done' _ "$files"
    else
        tail -n 30 "$W/rpm/build.log"
        fail "rpmbuild --nodeps -bb dracut-verity.spec (log: $W/rpm/build.log)"
    fi
fi

echo "package test took $(($(date +%s) - t0))s"
finish
