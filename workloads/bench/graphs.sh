#!/bin/sh
# Benchmark workload (held out): maze BFS, LCS dynamic programming, merge sort.
# Run by pgo-build with $PGO_BUILD_BIN set to the binary under test.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$PGO_BUILD_BIN" "$here/../programs/graphs.demo" 18 >/dev/null
