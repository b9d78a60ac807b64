//! `compare --counts`: every benchmark workload run once per variant under a
//! counter (`src/measure/counter/`), beside the timed rounds. Counts are
//! deterministic where wall time is not, so one run per variant is the
//! measurement; the baseline is counted a second time, last, and the report says
//! whether the two agree (the counts' own "interval"). Counting comes before the
//! timed rounds and shares their budget: one timed run of each workload first
//! predicts what each counted run costs (its time × the counter's slowdown, then
//! the slowdown seen), counting keeps back what `--min-rounds` timed rounds will
//! need, and a counted run that would not end within what is left is not started,
//! with the reason in the report. A CI check on a count (`--gate-on`) needs every
//! count, so then the budget does not cut counting short.
//!
//! The figures go into the record here (`fill`; the types are in
//! `report/record/counts.rs`); `src/report/` shows them.

use std::path::PathBuf;
use std::time::Instant;

use crate::cargo::Binary;
use crate::config::Workload;
use crate::context::Ctx;
use crate::measure::counter::{Counter, CounterKind, Counts, Figure};
use crate::measure::stats::Estimate;
use crate::report::count;
use crate::report::record::counts::find;
use crate::report::record::{FigureRatio, Ratio, Repeat, Report, VariantCounts, WorkloadCounts};
use crate::util::human_duration;
use crate::workload::{self, Phase};
use anyhow::{Context, Result};

/// What was counted: `counts[w][v]` for workload `w` and measured variant `v`,
/// `repeat[w]` the baseline's second count.
#[derive(Debug, Clone, Default)]
pub struct CountSamples {
    pub counts: Vec<Vec<Option<Counts>>>,
    pub repeat: Vec<Option<Counts>>,
    pub runs: u32,
    pub elapsed_s: f64,
    pub stopped: Option<String>,
}

/// What to count.
pub struct CountPlan<'a> {
    pub counter: &'a Counter,
    pub workloads: Vec<&'a Workload>,
    /// Name and binaries of each measured variant, the baseline first.
    pub variants: Vec<(String, Vec<Binary>)>,
    pub budget_s: f64,
    /// Timed rounds that must fit in the budget after counting (`--min-rounds`).
    pub min_rounds: u32,
    /// A CI check judges a count: count everything whatever the budget.
    pub must_complete: bool,
}

impl CountPlan<'_> {
    pub fn runs(&self) -> u32 {
        (self.workloads.len() * (self.variants.len() + 1)) as u32
    }
}

/// What a counted run is expected to cost before any was made: cachegrind
/// simulates every instruction and the caches (tens of times slower; 40–90× seen
/// here), perf only reads counters.
fn expected_slowdown(kind: CounterKind) -> f64 {
    match kind {
        CounterKind::Cachegrind => 60.0,
        CounterKind::Perf => 1.1,
    }
}

/// The cost model of counting: each workload's timed run, the slowdown seen so
/// far, and the longest counted run of each workload.
#[derive(Debug, Clone)]
pub struct Forecast {
    /// Seconds of one plain (uncounted) run of each workload with the baseline.
    pub timed_s: Vec<f64>,
    /// Counted time over plain time, the largest seen (the counter's typical
    /// one until a run was counted).
    pub slowdown: f64,
    /// The longest counted run of each workload so far.
    pub counted_s: Vec<Option<f64>>,
}

impl Forecast {
    pub fn new(kind: CounterKind, timed_s: Vec<f64>) -> Forecast {
        let n = timed_s.len();
        Forecast { timed_s, slowdown: expected_slowdown(kind), counted_s: vec![None; n] }
    }

    /// The expected seconds of the next counted run of workload `w`.
    pub fn next(&self, w: usize) -> f64 {
        self.counted_s[w].unwrap_or(self.timed_s[w] * self.slowdown)
    }

    /// Learns from a counted run of `w` that took `took` seconds.
    pub fn learn(&mut self, w: usize, took: f64) {
        // The first counted run replaces the guess; later ones only raise it.
        let first = self.counted_s.iter().all(Option::is_none);
        self.counted_s[w] = Some(self.counted_s[w].map_or(took, |c| c.max(took)));
        if self.timed_s[w] > 0.0 {
            let seen = took / self.timed_s[w];
            self.slowdown = if first { seen } else { self.slowdown.max(seen) };
        }
    }

