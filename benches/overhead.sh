#!/usr/bin/env bash
# Overhead benchmark: how long pgo-build takes to answer when nothing changed.
#
# Every command judges the stages it reads from fingerprints of the files they
# watch: the sources of both builds and every raw profile the merge read. On a
# large project, reading those again costs seconds per verdict. This script
# times the commands that only judge, on a project where it would: `status`,
# `show` (the merged profile) and `all --no-compare` with nothing to do.
#
# What it does:
#   1. builds pgo-build (`cargo build --release --locked` in the repository root,
#      honouring CARGO_TARGET_DIR), unless --pgo-build PATH names a binary; give
#      --pgo-build twice to time two binaries (before and after a change) on the
#      same workspace, side by side;
#   2. makes the workspace (a new temporary folder, or --dir DIR, reused when a
#      finished one is there): a binary crate of --modules source files, one
#      training workload, then `pgo-build all --no-compare`; then adds to the
#      training set copies of the raw profile it wrote, concatenated into files
#      of 16 MiB or more (llvm-profdata reads concatenated raw profiles as one),
#      until the set holds --raw-mb MiB, and runs `all --no-compare` again, so
#      that merge watches all of it. The pipeline is made by the last binary
#      given;
#   3. for each binary, runs each command once untimed (the OS caches the files;
#      a pgo-build that keeps hashes fills its cache), then --runs times, and
#      prints the median wall time of each, with the fastest and slowest;
#   4. checks that every timed `all --no-compare` found every stage up to date
#      (else it built, and its time says nothing of the overhead).
#
# With two binaries, the last column is the first's median over the second's.
# `show` also merges each workload's raw profiles alone with llvm-profdata, to
# measure its share: that is its work, not overhead, and grows with --raw-mb.
#
# The workspace is removed at the end unless --dir or --keep was given. Setting
# it up builds the project three times (instrumented, PGO, PGO again with the
# large profile set): a few minutes.
#
# Usage: benches/overhead.sh [--pgo-build PATH]... [--runs N] [--modules N] [--raw-mb N] [--dir DIR] [--keep] [--markdown]
#   --pgo-build PATH  time this pgo-build binary instead of building one (twice: compare two)
#   --runs N          timed runs of each command, per binary (default 5)
#   --modules N       source files of the generated crate (default 400)
#   --raw-mb N        MiB of raw profiles in the training set (default 1024)
#   --dir DIR         make the workspace in DIR and keep it; a finished one there is reused as it is
#   --keep            keep the temporary workspace, and say where it is
#   --markdown        print the table as Markdown
#
# Exit status: 1 when pgo-build failed (setting up, or a timed run) or a timed
# `all --no-compare` ran a stage, 2 for a usage error, else 0.
set -euo pipefail
export LC_ALL=C # a '.' in $EPOCHREALTIME and byte-wise awk, whatever the locale

usage() {
    sed -n '/^# Usage:/,/^#$/{/^#$/d;s/^# //;p;}' "${BASH_SOURCE[0]}"
}

die_usage() {
    echo "overhead: $1" >&2
    exit 2
}

binaries=()
runs=5
modules=400
raw_mb=1024
dir=""
keep=false
markdown=false
number() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die_usage "$1 needs a positive number, not '$2'"; }
while (($#)); do
    case $1 in
        --pgo-build | --runs | --modules | --raw-mb | --dir)
            (($# >= 2)) || die_usage "$1 needs a value"
            case $1 in
                --pgo-build) binaries+=("$2") ;;
                --runs) number "$1" "$2" && runs=$2 ;;
                --modules) number "$1" "$2" && modules=$2 ;;
                --raw-mb) number "$1" "$2" && raw_mb=$2 ;;
                --dir) dir=$2 ;;
            esac
            shift
            ;;
        --keep) keep=true ;;
        --markdown) markdown=true ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "overhead: unknown argument: $1" >&2
            usage >&2
            exit 2
            ;;
    esac
    shift
