#!/bin/sh
# Benchmark (held out from training): checksums the config text.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$PGO_BUILD_BIN" "$here/../texts/bench-config.txt" 3000 >/dev/null