    /// Seconds the timed rounds after counting need at least: `rounds` of every
    /// variant on every workload.
    pub fn rounds_s(&self, rounds: u32, variants: usize) -> f64 {
        f64::from(rounds) * variants as f64 * self.timed_s.iter().sum::<f64>()
    }

    /// Seconds of every counted run the plan makes (each variant once, the
    /// baseline again), by what is known now.
    pub fn total_s(&self, variants: usize) -> f64 {
        (0..self.timed_s.len()).map(|w| self.next(w) * (variants + 1) as f64).sum()
    }
}

/// Why the next counted run is not started, or `None` to start it: it must end
/// within the budget less what the timed rounds need.
fn over_budget(plan: &CountPlan, f: &Forecast, w: usize, spent: f64) -> Option<String> {
    if plan.must_complete {
        return None;
    }
    let kept = f.rounds_s(plan.min_rounds, plan.variants.len());
    let next = f.next(w);
    if spent + next + kept <= plan.budget_s {
        return None;
    }
    let secs = |s: f64| human_duration(std::time::Duration::from_secs_f64(s));
    let why = match f.counted_s[w] {
        Some(_) => format!("a counted run of `{}` takes about {}", plan.workloads[w].name, secs(next)),
        None => format!(
            "a counted run of `{}` would take about {} (a plain run took {}, and counting is about {:.0}× slower)",
            plan.workloads[w].name,
            secs(next),
            secs(f.timed_s[w]),
            f.slowdown
        ),
    };
    Some(format!(
        "{why}, and {} of the {} budget is left after {} spent counting and {} kept for {} timed rounds; raise \
         --budget (or count with --gate-on, which counts everything)",
        secs((plan.budget_s - spent - kept).max(0.0)),
        secs(plan.budget_s),
        secs(spent),
        secs(kept),
        plan.min_rounds
    ))
}

/// Counts every workload with every variant, then the baseline again; `on_count`
/// sees the samples after each run (a partial report). Stops early, saying so,
/// when the next run would not end within the budget ([`over_budget`], by the
/// [`Forecast`]).
pub fn run(
    ctx: &Ctx,
    plan: &CountPlan,
    forecast: &mut Forecast,
    mut on_count: impl FnMut(&CountSamples),
) -> Result<CountSamples> {
    let nv = plan.variants.len();
    let mut s = CountSamples {
        counts: vec![vec![None; nv]; plan.workloads.len()],
        repeat: vec![None; plan.workloads.len()],
        ..CountSamples::default()
    };
    let total = plan.runs();
    let progress = ctx.printer.progress("counting", u64::from(total));
    let started = Instant::now();
    'all: for (w, wl) in plan.workloads.iter().enumerate() {
        // The variants in order, then the baseline a second time.
        for v in (0..nv).chain([0]) {
            let repeat = s.counts[w][v].is_some();
            if let Some(why) = over_budget(plan, forecast, w, started.elapsed().as_secs_f64()) {
                s.stopped = Some(format!("{} of {total} counted runs made: {why}", s.runs));
                break 'all;
            }
            let (name, binaries) = &plan.variants[v];
            let message = format!(
                "{} with {name}{} under {}",
                wl.name,
                if repeat { " (again)" } else { "" },
                plan.counter.kind.name()
            );
            progress.update(u64::from(s.runs), u64::from(total), format!("{message} ({} of {total})", s.runs + 1));
            let one = Instant::now();
            let counts = count_one(ctx, plan.counter, wl, name, binaries, repeat)?;
            forecast.learn(w, one.elapsed().as_secs_f64());
            if repeat {
                s.repeat[w] = Some(counts);
            } else {
                s.counts[w][v] = Some(counts);
            }
            s.runs += 1;
            s.elapsed_s = started.elapsed().as_secs_f64();
            on_count(&s);
        }
    }
    progress.finish();
    s.elapsed_s = started.elapsed().as_secs_f64();
    Ok(s)
}

