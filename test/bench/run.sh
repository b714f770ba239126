#!/bin/bash
# `make bench`: what the verity-root module costs, next to stock dracut +
# systemd-veritysetup, measured in one run. Every figure is a ratio against a
# baseline measured in the same run; variants are interleaved (A B C D A B C D
# ...) so that drift and other load hit all of them alike.
#
# Writes BENCH.md and bench-results.tsv (raw numbers, one per line) into the
# top directory. Not part of `make check`; needs root, QEMU, dracut (as the
# boot tests do) and hyperfine.
#
# Env: BENCH_REPS=9       boots per variant for figures 1 and 6 (a b c d t tn): a 2% target
#                         needs more than 5 rounds against a ±5% boot-to-boot spread
#      BENCH_VARIANTS="a b c d t tn"  figure 1 and 6 variants booted in every round
#                         (a is every ratio's baseline)
#      BENCH_EXTRA_REPS=3 boots per variant for figure 2 (corrupted block)
#      BENCH_BOOT_EXTRA="ads a16 c16 a128 c128 a8d c8d a32d c32d"  stock with
#                         dracut-systemd (figure 1) and boot-time discovery as the work
#                         grows (figure 4), interleaved with figure 1's rounds
#      BENCH_EXTRA_BOOT_REPS=2  rounds (of BENCH_REPS) that include them
#      BENCH_HF_ROUNDS=5 BENCH_HF_RUNS=20   hyperfine rounds x runs (figures 4, 5)
#      BENCH_STOCK_TIMEOUT=30  DefaultDeviceTimeoutSec for the corrupted-block boots
#      BENCH_OUT=DIR      where BENCH.md and bench-results.tsv go (top directory)
#      WORK=DIR           reuse a work dir (initrds are cached there); KEEP_WORK=1
set -u

here=$(cd "$(dirname "$0")" && pwd)
export TOP=${TOP:-$(cd "$here/../.." && pwd)}
export WORK=${WORK:-$(mktemp -d /var/tmp/dracut-verity-bench.XXXXXX)}
mkdir -p "$WORK"
# shellcheck source=../boot/lib.sh
. "$TOP/test/boot/lib.sh"
# shellcheck source=lib.sh
. "$here/lib.sh"

REPS=${BENCH_REPS:-9}
VARIANTS=${BENCH_VARIANTS:-a b c d t tn}
EXTRA_REPS=${BENCH_EXTRA_REPS:-3}
BOOT_EXTRA=${BENCH_BOOT_EXTRA:-ads a16 c16 a128 c128 a8d c8d a32d c32d}
EXTRA_BOOT_REPS=${BENCH_EXTRA_BOOT_REPS:-2}
HF_ROUNDS=${BENCH_HF_ROUNDS:-5}
HF_RUNS=${BENCH_HF_RUNS:-20}
STOCK_TIMEOUT=${BENCH_STOCK_TIMEOUT:-30}
OUT=${BENCH_OUT:-$TOP}
RESULTS=$WORK/bench-results.tsv
VR=$TOP/build/verity-root

preflight() {
	local t missing=
	for t in qemu-system-x86_64 dracut mkfs.erofs veritysetup sfdisk openssl hyperfine \
		jq zstd cpio timeout awk swtpm; do
		command -v "$t" >/dev/null || missing+=" $t"
	done
	[ -x "$VR" ] || missing+=" $VR(make)"
	[ "$(id -u)" = 0 ] || missing+=" root-privileges"
	[ -z "$missing" ] || die "missing:$missing (run test/install-deps.sh, make)"
}

# --- Fixtures --------------------------------------------------------------

