# SPDX-License-Identifier: Apache-2.0
# tests/c/checks.sh: the checks before the upgrade through the C API, sourced
# by tests/c/run.sh once its server runs (uses its build, pass, fail, WARN,
# OUT, HOST, PORT, ROOT). Builds tests/c/test_checks.c against the host SDK
# (v2.0.0 header), makes its images with scripts/make-image.py, and runs each
# case of test_checks.c on a device running 1.2.0 (primary slot: the host
# port's default, 0xc000); `other-key` and `unsigned` also set the
# verification key (tests/data/test-key.pub.pem).

checks_images() {
	local mk=(python3 scripts/make-image.py --size 20000 --version)
	"${mk[@]}" 1.3.0 --out "$OUT/www/checks-accepted.bin" &&
		"${mk[@]}" 1.3.0 --out "$OUT/www/checks-linked.bin" --load-addr 0x20200 &&
		"${mk[@]}" 1.1.0 --out "$OUT/www/checks-old.bin" &&
		"${mk[@]}" 1.3.0 --out "$OUT/www/checks-unsigned.bin" &&
		imgtool keygen -t ecdsa-p256 -k "$OUT/checks-other-key.pem" &&
		"${mk[@]}" 1.3.0 --out "$OUT/www/checks-other-key.bin" --key "$OUT/checks-other-key.pem"
}

# shellcheck disable=SC2046 # pkg-config output is a list of words
build checks "$OUT/build-checks.log" "${WARN[@]}" tests/c/test_checks.c \
	$(pkg-config --cflags --libs fota-rs-host) -o "$OUT/test-checks"
if [ -x "$OUT/test-checks" ] && checks_images >"$OUT/logs/checks-images.log" 2>&1; then
	for c in $("$OUT/test-checks" --list); do
		log=$OUT/logs/checks-$c.log
		key=()
		case $c in other-key | unsigned)
			key=(FOTA_RS_HOST_VERIFY_KEY="$ROOT/tests/data/test-key.pub.pem") ;;
		esac
		image=$c
		if env "${key[@]}" FOTA_RS_HOST_FLASH="$OUT/slots/checks-$c.bin" \
			FOTA_RS_HOST_RUNNING_VERSION=1.2.0 \
			timeout 300 "$OUT/test-checks" "$c" "https://$HOST:$PORT/checks-$image.bin" \
			>"$log" 2>&1; then
			pass "checks $c"
		else
			sed 's/^/    /' "$log"
			fail "checks $c"
		fi
	done
else
	cat "$OUT/logs/checks-images.log" 2>/dev/null
	fail "checks: build or images"
fi
