//! `pgo-build compare`: the PGO binaries side by side with the plain build.
//!
//! The baseline is the same Cargo profile built without PGO flags, with the same
//! settings and `--target`, so the only difference between the two is the profile.
//! Each benchmark workload runs against both, interleaved round by round (A B, then
//! B A, …) so that drift on a shared machine hits both alike, after unmeasured
//! warm-up runs; the table shows medians, the spread, and the ratio.

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;

use crate::build::{Binary, cargo_build, cargo_command};
use crate::config::{Use, Workload};
use crate::context::Ctx;
use crate::project::BuildKind;
use crate::state::State;
use crate::util::{human_duration, human_size, write_atomic};
use crate::workload;

#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Measured runs of each variant per benchmark workload.
    #[arg(long, value_name = "N", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,
    /// Unmeasured runs of each variant per workload before measuring.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub warmup: u32,
}

impl Default for CompareArgs {
    fn default() -> Self {
        CompareArgs { rounds: 7, warmup: 1 }
    }
}

/// A set of binaries measured under one name.
pub struct Variant {
    pub name: &'static str,
    pub binaries: Vec<Binary>,
    pub size: u64,
}

/// One workload's measured times (seconds) per variant, in variant order.
pub struct Measured<'a> {
    pub workload: &'a Workload,
    pub times: Vec<Vec<f64>>,
}

impl Measured<'_> {
    /// The ratio of variant `b`'s median time to variant `a`'s.
    pub fn ratio(&self, a: usize, b: usize) -> f64 {
        median(&self.times[b]) / median(&self.times[a])
    }
}

/// The geometric mean of the per-workload ratios of `b` to `a`.
pub fn geomean_ratio(results: &[Measured<'_>], a: usize, b: usize) -> f64 {
    (results.iter().map(|m| m.ratio(a, b).ln()).sum::<f64>() / results.len().max(1) as f64).exp()
}

/// Runs every workload against every variant, interleaved round by round (A B,
/// then B A, …) so drift on a shared machine hits all alike, after unmeasured
/// warm-up runs. A failed run stops the measurement with the workload's error.
pub fn measure<'w>(
    ctx: &Ctx,
    variants: &[Variant],
    workloads: &[&'w Workload],
    args: &CompareArgs,
    label: &str,
) -> Result<Vec<Measured<'w>>> {
    let per_workload = u64::from(args.warmup + args.rounds) * variants.len() as u64;
    let bar = ctx.printer.bar(per_workload * workloads.len() as u64, "");
    bar.set_prefix(label.to_string());
    let mut results = Vec::new();
    for w in workloads {
        bar.set_message(w.name.clone());
        let mut times = vec![Vec::new(); variants.len()];
        for round in 0..args.warmup + args.rounds {
            // Alternate the order so neither variant always runs first.
            let order: Vec<usize> =
                if round % 2 == 0 { (0..variants.len()).collect() } else { (0..variants.len()).rev().collect() };
            for v in order {
                let variant = &variants[v];
                let cmd = workload::command(ctx, w, "bench", &variant.binaries, &[])?;
                let log = ctx.layout.logs("bench").join(format!("{}.{}.log", w.name, variant.name));
                let finished = workload::run(ctx, w, &cmd, &log)?;
                if !finished.outcome.success() {
                    bar.finish_and_clear();
                    return Err(workload::failed(
                        w,
                        &format!("benchmarking of the {} binary", variant.name),
                        &finished,
                        &log,
                    ));
                }
                if round >= args.warmup {
                    times[v].push(finished.elapsed.as_secs_f64());
                }
                bar.inc(1);
            }
        }
        results.push(Measured { workload: w, times });
    }
    bar.finish_and_clear();
    Ok(results)
}

