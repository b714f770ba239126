# shellcheck shell=bash
# Boot-test helpers: build initrds with the repo's dracut module (never
# installed into /usr), boot them under QEMU, assert on the serial console.
# Sourced by test/boot/run.sh and by every test/boot/cases/NN-*.sh.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
WORK=${WORK:-$(mktemp -d /var/tmp/dracut-verity-boot.XXXXXX)}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-150}
# Debugging aid, e.g. BOOT_APPEND_EXTRA="systemd.journald.forward_to_console=1 rd.debug".
BOOT_APPEND_EXTRA=${BOOT_APPEND_EXTRA:-}
MKROOT=$TOP/test/lib/mkroot.sh
MKDISK=$TOP/test/lib/mkdisk.sh
MODULE_SRC=$TOP/modules.d/90verity-root
# Another distribution's root (test/stacks/mkroot.sh): its compiler builds the helpers,
# its dracut the initrds, its kernel boots. test/stacks/run.sh sets it and binds $TOP
# and $WORK at the same paths inside. Empty: the host's own tools.
STACK_ROOT=${STACK_ROOT:-}
export TOP WORK STACK_ROOT

# Console lines the test root prints (test/lib/mkroot.sh).
INIT_MARKER='VERITY-ROOT-TEST: init reached'
# Printed by the initrd's emergency path, see emergency_overlay().
EMERGENCY_MARKER='VERITY-ROOT-TEST: emergency'

log() { echo "boot-test: $*" >&2; }

# A case calls fail or skip, then exits non-zero (set -e) or 77; run.sh reads
# the reason from $VERDICT.
fail() {
	echo "FAIL: $*" >> "${VERDICT:-/dev/null}"
	log "FAIL: $*"
	return 1
}

skip() {
	echo "SKIP: $*" >> "${VERDICT:-/dev/null}"
	exit 77
}

module_present() { [ -f "$MODULE_SRC/module-setup.sh" ]; }

require_module() { module_present || skip "module not present"; }

# in_stack CMD...: CMD on the host, or inside STACK_ROOT (same paths for $TOP and $WORK).
in_stack() {
	[ -n "$STACK_ROOT" ] || { "$@"; return; }
	[ "$STACK_ROOT$WORK" -ef "$WORK" ] || { fail "$WORK is not bound into $STACK_ROOT (use test/stacks/run.sh)"; return 1; }
	chroot "$STACK_ROOT" "$@"
}

newest_kernel() {
	local k
	k=$(ls "$STACK_ROOT"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1)
	[ -n "$k" ] || { fail "no kernel in $STACK_ROOT/boot (install linux-image-amd64)"; return 1; }
	echo "$k"
}

kernel_version() { local k; k=$(newest_kernel) || return 1; echo "${k#"$STACK_ROOT"/boot/vmlinuz-}"; }

# --- Images --------------------------------------------------------------

# make_root DIR ID [mkroot options, e.g. --image-version V]: the busybox test root.
make_root() {
	"$MKROOT" --id "$2" "${@:3}" "$1" >&2 || { fail "mkroot.sh $1 failed"; return 1; }
}

# make_usr_split_root ROOTDIR USRDIR ID: a test root whose /usr content lives
# in USRDIR (for a separate usr partition); / keeps an empty /usr mount point.
make_usr_split_root() {
	make_root "$1" "$3" || return 1
	rm -rf "$2"
	mv "$1/usr" "$2"
	mkdir "$1/usr"
	printf '%s\n' "$3-usr" > "$2/lib/verity-root-test-usr-id"
}

# make_trusted_cert TAG NAME CN: make_cert into $WORK/keys-TAG, and the certificate
# alone in $WORK/certs-TAG, the directory an initrd is built to trust (CERTDIR=).
make_trusted_cert() {
	make_cert "$WORK/keys-$1" "$2" "$3" || return 1
	mkdir -p "$WORK/certs-$1"
	cp "$WORK/keys-$1/$2.crt" "$WORK/certs-$1/"
}

# make_signed_root_usr_disk TAG ID [mkdisk-repart.sh options, e.g. --esp FAT]: certificate
# $WORK/certs-TAG/a.crt (CN verity-root-test-A), a test root ID with its /usr apart, and
# $WORK/disk-TAG.img holding both as verity sets signed by systemd-repart; evals
# ROOTHASH=, USRHASH=, ...
make_signed_root_usr_disk() {
	local tag=$1 out
	# Made once per WORK: a UKI built before the disk (for --esp) already trusts it.
	[ -f "$WORK/certs-$tag/a.crt" ] || make_trusted_cert "$tag" a "verity-root-test-A" || return 1
	make_usr_split_root "$WORK/root-$tag" "$WORK/usr-$tag" "$2" || return 1
	out=$("$TOP/test/lib/mkdisk-repart.sh" --with-usr "$WORK/usr-$tag" "${@:3}" --sign "$WORK/keys-$tag/a.key" \
		"$WORK/keys-$tag/a.crt" "$WORK/root-$tag" "$WORK/disk-$tag.img") \
		|| { fail "mkdisk-repart.sh --with-usr failed"; return 1; }
	eval "$out"
}

