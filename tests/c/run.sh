#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/c/run.sh    (`make c-api`)
#
# The NCS fota_download C API through the host SDK, as a C application sees
# it. Builds tests/c/test_fota_download.c five times:
#
#   v2.0    cc test.c $(pkg-config --cflags --libs fota-rs-host): the SDK's
#           own header (NCS v2.0.0 form) and its ready-made library
#   v2.6    against tests/c/ncs-v2.6 (renumbered events and causes, image type
#           bitmask, tag lists), compiling the SDK's compat source against that
#           header and linking fota-rs-core-host
#   v1.7.1  likewise against tests/c/ncs-v1.7.1 (start takes an APN)
#   v2.4    likewise against tests/c/ncs-v2.4 (connect failures as events),
#           with CONFIG_DOWNLOAD_CLIENT_HTTP_FRAG_SIZE=1024 as NCS would set it
#   v3.x    against the SDK's fota-rs-host-ncs-v3.0 (tests/c/ncs-v3.x)
#
# and checks that the test links unchanged against each generation's
# fota-rs-host-ncs-* library,
#
# then serves a signed MCUboot image over HTTPS on 127.0.0.1
# (tests/server/fota_server.py) and runs every case of every build in a
# fresh process with the host port configured by FOTA_RS_HOST_* variables.
# After each case that must schedule the image, scripts/check-slot.py checks
# the slot file byte for byte; after the long-URL case the server's log must
# show the query exactly as sent. Last, tests/c/checks.sh runs
# tests/c/test_checks.c: images refused by the checks before the upgrade.
#
# Environment: HOST_SDK (default build/host-sdk; built when missing), OUT
# (default build/c-api), CC (default cc).
# Prints "N passed, M failed" last; exits 1 on any failure.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SDK=${HOST_SDK:-$ROOT/build/host-sdk}
OUT=${OUT:-$ROOT/build/c-api}
CC=${CC:-cc}
HOST=memfault-test.s3.localhost
IMAGE_SIZE=262144
SLOT_SIZE=0x70000
# Cases after which the image must be in the slot with a test swap requested.
SCHEDULED=" success fallback long-url busy tag-list e2big type-mask apn init-busy restart host-cfg frag-default "

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

mkdir -p "$OUT"
cd "$ROOT" || exit 1

# --- SDK and the three builds ---------------------------------------------

if [ ! -f "$SDK/fota-rs-host.pc" ]; then
	scripts/host-sdk.sh "$SDK" || { fail "build the host SDK"; finish; }
fi
export PKG_CONFIG_PATH=$SDK

WARN=(-std=c11 -O1 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes)
TEST_SRC=tests/c/test_fota_download.c
builds=()

build() { # build NAME LOG CC-ARGS...
	local name=$1 log=$2
	shift 2
	if "$CC" "$@" >"$log" 2>&1; then
		pass "build $name"
		builds+=("$name")
	else
		cat "$log"
		fail "build $name"
	fi
}
# shellcheck disable=SC2046 # pkg-config output is a list of words
build v2.0 "$OUT/build-v2.0.log" "${WARN[@]}" -DEXPECT_NCS=0x020000 "$TEST_SRC" \
	$(pkg-config --cflags --libs fota-rs-host) -o "$OUT/test-v2.0"
