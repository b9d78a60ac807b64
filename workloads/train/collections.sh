#!/bin/sh
# Training workload: sorting, matrices, grouping and stacks over arrays and maps.
# Run by pgo-build with $PGO_BUILD_BIN set to the binary under test.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$PGO_BUILD_BIN" "$here/../programs/collections.demo" 8 >/dev/null
