//! `pgo-build overlap`: does the training represent the benchmarks?
//!
//! The benchmark workloads run once against the instrumented binaries, the way
//! training does (logs under `logs/overlap/`, `PGO_BUILD_STAGE=overlap`), their raw
//! profiles are merged into `profiles/bench.profdata`, and `llvm-profdata overlap`
//! compares the training profile (base) with it (test). Its headline, the edge
//! profile overlap, scales both profiles' counters to shares of their own totals
//! and sums the smaller share of each counter: 100% when the benchmarks spend
//! their time where the training does, in the same proportions.
//!
//! llvm-profdata names no functions at program level, and at function level
//! (`--value-cutoff`) it leaves out those missing from the training profile. So
//! the functions the benchmarks ran and the training never did are found by
//! comparing the two profiles' per-function counts
//! (`toolchain::profdata::show::read_counts`).
//! The result is printed and written to `<target>/pgo-build/overlap.json`
//! (docs/insight.md).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::cargo::Binary;
use crate::cli::OverlapArgs;
use crate::config::{Use, Workload};
use crate::context::Ctx;
use crate::functions::{function_line, hottest, percent};
use crate::state::{State, now};
use crate::toolchain::Profdata;
use crate::toolchain::profdata::merge::{FailureMode, merge_raw};
use crate::toolchain::profdata::overlap::{Figures, read_overlap};
use crate::toolchain::profdata::show::{FunctionCount, ProfileCounts, read_counts};
use crate::util::write_atomic;
use crate::workload::collect::{self, Files, placeholder_binaries, profile_env, raw_profile_paths};
use crate::workload::{self, Phase};

/// Exit codes of the CI check (docs/insight.md).
pub mod exit {
    /// `--min-overlap`: the overlap is below the limit.
    pub const LOW_OVERLAP: u8 = 6;
}

/// At and above this overlap the training represents the benchmarks well.
const GOOD: f64 = 90.0;
/// Below this overlap it does not represent them.
const POOR: f64 = 80.0;

pub fn run(ctx: &Ctx, args: &OverlapArgs) -> Result<u8> {
    let state = State::load(&ctx.layout.state_file())?;
    let bench: Vec<&Workload> = ctx.config.workloads_for(Use::Bench).collect();
    if bench.is_empty() {
        bail!(
            "there are no benchmark workloads to compare the training with: {} (see docs/workloads.md)",
            ctx.config.how_to_add(Use::Bench, &ctx.project.dir)
        );
    }
    let profiles = ctx.layout.profiles();
    let root = profiles.join("bench-raw");
    let bench_profile = profiles.join("bench.profdata");
    if ctx.dry_run {
        return dry_run(ctx, &state, &bench, &root, &bench_profile);
    }
    let walk = crate::pipeline::Walk::new(ctx, &state);
    let merge = walk.current::<crate::stage::merge::Merge>()?.clone();
    let binaries: Vec<Binary> =
        walk.current::<crate::stage::instrument::Instrument>()?.binaries.iter().map(|b| b.binary()).collect();
    let profdata = ctx.profdata()?;

    ctx.printer.status(
        "overlap",
        format!(
            "profiling {} with the instrumented build",
            crate::util::plural(bench.len(), "benchmark workload", "benchmark workloads")
        ),
    );
    collect::clear_other_sets(&root, &bench.iter().map(|w| w.name.as_str()).collect::<Vec<_>>())?;
    let records = collect::collect(ctx, &bench, &binaries, Phase::Overlap, &root)
        .map_err(|e| e.context("profiling the benchmark workloads stopped"))?;
    let mut raw = Vec::new();
    for r in &records {
        raw.extend(raw_profile_paths(&r.raw_dir)?);
    }
    let partial = profiles.join(".bench.partial.profdata");
    if let Err(e) = merge_raw(profdata, &ctx.printer, &raw, &profiles.join("bench-inputs.txt"), &partial) {
        let _ = std::fs::remove_file(&partial);
        return Err(e.context("llvm-profdata could not merge the benchmark workloads' profiles"));
    }
    std::fs::rename(&partial, &bench_profile)
        .with_context(|| format!("could not write {}", bench_profile.display()))?;

    ctx.printer.status("overlap", "comparing the training profile with the benchmark profile");
    let figures = read_overlap(profdata, &ctx.printer, &merge.profile, &bench_profile)?;
    let training = read_counts(profdata, &ctx.printer, &merge.profile)?;
    let benchmark = read_counts(profdata, &ctx.printer, &bench_profile)?;

    let report = Report {
        training_profile: merge.profile.clone(),
        training_profile_sha256: merge.sha256.clone(),
        training_workloads: merge.weights.iter().map(|(n, _)| n.clone()).collect(),
        bench_profile,
        bench_workloads: bench.iter().map(|w| w.name.clone()).collect(),
        overlap_pct: figures.edge_overlap_pct,
        verdict: Fit::of(figures.edge_overlap_pct),
        coverage: Coverage::of(&training, &benchmark),
        llvm_profdata: figures,
        min_overlap: args.min_overlap,
        finished_at: now(),
    };
    let json = ctx.layout.overlap_json();
    write_atomic(&json, serde_json::to_string_pretty(&report)?.as_bytes())?;
    ctx.printer.out(render(&report, args.top));
    ctx.printer.status("overlap", format!("written to {}", json.display()));

    match args.min_overlap {
        Some(min) if report.overlap_pct < min => {
            ctx.printer.warn(format!("the overlap {} is below --min-overlap {min}%", percent(report.overlap_pct)));
            Ok(exit::LOW_OVERLAP)
        }
        _ => Ok(0),
    }
}

