#!/bin/bash
# IPE (CONFIG_SECURITY_IPE): the initrd loads a signed policy from `verity-root
# ipe-policy` (dracut.conf's verityroot_ipe_policy=) once the verified root is mounted,
# and activates it. The kernel reads the policy signer from UEFI db (OVMF variable store,
# .platform keyring). (a) the policy of this image: the root's init runs, the policy is
# active, and a copy of busybox on a tmpfs is refused; (b) the policy of another image:
# the root is refused before switch-root, with one line; (c) a policy whose signer is not
# in db: refused, with one line; (d) dracut's shell initrd loads it as the systemd one;
# (e) --kernel-sig (dmverity_signature=TRUE): a policy of another image still executes a
# root whose signature the kernel checked (rd.verity.kernel_sig=required, signer in db).
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

kver=$(kernel_version)
grep -qx 'CONFIG_SECURITY_IPE=y' "$STACK_ROOT/boot/config-$kver" 2>/dev/null ||
	skip "kernel $kver has no CONFIG_SECURITY_IPE=y"
grep -qx 'CONFIG_IPE_PROP_DM_VERITY=y' "$STACK_ROOT/boot/config-$kver" ||
	skip "kernel $kver has no CONFIG_IPE_PROP_DM_VERITY=y"

make_trusted_cert 34 db "verity-root-test-IPE-db"
make_cert "$WORK/keys-34" other "verity-root-test-IPE-not-in-db"
make_root "$WORK/root-34" ipe-34
make_disk "$WORK/disk-34.img" "$WORK/root-34"
ROOTHASH_34=$ROOTHASH
make_root "$WORK/root-34b" ipe-34-other
make_disk "$WORK/disk-34b.img" "$WORK/root-34b"
ROOTHASH_34B=$ROOTHASH
make_root "$WORK/root-34e" ipe-34-signed
make_disk "$WORK/disk-34e.img" "$WORK/root-34e" --sign "$WORK/keys-34/db.key" "$WORK/keys-34/db.crt"
ROOTHASH_34E=$ROOTHASH
[ "$ROOTHASH_34" != "$ROOTHASH_34B" ] || fail "the two roots have the same root hash"
ovmf_vars_with_db "$WORK/vars-34.fd" "$WORK/keys-34/db.crt"

prepare_dracut module
VR=$WORK/stage/usr/bin/verity-root

# policy TAG IMAGE ROOTHASH SIGNER [OPTION...]: $WORK/ipe-34TAG.p7s, the policy of IMAGE
# signed as the documentation says (dracut.verity-root(7)).
policy() {
	local tag=$1 image=$2 hash=$3 signer=$4
	shift 4
	in_stack "$VR" ipe-policy "$image" --roothash "$hash" --name "verity-root-test-34$tag" "$@" > "$WORK/ipe-34$tag.pol" ||
		{ fail "verity-root ipe-policy $image failed"; return 1; }
	grep -qx "op=EXECUTE dmverity_roothash=sha256:$hash action=ALLOW" "$WORK/ipe-34$tag.pol" ||
		{ cat "$WORK/ipe-34$tag.pol" >&2; fail "the policy of $image does not allow its root hash"; return 1; }
	openssl smime -sign -nodetach -binary -noattr -outform der -md sha256 -in "$WORK/ipe-34$tag.pol" \
		-signer "$WORK/keys-34/$signer.crt" -inkey "$WORK/keys-34/$signer.key" -out "$WORK/ipe-34$tag.p7s" ||
		{ fail "openssl smime -sign failed"; return 1; }
}

# (a) The policy of this image.
policy a "$WORK/disk-34.img" "$ROOTHASH_34" db
IPE_POLICY=$WORK/ipe-34a.p7s build_initrd "$WORK/initrd-34a.img" systemd
log=$(run_qemu_ovmf 34-ipe "$WORK/vars-34.fd" "$WORK/initrd-34a.img" "roothash=$ROOTHASH_34" "$WORK/disk-34.img")
expect_booted "$log"
expect_id "$log" ipe-34
expect_console "$log" 'verity-root: IPE policy "verity-root-test-34a" from /etc/verity-root/ipe-policy.p7s active'
expect_console "$log" 'VERITY-ROOT-TEST: ipe policy=verity-root-test-34a tmpfs-exec=refused'

# (b) The policy of another image: refused before switch-root.
policy b "$WORK/disk-34b.img" "$ROOTHASH_34B" db
IPE_POLICY=$WORK/ipe-34b.p7s build_initrd "$WORK/initrd-34b.img" systemd
log=$(run_qemu_ovmf 34-ipe-other-root "$WORK/vars-34.fd" "$WORK/initrd-34b.img" "roothash=$ROOTHASH_34" "$WORK/disk-34.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: the IPE policy "verity-root-test-34b" does not let the kernel execute /sysroot/sbin/init from the verified root'
expect_console "$log" "$EMERGENCY_MARKER" "a refused root must end in the emergency path"

# (c) Signed by a certificate that is not in UEFI db.
policy c "$WORK/disk-34.img" "$ROOTHASH_34" other
IPE_POLICY=$WORK/ipe-34c.p7s build_initrd "$WORK/initrd-34c.img" systemd
log=$(run_qemu_ovmf 34-ipe-untrusted "$WORK/vars-34.fd" "$WORK/initrd-34c.img" "roothash=$ROOTHASH_34" "$WORK/disk-34.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: the kernel does not trust the signer of the IPE policy /etc/verity-root/ipe-policy.p7s \("verity-root-test-34c"\): its certificate is neither in UEFI db'

# (d) dracut's shell initrd.
IPE_POLICY=$WORK/ipe-34a.p7s build_initrd "$WORK/initrd-34s.img" shell
log=$(run_qemu_ovmf 34-ipe-shell "$WORK/vars-34.fd" "$WORK/initrd-34s.img" "roothash=$ROOTHASH_34" "$WORK/disk-34.img")
expect_booted "$log"
expect_console "$log" 'VERITY-ROOT-TEST: ipe policy=verity-root-test-34a tmpfs-exec=refused'

# (e) Another image's policy with --kernel-sig: the signed root boots because the kernel
# checked its signature (its root hash is not in the policy).
policy e "$WORK/disk-34b.img" "$ROOTHASH_34B" db --kernel-sig
grep -qx 'op=EXECUTE dmverity_signature=TRUE action=ALLOW' "$WORK/ipe-34e.pol" || fail "--kernel-sig wrote no dmverity_signature rule"
! grep -q "$ROOTHASH_34E" "$WORK/ipe-34e.pol" || fail "the policy of (e) must not name the booted root's hash"
IPE_POLICY=$WORK/ipe-34e.p7s CERTDIR=$WORK/certs-34 build_initrd "$WORK/initrd-34e.img" systemd
log=$(run_qemu_ovmf 34-ipe-kernel-sig "$WORK/vars-34.fd" "$WORK/initrd-34e.img" "rd.verity.kernel_sig=required" "$WORK/disk-34e.img")
expect_booted "$log"
expect_id "$log" ipe-34-signed
expect_console "$log" 'verity-root: the kernel verified the root hash signature of /dev/mapper/root'
expect_console "$log" 'VERITY-ROOT-TEST: ipe policy=verity-root-test-34e tmpfs-exec=refused'
