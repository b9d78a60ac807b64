#!/bin/sh
# Benchmark workload (held out): n-queens, tak, factorization, modular powers.
# Run by pgo-build with $PGO_BUILD_BIN set to the binary under test.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$PGO_BUILD_BIN" "$here/../programs/puzzles.demo" 24 >/dev/null
