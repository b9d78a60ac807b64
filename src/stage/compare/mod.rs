//! `pgo-build compare`: the evidence a maintainer needs before adopting PGO: how
//! much faster on workloads it was not trained on, how much bigger, how much
//! slower to build, against the project's plain LTO build.
//!
//! The variants are built (or reused), then measured on the benchmark workloads
//! and a startup run, interleaved round by round until every ratio's interval is
//! narrow enough or the time budget runs out (`src/measure/`). Variants that are
//! the same build under another name are built and measured once
//! (`same_build.rs`). When `pgo` and `pgo+bolt` are both measured, the same
//! rounds say whether BOLT is delivered (`bolt_vs_pgo.rs`): BOLT is measured
//! once, here. The report (`src/report/`) is rewritten after every
//! variant's build and every round, so a failure late in a long run keeps what
//! was measured.

pub mod bolt_vs_pgo;
mod build_times;
pub mod counts;
mod fill;
pub mod gates;
pub mod metrics;
mod record;
pub mod same_build;
pub mod variants;

#[cfg(test)]
pub mod fill_tests;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use self::variants::Ready;
use crate::cargo::Binary;
pub use crate::cli::{CompareArgs, GateOn};
use crate::config::{Use, Workload};
use crate::context::Ctx;
use crate::measure;
use crate::measure::counter::{self as counter, Counter, CounterKind};
use crate::measure::executor::RealExecutor;
use crate::pipeline::Walk;
use crate::process::Cmd;
use crate::report::record::{self as report, BoltVsPgo, Report, VariantReport};
use crate::report::{count, write as write_reports};
use crate::state::State;
use crate::util::human_duration;