done
((${#binaries[@]} <= 2)) || die_usage "--pgo-build is given at most twice"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# A clock in seconds with microseconds: bash 5's $EPOCHREALTIME (no fork), else date(1).
now() { printf '%s\n' "${EPOCHREALTIME:-$(date +%s.%N)}"; }

# 1. pgo-build itself.
if ((${#binaries[@]} == 0)); then
    echo "overhead: building pgo-build (release) in $root" >&2
    (cd "$root" && cargo build --release --locked)
    target_dir=${CARGO_TARGET_DIR:-target}
    [[ $target_dir == /* ]] || target_dir=$root/$target_dir
    binaries=("$target_dir/release/pgo-build")
fi
labels=()
for i in "${!binaries[@]}"; do
    b=${binaries[$i]}
    [[ -x $b ]] || die_usage "no pgo-build binary at $b"
    [[ $b == /* ]] || binaries[i]=$PWD/$b
    labels+=("$(basename "$(dirname "${binaries[$i]}")")/$(basename "${binaries[$i]}")")
done
if ((${#binaries[@]} == 2)) && [[ ${labels[0]} == "${labels[1]}" ]]; then
    labels=("first" "second")
fi
setup_bin=${binaries[${#binaries[@]} - 1]}

# 2. The workspace.
if [[ -n $dir ]]; then
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    keep=true
else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/pgo-build-overhead.XXXXXX")
fi
cleanup() {
    if $keep; then echo "overhead: the workspace is kept in $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT
project=$dir/project
log=$dir/setup.log

# Runs the setup binary on the project; its output goes to the setup log.
pgo() {
    env -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET_DIR "$setup_bin" --color never --project "$project" "$@" \
        >>"$log" 2>&1 || {
        echo "overhead: \`pgo-build $*\` failed while setting up; the log's last lines ($log):" >&2
        tail -n 30 "$log" >&2
        exit 1
    }
}

if [[ ! -f $dir/ready ]]; then
    rm -rf "$project"
    mkdir -p "$project/src"
    echo "overhead: generating a crate of $modules modules in $project" >&2
    cat >"$project/Cargo.toml" <<'EOF'
[package]
name = "overhead"
version = "0.1.0"
edition = "2021"

[workspace]
EOF
    cat >"$project/pgo-build.toml" <<'EOF'
profile = "release"

[[workload]]
name = "train"
run = '"$PGO_BUILD_BIN" 2000 > /dev/null'
use = ["train"]
EOF
    main=$project/src/main.rs
    {
        for ((m = 0; m < modules; m++)); do printf 'mod m%04d;\n' "$m"; done
        echo
        echo 'fn main() {'
        echo '    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);'
        echo '    let mut acc = 0u64;'
        echo '    for i in 0..n {'
        for ((m = 0; m < modules; m++)); do printf '        acc ^= m%04d::g(i);\n' "$m"; done
        echo '    }'
        echo '    println!("{acc}");'
        echo '}'
    } >"$main"
    for ((m = 0; m < modules; m++)); do
        cat >"$(printf '%s/src/m%04d.rs' "$project" "$m")" <<EOF
pub fn f(x: u64) -> u64 {
    let mut h = x ^ $m;
    for i in 0..(x % 7 + 1) {
        h = h.wrapping_mul(6364136223846793005).wrapping_add(i ^ $m);
    }
    h
}

pub fn g(x: u64) -> u64 {
    if x % 3 == $((m % 3)) { f(x / 2) } else { f(x.wrapping_mul(3).wrapping_add(1)) }
}
EOF
    done
    (cd "$project" && cargo generate-lockfile --offline -q 2>/dev/null || cargo generate-lockfile -q)

    echo "overhead: running the pipeline once (log: $log)" >&2
    pgo all --no-compare
    state=$project/target/pgo-build/state.json
    raw_dir=$(grep -o '"raw_dir": *"[^"]*"' "$state" | head -n 1 | sed 's/.*: *"//; s/"$//')
    [[ -d $raw_dir ]] || { echo "overhead: no raw profile folder in $state" >&2; exit 1; }
    sample=$(find "$raw_dir" -name '*.profraw' -size +0 | head -n 1)
    [[ -n $sample ]] || { echo "overhead: no raw profile in $raw_dir" >&2; exit 1; }
    # Raw profiles concatenated are one raw profile to llvm-profdata (their
    # counts add up): files of 16 MiB or more of copies of the sample, as many
    # as it takes.
    chunk=$dir/chunk.profraw
    cp "$sample" "$chunk"
    while (($(stat -c %s "$chunk") < 16 * 1024 * 1024)); do
        cat "$chunk" "$chunk" >"$chunk.2" && mv "$chunk.2" "$chunk"
    done
    size=$(stat -c %s "$chunk")
    copies=$(((raw_mb * 1024 * 1024 + size - 1) / size))
    echo "overhead: adding $copies raw profiles of $((size / 1024)) KiB (copies of $(basename "$sample")) to $raw_dir" >&2
    for ((c = 0; c < copies; c++)); do cp "$chunk" "$(printf '%s/copy-%04d.profraw' "$raw_dir" "$c")"; done
    rm -f "$chunk"
    echo "overhead: running the pipeline again, to merge them (log: $log)" >&2
    pgo all --no-compare
    touch "$dir/ready"
fi

sources=$(find "$project/src" -name '*.rs' | wc -l)
raw=$(find "$project/target/pgo-build/profiles/raw" -name '*.profraw' -not -path '*/.run-*' | wc -l)
raw_bytes=$(find "$project/target/pgo-build/profiles/raw" -name '*.profraw' -not -path '*/.run-*' -printf '%s\n' |
    awk '{ s += $1 } END { printf "%.0f", s / 1048576 }')

# 3. The timings: one line "command<TAB>binary index<TAB>seconds" per run.
commands=("status" "show" "all --no-compare")
times=$dir/times.tsv
: >"$times"
failed=0
for i in "${!binaries[@]}"; do
    b=${binaries[$i]}
    for cmd in "${commands[@]}"; do
        read -r -a words <<<"$cmd"
        out=$dir/run.log
        for ((r = 0; r <= runs; r++)); do
            start=$(now)
            set +e
            env -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET_DIR \
                "$b" --color never --project "$project" "${words[@]}" >"$out" 2>&1
            rc=$?
            set -e
            end=$(now)
            if ((rc != 0)); then
                echo "overhead: \`pgo-build $cmd\` (${labels[$i]}) failed with status $rc:" >&2
                tail -n 20 "$out" >&2
                exit 1
            fi
            ((r == 0)) && continue # the warm-up (it may bring the pipeline up to date)
            # 4. Nothing to do means no stage ran: each says it is up to date.
            if [[ $cmd == all* ]] && grep -E '^ *(instrument|train|merge|optimize) ' "$out" | grep -vq 'up to date'; then
                echo "overhead: \`pgo-build $cmd\` (${labels[$i]}) ran a stage; its output:" >&2
                cat "$out" >&2
                failed=1
            fi
            awk -v c="$cmd" -v i="$i" -v s="$start" -v e="$end" 'BEGIN { printf "%s\t%s\t%.6f\n", c, i, e - s }' >>"$times"
        done
    done
done

# The table: per command, per binary, the median (min-max) of the runs.
title="pgo-build with nothing to do: $sources source files, $raw raw profiles ($raw_bytes MiB), median of $runs runs"
awk -F'\t' -v nb="${#binaries[@]}" -v markdown="$markdown" -v title="$title" \
    -v l0="${labels[0]}" -v l1="${labels[1]:-}" -v cmds="status|show|all --no-compare" '
function secs(t) { return t < 1 ? sprintf("%.0f ms", t * 1000) : sprintf("%.2f s", t) }
function median(k, n,   i, j, t, v) {
    for (i = 1; i <= n; i++) v[i] = x[k, i]
    for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
    lo[k] = v[1]; hi[k] = v[n]
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{ k = $1 SUBSEP $2; x[k, ++n[k]] = $3 }
END {
    label[0] = l0; label[1] = l1
    nc = split(cmds, c, "|")
    rows[0] = "command"
    for (b = 0; b < nb; b++) rows[0] = rows[0] "\t" label[b] ": median (min-max)"
    if (nb == 2) rows[0] = rows[0] "\tfirst/second"
    for (r = 1; r <= nc; r++) {
        rows[r] = "pgo-build " c[r]
        for (b = 0; b < nb; b++) {
            k = c[r] SUBSEP b
            m[b] = median(k, n[k])
            rows[r] = rows[r] "\t" secs(m[b]) " (" secs(lo[k]) "-" secs(hi[k]) ")"
        }
        if (nb == 2) rows[r] = rows[r] "\t" (m[1] > 0 ? sprintf("%.1fx", m[0] / m[1]) : "-")
    }
    printf "%s%s\n\n", markdown == "true" ? "" : "\n", title
    for (r = 0; r <= nc; r++) {
        nf = split(rows[r], f, "\t")
        for (j = 1; j <= nf; j++) if (length(f[j]) > w[j]) w[j] = length(f[j])
    }
    for (r = 0; r <= nc; r++) {
        nf = split(rows[r], f, "\t")
        line = ""
        for (j = 1; j <= nf; j++) {
            cell = j == 1 ? sprintf("%-" w[j] "s", f[j]) : sprintf("%" w[j] "s", f[j])
            line = line (markdown == "true" ? "| " cell " " : (j > 1 ? "  " : "") cell)
        }
        print line (markdown == "true" ? "|" : "")
        if (r == 0 && markdown == "true") {
            line = ""
            for (j = 1; j <= nf; j++) {
                dashes = ""
                while (length(dashes) < w[j] + 1) dashes = dashes "-"
                line = line "|" (j == 1 ? dashes "-" : dashes ":")
            }
            print line "|"
        }
    }
}' "$times"
((failed == 0)) || exit 1
