#!/bin/sh
# Training: checksums the prose sample; nearly all the time is in the C loop.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$PGO_BUILD_BIN" "$here/../texts/train-prose.txt" 400 >/dev/null
