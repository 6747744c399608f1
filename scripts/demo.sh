#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The host demo: a real signed MCUboot image served over HTTPS on loopback,
# downloaded through fota_download_start() into a simulated secondary slot,
# verified and scheduled. It first replays the reported failure (the CA under
# sec_tag 1003 does not validate the server: -111), then shows the fix (a
# fallback sec_tag holding the right root).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/demo
mkdir -p "$out/www"
sim=target/release/fota-sim

echo "== test CA, server certificate and a modem-like credential store"
scripts/make-certs.sh "$out/certs" >/dev/null
echo "   $out/certs/creds/1003/ca.pem: an unrelated root (like CyberTrust after S3 moved to Amazon Trust Services)"
echo "   $out/certs/creds/1004/ca.pem: the root that signed the server (like Amazon Root CA 1)"

echo "== signed MCUboot image (imgtool)"
imgtool keygen -t ecdsa-p256 -k "$out/key.pem" 2>/dev/null || true
python3 scripts/make-image.py --out "$out/www/app_update.bin" --version 0.1.3 --size 262144 --key "$out/key.pem" | sed 's/^/   /'

echo "== HTTPS server on 127.0.0.1 (S3-like headers)"
rm -f "$out/port" "$out/server.log"
python3 tests/server/fota_server.py --root "$out/www" --cert "$out/certs/server.pem" \
  --key "$out/certs/server.key" --port-file "$out/port" --log "$out/server.log" --tls12 >/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$out/port" ] && break; sleep 0.05; done
port=$(cat "$out/port")
host=memfault-test.s3.localhost
url="https://$host:$port/app_update.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20221124%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20221124T141720Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=4f2c6e1b9a0d7c3e5f8a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"
common=(--host "$url" --file "$url" --cred-dir "$out/certs/creds" --resolve "$host:$port:127.0.0.1"
        --flash "$out/slot.bin" --slot-size 0x70000)
rm -f "$out/slot.bin" "$out/slot.bin.state"

echo
echo "== 1. as reported: fota_download_start(url, url, 1003, 0, 0) with the wrong root under 1003"
set +e
"$sim" "${common[@]}" --sec-tag 1003 --quiet
rc=$?
set -e
echo "   (fota-sim exit status $rc)"

echo
echo "== 2. the fix: same call, fallback sec_tag 1004 configured (and the signature checked before the reboot)"
"$sim" "${common[@]}" --sec-tag 1003 --fallback-sec-tag 1004 --verify-key "$out/key.pem"

echo
echo "== the simulated secondary slot, checked byte for byte"
python3 scripts/check-slot.py --flash "$out/slot.bin" --image "$out/www/app_update.bin" --expect test
echo
echo "== imgtool on the slot's image bytes"
size=$(stat -c %s "$out/www/app_update.bin")
head -c "$size" "$out/slot.bin" > "$out/slot-image.bin"
imgtool verify -k "$out/key.pem" "$out/slot-image.bin"
requests=$(grep -c '"method":"GET"' "$out/server.log" || true)
echo
echo "demo: upgrade scheduled; the server saw $requests GET requests (2 KiB ranges over TLS)"