# make_disk IMAGE ROOTDIR [mkdisk options]: runs mkdisk.sh and evals its
# ROOTHASH=, DATA_UUID=, HASH_UUID=, SIG_UUID=, ... into the caller.
make_disk() {
	local image=$1 rootdir=$2 out
	shift 2
	out=$("$MKDISK" "$@" "$rootdir" "$image") || { fail "mkdisk.sh $* $rootdir $image failed"; return 1; }
	eval "$out"
}

# make_cert DIR NAME CN: self-signed RSA certificate DIR/NAME.crt + DIR/NAME.key.
make_cert() {
	mkdir -p "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$3" \
		-keyout "$1/$2.key" -out "$1/$2.crt" 2>/dev/null \
		|| { fail "openssl req for $3 failed"; return 1; }
}

# --- Initrds -------------------------------------------------------------

# Stages the module with `make install DESTDIR=` and builds a private dracut
# base directory whose modules.d holds every system module plus ours, so the
# host's /usr/lib/dracut stays untouched.
source_hash() {
	( cd "$TOP" && find modules.d helpers Makefile -type f 2>/dev/null | sort | xargs -r cat ) |
		sha256sum | cut -c1-16
}

# prepare_dracut stock|module: sets DRACUT_BASE.
prepare_dracut() {
	local variant=$1 f base=/usr/lib/dracut hash dir
	dir=$WORK/dracut-$variant
	DRACUT_BASE=$dir
	hash=$(source_hash)
	[ -d "$dir" ] && [ "$(cat "$dir/.source-hash" 2>/dev/null)" = "$hash" ] && return 0
	[ -x "$STACK_ROOT/usr/bin/dracut" ] || { fail "dracut missing in ${STACK_ROOT:-/} (install dracut-core)"; return 1; }
	rm -rf "$dir" "$dir.tmp"
	if [ "$variant" = module ]; then
		# A stack run has built $WORK/build already (test/stacks/run.sh): make reuses it.
		rm -rf "$WORK/stage"
		[ -n "$STACK_ROOT" ] || rm -rf "$WORK/build"
		in_stack make -C "$TOP" -s B="$WORK/build" DESTDIR="$WORK/stage" PREFIX=/usr install \
			> "$WORK/make-install.log" 2>&1 || {
			tail -n 40 "$WORK/make-install.log" >&2
			fail "make install DESTDIR=$WORK/stage failed (log: $WORK/make-install.log)"
			return 1
		}
		[ -f "$WORK/stage/usr/lib/dracut/modules.d/90verity-root/module-setup.sh" ] || {
			fail "make install staged no modules.d/90verity-root/module-setup.sh"
			return 1
		}
	fi
	mkdir -p "$dir.tmp/modules.d"
	# Links name paths as dracut sees them (inside STACK_ROOT, if set).
	for f in "$STACK_ROOT$base"/*; do
		case ${f##*/} in
		# Our own modules.d; distro drop-ins in dracut.conf.d would be
		# read even with --confdir, so only the staged ones go there.
		modules.d|dracut.conf.d) ;;
		*) ln -s "$base/${f##*/}" "$dir.tmp/${f##*/}" ;;
		esac
	done
	for f in "$STACK_ROOT$base"/modules.d/*; do
		ln -s "$base/modules.d/${f##*/}" "$dir.tmp/modules.d/${f##*/}"
	done
	if [ "$variant" = module ]; then
		# Replaces an installed copy, if the host has one.
		ln -sfn "$WORK/stage/usr/lib/dracut/modules.d/90verity-root" "$dir.tmp/modules.d/90verity-root"
		if [ -d "$WORK/stage/usr/lib/dracut/dracut.conf.d" ]; then
			mkdir -p "$dir.tmp/dracut.conf.d"
			for f in "$WORK/stage/usr/lib/dracut/dracut.conf.d"/*; do
				[ -e "$f" ] && ln -s "$f" "$dir.tmp/dracut.conf.d/${f##*/}"
			done
		fi
	else
		rm -f "$dir.tmp/modules.d/90verity-root"
	fi
	echo "$hash" > "$dir.tmp/.source-hash"
	mv "$dir.tmp" "$dir"
}

