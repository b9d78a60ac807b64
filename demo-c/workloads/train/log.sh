#!/bin/sh
# Training: checksums the log sample; nearly all the time is in the C loop.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$PGO_BUILD_BIN" "$here/../texts/train-log.txt" 400 >/dev/null
