#!/bin/sh
# Benchmark workload for the server demo (held out): kv-load's `bench` mix (40 % GET,
# 15 % SET, 15 % APPEND, 10 % SCAN, 10 % DEL, 10 % INCR over 50,000 keys, skewed).
# Run by pgo-build with $PGO_BUILD_ADDR set to the server's address; kvd itself
# ($PGO_BUILD_BIN) is started and stopped by pgo-build (`serve` in pgo-build.toml).
# kv-load appends requests_per_s and p99_latency_ms to $PGO_BUILD_METRICS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# The load client is a plain release build, not the binary under test; cargo
# builds it into demo-server/target/release the first time and skips it after.
cargo build -q --release --bin kv-load --manifest-path "$here/../../demo-server/Cargo.toml"
"$here/../../demo-server/target/release/kv-load" --addr "$PGO_BUILD_ADDR" --mix bench \
    --connections 8 --pipeline 64 --requests 900000 --seed 2