# Test-only overlay: when the initrd gives up (systemd emergency.target, or
# dracut's emergency hooks in the shell initrd with rd.shell=0), print a marker
# and power off, so negative cases end when the boot fails instead of at the
# QEMU timeout. The lean module set has no emergency.service of its own.
emergency_overlay() {
	local d=$WORK/overlay units
	[ -d "$d" ] && { echo "$d"; return 0; }
	rm -rf "$d.tmp"
	units=$d.tmp/etc/systemd/system
	mkdir -p "$units/emergency.target.wants" "$units/initrd.target.wants" \
		"$d.tmp/usr/lib/verity-root-test" \
		"$d.tmp/usr/lib/dracut/hooks/shutdown-emergency" "$d.tmp/usr/lib/dracut/hooks/emergency"
	# Only shell builtins and systemctl: the initrd has no grep.
	cat > "$d.tmp/usr/lib/verity-root-test/give-up.sh" <<-EOF
	#!/bin/sh
	# \$1: why; with --unless-sysroot only when /sysroot is not mounted.
	if [ "\$1" = --unless-sysroot ]; then
	        shift
	        while read -r _dev mp _rest; do
	                [ "\$mp" = /sysroot ] && exit 0
	        done < /proc/mounts
	fi
	echo "$EMERGENCY_MARKER (\$1)" > /dev/console
	systemctl --no-block poweroff --force
	EOF
	chmod 0755 "$d.tmp/usr/lib/verity-root-test/give-up.sh"
	cat > "$units/verity-root-test-emergency.service" <<-EOF
	[Unit]
	Description=verity-root boot test: report emergency and power off
	DefaultDependencies=no

	[Service]
	Type=oneshot
	ExecStart=/bin/sh /usr/lib/verity-root-test/give-up.sh emergency.target
	EOF
	# A root device that never appears only fails dependencies, which
	# triggers no OnFailure=: catch "initrd.target reached, no /sysroot".
	cat > "$units/verity-root-test-watch.service" <<-EOF
	[Unit]
	Description=verity-root boot test: power off if the initrd ends without a root
	DefaultDependencies=no
	After=initrd.target

	[Service]
	Type=oneshot
	ExecStart=/bin/sh /usr/lib/verity-root-test/give-up.sh --unless-sysroot "initrd.target without /sysroot"
	EOF
	ln -s ../verity-root-test-emergency.service "$units/emergency.target.wants/"
	ln -s ../verity-root-test-watch.service "$units/initrd.target.wants/"
	echo "echo '$EMERGENCY_MARKER (dracut emergency hook)' > /dev/console" \
		> "$d.tmp/usr/lib/dracut/hooks/shutdown-emergency/00-verity-root-test.sh"
	cp "$d.tmp/usr/lib/dracut/hooks/shutdown-emergency/00-verity-root-test.sh" "$d.tmp/usr/lib/dracut/hooks/emergency/"
	mv "$d.tmp" "$d"
	echo "$d"
}

# Console lines of probe_overlay's unit.
PROBE_MARKER='VERITY-ROOT-TEST: probe'

# probe_overlay SCRIPT: prints the directory of an initrd overlay (for build_initrd
# ... --include DIR /) whose unit runs the shell SCRIPT once the root (and /usr) are
# mounted and checked, before switch-root (systemd initrd only). Each line SCRIPT prints
# reaches the console as "$PROBE_MARKER LINE". Named by content: the initrd cache sees
# a changed SCRIPT. For what only the initrd can see, e.g. `dmsetup table`.
probe_overlay() {
	local d units
	d=$WORK/probe-$(printf '%s' "$1" | sha256sum | cut -c1-16)
	[ -d "$d" ] && { echo "$d"; return 0; }
	rm -rf "$d.tmp"
	units=$d.tmp/etc/systemd/system
	mkdir -p "$units/initrd.target.wants" "$d.tmp/usr/lib/verity-root-test"
	printf '%s\n' "$1" > "$d.tmp/usr/lib/verity-root-test/probe-body.sh"
	cat > "$d.tmp/usr/lib/verity-root-test/probe.sh" <<-EOF
	#!/bin/sh
	PATH=/usr/sbin:/usr/bin:/sbin:/bin
	export PATH
	sh /usr/lib/verity-root-test/probe-body.sh 2>&1 | while IFS= read -r line; do
	        echo "$PROBE_MARKER \$line"
	done > /dev/console
	EOF
	cat > "$units/verity-root-test-probe.service" <<-EOF
	[Unit]
	Description=verity-root boot test: probe the initrd before switch-root
	DefaultDependencies=no
	After=initrd-fs.target verity-root-sysroot.service
	Before=initrd.target

	[Service]
	Type=oneshot
	ExecStart=/bin/sh /usr/lib/verity-root-test/probe.sh
	EOF
	ln -s ../verity-root-test-probe.service "$units/initrd.target.wants/"
	mv "$d.tmp" "$d"
	echo "$d"
}

