#!/bin/sh
# Training workload for the server demo: kv-load's `train` mix (every command, in
# other proportions than the benchmark's, over 5,000 keys, uniform) against the
# kvd that pgo-build started.
# Run by pgo-build with $PGO_BUILD_ADDR set to the server's address; kvd itself
# ($PGO_BUILD_BIN) is started and stopped by pgo-build (`serve` in pgo-build.toml).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# The load client is a plain release build, not the binary under test; cargo
# builds it into demo-server/target/release the first time and skips it after.
cargo build -q --release --bin kv-load --manifest-path "$here/../../demo-server/Cargo.toml"
"$here/../../demo-server/target/release/kv-load" --addr "$PGO_BUILD_ADDR" --mix train \
    --connections 4 --pipeline 64 --requests 1500000 --seed 1