/// Shows the workload runs, the merge and the comparison, running nothing.
fn dry_run(ctx: &Ctx, state: &State, bench: &[&Workload], root: &Path, bench_profile: &Path) -> Result<u8> {
    let binaries = match &state.instrument {
        Some(rec) => rec.record.binaries.iter().map(|b| b.binary()).collect(),
        None => placeholder_binaries(ctx),
    };
    for w in bench {
        let env = profile_env(&root.join(&w.name), ctx.config.continuous_profiles(), Files::Pooled);
        ctx.printer.would_run(&workload::command(ctx, w, Phase::Overlap, &binaries, &env)?);
    }
    let tool = Profdata::for_dry_run(ctx.profdata());
    let list = ctx.layout.profiles().join("bench-inputs.txt");
    ctx.printer.would_run(&tool.merge(&list, bench_profile, FailureMode::Fail));
    let training = state.merge.as_ref().map_or_else(|| PathBuf::from("<merged profile>"), |m| m.record.profile.clone());
    ctx.printer.would_run(&tool.overlap(&training, bench_profile));
    Ok(0)
}

/// How the training profile reaches what the benchmarks ran, function by function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// Functions (symbols) with counts in the benchmark profile.
    pub bench_functions_ran: usize,
    /// Of those, the ones with counts in the training profile too.
    pub also_ran_in_training: usize,
    /// The benchmark counts in those functions, in percent of all benchmark counts.
    pub covered_count_pct: f64,
    /// The functions the benchmarks ran and the training never did, hottest first,
    /// under their demangled names.
    pub never_ran_in_training: Vec<Uncovered>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uncovered {
    pub name: String,
    /// Its counts in the benchmark profile.
    pub bench_count: u64,
    /// Their share of all benchmark counts, in percent.
    pub bench_share_pct: f64,
    /// Symbols added up under this name (generic instances).
    pub instances: usize,
}