# build_initrd OUT [systemd|shell|stock-systemd|stock-shell] [extra dracut args...]
# systemd/shell add the verity-root module (from `make install DESTDIR=`);
# stock-* never do. One initrd per distinct flavour, args, sources and
# certificate set per run, hard-linked to OUT. CERTDIR (env): the *.crt files
# the module installs as trusted (verityroot_certdir); CERTROOT (env) instead: a tree
# whose etc, run, usr/local/lib and usr/lib verity.d directories the module reads as it
# reads the host's (verityroot_certroot).
build_initrd() {
	local out=$1 flavour=${2:-systemd} key conf kver overlay t0 t1 modules omit variant=module
	shift 2 || shift $#
	case $flavour in
	stock-*) variant=stock ;;
	*) module_present || { fail "build_initrd $flavour: $MODULE_SRC/module-setup.sh missing"; return 1; } ;;
	esac
	case ${flavour#stock-} in
	systemd)
		modules="systemd systemd-initrd systemd-veritysetup dm rootfs-block udev-rules base fs-lib"
		omit="kernel-modules" ;;
	shell)
		modules="base rootfs-block dm udev-rules fs-lib"
		omit="systemd kernel-modules" ;;
	*) fail "build_initrd: unknown flavour $flavour"; return 1 ;;
	esac
	[ "$variant" = stock ] || modules+=" verity-root"
	# The module needs no dracut-systemd; WITH_DRACUT_SYSTEMD=1 adds it, as full initrds have it.
	[ "${WITH_DRACUT_SYSTEMD:-0}" = 0 ] || [ "${flavour#stock-}" != systemd ] || modules+=" dracut-systemd"
	prepare_dracut "$variant" || return 1
	kver=$(kernel_version) || return 1
	key=$( { echo "$flavour $kver $* ${WITH_DRACUT_SYSTEMD:-0} ${NO_EMERGENCY_OVERLAY:-0} ${VERITYROOT_TPM2:-}"; source_hash;
		[ -n "${CERTDIR:-}" ] && cat "$CERTDIR"/*.crt 2>/dev/null
		[ -n "${CERTROOT:-}" ] && find "$CERTROOT" -printf '%p %s %l\n' | sort
		[ -n "${IPE_POLICY:-}" ] && cat "$IPE_POLICY"; } | sha256sum | cut -c1-16)
	local img=$WORK/initrd-$flavour-$key.img
	if [ ! -f "$img" ]; then
		conf=$WORK/conf-$key
		mkdir -p "$conf" "$WORK/certs-$key"
		[ -z "${CERTDIR:-}" ] || cp "$CERTDIR"/*.crt "$WORK/certs-$key"/ 2>/dev/null || true
		if [ -n "${CERTROOT:-}" ]; then
			cat > "$conf/verity-root.conf" <<-EOF
			verityroot_libexecdir="$WORK/stage/usr/lib/dracut-verity"
			verityroot_certroot="$CERTROOT"
			EOF
		else
			cat > "$conf/verity-root.conf" <<-EOF
			verityroot_libexecdir="$WORK/stage/usr/lib/dracut-verity"
			verityroot_certdir="$WORK/certs-$key"
			EOF
		fi
		# VERITYROOT_TPM2=yes|no|auto: the module's verityroot_tpm2= (TPM libraries).
		[ -z "${VERITYROOT_TPM2:-}" ] || echo "verityroot_tpm2=\"$VERITYROOT_TPM2\"" >> "$conf/verity-root.conf"
		# IPE_POLICY=FILE (under $WORK): the module's verityroot_ipe_policy= (a signed IPE policy).
		[ -z "${IPE_POLICY:-}" ] || echo "verityroot_ipe_policy=\"$IPE_POLICY\"" >> "$conf/verity-root.conf"
		# NO_EMERGENCY_OVERLAY=1: the initrd's own emergency path ends a failed boot.
		overlay=$(emergency_overlay)
		[ "${NO_EMERGENCY_OVERLAY:-0}" = 0 ] || overlay=$WORK/no-overlay
		mkdir -p "$overlay"
		t0=$(date +%s)
		# --stdlog 4: info, the default of dracut 059 but not of dracut-ng; the check
		# below reads its "Including module" lines.
		if ! in_stack env dracutbasedir="$DRACUT_BASE" dracut --force --stdlog 4 --no-hostonly --no-compress \
			--conf /dev/null --confdir "$conf" --kver "$kver" --kmoddir "/lib/modules/$kver" \
			-m "$modules" --omit "$omit" \
			--force-drivers "virtio_blk virtio_pci dm_verity erofs ext4 squashfs" \
			--include "$overlay" / "$@" "$img.tmp" "$kver" > "$WORK/dracut-$key.log" 2>&1; then
			tail -n 40 "$WORK/dracut-$key.log" >&2
			fail "dracut ($flavour $*) failed, log: $WORK/dracut-$key.log"
			rm -f "$img.tmp"
			return 1
		fi
		# dracut-ng goes on after a dfatal (e.g. "Failed to install switch_root").
		if grep -q '^dracut\[F\]' "$WORK/dracut-$key.log"; then
			grep '^dracut\[F\]' "$WORK/dracut-$key.log" >&2
			fail "dracut ($flavour $*) reported a fatal error, log: $WORK/dracut-$key.log"
			rm -f "$img.tmp"
			return 1
		fi
		# Belt and braces: a check() returning 1 must not go unnoticed.
		if [ "$variant" = module ] && ! grep -q "Including module: verity-root" "$WORK/dracut-$key.log"; then
			tail -n 40 "$WORK/dracut-$key.log" >&2
			fail "dracut did not include verity-root, log: $WORK/dracut-$key.log"
			return 1
		fi
		mv "$img.tmp" "$img"
		t1=$(date +%s)
		echo "dracut $flavour ($*): $((t1 - t0)) s, $(du -m "$img" | cut -f1) MB" >> "$WORK/timings"
		log "built initrd $flavour ($*) in $((t1 - t0)) s"
	fi
	ln -f "$img" "$out" 2>/dev/null || cp "$img" "$out"
}

# --- QEMU ----------------------------------------------------------------

# Under TCG on a loaded host the clocksource watchdog may find the TSC skewed and mark
# it unstable while the guest runs; Linux 6.12 and 7.2 then patch the sched_clock static
# key and sometimes oops in sched_clock_cpu ("Oops: int3", seen in trixie and sid
# guests). tsc=reliable skips that watchdog; QEMU's TSC follows the host's clock.
TCG_APPEND=${TCG_APPEND-tsc=reliable}

# guest_kernel_died LOG RC QEMU-ARGS...: whether the guest's kernel oopsed on a stale int3
# (no userspace causes that), or hung before it started any userspace. Under
# multi-threaded TCG, QEMU 7.2 sometimes runs a translated block from before the
# kernel's own text patching (static keys: "Oops: int3" in sched_clock_cpu or
# crng_make_state, or a hang right after "sched_clock: Marking stable"); neither is the
# initrd's doing, so qemu_boot boots once more. Not with a TPM: swtpm serves one
# connection.
guest_kernel_died() {
	local log=$1 rc=$2
	shift 2
	case " $* " in *tpmdev*) return 1 ;; esac
	[ -f "$log" ] || return 1
	grep -q 'Oops: int3' "$log" && return 0
	[ "$rc" = 124 ] && ! grep -q 'Run .* as init process' "$log"
}

# qemu_boot NAME LABEL QEMU-ARGS...: runs QEMU (TCG, serial console to
# $WORK/NAME.log) until the guest powers off or QEMU_TIMEOUT; $WORK/NAME.rc holds
# QEMU's status (124 = timed out); prints the console log path.
qemu_boot() {
	local name=$1 label=$2 log=$WORK/$1.log rc t0 t1 qemu_lock attempt
	shift 2
	command -v qemu-system-x86_64 >/dev/null || { fail "qemu-system-x86_64 missing (install qemu-system-x86)"; return 1; }
	rm -f "$log"
	# One guest at a time on this machine (concurrent runs, helpers in other worktrees):
	# two TCG guests on two cores double every timing the cases look at.
	exec {qemu_lock}>>"${QEMU_LOCK:-/tmp/dracut-verity-qemu.lock}"
	flock "$qemu_lock"
	t0=$(date +%s)
	for attempt in 1 2; do
		# TCG, not KVM: guests hang under -accel kvm on these machines.
		timeout --kill-after=5 "$QEMU_TIMEOUT" qemu-system-x86_64 \
			-accel "${QEMU_ACCEL:-tcg}" -smp 2 -no-reboot -nodefaults -display none -monitor none \
			-nic none -serial "file:$log" "$@" < /dev/null > "$WORK/$name.qemu.log" 2>&1
		rc=$?
		guest_kernel_died "$log" "$rc" "$@" || break
		[ "$attempt" -eq 1 ] || break
		log "$name: the guest kernel oopsed on a stale int3 or hung before userspace (TCG; see $WORK/$name.died.log): booting again"
		mv "$log" "$WORK/$name.died.log"
	done
	t1=$(date +%s)
	exec {qemu_lock}>&-
	echo "$rc" > "$WORK/$name.rc"
	# Plain text for the assertions: no colours (systemd 257+ also writes ESC [ 0;1;38:5:185 m
	# with colons), cursor moves, terminal resets (257+ sends ESC [ ! p and OSC 104 on the
	# console) or CRs. NAME.raw.log keeps the bytes as the console got them, for tests
	# about what reaches the terminal.
	[ -f "$log" ] && cp "$log" "$WORK/$name.raw.log"
	[ -f "$log" ] && sed -i 's/\x1b\][^\x07\x1b]*\(\x07\|\x1b\\\)//g; s/\x1b\[[0-9;:?!]*[A-Za-z]//g; s/\x1b[A-Z]//g; s/\r//g' "$log"
	echo "$label $name: $((t1 - t0)) s wall, rc $rc" >> "$WORK/timings"
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
		cat "$WORK/$name.qemu.log" >&2
		fail "qemu $name exited with $rc"
		return 1
	fi
	echo "$log"
}

# qemu_disks [--boot] DISK...: QEMU arguments (one per line) for read-only virtio disks,
# in order (vda, vdb, ...). --boot: the first disk is the firmware's boot device
# (bootindex=0). The PC bus has 30 free slots: beyond 8 disks, 8 share a slot as
# functions of one device.
qemu_disks() {
	local d i=0 boot= dev
	[ "${1:-}" != --boot ] || { boot=1; shift; }
	if [ "$#" -le 8 ] && [ -z "$boot" ]; then
		for d in "$@"; do printf '%s\n' -drive "file=$d,if=virtio,format=raw,readonly=on"; done
		return
	fi
	for d in "$@"; do
		dev=virtio-blk-pci,drive=vd$i
		[ "$#" -le 8 ] || dev+=$(printf ',addr=0x%x.%x' $((2 + i / 8)) $((i % 8)))
		[ "$#" -le 8 ] || [ $((i % 8)) -ne 0 ] || dev+=,multifunction=on
		[ -z "$boot" ] || [ "$i" -ne 0 ] || dev+=,bootindex=0
		printf '%s\n' -drive "file=$d,if=none,id=vd$i,format=raw,readonly=on" -device "$dev"
		i=$((i + 1))
	done
}

# run_qemu NAME INITRD APPEND DISK...: boots, returns when the guest powers
# off or after QEMU_TIMEOUT seconds; prints the console log path.
# $WORK/NAME.rc holds QEMU's status (124 = timed out). QEMU_EXTRA_ARGS (env, split on
# blanks): more QEMU arguments, e.g. a TPM (see swtpm_args).
run_qemu() {
	local name=$1 initrd=$2 append=$3 kernel drives=() extra=()
	shift 3
	kernel=$(newest_kernel) || return 1
	mapfile -t drives < <(qemu_disks "$@")
	read -ra extra <<< "${QEMU_EXTRA_ARGS:-}"
	qemu_boot "$name" qemu -m 1024 -kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 rd.shell=0 rd.emergency=poweroff printk.time=1 $TCG_APPEND $append${BOOT_APPEND_EXTRA:+ $BOOT_APPEND_EXTRA}" \
		"${drives[@]}" "${extra[@]}"
}

# swtpm_start DIR: a fresh software TPM 2.0 (swtpm) with its state in DIR, serving one
# QEMU through DIR/sock and exiting with it; prints the QEMU arguments of a tpm-tis
# device on it, for QEMU_EXTRA_ARGS.
swtpm_start() {
	command -v swtpm >/dev/null || { fail "swtpm missing (install swtpm swtpm-tools)"; return 1; }
	rm -rf "$1"
	mkdir -p "$1"
	swtpm socket --tpm2 --tpmstate "dir=$1" --ctrl "type=unixio,path=$1/sock" --terminate \
		--log "file=$1/swtpm.log" > /dev/null 2>&1 &
	local i
	for i in $(seq 50); do
		[ -S "$1/sock" ] && break
		sleep 0.1
	done
	[ -S "$1/sock" ] || { fail "swtpm did not create $1/sock"; return 1; }
	echo "-chardev socket,id=chrtpm,path=$1/sock -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0"
}

qemu_timed_out() { [ "$(cat "${1%.log}.rc" 2>/dev/null)" = 124 ]; }

show_tail() {
	log "last 40 console lines of $1:"
	tail -n 40 "$1" | sed 's/^/    | /' >&2
}

# --- Assertions ----------------------------------------------------------
# Extended regexes, case-insensitive, against the console log.

expect_console() {
	grep -Eiq -- "$2" "$1" && return 0
	show_tail "$1"
	fail "console lacks /$2/${3:+ ($3)}"
}

expect_no_console() {
	local hit
	hit=$(grep -Eim1 -- "$2" "$1") || return 0
	show_tail "$1"
	fail "console has /$2/: $hit${3:+ ($3)}"
}

# Kernel-style timestamp ("[   12.345678]") of the first line matching a
# regex, in whole seconds; empty when the line has none.
console_uptime() {
	grep -Eim1 -- "$2" "$1" | sed -n 's/^[^[]*\[ *\([0-9]\{1,\}\)\.[0-9]\{1,\}\].*/\1/p'
}

# expect_within LOG REGEX SECONDS: the line appears, and if it carries a kernel
# timestamp, before SECONDS of guest uptime. Without a timestamp the line must
# come before any systemd device timeout. A behaviour bound, not a benchmark.
expect_within() {
	local t
	expect_console "$1" "$2" || return 1
	t=$(console_uptime "$1" "$2")
	if [ -n "$t" ]; then
		[ "$t" -lt "$3" ] && return 0
		show_tail "$1"
		fail "/$2/ appeared at ${t} s guest uptime, bound ${3} s"
		return 1
	fi
	local first_line timeout_line
	first_line=$(grep -Ein -m1 -- "$2" "$1" | cut -d: -f1)
	timeout_line=$(grep -Ein -m1 -- 'Timed out waiting for device' "$1" | cut -d: -f1)
	[ -z "$timeout_line" ] || [ "$first_line" -lt "$timeout_line" ] && return 0
	show_tail "$1"
	fail "/$2/ appeared only after a device timeout"
}

# expect_booted LOG: the test root's init ran.
expect_booted() { expect_console "$1" "$INIT_MARKER" "init of the test root not reached"; }

expect_not_booted() { expect_no_console "$1" "$INIT_MARKER" "the root must not boot"; }

# expect_init_field LOG KEY VALUE: e.g. root /dev/mapper/root on the init line.
expect_init_field() {
	local line
	line=$(grep -m1 -- "$INIT_MARKER" "$1") || { expect_booted "$1"; return 1; }
	case " $line " in
	*" $2=$3 "*) return 0 ;;
	esac
	fail "init line has no $2=$3: $line"
}