/// Counts by the plan with status lines, putting the counts into `report` and
/// writing it (`write`) after each run; returns the seconds spent.
pub fn count_into(
    ctx: &Ctx,
    plan: &CountPlan,
    report: &mut Report,
    noise: f64,
    confidence: f64,
    write: impl Fn(&Report) -> Result<()>,
) -> Result<f64> {
    let timed = plan.workloads.iter().map(|w| time_one(ctx, w, &plan.variants[0].1)).collect::<Result<Vec<f64>>>()?;
    let mut forecast = Forecast::new(plan.counter.kind, timed);
    let secs = |s: f64| human_duration(std::time::Duration::from_secs_f64(s));
    ctx.printer.status(
        "compare",
        format!(
            "counting {} with {} under {} ({} runs, each once): about {} by a plain run of each, within a {} budget",
            count(plan.workloads.len() as u64, "benchmark workload"),
            count(plan.variants.len() as u64, "build"),
            plan.counter.kind.name(),
            plan.runs(),
            secs(forecast.total_s(plan.variants.len())),
            secs(plan.budget_s)
        ),
    );
    let mut write_error = None;
    let counted = run(ctx, plan, &mut forecast, |s| {
        fill(report, s, noise, confidence);
        if let Err(e) = write(report) {
            write_error.get_or_insert(e);
        }
    })?;
    if let Some(e) = write_error {
        return Err(e);
    }
    fill(report, &counted, noise, confidence);
    ctx.printer.status(
        "compare",
        format!(
            "counted in {}{}",
            human_duration(std::time::Duration::from_secs_f64(counted.elapsed_s)),
            counted.stopped.as_deref().map(|s| format!("; stopped early: {s}")).unwrap_or_default()
        ),
    );
    Ok(counted.elapsed_s)
}

/// Seconds of one plain run of `w` with `binaries` (the baseline's): what the
/// forecast of a counted run starts from.
fn time_one(ctx: &Ctx, w: &Workload, binaries: &[Binary]) -> Result<f64> {
    crate::process::check_interrupted()?;
    let cmd = workload::command(ctx, w, Phase::Count, binaries, &[])?;
    let log = ctx.layout.logs(Phase::Count.name()).join(format!("{}.plain.log", w.name));
    let finished = workload::run(ctx, w, &cmd, &log)?;
    if !finished.outcome.success() {
        return Err(workload::failed(w, "the plain run before counting", &finished, &log));
    }
    Ok(finished.elapsed.as_secs_f64())
}

/// One counted run of `w` with a variant's binaries.
fn count_one(
    ctx: &Ctx,
    counter: &Counter,
    w: &Workload,
    variant: &str,
    binaries: &[Binary],
    repeat: bool,
) -> Result<Counts> {
    crate::process::check_interrupted()?;
    // `1` and `2` keep the two counts of the baseline alike down to the length
    // of the paths in their environment (which moves the stack, and so can move
    // a count).
    let slug = variant.replace('+', "-");
    let nth = if repeat { "2" } else { "1" };
    let dir: PathBuf = ctx.layout.counts(&w.name, variant, nth);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("could not empty {}", dir.display()))?;
    }
    let out = dir.join("out");
    std::fs::create_dir_all(&out).with_context(|| format!("could not create {}", out.display()))?;
    let wrapped = counter.wrap(binaries, &dir, &out)?;
    // Under cachegrind a run takes tens of times its native time.
    let mut wl = w.clone();
    if counter.kind == CounterKind::Cachegrind {
        wl.timeout = w.timeout.saturating_mul(100);
    }
    let cmd = workload::command(ctx, &wl, Phase::Count, &wrapped, &[])?;
    let log = ctx.layout.logs(Phase::Count.name()).join(format!("{}.{slug}.{nth}.log", w.name));
    let finished = workload::run(ctx, &wl, &cmd, &log)?;
    if !finished.outcome.success() {
        let err = workload::failed(&wl, &format!("counting of the {variant} binary"), &finished, &log);
        let said = counter.messages(&out);
        return Err(if said.trim().is_empty() {
            err
        } else {
            err.context(format!("{} said:\n{}", counter.kind.name(), said.trim_end()))
        });
    }
    counter
        .collect(&out)
        .with_context(|| format!("workload `{}` with the {variant} binary under {}", w.name, counter.kind.name()))
}

