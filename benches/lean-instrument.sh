#!/usr/bin/env bash
# Lean instrumented build benchmark: what skipping LTO in the instrumented build
# (pgo-build's default, `lean-instrument`) saves, and what it costs the profile.
#
# For each PROJECT (a Cargo project with pgo-build workloads), in a work folder:
#   1. copies it twice, without its target/: lean/NAME as it is, full/NAME with
#      `lean-instrument = false` put first in its pgo-build.toml (a `workloads`
#      folder beside the project, which the bundled demos share, is copied
#      beside each copy too);
#   2. builds the instrumented binaries ROUNDS times in each copy, interleaved
#      (lean, full, lean, full, …), each time from a clean pgo-build target
#      directory, so dependencies are built too, as in a CI job; and prints each
#      copy's median wall time and the ratio lean/full;
#   3. runs `all --no-compare` in each copy (train, merge, optimize) and prints
#      optimize's line: functions without profile data and hash mismatches;
#   4. counts each benchmark workload's instructions with the optimized binary of
#      each copy (`compare --counts --counter cachegrind --variants pgo`, one
#      measured round), and prints them per workload with the difference in
#      percent. Counts are deterministic; times are not.
#
# Usage: benches/lean-instrument.sh [--rounds N] [--builds-only] [--work DIR] [--pgo-build PATH] PROJECT...
#   --rounds N        instrumented builds per copy (default 2)
#   --builds-only     steps 1 and 2 only: the build times
#   --work DIR        where the copies go (default: a new folder under /tmp)
#   --pgo-build PATH  use this pgo-build binary instead of building one
#
# Exit status: 1 when a pgo-build command failed, 2 for a usage error, else 0.
set -euo pipefail
export LC_ALL=C

usage() { sed -n '/^# Usage:/,/^#$/{/^#$/d;s/^# //;p;}' "${BASH_SOURCE[0]}"; }

rounds=2
builds_only=false
work=""
pgo_build=""
projects=()
while (($#)); do
    case $1 in
        --rounds) rounds=${2:?--rounds needs a number}; shift ;;
        --builds-only) builds_only=true ;;
        --work) work=${2:?--work needs a folder}; shift ;;
        --pgo-build) pgo_build=${2:?--pgo-build needs a path}; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) echo "lean-instrument: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) projects+=("$1") ;;
    esac
    shift
done
((${#projects[@]})) || { usage >&2; exit 2; }
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -z $pgo_build ]]; then
    (cd "$repo" && cargo build --release --locked --quiet)
    pgo_build=${CARGO_TARGET_DIR:-$repo/target}/release/pgo-build
fi
work=${work:-$(mktemp -d /tmp/lean-instrument.XXXXXX)}
mkdir -p "$work"
echo "pgo-build: $pgo_build; work folder: $work; $rounds instrumented builds per copy"

# copy SRC DEST: the project without its target/ folder.
copy() {
    rm -rf "$2"
    mkdir -p "$2"
    (cd "$1" && tar cf - --exclude=./target .) | (cd "$2" && tar xf -)
}

# pgo DIR ARGS...: pgo-build on DIR, its output kept in DIR.log.
pgo() {
    local dir=$1
    shift
    "$pgo_build" --color never --project "$dir" "$@" >>"$dir.log" 2>&1 || {
        echo "lean-instrument: pgo-build --project $dir $* failed; the end of $dir.log:" >&2
        tail -20 "$dir.log" >&2
        exit 1
    }
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for project in "${projects[@]}"; do
    name=$(basename "$project")
    lean=$work/lean/$name
    full=$work/full/$name
    copy "$project" "$lean"
    copy "$project" "$full"
    if [[ -d $project/../workloads ]]; then
        copy "$project/../workloads" "$work/lean/workloads"
        copy "$project/../workloads" "$work/full/workloads"
    fi
    { echo "lean-instrument = false"; cat "$full/pgo-build.toml" 2>/dev/null || true; } >"$full/pgo-build.toml.new"
    mv "$full/pgo-build.toml.new" "$full/pgo-build.toml"
    : >"$lean.log"
    : >"$full.log"

    declare -A times=([lean]="" [full]="")
    for ((i = 1; i <= rounds; i++)); do
        for kind in lean full; do
            dir=$work/$kind/$name
            rm -rf "$dir/target/pgo-build"
            start=$EPOCHREALTIME
            pgo "$dir" instrument
            end=$EPOCHREALTIME
            times[$kind]+="$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}') "
        done
    done
    lean_s=$(tr ' ' '\n' <<<"${times[lean]}" | grep . | median)
    full_s=$(tr ' ' '\n' <<<"${times[full]}" | grep . | median)

    if ! $builds_only; then
        for kind in lean full; do
            dir=$work/$kind/$name
            pgo "$dir" all --no-compare
            pgo "$dir" compare --counts --counter cachegrind --variants pgo --rounds 1 --warmup 0 --budget 10m
        done
    fi

    echo
    echo "## $name"
    echo
    echo "| | lean | full | lean/full |"
    echo "|---|---|---|---|"
    awk -v l="$lean_s" -v f="$full_s" -v r="$rounds" \
        'BEGIN {printf "| instrumented build, median of %d (s) | %.1f | %.1f | %.2f× |\n", r, l, f, l / f}'
    echo "rounds (s): lean ${times[lean]}, full ${times[full]}"
    $builds_only && continue
    for kind in lean full; do
        grep -E "optimize .*(without profile data|profiled functions)" "$work/$kind/$name.log" | tail -2 |
            sed "s/^ *optimize /  $kind: /"
    done
    python3 - "$lean/target/pgo-build/report/report.json" "$full/target/pgo-build/report/report.json" <<'PY'
import json, sys
def counts(path):
    report = json.load(open(path))
    for v in report["variants"]:
        if v.get("name") == "pgo" or v.get("variant") == "pgo":
            return {w["name"]: w["instructions"] for w in (v.get("counts") or {}).get("workloads", [])}
    return {}
lean, full = counts(sys.argv[1]), counts(sys.argv[2])
print()
print("| workload | instructions, lean | instructions, full | difference |")
print("|---|---|---|---|")
for w in sorted(lean):
    if w in full and full[w]:
        print(f"| {w} | {lean[w]:,} | {full[w]:,} | {100 * (lean[w] - full[w]) / full[w]:+.3f}% |")
PY
done