expect_id() {
	grep -q -- "VERITY-ROOT-TEST: id=$2 " "$1" && return 0
	fail "booted root is not id=$2: $(grep -m1 'VERITY-ROOT-TEST: id=' "$1")"
}

# Guest uptime at init, from the init line.
init_uptime() { grep -m1 -- "$INIT_MARKER" "$1" | sed -n 's/.*uptime=\([0-9.]*\).*/\1/p'; }

# --- UKIs and UEFI boots ---------------------------------------------------

UEFI_STUB=${UEFI_STUB:-/usr/lib/systemd/boot/efi/linuxx64.efi.stub}
OVMF_CODE=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
UKI_CONF=$TOP/conf/uki-virt.conf
# The kernel got the UKI's embedded initrd from systemd-stub: its EFI stub says so
# (kernel 6.1), or newer kernels list the stub's INITRD= table (6.12, 7.x).
STUB_MARKER='EFI stub: Loaded initrd|efi: .* INITRD=0x'

# build_uki OUT CMDLINE [extra dracut args...]: a UKI (dracut --uefi, stub from
# systemd-boot-efi) with the module, configured by conf/uki-virt.conf and the
# lean module set of build_initrd, CMDLINE embedded in its .cmdline section.
# CERTDIR as for build_initrd.
build_uki() {
	local out=$1 cmdline=$2 conf
	shift 2
	[ -f "$STACK_ROOT$UEFI_STUB" ] || { fail "UEFI stub $STACK_ROOT$UEFI_STUB missing (install systemd-boot-efi)"; return 1; }
	[ -f "$UKI_CONF" ] || { fail "$UKI_CONF missing"; return 1; }
	# Named by content, so the initrd cache key changes with the snippet.
	conf=$WORK/uki-virt-$(sha256sum < "$UKI_CONF" | cut -c1-16).conf
	cp "$UKI_CONF" "$conf"
	# A later --conf replaces build_initrd's --conf /dev/null; its --no-compress
	# still wins over the snippet's compress=.
	build_initrd "$out" systemd --conf "$conf" --uefi --uefi-stub "$UEFI_STUB" \
		--kernel-cmdline "$cmdline${TCG_APPEND:+ $TCG_APPEND}" "$@" || return 1
	# A plain initrd here would mean --uefi was ignored: PE files start with MZ.
	[ "$(head -c2 "$out")" = MZ ] || { fail "dracut --uefi did not write a PE image: $out"; return 1; }
}

