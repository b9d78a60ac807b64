#!/bin/sh
# Benchmark (held out from training): checksums the story text.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$PGO_BUILD_BIN" "$here/../texts/bench-story.txt" 3000 >/dev/null