impl Coverage {
    fn of(training: &ProfileCounts, bench: &ProfileCounts) -> Coverage {
        let trained: HashSet<&str> = training.ran.iter().map(|f| f.symbol.as_str()).collect();
        let (covered, uncovered): (Vec<&FunctionCount>, Vec<&FunctionCount>) =
            bench.ran.iter().partition(|f| trained.contains(f.symbol.as_str()));
        let share =
            |count: u64| if bench.total_count > 0 { 100.0 * count as f64 / bench.total_count as f64 } else { 0.0 };
        let covered_count = covered.iter().fold(0u64, |sum, f| sum.saturating_add(f.count));
        Coverage {
            bench_functions_ran: bench.ran.len(),
            also_ran_in_training: covered.len(),
            covered_count_pct: share(covered_count),
            never_ran_in_training: hottest(uncovered)
                .into_iter()
                .map(|h| Uncovered {
                    bench_share_pct: share(h.count),
                    name: h.name,
                    bench_count: h.count,
                    instances: h.instances,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    Good,
    Fair,
    Poor,
}

impl Fit {
    fn of(overlap: f64) -> Fit {
        if overlap >= GOOD {
            Fit::Good
        } else if overlap >= POOR {
            Fit::Fair
        } else {
            Fit::Poor
        }
    }
}

/// `overlap.json`.
#[derive(Debug, Serialize)]
struct Report {
    training_profile: PathBuf,
    training_profile_sha256: String,
    training_workloads: Vec<String>,
    bench_profile: PathBuf,
    bench_workloads: Vec<String>,
    overlap_pct: f64,
    verdict: Fit,
    coverage: Coverage,
    llvm_profdata: Figures,
    min_overlap: Option<f64>,
    finished_at: u64,
}

fn render(report: &Report, top: usize) -> String {
    let cov = &report.coverage;
    let fig = &report.llvm_profdata;
    let mut out = vec![
        format!("training profile:  {} ({})", report.training_profile.display(), report.training_workloads.join(", ")),
        format!("benchmark profile: {} ({})", report.bench_profile.display(), report.bench_workloads.join(", ")),
        String::new(),
        format!(
            "overlap: {} of what the benchmark workloads execute (by edge counts) is covered by the training profile",
            percent(report.overlap_pct)
        ),
        "  (llvm-profdata's edge profile overlap: each profile's counters as shares of its total, and the".into(),
        "  smaller share of each counter summed; 100% means the same code runs, in the same proportions)".into(),
        format!(
            "functions: {} of the {} the benchmarks ran also ran in training, with {} of the benchmark counts",
            cov.also_ran_in_training,
            functions(cov.bench_functions_ran),
            percent(cov.covered_count_pct)
        ),
    ];
    if fig.functions_mismatched > 0 {
        out.push(format!(
            "  {} differ in shape between the two profiles ({} of the benchmark counts):\n  \
             they come from different builds; run `pgo-build all` again",
            functions(fig.functions_mismatched as usize),
            percent(fig.mismatched_count_pct)
        ));
    }
    if fig.functions_only_in_bench > 0 {
        out.push(format!(
            "  {} only in the benchmark profile ({} of its counts):\n  \
             the benchmark workloads run a binary the training workloads never run",
            functions(fig.functions_only_in_bench as usize),
            percent(fig.only_in_bench_count_pct)
        ));
    }
    let missed = &cov.never_ran_in_training;
    let missed_symbols = cov.bench_functions_ran - cov.also_ran_in_training;
    if !missed.is_empty() && top > 0 {
        out.push(String::new());
        let which = if top < missed.len() { format!("; the hottest {top}") } else { String::new() };
        out.push(format!("ran in the benchmarks but never in training ({}{which}):", functions(missed_symbols)));
        out.extend(
            missed.iter().take(top).map(|u| function_line(u.bench_share_pct, u.bench_count, &u.name, u.instances)),
        );
    }
    out.push(String::new());
    out.push(match report.verdict {
        Fit::Good => format!("verdict: good ({GOOD}% and up): the training workloads represent the benchmarks"),
        Fit::Fair => format!(
            "verdict: fair ({POOR}% to {GOOD}%): the training workloads mostly represent the benchmarks,\n  \
             but PGO will treat part of what the benchmarks run as cold"
        ),
        Fit::Poor => format!(
            "verdict: poor (below {POOR}%): the training workloads do not represent the benchmarks;\n  \
             PGO optimizes for what the training runs, so expect less speed-up, or a slow-down, where they differ"
        ),
    });
    if report.verdict != Fit::Good || !missed.is_empty() {
        out.push(
            "what to do: add training workloads that use the program the way the benchmark workloads do\n  \
             (the functions above show what is missing), then run `pgo-build all` and `pgo-build overlap` again"
                .into(),
        );
    }
    out.join("\n")
}

/// `1 function`, `3 functions`.
fn functions(n: usize) -> String {
    if n == 1 { "1 function".into() } else { format!("{n} functions") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncovered_functions_are_the_ones_training_never_ran() {
        let f = |symbol: &str, count| FunctionCount { symbol: symbol.into(), count };
        let training =
            ProfileCounts { functions: 3, total_count: 100, ran: vec![f("_ZN1a4main17h0000000000000001E", 100)] };
        let bench = ProfileCounts {
            functions: 3,
            total_count: 400,
            ran: vec![f("_ZN1a4main17h0000000000000001E", 100), f("_ZN1a4rare17h0000000000000002E", 300)],
        };
        let cov = Coverage::of(&training, &bench);
        assert_eq!((cov.bench_functions_ran, cov.also_ran_in_training), (2, 1));
        assert_eq!(cov.covered_count_pct, 25.0);
        assert_eq!(
            cov.never_ran_in_training,
            [Uncovered { name: "a::rare".into(), bench_count: 300, bench_share_pct: 75.0, instances: 1 }]
        );
    }

    #[test]
    fn verdict_follows_the_rule_of_thumb() {
        assert_eq!(Fit::of(95.0), Fit::Good);
        assert_eq!(Fit::of(85.0), Fit::Fair);
        assert_eq!(Fit::of(79.9), Fit::Poor);
    }
}