/// The relative difference of two counts of one figure (0 when equal).
fn difference(a: u64, b: u64) -> f64 {
    if a == b { 0.0 } else { (a as f64 - b as f64).abs() / (a.max(b) as f64) }
}

/// Puts the counts into the report: each variant's figures and ratios, the
/// geometric means, the baseline's repeat.
pub fn fill(report: &mut Report, s: &CountSamples, noise: f64, confidence: f64) {
    let Some(method) = report.counts.as_mut() else { return };
    method.runs = s.runs;
    method.elapsed_s = s.elapsed_s;
    method.stopped = s.stopped.clone();
    let figures = method.figures.clone();
    let names: Vec<String> = report.workloads.iter().map(|w| w.name.clone()).collect();
    // Per workload and figure: the baseline's repeat difference.
    let spread = |w: usize, f: Figure| -> f64 {
        match (s.counts.get(w).and_then(|c| c.first().copied().flatten()), s.repeat.get(w).copied().flatten()) {
            (Some(a), Some(b)) => match (a.get(f), b.get(f)) {
                (Some(x), Some(y)) => difference(x, y),
                _ => 0.0,
            },
            _ => 0.0,
        }
    };
    method.repeat = names
        .iter()
        .enumerate()
        .filter(|(w, _)| s.repeat.get(*w).is_some_and(Option::is_some))
        .map(|(w, name)| {
            // perf's cycles vary like time: their repeat says nothing of whether
            // the program did the same work (their own intervals still widen).
            let worst = figures
                .iter()
                .filter(|&&f| f != Figure::Cycles)
                .map(|&f| (f, spread(w, f)))
                .fold((None, 0.0), |acc, (f, d)| if d > acc.1 { (Some(f), d) } else { acc });
            Repeat {
                workload: name.clone(),
                difference: worst.1,
                figure: worst.0,
                instructions: spread(w, Figure::Instructions),
            }
        })
        .collect();
    let judged = |value: f64, s: f64| {
        let e = Estimate { value, low: value * (1.0 - s), high: value * (1.0 + s), coverage: 1.0 };
        Ratio::judged(e, noise, confidence)
    };
    let measured = report.measured_indices();
    for (variant, v) in report.variants.iter_mut().zip(measured) {
        let Some(v) = v else { continue };
        let mut vc = VariantCounts::default();
        for (w, name) in names.iter().enumerate() {
            let (Some(base), Some(c)) =
                (s.counts.get(w).and_then(|c| c[0]), s.counts.get(w).and_then(|c| c.get(v).copied().flatten()))
            else {
                continue;
            };
            let ratios = figures
                .iter()
                .filter_map(|&f| match (c.get(f), base.get(f)) {
                    (Some(x), Some(b)) if b > 0 => {
                        Some(FigureRatio { figure: f, ratio: judged(x as f64 / b as f64, spread(w, f)) })
                    }
                    _ => None,
                })
                .collect();
            vc.workloads.push(WorkloadCounts { name: name.clone(), counts: c, ratios });
        }
        if vc.workloads.len() == names.len() && !names.is_empty() {
            for &f in &figures {
                let rs: Vec<f64> =
                    vc.workloads.iter().filter_map(|w| find(&w.ratios, f).map(|r| r.ratio.ln())).collect();
                if rs.len() == names.len() {
                    let g = (rs.iter().sum::<f64>() / rs.len() as f64).exp();
                    let worst = (0..names.len()).map(|w| spread(w, f)).fold(0.0, f64::max);
                    vc.geomean.push(FigureRatio { figure: f, ratio: judged(g, worst) });
                }
            }
        }
        variant.counts = (!vc.workloads.is_empty()).then_some(vc);
    }
}

#[cfg(test)]
mod tests;
