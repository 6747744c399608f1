#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Regenerates the committed test vectors of src/checks.rs. Not run by the
# tests: ECDSA signatures are randomised, so the vectors are committed once
# and kept, and the unit tests do not need imgtool.
#
#   test-key.pem         ECDSA-P256 signing key (TEST ONLY, public in this repo)
#   test-key.pub.der     its SubjectPublicKeyInfo DER (imgtool getpub -e raw)
#   test-key.pub.c       the same as imgtool getpub prints it (C array)
#   test-key.pub.pem     the same as PEM (imgtool getpub -e pem)
#   other-key.pub.der    another key's public part (the "wrong key")
#   app-1.2.3.bin        1 KiB payload, version 1.2.3, signed, vector table for 0xc200
#   app-1.2.3-pubkey.bin same, full public key TLV (--public-key-format full)
#   app-1.2.3-padsig.bin same, signature padded to 72 bytes (--pad-sig)
#   app-1.2.3-unsigned.bin same payload, SHA-256 only
#   app-linked-0x20200.bin  signed, vector table for 0x20200 (another layout)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=../..
IMGTOOL=${IMGTOOL:-imgtool}

[ -f test-key.pem ] || "$IMGTOOL" keygen -t ecdsa-p256 -k test-key.pem
if [ ! -f other-key.pub.der ]; then
	tmp=$(mktemp -d)
	"$IMGTOOL" keygen -t ecdsa-p256 -k "$tmp/other.pem"
	"$IMGTOOL" getpub -k "$tmp/other.pem" -e raw -o other-key.pub.der
	rm -rf "$tmp"
fi
"$IMGTOOL" getpub -k test-key.pem -e raw -o test-key.pub.der
"$IMGTOOL" getpub -k test-key.pem -e lang-c -o test-key.pub.c
sed -i '1i /* SPDX-License-Identifier: Apache-2.0 */' test-key.pub.c
"$IMGTOOL" getpub -k test-key.pem -e pem -o test-key.pub.pem

mk() { python3 "$ROOT/scripts/make-image.py" --size 1024 --seed 7 "$@"; }
mk --out app-1.2.3.bin --version 1.2.3 --key test-key.pem
mk --out app-1.2.3-unsigned.bin --version 1.2.3
mk --out app-linked-0x20200.bin --version 1.2.3 --key test-key.pem --load-addr 0x20200
# Same payload, other TLV forms imgtool can produce.
for v in pubkey:--public-key-format=full padsig:--pad-sig; do
	"$IMGTOOL" sign --header-size 0x200 --pad-header --align 4 --slot-size 0x70000 \
		--version 1.2.3 --key test-key.pem "${v#*:}" app-1.2.3.bin.raw "app-1.2.3-${v%%:*}.bin"
	"$IMGTOOL" verify -k test-key.pem "app-1.2.3-${v%%:*}.bin"
done
rm -f ./*.raw
