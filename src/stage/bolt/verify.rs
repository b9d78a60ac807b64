//! Whether a BOLT binary may replace the binary it was made from: it must run the
//! check workloads like it (exit statuses, and standard output where a workload
//! sets `check-output`), and, for `pgo-build bolt` on its own, be faster on the
//! benchmark workloads (in `all --bolt`, `compare` measures that instead).

use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cargo::Binary;
use crate::config::{Use, Workload};
use crate::context::Ctx;
use crate::measure::stats::{Verdict, median};
use crate::measure::text::{ratio_text, time};
use crate::measure::{self, MeasureArgs, executor::RealExecutor};
use crate::process::Outcome;
use crate::report::view::words::verdict_reason;
use crate::stage::deliver::Evidence;
use crate::util::plural;
use crate::workload::{self, Phase};

/// Measures the BOLT binaries against the PGO ones on the benchmark workloads, as
/// `compare` measures (interleaved rounds, paired ratios with confidence
/// intervals), and says which to keep: BOLT only when it is faster with
/// confidence. BOLT is not always a gain, it makes the binary bigger, and a BOLT
/// input that lost its PGO profile is slower than the PGO binary it would replace.
pub(super) fn bolt_vs(
    ctx: &Ctx,
    label: &str,
    reference: &[Binary],
    bolted: &[Binary],
    args: &MeasureArgs,
) -> Result<Evidence> {
    let bench: Vec<&Workload> = ctx.config.workloads_for(Use::Bench).collect();
    let what = shown(label);
    if bench.is_empty() {
        ctx.printer.warn(format!("no benchmark workloads to measure BOLT against {what}"));
        return Ok(Evidence::NotMeasured);
    }
    let plan = args.plan(2, vec![true; bench.len()], 0);
    let progress = ctx.printer.progress(&format!("bolt vs {label}"), u64::from(plan.min_rounds));
    let mut exec = RealExecutor {
        ctx,
        workloads: bench.clone(),
        variants: vec![(label.to_string(), reference.to_vec()), ("bolt".to_string(), bolted.to_vec())],
        startup: None,
        started: Instant::now(),
        bar: progress.bar().clone(),
        metrics: Vec::new(),
    };
    let start = Instant::now();
    let samples = measure::run(&plan, &mut exec, |s| {
        progress.update(
            u64::from(s.rounds),
            u64::from(s.rounds.max(plan.min_rounds)) + u64::from(s.rounds >= plan.min_rounds),
            measure::round_message(&plan, s, start.elapsed()),
        );
    });
    progress.finish();
    let samples = samples?;
    for (w, wl) in bench.iter().enumerate() {
        let r = samples.ratio(&plan, w, 1);
        ctx.printer.note(format!(
            "{}: {what} {}, BOLT {} (medians of {}): BOLT/{what} {}, {}",
            wl.name,
            time(median(&samples.times[w][0])),
            time(median(&samples.times[w][1])),
            samples.rounds,
            ratio_text(r.value, r.low, r.high),
            Verdict::of(&r, plan.noise, plan.confidence).text()
        ));
    }
    let g = samples.geomean(&plan, 1).context("a geometric mean over the benchmark workloads")?;
    let interval = format!("{:.0}% interval {:.3}–{:.3}", plan.confidence * 100.0, g.low, g.high);
    let over = plural(bench.len(), "workload", "workloads");
    let (keep, summary) = match Verdict::of(&g, plan.noise, plan.confidence) {
        Verdict::Faster => (
            true,
            format!(
                "BOLT is {:.1}% faster than {what} alone (geometric mean over {over}, {interval})",
                (1.0 - g.value) * 100.0
            ),
        ),
        Verdict::Slower => (
            false,
            format!(
                "BOLT is {:.1}% slower than {what} alone (geometric mean over {over}, {interval})",
                (g.value - 1.0) * 100.0
            ),
        ),
        _ => (
            false,
            format!(
                "BOLT was not shown to be faster than {what} alone (geometric mean over {over}): {}",
                verdict_reason(&g, plan.noise, plan.confidence, "BOLT", &format!("{what} alone"))
            ),
        ),
    };
    Ok(Evidence::Measured { keep, summary })
}

/// What the check found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verified {
    /// Every check workload ran alike.
    Same,
    /// Why not.
    Differs(String),
}

/// Runs the benchmark workloads (the training ones when there are none) with the
/// PGO and the BOLT binaries, once each; any difference in exit status (or in
/// output, where a workload sets `check-output`) keeps the PGO ones.
pub(super) fn verify(ctx: &Ctx, label: &str, before: &[Binary], bolted: &[Binary]) -> Result<Verified> {
    let mut checks: Vec<&Workload> = ctx.config.workloads_for(Use::Bench).collect();
    if checks.is_empty() {
        checks = ctx.config.workloads_for(Use::Train).collect();
    }
    for w in checks {
        let mut outcomes: Vec<Outcome> = Vec::new();
        let mut stdouts: Vec<Vec<u8>> = Vec::new();
        for (variant, bins) in [(label, before), ("bolt", bolted)] {
            let cmd = workload::command(ctx, w, Phase::BoltVerify, bins, &[])?;
            let logs = ctx.layout.logs(Phase::BoltVerify.name());
            let log = logs.join(format!("{}.{variant}.log", w.name));
            let stderr_log = logs.join(format!("{}.{variant}.stderr.log", w.name));
            let split = w.check_output.then_some(stderr_log.as_path());
            outcomes.push(workload::run_split(ctx, w, &cmd, &log, split)?.outcome);
            stdouts.push(std::fs::read(&log).unwrap_or_default());
        }
        let what = shown(label);
        if w.check_output && stdouts[0] != stdouts[1] {
            return Ok(Verified::Differs(format!(
                "the BOLT binary printed different output from the {what} binary on workload `{}` (check-output \
                 is set), so it is not delivered. Compare {} with {}",
                w.name,
                ctx.layout.logs(Phase::BoltVerify.name()).join(format!("{}.{label}.log", w.name)).display(),
                ctx.layout.logs(Phase::BoltVerify.name()).join(format!("{}.bolt.log", w.name)).display()
            )));
        }
        if let Some(o) = outcomes.iter().find(|o| matches!(o, Outcome::Interrupted | Outcome::TimedOut(_))) {
            bail!("checking workload `{}` did not finish ({o}), so the BOLT binary was not delivered", w.name);
        }
        if outcomes[0] != outcomes[1] {
            return Ok(Verified::Differs(format!(
                "the BOLT binary behaved differently from the {what} binary on workload `{}` ({} with {what}, {} \
                 with BOLT), so it is not delivered. Logs: {}",
                w.name,
                outcomes[0],
                outcomes[1],
                ctx.layout.logs(Phase::BoltVerify.name()).display()
            )));
        }
    }
    ctx.printer
        .status("bolt", format!("verified: the BOLT binaries ran every check workload like the {} ones", shown(label)));
    Ok(Verified::Same)
}

/// How a reference variant is named in messages.
pub(super) fn shown(label: &str) -> &'static str {
    if label == "pgo" { "PGO" } else { "plain" }
}
