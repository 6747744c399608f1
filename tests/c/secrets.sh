# SPDX-License-Identifier: Apache-2.0
# The C API's secret test, sourced by tests/c/run.sh once its server runs
# (uses its OUT, PORT, IMAGE, WARN, CC, pass and fail). URLs name the server
# fota.test (in its certificate) and app.bin, short enough that the secrets
# sit in the URL's first 100 bytes.
#
# tests/c/test_secrets.c, built against the SDK's header, downloads URLs
# carrying the pre-signed queries of tests/data/secret-queries.txt at the
# most verbose log level (FOTA_RS_HOST_LOG_LEVEL=dbg) to each end: success
# through two redirects whose Location carries the query, 403, a refused TLS
# certificate, a hash mismatch, a cancel and a refused redirect (a loop).
# Each run must end as expected, must have logged the URL redacted, and no
# credential value may appear in its stdout or stderr.

secrets_test() {
	local bin=$OUT/test-secrets log query values v leaked url c q
	# shellcheck disable=SC2046 # pkg-config output is a list of words
	if ! "$CC" "${WARN[@]}" tests/c/test_secrets.c $(pkg-config --cflags --libs fota-rs-host) \
		-o "$bin" >"$OUT/build-secrets.log" 2>&1; then
		cat "$OUT/build-secrets.log"
		fail "build secrets"
		return
	fi
	cp "$IMAGE" "$OUT/www/app.bin"
	# The image with one payload byte flipped: its SHA-256 TLV no longer matches.
	python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[0x200 + 5000] ^= 0x40
open(sys.argv[2], "wb").write(b)' "$IMAGE" "$OUT/www/corrupt.bin"
	q=0
	while read -r query; do
		case $query in '' | '#'*) continue ;; esac
		q=$((q + 1))
		values=$(tr '&' '\n' <<<"$query" | cut -d= -f2-)
		for c in finished:redirect/2/app.bin error:status/403/app.bin \
			refused:app.bin error:corrupt.bin cancelled:app.bin \
			error:redirect/9/app.bin; do
			url="https://fota.test:$PORT/${c#*:}?$query"
			log=$OUT/logs/secrets-$q-${c%%:*}-$(tr / - <<<"${c#*:}").log
			for v in $values; do
				if [ $(($(grep -bo "$v" <<<"$url" | cut -d: -f1) + ${#v})) -gt 100 ]; then
					fail "secrets: $v past byte 100 of $url"
				fi
			done
			if ! FOTA_RS_HOST_LOG_LEVEL=dbg FOTA_RS_HOST_FLASH=$OUT/slots/secrets.bin \
				FOTA_RS_HOST_RESOLVE=fota.test:$PORT:127.0.0.1 timeout 300 "$bin" "${c%%:*}" "$url" >"$log" 2>&1; then
				sed 's/^/    /' "$log"
				fail "secrets $c query $q: ended otherwise"
				continue
			fi
			leaked=$(grep -o -F "$values" "$log" | sort -u | tr '\n' ' ')
			if [ -n "$leaked" ]; then
				sed 's/^/    /' "$log"
				fail "secrets $c query $q: leaked $leaked"
			elif ! grep -q '=REDACTED&' "$log"; then
				sed 's/^/    /' "$log"
				fail "secrets $c query $q: the URL was not logged (nothing redacted)"
			else
				pass "secrets $c query $q: no credential in the output"
			fi
		done
	done <tests/data/secret-queries.txt
}
secrets_test
