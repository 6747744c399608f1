#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make-certs.sh OUTDIR
#
# Generate the TLS test material used by the fota-rs simulator and the test
# server (tests/server/fota_server.py), with openssl only:
#
#   OUTDIR/ca-a.pem, ca-a.key      "fota-rs Test Root CA A" (the right CA)
#   OUTDIR/ca-b.pem, ca-b.key      "fota-rs Test Root CA B" (unrelated CA)
#   OUTDIR/server.pem, server.key  leaf signed by CA A for DNS:localhost,
#                                  DNS:fota.test, DNS:memfault-test.s3.localhost,
#                                  IP:127.0.0.1 (leaf only, no chain)
#   OUTDIR/server-wrongname.pem/.key  leaf signed by CA A for DNS:wrong.test only
#   OUTDIR/creds/<sec_tag>/ca.pem  modem-like credential store:
#       1003 -> CA B (wrong, like the CyberTrust root in the user report)
#       1004 -> CA A (right, like Amazon Root CA 1)
#       42   -> CA A
#
# All keys are EC P-256, all certificates valid for 30 days.
# Idempotent: does nothing when OUTDIR/server.pem exists and is newer than
# this script.

set -euo pipefail

die() { echo "make-certs.sh: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
OUT=$1
SELF=${BASH_SOURCE[0]}

command -v openssl >/dev/null 2>&1 \
    || die "openssl not found in PATH (install it, e.g. 'apt-get install openssl' or run 'make deps')"

if [ -f "$OUT/server.pem" ] && [ "$OUT/server.pem" -nt "$SELF" ] \
    && [ -f "$OUT/creds/1004/ca.pem" ]; then
    echo "make-certs.sh: $OUT/server.pem is up to date, skipping"
    exit 0
fi

mkdir -p "$OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/make-certs.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

DAYS=30

genkey() { # genkey FILE
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -pkeyopt ec_param_enc:named_curve -out "$1" 2>/dev/null \
        || die "openssl genpkey failed for $1"
    chmod 600 "$1"
}

make_ca() { # make_ca NAME CN
    local name=$1 cn=$2
    genkey "$TMP/$name.key"
    cat >"$TMP/$name.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
O = fota-rs tests
CN = $cn
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
    openssl req -new -x509 -sha256 -days "$DAYS" -key "$TMP/$name.key" \
        -config "$TMP/$name.cnf" -set_serial "0x$(openssl rand -hex 8)" \
        -out "$TMP/$name.pem" || die "creating CA $cn failed"
}

make_leaf() { # make_leaf NAME CN SAN
    local name=$1 cn=$2 san=$3
    genkey "$TMP/$name.key"
    cat >"$TMP/$name.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
O = fota-rs tests
CN = $cn
[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF
    openssl req -new -sha256 -key "$TMP/$name.key" -config "$TMP/$name.cnf" \
        -out "$TMP/$name.csr" || die "creating CSR for $cn failed"
    openssl x509 -req -sha256 -days "$DAYS" -in "$TMP/$name.csr" \
        -CA "$TMP/ca-a.pem" -CAkey "$TMP/ca-a.key" \
        -set_serial "0x$(openssl rand -hex 8)" \
        -extfile "$TMP/$name.cnf" -extensions v3_leaf \
        -out "$TMP/$name.pem" 2>/dev/null || die "signing $cn failed"
    openssl verify -CAfile "$TMP/ca-a.pem" "$TMP/$name.pem" >/dev/null \
        || die "verification of $name.pem against CA A failed"
}

make_ca ca-a "fota-rs Test Root CA A"
make_ca ca-b "fota-rs Test Root CA B"
make_leaf server "localhost" \
    "DNS:localhost, DNS:fota.test, DNS:memfault-test.s3.localhost, IP:127.0.0.1"
make_leaf server-wrongname "wrong.test" "DNS:wrong.test"

# Sanity: CA B must not validate the server certificate.
if openssl verify -CAfile "$TMP/ca-b.pem" "$TMP/server.pem" >/dev/null 2>&1; then
    die "server.pem unexpectedly verifies against CA B"
fi

# Install: server.pem last so an interrupted run is redone next time.
for f in ca-a ca-b server-wrongname; do
    cp "$TMP/$f.pem" "$OUT/$f.pem"
    cp "$TMP/$f.key" "$OUT/$f.key"
done
mkdir -p "$OUT/creds/1003" "$OUT/creds/1004" "$OUT/creds/42"
cp "$TMP/ca-b.pem" "$OUT/creds/1003/ca.pem"
cp "$TMP/ca-a.pem" "$OUT/creds/1004/ca.pem"
cp "$TMP/ca-a.pem" "$OUT/creds/42/ca.pem"
cp "$TMP/server.key" "$OUT/server.key"
cp "$TMP/server.pem" "$OUT/server.pem.tmp"
mv -f "$OUT/server.pem.tmp" "$OUT/server.pem"

echo "make-certs.sh: wrote CA A/B, server and server-wrongname certificates and creds/ to $OUT"
