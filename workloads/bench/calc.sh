#!/bin/sh
# Benchmark workload (held out): expression tokenizer/evaluator, RLE, anagram grouping.
# Run by pgo-build with $PGO_BUILD_BIN set to the binary under test.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$PGO_BUILD_BIN" "$here/../programs/calc.demo" 32 >/dev/null