# make_esp_fat FAT UKI: a FAT file system image holding UKI as \EFI\BOOT\BOOTX64.EFI,
# the removable-media path firmware boots without any boot entry (mkfs.vfat +
# mtools into a plain file: no loop devices). Put it on a disk with make_esp, or
# beside a root with make_disk ... --extra-partition esp:FAT.
make_esp_fat() {
	local fat=$1 uki=$2 mib
	command -v mkfs.vfat >/dev/null || { fail "mkfs.vfat missing (install dosfstools)"; return 1; }
	command -v mcopy >/dev/null || { fail "mcopy missing (install mtools)"; return 1; }
	mib=$(( $(stat -c %s "$uki") / 1048576 + 16 ))
	rm -f "$fat"
	mkfs.vfat -n ESP -C "$fat" $((mib * 1024)) > /dev/null || { fail "mkfs.vfat $fat failed"; return 1; }
	if ! mmd -i "$fat" ::/EFI ::/EFI/BOOT || ! mcopy -i "$fat" "$uki" ::/EFI/BOOT/BOOTX64.EFI; then
		fail "mcopy $uki to $fat failed"
		return 1
	fi
}

# make_esp IMAGE UKI: a GPT disk whose only partition is a FAT ESP (make_esp_fat).
make_esp() {
	local image=$1 fat=$1.fat mib
	make_esp_fat "$fat" "$2" || return 1
	mib=$(( $(stat -c %s "$fat") / 1048576 ))
	rm -f "$image"
	truncate -s $(( (mib + 2) * 1048576 )) "$image"
	printf 'label: gpt\nstart=2048, size=%d, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"\n' \
		$((mib * 2048)) | sfdisk -q "$image" > /dev/null || { fail "sfdisk $image failed"; return 1; }
	dd if="$fat" of="$image" bs=1M seek=1 conv=notrunc status=none || { fail "dd $fat into $image failed"; return 1; }
	rm -f "$fat"
}

