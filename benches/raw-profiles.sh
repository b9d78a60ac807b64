#!/usr/bin/env bash
# Raw profile scale benchmark: a training workload that runs the binary RUNS
# times (test suites and shell-driven CLIs do), with each pgo-build given.
#
# What it does, for each pgo-build binary (--pgo-build, repeatable; default: this
# repository's release build):
#   1. writes a small Cargo project into a fresh folder (one branchy binary, a
#      `lto = "fat"` release profile) whose one training workload runs the binary
#      RUNS times, eight at a time;
#   2. runs `pgo-build instrument`, then `train`, then `merge`, timing train and
#      merge;
#   3. reads from the train record the number of raw profile files and their
#      bytes, and from the merge record the profile's total count.
# Then it prints one row per binary. The total count is deterministic: equal
# counts mean no run was lost. Times are one run each on a busy machine: read
# them as a rough size, the files and bytes as the result.
#
# Usage: benches/raw-profiles.sh [--runs N] [--pgo-build PATH]...
#   --runs N          runs of the binary in the workload (default 5000)
#   --pgo-build PATH  a pgo-build binary to measure; repeat to compare several
#
# Exit status: 1 when a pgo-build command failed, 2 for a usage error, else 0.
set -euo pipefail
export LC_ALL=C

usage() { sed -n '/^# Usage:/,/^#$/{/^#$/d;s/^# //;p;}' "${BASH_SOURCE[0]}"; }

runs=5000
binaries=()
while (($#)); do
    case $1 in
        --runs) runs=${2:?--runs needs a number}; shift ;;
        --pgo-build) binaries+=("${2:?--pgo-build needs a path}"); shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "raw-profiles: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ((${#binaries[@]} == 0)); then
    (cd "$repo" && cargo build --release --locked --quiet)
    binaries=("${CARGO_TARGET_DIR:-$repo/target}/release/pgo-build")
fi

# project DIR: the Cargo project and its workload.
project() {
    mkdir -p "$1/src" "$1/workloads"
    cat >"$1/Cargo.toml" <<'EOF'
[package]
name = "many"
version = "0.1.0"
edition = "2021"

[workspace]

[profile.release]
lto = "fat"
EOF
    cat >"$1/src/main.rs" <<'EOF'
fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(match i % 5 { 0 => i / 5, 1 | 2 => i * 3 + 1, _ => i.rotate_left(7) });
    }
    println!("{acc}");
}
EOF
    cat >"$1/workloads/many.sh" <<EOF
#!/bin/sh
i=0
while [ \$i -lt $runs ]; do
    "\$PGO_BUILD_BIN" 2000 > /dev/null &
    i=\$((i + 1))
    [ \$((i % 8)) -eq 0 ] && wait
done
wait
EOF
    chmod +x "$1/workloads/many.sh"
    printf '[[workload]]\nname = "many"\nrun = "workloads/many.sh"\nuse = ["train"]\n' >"$1/pgo-build.toml"
}

seconds() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }

echo "| pgo-build | runs | raw files | raw bytes | train (s) | merge (s) | total count |"
echo "|---|---|---|---|---|---|---|"
for bin in "${binaries[@]}"; do
    dir=$(mktemp -d /tmp/raw-profiles.XXXXXX)
    project "$dir"
    log=$dir.log
    run() { "$bin" --color never --project "$dir" "$@" >>"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }; }
    run instrument
    t0=$EPOCHREALTIME
    run train
    t1=$EPOCHREALTIME
    run merge
    t2=$EPOCHREALTIME
    read -r files bytes total < <(python3 - "$dir/target/pgo-build/state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
w = s["train"]["workloads"][0]
print(w["raw_files"], w["raw_bytes"], s["merge"]["total_count"])
PY
)
    echo "| $bin | $runs | $files | $bytes | $(seconds "$t0" "$t1") | $(seconds "$t1" "$t2") | $total |"
    rm -rf "$dir"
done