pub fn run(ctx: &Ctx, args: &CompareArgs) -> Result<()> {
    let bench: Vec<&Workload> = ctx.config.workloads_for(Use::Bench).collect();
    if bench.is_empty() {
        bail!(
            "there are no benchmark workloads: add `[[workload]]` tables with `use = [\"bench\"]` to the config, \
             or executable scripts to {} (see docs/workloads.md)",
            ctx.project.dir.join("workloads/bench").display()
        );
    }
    if ctx.dry_run {
        ctx.printer.would_run(&cargo_command(ctx, BuildKind::Baseline, &[]));
        return Ok(());
    }
    let state = State::load(&ctx.layout.state_file())?;
    let optimized = state.require_optimize(ctx)?;

    ctx.printer.status("compare", format!("building the baseline: profile `{}` without PGO", ctx.settings.profile));
    let baseline = cargo_build(ctx, BuildKind::Baseline, &[])?;
    let variants = [
        Variant { name: "baseline", size: size_of(&baseline.binaries), binaries: baseline.binaries },
        Variant {
            name: "pgo",
            size: optimized.binaries.iter().map(|b| b.size).sum(),
            binaries: optimized.binaries.iter().map(|b| b.binary()).collect(),
        },
    ];

    let start = Instant::now();
    let results = measure(ctx, &variants, &bench, args, "compare")?;

    let table = render(&variants, &results, args);
    ctx.printer.out(&table);
    let report = ctx.layout.root.join("compare.md");
    write_atomic(&report, table.as_bytes())?;
    ctx.printer.status(
        "compare",
        format!("measured in {}; table saved to {}", human_duration(start.elapsed()), report.display()),
    );
    Ok(())
}

fn size_of(binaries: &[Binary]) -> u64 {
    binaries.iter().filter_map(|b| std::fs::metadata(&b.path).ok()).map(|m| m.len()).sum()
}

/// The median of some numbers (`NaN` for none).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 }
}

fn ms(seconds: f64) -> String {
    format!("{:.1} ms", seconds * 1000.0)
}

fn change(ratio: f64) -> String {
    if ratio < 1.0 {
        format!("{:.1}% faster ({:.2}×)", (1.0 - ratio) * 100.0, 1.0 / ratio)
    } else {
        format!("{:.1}% slower", (ratio - 1.0) * 100.0)
    }
}

/// A Markdown table: one row per workload, a geometric mean, and the sizes.
fn render(variants: &[Variant], results: &[Measured<'_>], args: &CompareArgs) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| workload | baseline (median, min–max) | pgo (median, min–max) | pgo vs baseline |");
    let _ = writeln!(out, "|:--|--:|--:|:--|");
    for m in results {
        let cells: Vec<String> = m
            .times
            .iter()
            .map(|t| {
                let lo = t.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = t.iter().copied().fold(0.0, f64::max);
                format!("{} ({}–{})", ms(median(t)), ms(lo), ms(hi))
            })
            .collect();
        let ratio = m.ratio(0, 1);
        let trained = if m.workload.is(Use::Train) { " (also a training workload)" } else { "" };
        let _ = writeln!(out, "| {}{trained} | {} | {} | {} |", m.workload.name, cells[0], cells[1], change(ratio));
    }
    let geomean = geomean_ratio(results, 0, 1);
    let _ = writeln!(out, "| **geometric mean** | | | **{}** |", change(geomean));
    let size_ratio = variants[1].size as f64 / variants[0].size.max(1) as f64;
    let _ = writeln!(
        out,
        "| binary size | {} | {} | {:+.1}% |",
        human_size(variants[0].size),
        human_size(variants[1].size),
        (size_ratio - 1.0) * 100.0
    );
    let _ = writeln!(
        out,
        "\nMedians of {} interleaved runs per variant after {} warm-up run(s); times are whole workload runs.",
        args.rounds, args.warmup
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn change_reads_both_ways() {
        assert_eq!(change(0.8), "20.0% faster (1.25×)");
        assert_eq!(change(1.05), "5.0% slower");
    }
}
