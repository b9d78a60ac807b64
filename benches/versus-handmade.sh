#!/usr/bin/env bash
# What pgo-build's PGO pipeline costs against the careful hand-made flow, on any
# Cargo project with pgo-build training workloads (a crate from the registry,
# say), in interleaved runs from clean target directories, as a CI job runs them.
#
# The hand-made flow is what a careful release engineer writes:
#   RUSTFLAGS=-Cprofile-generate=DIR cargo build --release --target HOST --target-dir A
#   (each training workload, run as pgo-build runs it, with PGO_BUILD_BIN and
#    LLVM_PROFILE_FILE=DIR/%4m.profraw)
#   llvm-profdata merge -o merged.profdata DIR
#   RUSTFLAGS=-Cprofile-use=merged.profdata cargo build --release --target HOST --target-dir B
# With --bolt, both go on to BOLT: the hand-made flow builds the PGO binary
# unstripped with `--emit-relocs` (as pgo-build's BOLT mode does, `strip = false`
# on both of its builds), then `llvm-bolt -instrument`, the training workloads,
# `merge-fdata`, and `llvm-bolt` with pgo-build's default flags.
# pgo-build's is `pgo-build all --no-compare` (`--bolt all --no-compare` with
# --bolt; lean instrumented build, its checks and records included). Both start from an empty target directory
# each round, so dependencies are built each time, in both: PROJECT/target/pgo-build
# is removed before each of pgo-build's runs (the hand-made builds go to the
# work folder).
#
# Usage: benches/versus-handmade.sh [--rounds N] [--bolt] [--pgo-build PATH] PROJECT
#   --rounds N        pairs of runs, interleaved (default 3)
#   --bolt            PGO+BOLT instead of PGO alone (needs llvm-bolt-NN on PATH)
#   --pgo-build PATH  the pgo-build binary (default: this repository's release build)
# The project's training workloads must be scripts (`run = "workloads/x.sh"`)
# or commands that use $PGO_BUILD_BIN; both flows build the Cargo profile its
# pgo-build.toml names (`profile`, else `release`).
#
# Prints each round's wall times, the medians, and the ratio ours/hand-made with
# its spread (the lowest and highest of the rounds' ratios). Exit status: 1 when
# a build or workload failed, 2 for a usage error, else 0.
set -euo pipefail
export LC_ALL=C

usage() { sed -n '/^# Usage:/,/^# Prints/{/^# Prints/d;s/^# //;p;}' "${BASH_SOURCE[0]}"; }

rounds=3
bolt=false
pgo_build=""
project=""
while (($#)); do
    case $1 in
        --rounds) rounds=${2:?--rounds needs a number}; shift ;;
        --bolt) bolt=true ;;
        --pgo-build) pgo_build=${2:?--pgo-build needs a path}; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) echo "versus-handmade: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) project=$1 ;;
    esac
    shift
done
[[ -n $project && -f $project/Cargo.toml ]] || { usage >&2; exit 2; }
project=$(cd "$project" && pwd)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -z $pgo_build ]]; then
    (cd "$repo" && cargo build --release --locked --quiet)
    pgo_build=${CARGO_TARGET_DIR:-$repo/target}/release/pgo-build
fi
host=$(rustc -vV | sed -n 's/^host: //p')
profdata=$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata
[[ -x $profdata ]] || { echo "versus-handmade: no $profdata (rustup component add llvm-tools-preview)" >&2; exit 1; }
work=$(mktemp -d /tmp/versus-handmade.XXXXXX)
bin=$(cargo metadata --no-deps --format-version 1 --manifest-path "$project/Cargo.toml" |
    python3 -c 'import json,sys; m=json.load(sys.stdin); print([t["name"] for p in m["packages"] for t in p["targets"] if "bin" in t["kind"]][0])')
# The training workloads' commands, and the Cargo profile.
workloads=$(python3 - "$project/pgo-build.toml" <<'PY'
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))
for w in c.get("workload", []):
    if "train" in w.get("use", ["train"]):
        print(w["run"])
PY
)
profile=$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb")).get("profile", "release"))' \
    "$project/pgo-build.toml")
profile_dir=$([[ $profile == release ]] && echo release || echo "$profile")

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }

llvm_major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
llvm_bolt=$(command -v "llvm-bolt-$llvm_major" || command -v llvm-bolt || true)
merge_fdata=${llvm_bolt/llvm-bolt/merge-fdata}
if $bolt && [[ ! -x $llvm_bolt ]]; then
    echo "versus-handmade: --bolt needs llvm-bolt-$llvm_major (Debian: bolt-$llvm_major)" >&2
    exit 1
fi
mode=()
$bolt && mode=(--bolt)
unstripped=()
$bolt && unstripped=(--config "profile.$profile.strip=false")

ours() {
    rm -rf "$project/target/pgo-build"
    "$pgo_build" --color never --project "$project" "${mode[@]}" all --no-compare >"$work/ours.log" 2>&1 ||
        { tail -20 "$work/ours.log" >&2; exit 1; }
}

handmade() {
    local raw=$work/raw merged=$work/merged.profdata
    rm -rf "$work/hand-a" "$work/hand-b" "$raw" "$merged"
    mkdir -p "$raw"
    (cd "$project" && RUSTFLAGS="-Cprofile-generate=$raw" cargo build --profile "$profile" --quiet --target "$host" \
        "${unstripped[@]}" --target-dir "$work/hand-a")
    local exe=$work/hand-a/$host/$profile_dir/$bin
    while IFS= read -r run; do
        [[ -n $run ]] || continue
        (cd "$project" && PGO_BUILD_BIN=$exe LLVM_PROFILE_FILE="$raw/%4m.profraw" PGO_BUILD_STAGE=train \
            sh -c "$(if [[ -f $project/$run ]]; then echo "\"$project/$run\""; else echo "$run"; fi)" >/dev/null)
    done <<<"$workloads"
    "$profdata" merge -o "$merged" "$raw"
    local relocs=""
    $bolt && relocs=" -Clink-arg=-Wl,--emit-relocs"
    (cd "$project" && RUSTFLAGS="-Cprofile-use=$merged$relocs" cargo build --profile "$profile" --quiet \
        --target "$host" "${unstripped[@]}" --target-dir "$work/hand-b")
    $bolt || return 0
    local pgo=$work/hand-b/$host/$profile_dir/$bin fdata=$work/fdata
    rm -rf "$fdata"
    mkdir -p "$fdata"
    "$llvm_bolt" "$pgo" -instrument -o "$work/bolt.instrumented" --instrumentation-file="$fdata/$bin.fdata" \
        --instrumentation-file-append-pid >/dev/null
    while IFS= read -r run; do
        [[ -n $run ]] || continue
        (cd "$project" && PGO_BUILD_BIN=$work/bolt.instrumented PGO_BUILD_STAGE=train \
            sh -c "$(if [[ -f $project/$run ]]; then echo "\"$project/$run\""; else echo "$run"; fi)" >/dev/null)
    done <<<"$workloads"
    "$merge_fdata" "$fdata"/*.fdata -o "$work/merged.fdata" 2>/dev/null
    "$llvm_bolt" "$pgo" -o "$work/bolt.out" -data="$work/merged.fdata" -reorder-blocks=ext-tsp \
        -reorder-functions=cdsort -split-functions -split-all-cold -split-eh -icf=all -use-gnu-stack \
        -no-huge-pages -use-old-text >/dev/null 2>&1
}

echo "project: $project; binary $bin, profile $profile$($bolt && echo ", PGO+BOLT"); $rounds interleaved pairs; work folder $work"
ours_t=()
hand_t=()
for ((i = 1; i <= rounds; i++)); do
    a=$(now); ours; b=$(now); handmade; c=$(now)
    ours_t+=("$(elapsed "$a" "$b")")
    hand_t+=("$(elapsed "$b" "$c")")
    echo "round $i: pgo-build ${ours_t[-1]} s, hand-made ${hand_t[-1]} s"
done
python3 - "${ours_t[*]}" "${hand_t[*]}" <<'PY'
import statistics, sys
ours = [float(x) for x in sys.argv[1].split()]
hand = [float(x) for x in sys.argv[2].split()]
ratios = [o / h for o, h in zip(ours, hand)]
print()
print("| | median (s) | rounds (s) |")
print("|---|---|---|")
print(f"| pgo-build | {statistics.median(ours):.1f} | {', '.join(f'{x:.1f}' for x in ours)} |")
print(f"| hand-made flow | {statistics.median(hand):.1f} | {', '.join(f'{x:.1f}' for x in hand)} |")
print(f"| ours / hand-made | {statistics.median(ratios):.2f}× | {min(ratios):.2f}×–{max(ratios):.2f}× |")
PY