# One root, one signed disk used by every figure-1 boot, and its variants.
make_fixtures() {
	local alg i extras=()
	phase "fixtures"
	make_root "$WORK/root" bench || die "make_root failed"
	for alg in rsa2048 rsa4096 ec256; do
		"$TOP/test/lib/mkcert.sh" "$WORK/keys" "$alg" "$alg" || die "mkcert.sh $alg failed"
		mkdir -p "$WORK/certs-$alg"
		cp "$WORK/keys/$alg.crt" "$WORK/certs-$alg/"
		make_disk "$WORK/disk-$alg.img" "$WORK/root" --sign "$WORK/keys/$alg.key" "$WORK/keys/$alg.crt" \
			|| die "mkdisk $alg failed"
		printf -v "HASH_$alg" %s "$ROOTHASH"
	done
	# Figure 1 disk = the RSA-2048 one.
	DISK=$WORK/disk-rsa2048.img HASH=$HASH_rsa2048
	make_disk "$WORK/disk-corrupt.img" "$WORK/root" --corrupt-data-block 0 || die "mkdisk corrupt failed"
	HASH_CORRUPT=$ROOTHASH
	# Many partitions: 3 (root, verity, signature) + extras, up to the 128
	# entries of a default GPT.
	truncate -s 4096 "$WORK/dummy.part"
	for i in $(seq 1 125); do
		extras+=(--extra-partition "generic:$WORK/dummy.part:extra$i")
		if [ "$i" = 13 ]; then
			make_disk "$WORK/disk-p16.img" "$WORK/root" --sign "$WORK/keys/rsa2048.key" \
				"$WORK/keys/rsa2048.crt" "${extras[@]}" || die "mkdisk p16 failed"
			HASH_P16=$ROOTHASH
		fi
	done
	make_disk "$WORK/disk-p128.img" "$WORK/root" --sign "$WORK/keys/rsa2048.key" \
		"$WORK/keys/rsa2048.crt" "${extras[@]}" || die "mkdisk p128 failed"
	HASH_P128=$ROOTHASH
	# Other disks: a GPT with three unrelated partitions each.
	for i in $(seq 2 32); do
		truncate -s 8M "$WORK/other$i.img"
		printf 'label: gpt\nsize=2048, type=%s\nsize=2048, type=%s\nsize=2048, type=%s\n' \
			c12a7328-f81f-11d2-ba4b-00a0c93ec93b 0fc63daf-8483-4772-8e79-3d69d8477de4 \
			933ac7e1-2eb4-4f13-b844-0e14e2aef915 |
			sfdisk --quiet --no-reread --no-tell-kernel "$WORK/other$i.img" >/dev/null \
			|| die "sfdisk other$i failed"
	done
}

# Initrds: the module ones trust the RSA-2048 certificate.
make_initrds() {
	phase "initrds"
	# The baseline: the leanest stock initrd that boots the image with roothash= (no
	# dracut-systemd, which the module does not need either).
	build_initrd "$WORK/i-stock-lean.img" stock-systemd || die "stock-systemd initrd failed"
	# For reference: what full initrds carry on top.
	build_initrd "$WORK/i-stock.img" stock-systemd --add dracut-systemd || die "stock initrd failed"
	CERTDIR=$WORK/certs-rsa2048 build_initrd "$WORK/i-mod.img" systemd || die "module initrd failed"
	# Figure 6: the module with the TPM libraries (verityroot_tpm2=yes), measuring or not.
	VERITYROOT_TPM2=yes CERTDIR=$WORK/certs-rsa2048 build_initrd "$WORK/i-mod-tpm.img" systemd ||
		die "module initrd with TPM libraries failed"
	# Figure 2: the root device timeout (DefaultDeviceTimeoutSec, 90 s, not settable
	# on the 252 kernel command line) bounded by a drop-in, in both initrds.
	mkdir -p "$WORK/devtimeout/etc/systemd/system.conf.d"
	printf '[Manager]\nDefaultDeviceTimeoutSec=%s\n' "$STOCK_TIMEOUT" \
		> "$WORK/devtimeout/etc/systemd/system.conf.d/bench-device-timeout.conf"
	build_initrd "$WORK/i-stock-dt.img" stock-systemd --include "$WORK/devtimeout" / \
		|| die "stock initrd (device timeout) failed"
	CERTDIR=$WORK/certs-rsa2048 build_initrd "$WORK/i-mod-dt.img" systemd --include "$WORK/devtimeout" / \
		|| die "module initrd (device timeout) failed"
	build_initrd "$WORK/i-stock-shell.img" stock-shell || die "stock-shell initrd failed"
	CERTDIR=$WORK/certs-rsa2048 build_initrd "$WORK/i-shell.img" shell || die "shell initrd failed"
}

