#!/usr/bin/env bash
# Pipeline cost benchmark: what `pgo-build all --bolt --no-compare` costs on the bundled demo.
#
# With --no-compare the pipeline should cost the two cargo builds (instrumented
# and PGO), the training runs and BOLT's instrument/train/rewrite, nothing more:
# the bolt stage may run each benchmark workload at most once per binary (its
# `bolt-verify` check that the BOLT binaries behave like the PGO ones), and
# nothing is measured. This script shows whether that holds.
#
# What it does:
#   1. builds pgo-build (`cargo build --release --locked` in the repository root,
#      honouring CARGO_TARGET_DIR), unless --pgo-build PATH names a binary;
#   2. removes the demo's pipeline, demo/target/pgo-build, so the run starts from
#      a clean target (with --cold: the whole demo/target);
#   3. runs `pgo-build -v --color never --project demo all --bolt --no-compare`
#      (CARGO_TARGET_DIR unset, so the pipeline lives in demo/target/pgo-build),
#      timestamping each stderr line as it arrives, into
#      demo/target/pipeline-cost/stderr.log (stdout: stdout.log beside it);
#   4. prints, from that log: each stage's wall time, the number of cargo builds,
#      the number of commands and workload runs per stage, and how many times
#      each benchmark workload (the demo's `use = ["bench"]` entries) ran, by
#      PGO_BUILD_STAGE and per binary; then the total wall time.
#
# A stage's wall time runs from the first line after the previous stage's last
# status line (so a command a stage runs before its first status line, such as
# bolt's `llvm-bolt -instrument`, counts for it) to the start of the next stage;
# the last stage ends when pgo-build exits. "(startup)" is the time before the
# first stage's first line. A stage that printed nothing shows "—".
#
# Usage: benches/pipeline-cost.sh [--cold] [--markdown] [--check] [--pgo-build PATH]
#   --cold            remove the whole demo/target first, not only demo/target/pgo-build
#   --markdown        print the tables as Markdown (to paste into an issue or a PR)
#   --check           exit 1 when a benchmark workload ran more than once on one binary
#   --pgo-build PATH  use this pgo-build binary instead of building one
#
# Exit status: pgo-build's own when it failed (after the tables and the log's
# tail), 1 for a failed --check, 2 for a usage error, else 0.
set -euo pipefail
export LC_ALL=C # a '.' in $EPOCHREALTIME and byte-wise awk, whatever the locale

usage() {
    sed -n '/^# Usage:/,/^#$/{/^#$/d;s/^# //;p;}' "${BASH_SOURCE[0]}"
}