# run_qemu_uefi NAME ESP DISK...: boots OVMF (pflash code read-only, a fresh
# copy of the variable store) with ESP as the first boot device and no
# -kernel/-initrd/-append: the firmware finds and starts the UKI itself.
# Prints the console log path like run_qemu; $WORK/NAME.rc as there.
run_qemu_uefi() {
	local name=$1 esp=$2 vars drives=()
	shift 2
	if [ ! -f "$OVMF_CODE" ] || [ ! -f "$OVMF_VARS" ]; then
		fail "$OVMF_CODE or $OVMF_VARS missing (install ovmf)"
		return 1
	fi
	vars=$WORK/$name.vars.fd
	cp "$OVMF_VARS" "$vars"
	# The ESP is the first (only indexed) boot device.
	mapfile -t drives < <(qemu_disks --boot "$esp" "$@")
	qemu_boot "$name" qemu-uefi -m 1024 \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
		-drive "if=pflash,format=raw,unit=1,file=$vars" \
		"${drives[@]}"
}

# The owner GUID the test certificates are added to db with (any GUID will do).
DB_OWNER=${DB_OWNER:-7d9c1a52-3f0e-4b6a-9a43-5a1c0b7e2e11}

# ovmf_vars_with_db OUT CERT...: a copy of OVMF's variable store whose UEFI db holds the
# PEM certificates CERT (virt-fw-vars, python3-virt-firmware; from the stack root when
# there is one). Linux loads db into its .platform keyring at boot; secure boot stays off.
# No CERT: the plain store (db empty).
ovmf_vars_with_db() {
	local out=$1 c args=()
	shift
	[ -f "$OVMF_VARS" ] || { fail "$OVMF_VARS missing (install ovmf)"; return 1; }
	cp "$OVMF_VARS" "$WORK/ovmf-vars.in.fd"
	for c in "$@"; do args+=(--add-db "$DB_OWNER" "$c"); done
	if [ "$#" -eq 0 ]; then
		cp "$WORK/ovmf-vars.in.fd" "$out"
		return
	fi
	[ -x "$STACK_ROOT/usr/bin/virt-fw-vars" ] || { fail "virt-fw-vars missing in ${STACK_ROOT:-/} (install python3-virt-firmware)"; return 1; }
	in_stack virt-fw-vars --input "$WORK/ovmf-vars.in.fd" --output "$out" "${args[@]}" > "$out.log" 2>&1 ||
		{ cat "$out.log" >&2; fail "virt-fw-vars could not add $* to db"; return 1; }
}