# --- Figures 1 and 2: boots --------------------------------------------------

# Every systemd message gets a kernel timestamp (kmsg) instead of a status line
# without one; the same for every variant.
BOOT_APPEND="systemd.log_target=kmsg systemd.show_status=false"

# other_disks N: the signed disk's companions, other2.img up to otherN.img.
other_disks() { seq -f "$WORK/other%g.img" 2 "$1"; }

# boot_variant NAME: sets V_INITRD V_APPEND V_DISKS (the signed disk first: vda) and
# V_TPM (1: a software TPM, swtpm, behind QEMU's tpm-tis).
boot_variant() {
	V_DISKS=("$DISK") V_TPM=
	case $1 in t|tn) V_TPM=1 ;; esac
	case $1 in
	a)    V_INITRD=i-stock-lean V_APPEND="roothash=$HASH" ;;
	ads)  V_INITRD=i-stock      V_APPEND="roothash=$HASH" ;;
	b)    V_INITRD=i-mod        V_APPEND="roothash=$HASH" ;;
	c)    V_INITRD=i-mod        V_APPEND="" ;;
	d)    V_INITRD=i-shell      V_APPEND="roothash=$HASH" ;;
	t)    V_INITRD=i-mod-tpm    V_APPEND="" ;;
	tn)   V_INITRD=i-mod-tpm    V_APPEND="rd.verity.measure=no" ;;
	a16)  V_INITRD=i-stock-lean V_APPEND="roothash=$HASH_P16"   V_DISKS=("$WORK/disk-p16.img") ;;
	c16)  V_INITRD=i-mod        V_APPEND=""                     V_DISKS=("$WORK/disk-p16.img") ;;
	a128) V_INITRD=i-stock-lean V_APPEND="roothash=$HASH_P128"  V_DISKS=("$WORK/disk-p128.img") ;;
	c128) V_INITRD=i-mod        V_APPEND=""                     V_DISKS=("$WORK/disk-p128.img") ;;
	a8d)  V_INITRD=i-stock-lean V_APPEND="roothash=$HASH" ;;
	c8d)  V_INITRD=i-mod        V_APPEND="" ;;
	a32d) V_INITRD=i-stock-lean V_APPEND="roothash=$HASH" ;;
	c32d) V_INITRD=i-mod        V_APPEND="" ;;
	ka)   V_INITRD=i-stock-dt   V_APPEND="roothash=$HASH_CORRUPT"  V_DISKS=("$WORK/disk-corrupt.img") ;;
	kb)   V_INITRD=i-mod-dt     V_APPEND="roothash=$HASH_CORRUPT"  V_DISKS=("$WORK/disk-corrupt.img") ;;
	*) die "unknown boot variant $1" ;;
	esac
	case $1 in
	?8d) mapfile -t -O 1 V_DISKS < <(other_disks 8) ;;
	?32d) mapfile -t -O 1 V_DISKS < <(other_disks 32) ;;
	esac
	V_INITRD=$WORK/$V_INITRD.img
}

# Milestones: name and the first console line marking it (kernel timestamps).
MILESTONES=(
	"userspace|Run /init as init process"
	"disk|vda: vda1"
	"found|verity-root: root verified"
	"measured|verity-root: root measured into PCR"
	"dm_table|device-mapper: verity: sha256 using"
	"mounted|erofs: \\(device dm-0\\): mounted"
	"exec_start|verity-root: reading what /sysroot runs first"
	"exec_end|verity-root: read [0-9]+ files .*/sysroot runs first"
	"switch_root|Starting initrd-switch-root|dracut: Switching root"
	"corrupt_read|data block [0-9]+ is corrupted"
	"warn_stock|Verity device detected corruption"
	"fail_module|verity-root: .*corrupt"
	"fail_stock|Timed out waiting for device"
	"emergency|Reached target emergency|Starting verity-root-test-emergency|VERITY-ROOT-TEST: emergency"
)

