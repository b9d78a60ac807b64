#!/bin/sh
# Training workload: string building, ciphers and word counting in maps.
# Run by pgo-build with $PGO_BUILD_BIN set to the binary under test.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$PGO_BUILD_BIN" "$here/../programs/text.demo" 25 >/dev/null
