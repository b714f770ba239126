#!/bin/bash
# rd.verity.kernel_sig=required on a kernel whose dm-verity also trusts the platform
# keyring (CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG_PLATFORM_KEYRING, Debian 13): booted
# through OVMF so that Linux loads UEFI db into .platform. The signer's certificate in
# db: the kernel verifies the signature and the root boots (systemd initrd; and the shell
# initrd with the kernel's dm_verity.require_signatures=1 instead of the module's key);
# another signer the initrd trusts but db lacks, or an empty db: refused by the kernel,
# and the console names the keyrings it checked. A roothash= root (no signature for
# the kernel) is refused by rd.verity.kernel_sig=required, and by the kernel's own
# dm_verity.require_signatures=1, before anything is opened.
set -eu
. "$(dirname "$0")/../lib.sh"
require_module

kernel=$(newest_kernel)
config=${kernel%/vmlinuz-*}/config-${kernel##*/vmlinuz-}
grep -qx 'CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG_PLATFORM_KEYRING=y' "$config" 2>/dev/null ||
	skip "kernel ${kernel##*/vmlinuz-} has no CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG_PLATFORM_KEYRING (the Debian 13 stack has)"

make_trusted_cert 33 a "verity-root-test-db"
make_cert "$WORK/keys-33" b "verity-root-test-not-in-db"
cp "$WORK/keys-33/b.crt" "$WORK/certs-33/"
make_root "$WORK/root-33" keyring-33
make_disk "$WORK/disk-33a.img" "$WORK/root-33" --sign "$WORK/keys-33/a.key" "$WORK/keys-33/a.crt"
make_disk "$WORK/disk-33b.img" "$WORK/root-33" --sign "$WORK/keys-33/b.key" "$WORK/keys-33/b.crt"
# No signature partition: only roothash= can boot it.
make_disk "$WORK/disk-33u.img" "$WORK/root-33"
CERTDIR=$WORK/certs-33 build_initrd "$WORK/initrd-33.img" systemd
CERTDIR=$WORK/certs-33 build_initrd "$WORK/initrd-33-shell.img" shell
ovmf_vars_with_db "$WORK/vars-33-db.fd" "$WORK/keys-33/a.crt"
ovmf_vars_with_db "$WORK/vars-33-empty.fd"

req="rd.verity.kernel_sig=required"
platform_one='\.platform \(UEFI db\): 1 key'

# Signer in db: checked by the initrd and by the kernel, boots.
log=$(run_qemu_ovmf 33-db "$WORK/vars-33-db.fd" "$WORK/initrd-33.img" "$req" "$WORK/disk-33a.img")
expect_booted "$log"
expect_id "$log" keyring-33
expect_console "$log" "verity-root: the kernel checks the signature of the root file system too, against its keyrings: .*$platform_one"
expect_console "$log" 'verity-root: the kernel verified the root hash signature of /dev/mapper/root'

# The shell initrd opens the device itself (libcryptsetup). No rd.verity.kernel_sig= here:
# the kernel's own dm_verity.require_signatures=1 gets the signature handed all the same.
log=$(run_qemu_ovmf 33-db-shell "$WORK/vars-33-db.fd" "$WORK/initrd-33-shell.img" "dm_verity.require_signatures=1" "$WORK/disk-33a.img")
expect_booted "$log"
expect_console "$log" "verity-root: the kernel checks the signature of the root file system too, against its keyrings: .*$platform_one"
expect_console "$log" 'verity-root: the kernel verified the root hash signature of /dev/mapper/root'

# Signer trusted by the initrd, not in db: the kernel refuses, the console says where it looked.
log=$(run_qemu_ovmf 33-not-in-db "$WORK/vars-33-db.fd" "$WORK/initrd-33.img" "$req" "$WORK/disk-33b.img")
expect_not_booted "$log"
expect_console "$log" "verity-root: the kernel refused to open /dev/mapper/root .*with rd.verity.kernel_sig=required it checks the root hash signature itself, and none of its keyrings trusts the signer CN ?= ?verity-root-test-not-in-db .*\.secondary_trusted_keys: .*$platform_one"
expect_no_console "$log" 'Timed out waiting for device'

# db empty: the same signer the first boot had is refused; .platform is empty.
log=$(run_qemu_ovmf 33-empty-db "$WORK/vars-33-empty.fd" "$WORK/initrd-33.img" "$req" "$WORK/disk-33a.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: the kernel refused to open /dev/mapper/root .*trusts the signer CN ?= ?verity-root-test-db .*\.platform \(UEFI db\): empty'

# roothash= and no signature partition: nothing the kernel could check. Refused by
# required, and by the kernel's own require_signatures, in one line each, before any
# device is opened. (With a signature partition that matches, roothash= roots hand its
# signature to the kernel too.)
log=$(run_qemu 33-roothash-required "$WORK/initrd-33.img" "roothash=$ROOTHASH $req" "$WORK/disk-33u.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot the root file system on partition .*: rd.verity.kernel_sig=required, but its root hash came from the kernel command line, with no signature for the kernel to check'
log=$(run_qemu 33-roothash-kernel-requires "$WORK/initrd-33.img" "roothash=$ROOTHASH dm_verity.require_signatures=1" "$WORK/disk-33u.img")
expect_not_booted "$log"
expect_console "$log" 'verity-root: refusing to boot the root file system on partition .*: kernel [^ ]+ opens only signed dm-verity devices \(dm_verity.require_signatures=1\), but its root hash came from the kernel command line'