cold=false
markdown=false
check=false
pgo_build=""
while (($#)); do
    case $1 in
        --cold) cold=true ;;
        --markdown) markdown=true ;;
        --check) check=true ;;
        --pgo-build)
            (($# >= 2)) || { echo "pipeline-cost: --pgo-build needs a path" >&2; exit 2; }
            pgo_build=$2
            shift
            ;;
        --pgo-build=*) pgo_build=${1#--pgo-build=} ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "pipeline-cost: unknown argument: $1" >&2
            usage >&2
            exit 2
            ;;
    esac
    shift
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
demo=$root/demo
[[ -f $demo/pgo-build.toml ]] || { echo "pipeline-cost: no demo project at $demo" >&2; exit 2; }

# A clock in seconds with microseconds: bash 5's $EPOCHREALTIME (no fork), else date(1).
now() { printf '%s\n' "${EPOCHREALTIME:-$(date +%s.%N)}"; }

# 1. pgo-build itself.
if [[ -z $pgo_build ]]; then
    echo "pipeline-cost: building pgo-build (release) in $root" >&2
    (cd "$root" && cargo build --release --locked)
    target_dir=${CARGO_TARGET_DIR:-target}
    [[ $target_dir == /* ]] || target_dir=$root/$target_dir
    pgo_build=$target_dir/release/pgo-build
fi
[[ -x $pgo_build ]] || { echo "pipeline-cost: no pgo-build binary at $pgo_build" >&2; exit 2; }
version=$("$pgo_build" --version 2>/dev/null || true)
[[ -n $version ]] || version="pgo-build ?"
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "?")
if [[ -n $(git -C "$root" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]]; then
    commit="$commit+changes"
fi

# 2. A clean target.
if $cold; then
    rm -rf "$demo/target"
else
    rm -rf "$demo/target/pgo-build"
fi
log_dir=$demo/target/pipeline-cost
mkdir -p "$log_dir"
log=$log_dir/stderr.log
out=$log_dir/stdout.log

# 3. The run, every stderr line stamped on arrival; status lines also shown live.
stamp() {
    local line
    while IFS= read -r line || [[ -n $line ]]; do
        printf '%s %s\n' "${EPOCHREALTIME:-$(date +%s.%N)}" "$line"
        [[ $line == "     running "* ]] || printf '%s\n' "$line" >&2
    done
}

args=(-v --color never --project demo all --bolt --no-compare)
title="pgo-build ${args[*]}"
args[4]=$demo # --project: the demo of this checkout, wherever this is run from
echo "pipeline-cost: $title  (log: ${log#"$root"/})" >&2
start=$(now)
set +e
env -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET_DIR \
    "$pgo_build" "${args[@]}" 2>&1 >"$out" | stamp >"$log"
statuses=("${PIPESTATUS[@]}")
set -e
end=$(now)
rc=${statuses[0]}
if ((statuses[1] != 0)); then
    echo "pipeline-cost: timestamping the log failed (status ${statuses[1]})" >&2
    exit 1
fi
if ((rc == 0)) && [[ ! -d $demo/target/pgo-build ]]; then
    echo "pipeline-cost: warning: no demo/target/pgo-build after the run (a build.target-dir in a cargo config?)" >&2
fi

# The benchmark workloads: name<TAB>run of each [[workload]] whose `use` has "bench".
bench=$(awk '
    function value(s) {
        sub(/^[^=]*=[ \t]*/, "", s)
        if (s ~ /^"/) { s = substr(s, 2); sub(/".*$/, "", s) }
        return s
    }
    function flush() {
        if (inw && use ~ /"bench"/ && name != "" && run != "") print name "\t" run
        inw = 0; name = ""; run = ""; use = ""
    }
    /^[ \t]*\[\[workload\]\]/ { flush(); inw = 1; next }
    /^[ \t]*\[/ { flush(); next }
    inw && /^[ \t]*name[ \t]*=/ { name = value($0) }
    inw && /^[ \t]*run[ \t]*=/ { run = value($0) }
    inw && /^[ \t]*use[ \t]*=/ { use = $0 }
    END { flush() }
' "$demo/pgo-build.toml")

# 4. The tables.
report_rc=0
awk -v start="$start" -v end="$end" -v bench="$bench" -v markdown="$markdown" -v check="$check" \
    -v rc="$rc" -v title="$title" -v version="$version" -v commit="$commit" -v cold="$cold" '
function pad(s, w, right,   n) {
    n = length(s) - 2 * gsub_count(s, "—") # the dash is 3 bytes, 1 column
    while (n < w) { s = right ? " " s : s " "; n++ }
    return s
}
function gsub_count(s, t,   n, i) {
    n = 0
    while ((i = index(s, t)) > 0) { n++; s = substr(s, i + length(t)) }
    return n
}
function secs(t) {
    if (t >= 60) return sprintf("%dm %04.1fs", int(t / 60), t - 60 * int(t / 60))
    return sprintf("%.1fs", t)
}
# Does the command mention path p as a whole path component (after "/", a space, a quote)?
function mentions(s, p,   i, before, after) {
    while ((i = index(s, p)) > 0) {
        before = i > 1 ? substr(s, i - 1, 1) : " "
        after = substr(s, i + length(p), 1)
        if (before ~ /[\/ \047"=]/ && (after == "" || after ~ /[ \047";]/)) return 1
        s = substr(s, i + length(p))
    }
    return 0
}
# The value of an env assignment KEY=value in a shell-quoted command line.
function envval(s, key,   i, v) {
    if (index(s, key "=") == 1) i = 1
    else if ((i = index(s, " " key "=")) > 0) i++
    else return ""
    v = substr(s, i + length(key) + 1)
    if (substr(v, 1, 1) == "\047") { v = substr(v, 2); sub(/\047.*$/, "", v) }
    else if (substr(v, 1, 1) == "\"") { v = substr(v, 2); sub(/".*$/, "", v) }
    else sub(/[ ;].*$/, "", v)
    return v
}
function add_stage(s) {
    if (!(s in known)) { known[s] = 1; order[++nst] = s }
}
function take(stage, line,   cmd, i, st, bin) {
    if (line ~ /^warning:/) warnings[++nwarn] = line
    if (substr(line, 1, 13) != "     running ") return
    cmd = substr(line, 14)
    cmds[stage]++
    if (cmd ~ /(^|[ ;&|(\/])cargo build( |$)/) builds[stage]++
    if (index(cmd, "PGO_BUILD_WORKLOAD=") > 0) wruns[stage]++
    for (i = 1; i <= nb; i++) {
        if (!mentions(cmd, bpath[i])) continue
        bruns[stage]++
        runs[i]++
        st = envval(cmd, "PGO_BUILD_STAGE")
        if (st == "") st = "(none)"
        if (st == "bolt-verify") verify[i]++
        if (!((i, st) in by_env)) envs[i] = envs[i] (envs[i] == "" ? "" : ", ") st
        by_env[i, st]++
        if (!((i, stage) in by_stage)) stages[i] = stages[i] (stages[i] == "" ? "" : ", ") stage
        by_stage[i, stage]++
        bin = envval(cmd, "PGO_BUILD_BIN")
        if (!((i, bin) in per_bin)) nbin[i]++
        per_bin[i, bin]++
        if (per_bin[i, bin] > most[i]) { most[i] = per_bin[i, bin]; most_bin[i] = bin }
    }
}
# "a 2, b 1" from the list "a, b" and the counts table[i, a], table[i, b].
function counted(i, list, table,   parts, np, p, out) {
    out = ""
    np = split(list, parts, ", ")
    for (p = 1; p <= np; p++) out = out (p > 1 ? ", " : "") parts[p] " " table[i, parts[p]]
    return out
}
function flush_pending(stage,   k) {
    for (k = 1; k <= npend; k++) take(stage, pend[k])
    npend = 0
}
# Table rows are cells joined by "\t"; align is one letter per column (l or r).
function table(align, nrows, rows,   ncol, c, r, cell, w, line, sep) {
    ncol = length(align)
    for (r = 0; r <= nrows; r++) {
        split(rows[r], cell, "\t")
        for (c = 1; c <= ncol; c++) if (length(cell[c]) - 2 * gsub_count(cell[c], "—") > w[c]) w[c] = length(cell[c]) - 2 * gsub_count(cell[c], "—")
    }
    for (r = 0; r <= nrows; r++) {
        split(rows[r], cell, "\t")
        line = ""
        for (c = 1; c <= ncol; c++) {
            cell[c] = pad(cell[c], w[c], substr(align, c, 1) == "r")
            if (markdown == "true") line = line "| " cell[c] " "
            else line = line (c > 1 ? "  " : "") cell[c]
        }
        if (markdown == "true") line = line "|"
        else sub(/ +$/, "", line)
        print line
        if (r == 0 && markdown == "true") {
            sep = ""
            for (c = 1; c <= ncol; c++) {
                cell[c] = ""
                while (length(cell[c]) < w[c] + 2) cell[c] = cell[c] "-"
                if (substr(align, c, 1) == "r") cell[c] = substr(cell[c], 2) ":"
                sep = sep "|" cell[c]
            }
            print sep "|"
        }
    }
}
BEGIN {
    split("instrument train merge optimize bolt deliver", base, " ")
    add_stage("(startup)")
    for (k = 1; k <= 6; k++) add_stage(base[k])
    nb = split(bench, blines, "\n")
    for (i = 1; i <= nb; i++) {
        split(blines[i], f, "\t")
        bname[i] = f[1]
        bpath[i] = f[2]
        while (bpath[i] ~ /^\.\.?\//) sub(/^\.\.?\//, "", bpath[i])
    }
    cur = "(startup)"; since = start + 0; seen[cur] = 1; npend = 0
}
{
    ts = $1 + 0
    line = substr($0, length($1) + 2)
    gsub(/\033\[[0-9;]*[A-Za-z]/, "", line)
    gsub(/\r/, "", line)
    # A command runs until the next line arrives: time the benchmark workloads so.
    if (open_i) { bsecs[open_i] += ts - open_ts; open_i = 0 }
    if (substr(line, 1, 13) == "     running ")
        for (i = 1; i <= nb; i++) if (mentions(substr(line, 14), bpath[i])) { open_i = i; open_ts = ts; break }
    tag = ""
    if (length(line) > 13 && substr(line, 13, 1) == " " && substr(line, 1, 12) ~ /^ *[a-z][a-z+-]*$/) {
        tag = substr(line, 1, 12)
        gsub(/ /, "", tag)
    }
    if (tag == "" || tag == "running") {
        pend[++npend] = line; pend_ts[npend] = ts
        next
    }
    # A status line of stage `tag`.
    if (tag != cur) {
        t0 = npend > 0 ? pend_ts[1] : ts
        wall[cur] += t0 - since
        add_stage(tag)
        cur = tag; since = t0; seen[cur] = 1
    }
    flush_pending(cur)
    if (line ~ /up to date/) skipped[cur] = 1
}
END {
    flush_pending(cur)
    wall[cur] += end - since
    if (open_i) bsecs[open_i] += end - open_ts
    total = end - start

    if (markdown == "true") {
        printf "`%s` on the demo, from a %s target: %s (%s), exit status %s, %s in all.\n\n", \
            title, cold == "true" ? "cold (no demo/target)" : "clean (no demo/target/pgo-build)", version, commit, rc, secs(total)
    } else {
        printf "\n%s\n", title
        printf "  on the demo, from a %s target; %s (%s); exit status %s\n\n", \
            cold == "true" ? "cold (no demo/target)" : "clean (no demo/target/pgo-build)", version, commit, rc
    }

    n = 0
    rows[0] = "stage\twall\tshare\tcargo builds\tcommands\tworkload runs\tbench runs"
    for (k = 1; k <= nst; k++) {
        s = order[k]
        if (s == "(startup)" && wall[s] < 0.05 && cmds[s] == 0) continue
        if (s in seen) {
            note = skipped[s] ? " (up to date)" : ""
            rows[++n] = s note "\t" secs(wall[s]) "\t" sprintf("%.0f%%", total > 0 ? 100 * wall[s] / total : 0) \
                "\t" builds[s] + 0 "\t" cmds[s] + 0 "\t" wruns[s] + 0 "\t" bruns[s] + 0
            tb += builds[s]; tc += cmds[s]; tw += wruns[s]; tbr += bruns[s]
        } else {
            rows[++n] = s "\t—\t—\t—\t—\t—\t—"
        }
    }
    rows[++n] = "total\t" secs(total) "\t100%\t" tb + 0 "\t" tc + 0 "\t" tw + 0 "\t" tbr + 0
    table("lrrrrrr", n, rows)

    print ""
    if (nb == 0) {
        print "(the demo config has no benchmark workloads)"
    } else {
        n = 0
        rows[0] = "bench workload\truns\ttime\tbolt-verify\tother\tbinaries\tmost on one binary\tstages\tPGO_BUILD_STAGE"
        for (i = 1; i <= nb; i++) {
            st = counted(i, stages[i], by_stage)
            ev = counted(i, envs[i], by_env)
            bt += bsecs[i]
            rows[++n] = bname[i] "\t" runs[i] + 0 "\t" secs(bsecs[i]) "\t" verify[i] + 0 "\t" runs[i] - verify[i] "\t" nbin[i] + 0 \
                "\t" most[i] + 0 "\t" (st == "" ? "—" : st) "\t" (ev == "" ? "—" : ev)
        }
        table("lrrrrrrll", n, rows)
    }

    print ""
    bad = 0
    for (i = 1; i <= nb; i++) if (most[i] > 1) {
        bad = 1
        printf "%sSURPRISE: %s ran %d times on one binary, %s (all its runs by PGO_BUILD_STAGE: %s)\n", \
            markdown == "true" ? "- " : "", bname[i], most[i], most_bin[i], counted(i, envs[i], by_env)
    }
    if (!bad && tbr > 0)
        printf "%sEach benchmark workload ran at most once per binary.\n", markdown == "true" ? "- " : ""
    if (nb > 0 && tbr == 0) printf "%sNo benchmark workload ran.\n", markdown == "true" ? "- " : ""
    if (rc != 0) printf "%spgo-build failed (status %s): the counts cover what ran before it stopped.\n", markdown == "true" ? "- " : "", rc
    if (tbr > 0) printf "%sBenchmark workload runs took %s, %.0f%% of the total.\n", \
        markdown == "true" ? "- " : "", secs(bt), (total > 0 ? 100 * bt / total : 0)
    for (k = 1; k <= nst; k++) if (order[k] == "compare" && (order[k] in seen))
        printf "%sSURPRISE: a compare stage ran despite --no-compare.\n", markdown == "true" ? "- " : ""
    for (k = 1; k <= nwarn; k++) printf "%s%s\n", markdown == "true" ? "- " : "", warnings[k]
    if (check == "true" && bad) exit 3
}
' "$log" || report_rc=$?

# 5. pgo-build's failure wins; then --check's verdict.
if ((rc != 0)); then
    echo >&2
    echo "pipeline-cost: pgo-build failed with status $rc; the log's last lines (${log#"$root"/}):" >&2
    tail -n 30 "$log" | cut -d' ' -f2- >&2
    exit "$rc"
fi
case $report_rc in
    0) ;;
    3) exit 1 ;;
    *)
        echo "pipeline-cost: reading the log failed (awk status $report_rc)" >&2
        exit 1
        ;;
esac
echo "log: ${log#"$root"/}" >&2