# boot FIGURE VARIANT REP: one boot, its numbers into the results.
boot() {
	local fig=$1 v=$2 rep=$3 log t0 t1 up m name re t load tpm=
	boot_variant "$v"
	[ -z "$V_TPM" ] || tpm=$(swtpm_start "$WORK/tpm-$v-$rep") || die "boot $v #$rep: swtpm failed"
	load=$(cut -d' ' -f1 /proc/loadavg)
	t0=$(date +%s.%N)
	log=$(QEMU_EXTRA_ARGS=$tpm run_qemu "bench-$v-$rep" "$V_INITRD" "$BOOT_APPEND${V_APPEND:+ $V_APPEND}" "${V_DISKS[@]}") \
		|| die "boot $v #$rep: qemu failed"
	t1=$(date +%s.%N)
	record "$fig" "$v" "$rep" wall_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
	record "$fig" "$v" "$rep" host_load1 "$load"
	record "$fig" "$v" "$rep" qemu_rc "$(cat "$WORK/bench-$v-$rep.rc")"
	up=$(init_uptime "$log")
	[ -z "$up" ] || record "$fig" "$v" "$rep" init "$up"
	for m in "${MILESTONES[@]}"; do
		name=${m%%|*} re=${m#*|}
		t=$(line_time "$log" "$re")
		[ -z "$t" ] || record "$fig" "$v" "$rep" "$name" "$t"
	done
	note "boot $v #$rep: init ${up:-none} s, wall $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, load $load"
	case $v in
	k*) [ -z "$up" ] || die "boot $v #$rep: the corrupted root booted ($log)" ;;
	*) [ -n "$up" ] || die "boot $v #$rep: init not reached ($log)" ;;
	esac
}

boots() {
	local rep v
	phase "figure 1: boots, $REPS interleaved rounds"
	for rep in $(seq 1 "$REPS"); do
		for v in $VARIANTS; do boot boot "$v" "$rep"; done
		# Fewer rounds of the secondary variants; interleaved in the same rounds.
		if [ "$rep" -le "$EXTRA_BOOT_REPS" ]; then
			for v in $BOOT_EXTRA; do boot boot "$v" "$rep"; done
		fi
	done
	phase "figure 2: corrupted block, $EXTRA_REPS interleaved rounds"
	for rep in $(seq 1 "$EXTRA_REPS"); do
		for v in ka kb; do boot corrupt "$v" "$rep"; done
	done
}

# --- Figure 3: initrd size ---------------------------------------------------

sizes() {
	local i z
	phase "figure 3: initrd sizes"
	for i in stock-lean stock mod mod-tpm stock-shell shell; do
		record size "$i" 1 bytes "$(stat -c %s "$WORK/i-$i.img")"
		# dracut's own zstd setting.
		zstd -q -15 -T0 -f -o "$WORK/i-$i.img.zst" "$WORK/i-$i.img" || die "zstd $i failed"
		z=$(stat -c %s "$WORK/i-$i.img.zst")
		record size "$i" 1 zstd_bytes "$z"
		cpio -itv < "$WORK/i-$i.img" 2>/dev/null |
			awk '$1 ~ /^-/ { print $5 "\t" $9 }' | sort -k2 > "$WORK/i-$i.files"
	done
	# What the module adds, file by file (new files and grown ones).
	for i in stock-lean:mod stock-shell:shell; do
		join -t $'\t' -1 2 -2 2 -a 2 -e 0 -o 0,1.1,2.1 "$WORK/i-${i%%:*}.files" "$WORK/i-${i#*:}.files" |
			awk -F'\t' '$3 != $2 { print $3 - $2 "\t" $1 }' | sort -rn > "$WORK/added-${i#*:}.files"
		head -n 12 "$WORK/added-${i#*:}.files" | while IFS=$'\t' read -r z f; do
			record size_added "${i#*:}" 0 "$f" "$z"
		done
	done
}

# --- Figures 4 and 5: inspect under hyperfine ---------------------------------

