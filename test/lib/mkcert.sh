#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Test fixture: a self-signed certificate (subject CN=NAME) and its unencrypted key.
# usage: mkcert.sh OUTDIR NAME [rsa2048|rsa4096|ec256]  ->  OUTDIR/NAME.key, OUTDIR/NAME.crt
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: mkcert.sh OUTDIR NAME [rsa2048|rsa4096|ec256]" >&2
	exit 2
fi
outdir=$1 name=$2 type=${3:-rsa2048}

case $type in
rsa2048) keyopts="-algorithm RSA -pkeyopt rsa_keygen_bits:2048" ;;
rsa4096) keyopts="-algorithm RSA -pkeyopt rsa_keygen_bits:4096" ;;
ec256) keyopts="-algorithm EC -pkeyopt ec_paramgen_curve:P-256" ;;
*)
	echo "mkcert.sh: unknown key type '$type' (rsa2048, rsa4096 or ec256)" >&2
	exit 2
	;;
esac

mkdir -p "$outdir"
# shellcheck disable=SC2086
openssl genpkey $keyopts -out "$outdir/$name.key" 2>/dev/null
openssl req -new -x509 -key "$outdir/$name.key" -out "$outdir/$name.crt" \
	-subj "/CN=$name" -days 3650 -sha256 2>/dev/null