impl CompareArgs {
    /// Refuses comparison options when nothing is compared (`all --no-compare`),
    /// where they would silently do nothing: a CI check that never runs passes.
    pub fn require_compare(&self, no_compare: bool) -> Result<()> {
        if !no_compare {
            return Ok(());
        }
        let mut given: Vec<&str> = [
            (!self.variants.is_empty(), "--variants"),
            (self.baseline.is_some(), "--baseline"),
            (self.build_times, "--build-times"),
            (self.report_dir.is_some(), "--report-dir"),
            (self.startup_args.is_some(), "--startup-args"),
            (self.fail_if_slower.is_some(), "--fail-if-slower"),
            (self.require_speedup.is_some(), "--require-speedup"),
            (self.gate.is_some(), "--gate"),
            (self.gate_on != GateOn::Time, "--gate-on"),
            (self.gate_metric.is_some(), "--gate-metric"),
            (self.counts, "--counts"),
            (self.counter.is_some(), "--counter"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect();
        given.extend(self.measure.given());
        match given.as_slice() {
            [] => Ok(()),
            [one] => bail!(
                "{one} only applies to the comparison, and --no-compare skips it: drop --no-compare to measure \
                 the builds, or drop {one}"
            ),
            many => bail!(
                "{} only apply to the comparison, and --no-compare skips it: drop --no-compare to measure the \
                 builds, or drop them",
                many.join(", ")
            ),
        }
    }
}

/// What `compare` hands back to its caller.
#[derive(Debug, Clone)]
pub struct Compared {
    /// The exit code: 0, or a failed CI check's (`gates::exit`).
    pub code: u8,
    /// `pgo+bolt` against `pgo` and the decision which is delivered, when both
    /// were measured: what `all --bolt` delivers by.
    pub bolt_vs_pgo: Option<BoltVsPgo>,
}

/// Builds (or reuses) the variants, measures them and writes the report.
/// `keep_bolt` (`--keep-bolt`) decides for BOLT whatever the measurement says.
pub fn run(ctx: &Ctx, args: &CompareArgs, keep_bolt: bool) -> Result<Compared> {
    let bench: Vec<&Workload> = ctx.config.workloads_for(Use::Bench).collect();
    if bench.is_empty() {
        bail!(
            "there are no benchmark workloads: {} (see docs/workloads.md)",
            ctx.config.how_to_add(Use::Bench, &ctx.project.dir)
        );
    }
    let state = State::load(&ctx.layout.state_file())?;
    // One walk for the whole comparison: each stage is judged once, and no
    // stage runs while it compares.
    let walk = Walk::new(ctx, &state);
    let profiles = variants::project_profiles(&ctx.project.workspace_manifest())?;
    let (requested, baseline) = (ctx.options.compare.variants.as_deref(), ctx.options.compare.baseline.as_deref());
    let specs = variants::resolve(requested, baseline, &ctx.settings.profile, &profiles, variants::has_bolt(&walk))?;
    if let Some(gate) = &args.gate
        && !specs.iter().any(|s| &s.name == gate)
    {
        bail!("--gate names `{gate}`, which is not among the variants measured");
    }
    variants::check_rust_only(ctx, &specs)?;
    if !ctx.dry_run {
        variants::check_available(&walk, &specs)?;
    }
    ctx.check_target()?;
    if let Some(r) = ctx.runner() {
        bail!(
            "{} binaries run on this machine only under `{}`: times under an emulator say nothing of the real \
             machine, so compare does not time them; run `pgo-build compare` on a machine of that architecture \
             (the training profile carries there: `pgo-build merge --output` writes it, `optimize --profile` \
             builds from it)",
            ctx.target.triple,
            r.display()
        );
    }
    check_gate_metric(ctx, args)?;
    let counter = choose_counter(ctx, args)?;
    if let Some(c) = &counter {
        ctx.printer.status("compare", format!("counting with {} ({}): {}", c.kind.name(), c.version, c.why));
    }
    let same = same_build::find(ctx, &specs);
    if ctx.dry_run {
        for (s, same) in specs.iter().zip(&same) {
            match same {
                Some(j) => {
                    ctx.printer.status("compare", format!("`{}` is the same build as `{}`", s.name, specs[*j].name))
                }
                None => {
                    if let Some(bs) = s.build_spec(ctx) {
                        ctx.printer.would_run(&crate::build::cargo_command_for(
                            ctx,
                            &bs,
                            &crate::build::Flags::default(),
                        ));
                    }
                }
            }
        }
        return Ok(Compared { code: 0, bolt_vs_pgo: None });
    }
    let destination =
        crate::report::store::open(args.report_dir.as_deref(), &ctx.layout.root, std::time::SystemTime::now())?;
    let report_dir = destination.dir.clone();
    let startup_args = ctx.options.compare.startup_args.clone();
    let mut report = record::new(ctx, args, &bench, startup_args.clone());
    if let Some(c) = &counter {
        let distinct = same.iter().filter(|s| s.is_none()).count();
        report.counts = Some(report::CountsMethod::new(c, (bench.len() * (distinct + 1)) as u32));
    }

    let ready = prepare_all(ctx, args, &specs, &same, &walk, &mut report, &report_dir)?;
    // Each build is measured once.
    let measured: Vec<&Ready> = ready.iter().zip(&same).filter(|(_, s)| s.is_none()).map(|(r, _)| r).collect();

    // The startup run must work before it is measured.
    let startup = match startup_args {
        Some(a) => check_startup(ctx, &ready[0].binaries, &a)?.then_some(a),
        None => None,
    };
    if startup.is_none() {
        report.method.startup_args = None;
    }

    // Counting first: its figures are final after one run each, and a check on
    // them must not wait for the timed rounds. The rounds get the budget left.
    let mut budget = args.measure.budget.as_secs_f64();
    if let Some(c) = &counter {
        let plan = counts::CountPlan {
            counter: c,
            workloads: bench.clone(),
            variants: measured.iter().map(|r| (r.spec.name.clone(), r.binaries.clone())).collect(),
            budget_s: budget,
            min_rounds: args.measure.plan(measured.len(), Vec::new(), 0).min_rounds,
            must_complete: args.gate_on != GateOn::Time,
        };
        let (noise, confidence) = (args.measure.noise_threshold / 100.0, args.measure.confidence);
        match counts::count_into(ctx, &plan, &mut report, noise, confidence, |r| write_reports(&report_dir, r)) {
            Ok(spent) => budget = (budget - spent).max(0.0),
            Err(e) => return Err(incomplete(&report_dir, &mut report, e)),
        }
    }

    let mut gated = vec![true; bench.len()];
    if startup.is_some() {
        gated.push(false);
    }
    let mut plan = args.measure.plan(measured.len(), gated, 0);
    plan.budget_s = budget;
    ctx.printer.status(
        "compare",
        format!(
            "measuring {} on {}{}: at least {}, at most {}, within {}",
            count(measured.len() as u64, "build"),
            count(bench.len() as u64, "benchmark workload"),
            if startup.is_some() { " and the startup run" } else { "" },
            count(plan.min_rounds, "round"),
            plan.max_rounds,
            human_duration(args.measure.budget)
        ),
    );
    let progress = ctx.printer.progress("measuring", u64::from(plan.min_rounds));
    let mut exec = RealExecutor {
        ctx,
        workloads: bench.clone(),
        variants: measured.iter().map(|r| (r.spec.name.clone(), r.binaries.clone())).collect(),
        startup: startup.clone(),
        started: Instant::now(),
        bar: progress.bar().clone(),
        metrics: Vec::new(),
    };
    let start = Instant::now();
    let mut write_error = None;
    let measured = measure::run(&plan, &mut exec, |samples| {
        report.fill(&plan, samples, keep_bolt);
        progress.update(
            u64::from(samples.rounds),
            u64::from(samples.rounds.max(plan.min_rounds)) + u64::from(samples.rounds >= plan.min_rounds),
            measure::round_message(&plan, samples, start.elapsed()),
        );
        if let Err(e) = write_reports(&report_dir, &report) {
            write_error.get_or_insert(e);
        }
    });
    progress.finish();
    if let Some(e) = write_error {
        return Err(e);
    }
    let samples = match measured {
        Ok(s) => s,
        Err(e) => return Err(incomplete(&report_dir, &mut report, e)),
    };
    report.fill(&plan, &samples, keep_bolt);
    let code = gates::apply_gates(&mut report, args);
    report.complete = true;
    write_reports(&report_dir, &report)?;

    ctx.printer.out(crate::report::terminal(&report));
    ctx.printer.status(
        "compare",
        format!("measured in {}; reports in {}", human_duration(start.elapsed()), destination.describe()),
    );
    for g in report.gates.iter().filter(|g| !g.passed) {
        ctx.printer.warn(format!("--{} {}: {}", g.name, g.threshold_pct, g.detail));
    }
    Ok(Compared { code, bolt_vs_pgo: report.bolt_vs_pgo })
}

/// `--gate-metric` must name a figure a benchmark workload promises (`metrics`).
/// (`all` asks too, before its first build.)
pub fn check_gate_metric(ctx: &Ctx, args: &CompareArgs) -> Result<()> {
    if let Some(m) = &args.gate_metric
        && !ctx.config.workloads_for(Use::Bench).any(|w| w.metrics.contains(m))
    {
        bail!(
            "--gate-metric {m}: no benchmark workload promises that figure; add `metrics = [\"{m}\"]` to the table \
             of the workload that reports it (see docs/workloads.md)"
        );
    }
    Ok(())
}

/// The counter `--counts` (or `counts = true`, or a check on a count) asks for,
/// found before anything is built; `None` when nothing is counted. (`all` asks
/// too, before its first build.)
pub fn choose_counter(ctx: &Ctx, args: &CompareArgs) -> Result<Option<Counter>> {
    let Some(choice) = ctx.options.compare.counter else { return Ok(None) };
    let c = counter::choose(choice)?;
    if args.gate_on == GateOn::EstimatedCycles && c.kind == CounterKind::Perf {
        bail!(
            "--gate-on estimated-cycles needs cachegrind's simulated caches, and this machine counts with perf stat \
             (whose cycles vary like time): add --counter cachegrind, or gate on instructions"
        );
    }
    Ok(Some(c))
}

/// Builds (or reuses) every variant, each distinct build once, timing the builds
/// with `--build-times`; the report grows with each.
fn prepare_all(
    ctx: &Ctx,
    args: &CompareArgs,
    specs: &[variants::Spec],
    same: &[Option<usize>],
    walk: &Walk,
    report: &mut Report,
    report_dir: &Path,
) -> Result<Vec<Ready>> {
    let mut ready: Vec<Ready> = Vec::new();
    for (spec, same) in specs.iter().zip(same) {
        let r = match same {
            Some(j) => {
                ctx.printer.status(
                    "compare",
                    format!(
                        "`{}` is the same build as `{}` (the same effective profile settings): not built or measured \
                         again",
                        spec.name, specs[*j].name
                    ),
                );
                same_build::shared(ctx, spec, &ready[*j])
            }
            None => match variants::prepare(ctx, spec, walk) {
                Ok(r) => r,
                Err(e) => return Err(incomplete(report_dir, report, e)),
            },
        };
        let mut v = VariantReport {
            name: spec.name.clone(),
            description: spec.description(ctx),
            same_build_as: same.map(|j| specs[j].name.clone()),
            build: r.build.clone(),
            size_bytes: r.sizes.iter().map(|s| s.size_bytes).sum(),
            binaries: r.sizes.clone(),
            size_ratio: None,
            startup: None,
            workloads: Vec::new(),
            geomean: None,
            build_times: None,
            counts: None,
        };
        if args.build_times && same.is_none() {
            match build_times::build_times(ctx, &r, walk) {
                Ok(t) => v.build_times = Some(t),
                Err(e) => return Err(incomplete(report_dir, report, e)),
            }
        }
        report.variants.push(v);
        report.set_size_ratios();
        write_reports(report_dir, report)?;
        ready.push(r);
        if let Err(e) = crate::process::check_interrupted() {
            return Err(incomplete(report_dir, report, e));
        }
    }
    Ok(ready)
}

/// Marks the report incomplete with the error, writes it, and returns the error.
fn incomplete(dir: &Path, report: &mut Report, e: anyhow::Error) -> anyhow::Error {
    report.error = Some(format!("{e:#}"));
    if let Err(w) = write_reports(dir, report) {
        return e.context(format!("the report could not be written either: {w:#}"));
    }
    e.context(format!("the report so far is in {}", dir.display()))
}

/// Runs the startup command once with the baseline; a failure drops the startup
/// column with a warning rather than the whole comparison.
fn check_startup(ctx: &Ctx, binaries: &[Binary], args: &[String]) -> Result<bool> {
    let cmd = Cmd::new(&binaries[0].path).args(args).dir(&ctx.project.dir);
    let logs = ctx.layout.logs(crate::workload::Phase::Bench.name());
    std::fs::create_dir_all(&logs).with_context(|| format!("could not create {}", logs.display()))?;
    let log = logs.join("startup-check.log");
    let finished = cmd.run_logged(&log, None, Some(Duration::from_secs(10)))?;
    if finished.outcome.success() {
        return Ok(true);
    }
    ctx.printer.warn(format!(
        "startup time not measured: `{}` ended with {}; set `startup-args` in the config (or --startup-args) \
         to a quick run the binary supports, or to \"\" to silence this",
        cmd.display(),
        finished.outcome
    ));
    Ok(false)
}
