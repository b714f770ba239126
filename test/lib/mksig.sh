#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Test fixture: a root-verity-sig partition blob as systemd-repart writes it: compact JSON
#   {"rootHash":"<hex>","certificateFingerprint":"<sha256 of DER cert>","signature":"<base64>"}
# where signature is a DER PKCS#7 SignedData, detached, no signed attributes, binary, over
# the exact rootHash string (repart: PKCS7_DETACHED|PKCS7_NOATTR|PKCS7_BINARY), then NUL
# padding to a multiple of 4096 bytes.
# usage: mksig.sh KEY CERT ROOTHASH_HEX OUT [--no-fingerprint]
set -eu

if [ $# -lt 4 ] || [ $# -gt 5 ] || { [ $# -eq 5 ] && [ "$5" != --no-fingerprint ]; }; then
	echo "usage: mksig.sh KEY CERT ROOTHASH_HEX OUT [--no-fingerprint]" >&2
	exit 2
fi
key=$1 cert=$2 roothash=$3 out=$4 with_fp=yes
[ $# -eq 5 ] && with_fp=no

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%s' "$roothash" >"$tmp/data"
# openssl smime -sign is detached unless -nodetach is given.
openssl smime -sign -binary -noattr -md sha256 -in "$tmp/data" -signer "$cert" -inkey "$key" \
	-outform DER -out "$tmp/sig.der"
sig=$(openssl base64 -A -in "$tmp/sig.der")

if [ $with_fp = yes ]; then
	fp=$(openssl x509 -in "$cert" -outform DER | openssl dgst -sha256 -r | cut -c1-64)
	printf '{"rootHash":"%s","certificateFingerprint":"%s","signature":"%s"}' "$roothash" "$fp" "$sig" >"$out"
else
	printf '{"rootHash":"%s","signature":"%s"}' "$roothash" "$sig" >"$out"
fi

size=$(wc -c <"$out")
truncate -s $(((size + 4095) / 4096 * 4096)) "$out"