# run_qemu_ovmf NAME VARS INITRD APPEND DISK...: as run_qemu, but through OVMF (its EFI
# stub starts the kernel) with a copy of the variable store VARS (ovmf_vars_with_db), so
# that the kernel reads UEFI db.
run_qemu_ovmf() {
	local name=$1 vars=$2 initrd=$3 append=$4 kernel drives=() extra=()
	shift 4
	[ -f "$OVMF_CODE" ] || { fail "$OVMF_CODE missing (install ovmf)"; return 1; }
	kernel=$(newest_kernel) || return 1
	cp "$vars" "$WORK/$name.vars.fd"
	mapfile -t drives < <(qemu_disks "$@")
	read -ra extra <<< "${QEMU_EXTRA_ARGS:-}"
	# One TCG thread for both vCPUs: with a thread each (MTTCG), guests booted through OVMF
	# oopsed on a stale int3 after the kernel's text patching ("Oops: int3" in
	# crng_make_state, sched_clock_cpu) in 2 of 10 boots; none with one thread.
	QEMU_ACCEL=${QEMU_ACCEL:-tcg,thread=single} qemu_boot "$name" qemu-ovmf -m 1024 \
		-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
		-drive "if=pflash,format=raw,unit=1,file=$WORK/$name.vars.fd" \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 rd.shell=0 rd.emergency=poweroff printk.time=1 $TCG_APPEND $append${BOOT_APPEND_EXTRA:+ $BOOT_APPEND_EXTRA}" \
		"${drives[@]}" "${extra[@]}"
}

# --- Initramfs-less boots (CONFIG_DM_INIT) ---------------------------------

DM_INIT_KERNEL=${DM_INIT_KERNEL:-/var/tmp/dracut-verity-dm-init/bzImage}

# verity_root_cli: path of the repo's verity-root CLI, built into $WORK/build.
verity_root_cli() {
	make -C "$TOP" -s B="$WORK/build" "$WORK/build/verity-root" > "$WORK/make-cli.log" 2>&1 || {
		tail -n 40 "$WORK/make-cli.log" >&2
		fail "building verity-root failed (log: $WORK/make-cli.log)"
		return 1
	}
	echo "$WORK/build/verity-root"
}

# run_qemu_noinitrd NAME KERNEL APPEND DISK...: boots KERNEL with no initrd
# at all; otherwise as run_qemu (console log path, $WORK/NAME.rc).
run_qemu_noinitrd() {
	local name=$1 kernel=$2 append=$3 drives=()
	shift 3
	mapfile -t drives < <(qemu_disks "$@")
	qemu_boot "$name" qemu-noinitrd -m 512 -kernel "$kernel" \
		-append "console=ttyS0 panic=-1 printk.time=1 $TCG_APPEND $append${BOOT_APPEND_EXTRA:+ $BOOT_APPEND_EXTRA}" \
		"${drives[@]}"
}
