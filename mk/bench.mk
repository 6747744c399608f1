# SPDX-License-Identifier: Apache-2.0
# `make bench`: fota-sim, curl streaming and the NCS 2 KiB-range pattern on a
# simulated LTE-M link (linksim), plus callgrind instruction counts, then the
# nRF91 + Memfault profile (--section nrf91 alone). Slow (about 16 minutes)
# and timing-based, so it is not part of `make test`.
#   make bench BENCH_ARGS="--rounds 5 --rtt-ms 600"
# scripts/bench.py --help lists the parameters.
.PHONY: bench linksim

BENCH_ARGS ?=

bench: build
	python3 scripts/bench.py $(BENCH_ARGS)
linksim:
	cargo test -p fota-sim --bin linksim

TEST_TARGETS += linksim
