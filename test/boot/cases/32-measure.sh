#!/bin/bash
# TPM measurement (rd.verity.measure=, default PCR 15) with a software TPM (swtpm behind
# QEMU's tpm-tis): the new root reads PCR 15 and it equals `verity-root predict-pcr` run
# on the host; the measurement log the initrd wrote replays to that value; the same root
# signed by another signer gives another value (the signer's fingerprint is measured);
# a signed root and /usr (systemd-repart) are measured in that order, as predicted, and so
# are the same two given by roothash= and usrhash=;
# dracut's shell initrd measures as the systemd one does;
# rd.verity.measure=required without a TPM refuses to boot. Both images hold the same
# root (mkimage is reproducible): only the signer differs.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module
command -v jq >/dev/null || { fail "jq missing"; exit 1; }

make_trusted_cert 32 a "verity-root-test-A"
make_cert "$WORK/keys-32" b "verity-root-test-B"
cp "$WORK/keys-32/b.crt" "$WORK/certs-32/"
make_root "$WORK/root-32" measure-32
VERITYROOT_TPM2=yes CERTDIR=$WORK/certs-32 build_initrd "$WORK/initrd-32.img" systemd
VR=$WORK/stage/usr/bin/verity-root
for s in a b; do
	"$VR" mkimage --root "$WORK/root-32" --out "$WORK/disk-32$s.img" --key "$WORK/keys-32/$s.key" \
		--cert "$WORK/keys-32/$s.crt" --roothash-file "$WORK/disk-32$s.roothash" > /dev/null \
		|| fail "verity-root mkimage (signer $s) failed"
done
cmp -s "$WORK/disk-32a.roothash" "$WORK/disk-32b.roothash" || fail "the two images hold different roots"
ROOTHASH=$(cat "$WORK/disk-32a.roothash")

# PCR 15 of the sha256 bank replayed from the log's records, from zero.
replay_sha256() {
	local pcr d
	pcr=$(printf '%064d' 0)
	while IFS= read -r d; do
		pcr=$(printf '%s%s' "$pcr" "$d" | xxd -r -p | sha256sum | cut -c1-64)
	done < <(tr '\036' '\n' < "$1" |
		jq -r 'select(.pcr == 15) | .digests[] | select(.hashAlg == "sha256") | .digest')
	echo "$pcr"
}

# boot_measured TAG DISK [INITRD CERTDIR APPEND]: boots DISK with a fresh swtpm; checks
# PCR 15 against predict-pcr (with PREDICT_ARGS, split on blanks) and the log; prints the
# PCR value. ROOT_SOURCE: how the root's event names its source (signature and signer).
boot_measured() {
	local tag=$1 disk=$2 initrd=${3:-$WORK/initrd-32.img} certs=${4:-$WORK/certs-32} append=${5:-} log tpm pcr predicted replayed
	local predict_args=()
	read -ra predict_args <<< "${PREDICT_ARGS:-}"
	tpm=$(swtpm_start "$WORK/tpm-32$tag") || return 1
	log=$(QEMU_EXTRA_ARGS=$tpm run_qemu "32-measure-$tag" "$initrd" "$append" "$disk") || return 1
	expect_booted "$log" || return 1
	local source_re='signature:[0-9a-f]{64}'
	expect_console "$log" "verity-root: root measured into PCR 15: verity-root:v1:root:$ROOTHASH:${ROOT_SOURCE:-$source_re}" || return 1
	pcr=$(sed -n 's/.*VERITY-ROOT-TEST: tpm pcr-sha256-15=\([0-9A-Fa-f]*\).*/\1/p' "$log" | tr 'A-F' 'a-f')
	[ -n "$pcr" ] || { show_tail "$log"; fail "$tag: the new root printed no PCR 15"; return 1; }
	predicted=$("$VR" predict-pcr "$disk" --certs "$certs" "${predict_args[@]}" | sed -n 's/^sha256: *//p')
	[ "$pcr" = "$predicted" ] || { fail "$tag: PCR 15 is $pcr, predict-pcr says $predicted"; return 1; }
	sed -n 's/.*VERITY-ROOT-TEST: tpm measure-log=\([A-Za-z0-9+/=]*\).*/\1/p' "$log" | base64 -d > "$WORK/32-$tag.measure.log"
	grep -q 'dm-verity' "$WORK/32-$tag.measure.log" || { fail "$tag: the measurement log is empty or missing"; return 1; }
	replayed=$(replay_sha256 "$WORK/32-$tag.measure.log")
	[ "$replayed" = "$pcr" ] || { fail "$tag: the log replays to $replayed, PCR 15 is $pcr"; return 1; }
	log "$tag: PCR 15 = $pcr = predict-pcr = log replay" >&2
	echo "$pcr"
}

pcr_a=$(boot_measured a "$WORK/disk-32a.img")
pcr_b=$(boot_measured b "$WORK/disk-32b.img")
[ "$pcr_a" != "$pcr_b" ] || fail "another signer gave the same PCR 15 ($pcr_a)"

# dracut's shell (non-systemd) initrd measures the same event.
VERITYROOT_TPM2=yes CERTDIR=$WORK/certs-32 build_initrd "$WORK/initrd-32s.img" shell
pcr_s=$(boot_measured s "$WORK/disk-32a.img" "$WORK/initrd-32s.img")
[ "$pcr_s" = "$pcr_a" ] || fail "the shell initrd left PCR 15 at $pcr_s, the systemd one at $pcr_a"

# Root and /usr: two events, root first.
make_signed_root_usr_disk 32u measure-32u
VERITYROOT_TPM2=yes CERTDIR=$WORK/certs-32u build_initrd "$WORK/initrd-32u.img" systemd
pcr_u=$(boot_measured u "$WORK/disk-32u.img" "$WORK/initrd-32u.img" "$WORK/certs-32u")
expect_console "$WORK/32-measure-u.log" "verity-root: usr measured into PCR 15: verity-root:v1:usr:$USRHASH:signature:[0-9a-f]{64}"
[ "$(tr '\036' '\n' < "$WORK/32-u.measure.log" | jq -r '.content.string' | cut -d: -f3 | tr '\n' ' ')" = "root usr " ] \
	|| fail "the measurement log of root and /usr is not: root, then usr"

# roothash= and usrhash= (trusted by the command line): both units start at once, /usr
# waits for the root's event, so the order is root, then usr, as predict-pcr has it.
pcr_uc=$(ROOT_SOURCE='cmdline:([0-9a-f]{64}|-)' PREDICT_ARGS="--roothash $ROOTHASH --usrhash $USRHASH" \
	boot_measured uc "$WORK/disk-32u.img" "$WORK/initrd-32u.img" "$WORK/certs-32u" "roothash=$ROOTHASH usrhash=$USRHASH")
expect_console "$WORK/32-measure-uc.log" "verity-root: usr measured into PCR 15: verity-root:v1:usr:$USRHASH:cmdline:"
expect_no_console "$WORK/32-measure-uc.log" "not measured in time"
[ "$(tr '\036' '\n' < "$WORK/32-uc.measure.log" | jq -r '.content.string' | cut -d: -f3 | tr '\n' ' ')" = "root usr " ] \
	|| fail "with roothash= and usrhash=, the measurement log is not: root, then usr"
[ "$pcr_uc" != "$pcr_u" ] || fail "roothash=/usrhash= and signatures gave the same PCR 15 ($pcr_u)"

log=$(run_qemu 32-measure-required "$WORK/initrd-32.img" "rd.verity.measure=required" "$WORK/disk-32a.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot the root file system: rd.verity.measure=required, but no TPM answers'