# The fixture directory comes first, so its <net/fota_download.h> (and
# <ncs_version.h>) win over the SDK's for the test and the compat layer alike.
# shellcheck disable=SC2046
build v2.6 "$OUT/build-v2.6.log" "${WARN[@]}" -DEXPECT_NCS=0x020600 -Itests/c/ncs-v2.6 \
	"$TEST_SRC" "$SDK"/src/compat/*.c \
	$(pkg-config --cflags --libs fota-rs-core-host) -o "$OUT/test-v2.6"
# shellcheck disable=SC2046
build v1.7.1 "$OUT/build-v1.7.1.log" "${WARN[@]}" -DEXPECT_NCS=0x010701 -Itests/c/ncs-v1.7.1 \
	"$TEST_SRC" "$SDK"/src/compat/*.c \
	$(pkg-config --cflags --libs fota-rs-core-host) -o "$OUT/test-v1.7.1"
# v2.4 as an NCS build with download_client configured for 1024-byte fragments.
# shellcheck disable=SC2046
build v2.4 "$OUT/build-v2.4.log" "${WARN[@]}" -DEXPECT_NCS=0x020400 -DEXPECT_FRAG=1024 \
	-DCONFIG_DOWNLOAD_CLIENT_HTTP_FRAG_SIZE=1024 -Itests/c/ncs-v2.4 \
	"$TEST_SRC" "$SDK"/src/compat/*.c \
	$(pkg-config --cflags --libs fota-rs-core-host) -o "$OUT/test-v2.4"
# 3.x through the SDK's own library for that generation.
# shellcheck disable=SC2046
build v3.x "$OUT/build-v3.x.log" "${WARN[@]}" -DEXPECT_NCS=0x030163 "$TEST_SRC" \
	$(pkg-config --cflags --libs fota-rs-host-ncs-v3.0) -o "$OUT/test-v3.x"
# Every generation's program links against that generation's pkg-config
# name unchanged (the cases above run the v3.0 one).
for g in v1.7:0x010701 v2.0:0x020000 v2.4:0x020400 v2.6:0x020600; do
	# shellcheck disable=SC2046
	if "$CC" "${WARN[@]}" -DEXPECT_NCS="${g#*:}" "$TEST_SRC" \
		$(pkg-config --cflags --libs "fota-rs-host-ncs-${g%%:*}") -o "$OUT/test-pc-${g%%:*}" \
		>"$OUT/build-pc-${g%%:*}.log" 2>&1; then
		pass "compile and link against fota-rs-host-ncs-${g%%:*}"
	else
		cat "$OUT/build-pc-${g%%:*}.log"
		fail "compile and link against fota-rs-host-ncs-${g%%:*}"
	fi
done
[ ${#builds[@]} -gt 0 ] || finish

# --- certificates, image, server -------------------------------------------

scripts/make-certs.sh "$OUT/certs" >/dev/null || { fail "make-certs.sh"; finish; }
mkdir -p "$OUT/www" "$OUT/slots" "$OUT/logs"
[ -f "$OUT/key.pem" ] || imgtool keygen -t ecdsa-p256 -k "$OUT/key.pem" ||
	{ fail "imgtool keygen"; finish; }
# A second key: reconfigure-key swaps between the two.
[ -f "$OUT/key-b.pem" ] || imgtool keygen -t ecdsa-p256 -k "$OUT/key-b.pem" ||
	{ fail "imgtool keygen"; finish; }
IMAGE=$OUT/www/app_update.bin
python3 scripts/make-image.py --out "$IMAGE" --version 0.1.3 --size "$IMAGE_SIZE" \
	--key "$OUT/key.pem" >"$OUT/logs/make-image.log" 2>&1 ||
	{ cat "$OUT/logs/make-image.log"; fail "make-image.py"; finish; }
# Not a real modem firmware: only its first bytes matter, the full-modem
# magic (u16 0x84d2 little-endian) the image type is detected by.
python3 -c 'import os, sys; open(sys.argv[1], "wb").write(b"\xd2\x84" + os.urandom(8190))' \
	"$OUT/www/full_modem.bin"

rm -f "$OUT/port" "$OUT/closed-port" "$OUT/server.log" "$OUT/server-errors.log"
python3 tests/server/fota_server.py --root "$OUT/www" --cert "$OUT/certs/server.pem" \
	--key "$OUT/certs/server.key" --port-file "$OUT/port" --log "$OUT/server.log" --tls12 \
	--error-log "$OUT/server-errors.log" >"$OUT/logs/server.out" 2>&1 &
pids+=($!)
# A port that is bound but never listens: connecting to it is refused for
# as long as this holder runs, and nobody else can take it meanwhile.
python3 -c '
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
tmp = sys.argv[1] + ".tmp"
open(tmp, "w").write(str(s.getsockname()[1]))
os.rename(tmp, sys.argv[1])
time.sleep(3600)
' "$OUT/closed-port" &
pids+=($!)
for _ in $(seq 200); do
	[ -s "$OUT/port" ] && [ -s "$OUT/closed-port" ] && break
	sleep 0.05
done
if [ ! -s "$OUT/port" ] || [ ! -s "$OUT/closed-port" ]; then
	cat "$OUT/logs/server.out"
	fail "start the test server"
	finish
fi
PORT=$(cat "$OUT/port")
CLOSED=$(cat "$OUT/closed-port")

URL="https://$HOST:$PORT/app_update.bin"
# A pre-signed S3 URL as Memfault hands them out: well past NCS's 192/255
# bytes, '%2F' in the credential and ':' in the query (the ARN), which NCS's
# parser took for a port separator.
TOKEN=$(python3 -c 'import base64, hashlib
print(base64.b64encode(b"".join(hashlib.sha256(bytes([i])).digest() for i in range(12))).decode()
      .replace("/", "%2F").replace("+", "%2B").replace("=", "%3D"))')
QUERY="X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLEKEY123456%2F20221124%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20221124T141720Z&X-Amz-Expires=3600&X-Amz-Security-Token=$TOKEN&X-Amz-SignedHeaders=host&x-amz-meta-source=arn:aws:s3:::memfault-fw-eu/0.1.3&X-Amz-Signature=4f2c6e1b9a0d7c3e5f8a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"
LONG_URL="$URL?$QUERY"

export FOTA_RS_HOST_CRED_DIR=$OUT/certs/creds
export FOTA_RS_HOST_SLOT_SIZE=$SLOT_SIZE
export FOTA_RS_HOST_RESOLVE=$HOST:$PORT:127.0.0.1,$HOST:$CLOSED:127.0.0.1
export FOTA_RS_HOST_LOG_LEVEL=wrn

url_for() { # url_for CASE
	case $1 in
	closed-port) echo "https://$HOST:$CLOSED/app_update.bin" ;;
	long-url) echo "$LONG_URL" ;;
	http-error) echo "https://$HOST:$PORT/missing.bin" ;;
	type-mask-refused) echo "https://$HOST:$PORT/full_modem.bin" ;;
	*) echo "$URL" ;;
	esac
}

# Every GET the server logged after line FROM carried exactly QUERY.
queries_intact() { # queries_intact FROM
	python3 - "$OUT/server.log" "$1" "$QUERY" <<'EOF'
import json, sys
log, start, want = sys.argv[1], int(sys.argv[2]), sys.argv[3]
gets = [json.loads(l) for l in open(log).read().splitlines()[start:]]
gets = [g for g in gets if g.get("method") == "GET"]
bad = [g.get("query") for g in gets if g.get("query") != want]
print(f"  {len(gets)} GETs, {len(bad)} with another query")
sys.exit(0 if gets and not bad else 1)
EOF
}

# Every ranged GET the server logged after line FROM asked for at most N
# bytes, and one exactly N (the image is larger).
ranges_of_size() { # ranges_of_size FROM N
	python3 - "$OUT/server.log" "$1" "$2" <<'EOF'
import json, re, sys
log, start, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
gets = [json.loads(l) for l in open(log).read().splitlines()[start:]]
sizes = []
for g in gets:
    m = re.fullmatch(r"bytes=(\d+)-(\d+)", g.get("range") or "")
    if g.get("method") == "GET" and m:
        sizes.append(int(m.group(2)) - int(m.group(1)) + 1)
print(f"  {len(sizes)} ranged GETs, largest {max(sizes, default=0)}")
sys.exit(0 if sizes and max(sizes) == n else 1)
EOF
}

# --- cases --------------------------------------------------------------------

for b in "${builds[@]}"; do
	bin=$OUT/test-$b
	for c in $("$bin" --list); do
		slot=$OUT/slots/$b-$c.bin
		log=$OUT/logs/$b-$c.log
		rm -f "$slot" "$slot.state"
		from=$(wc -l <"$OUT/server.log" 2>/dev/null || echo 0)
		# Extra environment for the cases that need it.
		case_env=()
		[ "$c" = fallback ] && case_env=(FOTA_RS_HOST_FALLBACK_SEC_TAGS=1004)
		[ "$c" = reconfigure-key ] &&
			case_env=(TEST_KEY_A="$OUT/key.pem" TEST_KEY_B="$OUT/key-b.pem")
		if env "${case_env[@]}" FOTA_RS_HOST_FLASH="$slot" \
			timeout 300 "$bin" "$c" "$(url_for "$c")" >"$log" 2>&1; then
			pass "$b $c"
		else
			sed 's/^/    /' "$log"
			fail "$b $c"
			continue
		fi
		if [[ $SCHEDULED == *" $c "* ]]; then
			if python3 scripts/check-slot.py --flash "$slot" --image "$IMAGE" \
				--slot-size "$SLOT_SIZE" --expect test >"$log.slot" 2>&1; then
				pass "$b $c: slot holds the image, test swap requested (check-slot.py)"
			else
				sed 's/^/    /' "$log.slot"
				fail "$b $c: slot check"
			fi
		fi
		if [ "$c" = frag-default ]; then
			if ranges_of_size "$from" 1024 >"$log.ranges" 2>&1; then
				pass "$b $c: fragment 0 asked for CONFIG_DOWNLOAD_CLIENT_HTTP_FRAG_SIZE (1024) bytes"
			else
				cat "$log.ranges"
				fail "$b $c: ranges are not the configured 1024 bytes"
			fi
		fi
		if [ "$c" = long-url ]; then
			if queries_intact "$from" >"$log.query" 2>&1; then
				pass "$b $c: ${#LONG_URL}-byte URL, the server saw the query unchanged"
			else
				cat "$log.query"
				fail "$b $c: query changed on the way"
			fi
		fi
	done
done

# The checks before the upgrade (linked elsewhere, older, other key, unsigned).
# shellcheck source=tests/c/checks.sh
. tests/c/checks.sh

# --- credentials never in the output (a section of its own) -----------------

# shellcheck source=tests/c/secrets.sh
. tests/c/secrets.sh

# The server's own exceptions (tests/server/server_errors.py) fail the run.
if [ -s "$OUT/server-errors.log" ]; then
	cat "$OUT/server-errors.log"
	fail "the test server raised exceptions of its own"
fi

finish