# hf FIGURE NAME=COMMAND...: HF_ROUNDS rounds, each running every command
# HF_RUNS times; the rounds interleave the commands.
hf() {
	local fig=$1 round spec json args names=() i
	shift
	for round in $(seq 1 "$HF_ROUNDS"); do
		json=$WORK/hf-$fig-$round.json
		args=()
		names=()
		for spec in "$@"; do
			args+=(-n "${spec%%=*}" "${spec#*=}")
			names+=("${spec%%=*}")
		done
		hyperfine -N --style none --warmup 3 --runs "$HF_RUNS" --export-json "$json" "${args[@]}" \
			> "$WORK/hf-$fig-$round.out" 2>&1 || { cat "$WORK/hf-$fig-$round.out" >&2; die "hyperfine $fig failed"; }
		for i in "${!names[@]}"; do
			jq -r ".results[$i].times[] * 1000" "$json" | while read -r t; do
				record "$fig" "${names[$i]}" "$round" ms "$t"
			done
		done
	done
}

inspects() {
	local others8=() others32=() q="$VR inspect --quick"
	phase "figure 4: discovery cost, $HF_ROUNDS x $HF_RUNS runs each"
	mapfile -t others8 < <(other_disks 8)
	mapfile -t others32 < <(other_disks 32)
	hf discover \
		"p3=$q --certs $WORK/certs-rsa2048 $DISK" \
		"p16=$q --certs $WORK/certs-rsa2048 $WORK/disk-p16.img" \
		"p128=$q --certs $WORK/certs-rsa2048 $WORK/disk-p128.img" \
		"i8=$q --certs $WORK/certs-rsa2048 $DISK ${others8[*]}" \
		"i32=$q --certs $WORK/certs-rsa2048 $DISK ${others32[*]}"
	phase "figure 5: signature cost, $HF_ROUNDS x $HF_RUNS runs each"
	hf signature \
		"rsa2048_roothash=$q --sig off --roothash $HASH_rsa2048 $WORK/disk-rsa2048.img" \
		"rsa2048_signed=$q --certs $WORK/certs-rsa2048 $WORK/disk-rsa2048.img" \
		"rsa4096_roothash=$q --sig off --roothash $HASH_rsa4096 $WORK/disk-rsa4096.img" \
		"rsa4096_signed=$q --certs $WORK/certs-rsa4096 $WORK/disk-rsa4096.img" \
		"ec256_roothash=$q --sig off --roothash $HASH_ec256 $WORK/disk-ec256.img" \
		"ec256_signed=$q --certs $WORK/certs-ec256 $WORK/disk-ec256.img"
}

# Where inspect spends its time on the biggest input (for BENCH.md).
profile_inspect() {
	command -v perf >/dev/null || return 0
	phase "profile: perf on inspect --quick, 128 partitions"
	perf record -q -F 20000 -g -o "$WORK/perf-p128.data" -- \
		sh -c "for i in \$(seq 20); do $VR inspect --quick --certs $WORK/certs-rsa2048 $WORK/disk-p128.img; done" \
		> /dev/null 2>&1 || return 0
	perf report -i "$WORK/perf-p128.data" --no-children --sort dso,sym --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -n 15 > "$WORK/perf-p128.txt"
}

main() {
	local start
	start=$(date +%s)
	preflight
	: > "$RESULTS"
	record meta machine 0 cores "$(nproc)"
	record meta machine 0 stock_timeout "$STOCK_TIMEOUT"
	record meta machine 0 load1_start "$(cut -d' ' -f1 /proc/loadavg)"
	make_fixtures
	make_initrds
	boots
	sizes
	inspects
	profile_inspect
	record meta machine 0 load1_end "$(cut -d' ' -f1 /proc/loadavg)"
	record meta machine 0 total_s "$(( $(date +%s) - start ))"
	[ "$RESULTS" -ef "$OUT/bench-results.tsv" ] || cp "$RESULTS" "$OUT/bench-results.tsv"
	"$here/report.sh" "$OUT/bench-results.tsv" "$WORK" > "$OUT/BENCH.md" || die "report.sh failed"
	phase "done in $(( $(date +%s) - start )) s: $OUT/BENCH.md, $OUT/bench-results.tsv"
	[ -n "${KEEP_WORK:-}" ] && echo "work dir kept: $WORK" >&2 || rm -rf "$WORK"
}

main "$@"
