#!/bin/sh
# Training workload: integer recursion, sieve, gcd and Collatz loops.
# Run by pgo-build with $PGO_BUILD_BIN set to the binary under test.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$PGO_BUILD_BIN" "$here/../programs/numeric.demo" 5 >/dev/null
