//! Whether a BOLT binary may replace the binary it was made from: it must run the
//! check workloads like it (exit statuses, and standard output where a workload
//! sets `check-output`), and, unless `--keep-bolt`, be faster on the benchmark
//! workloads.

use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::Reference;
use crate::cargo::Binary;
use crate::config::{Use, Workload};
use crate::context::Ctx;
use crate::measure::stats::{Verdict, median};
use crate::measure::{self, MeasureArgs, executor::RealExecutor};
use crate::process::Outcome;
use crate::stage::compare::report::{ratio_text, time};
use crate::state::BinaryRecord;
use crate::workload;

/// Measures the BOLT binaries against the PGO ones on the benchmark workloads, as
/// `compare` measures (interleaved rounds, paired ratios with confidence
/// intervals), and says which to keep: BOLT only when it is faster with
/// confidence. BOLT is not always a gain, it makes the binary bigger, and a BOLT
/// input that lost its PGO profile is slower than the PGO binary it would replace.
pub(super) fn bolt_is_faster(ctx: &Ctx, reference: &Reference, bolted: &[Binary], args: &MeasureArgs) -> Result<bool> {
    let bench: Vec<&Workload> = ctx.config.workloads_for(Use::Bench).collect();
    let what = shown(reference.label);
    if bench.is_empty() {
        ctx.printer.warn(format!(
            "no benchmark workloads to measure BOLT against {what}; keeping the BOLT binaries unmeasured"
        ));
        return Ok(true);
    }
    let plan = args.plan(2, vec![true; bench.len()], 0);
    let bar = ctx.printer.bar(u64::from(plan.min_rounds), "");
    bar.set_prefix(format!("bolt vs {}", reference.label));
    let mut exec = RealExecutor {
        ctx,
        workloads: bench.clone(),
        variants: vec![
            (reference.label.to_string(), reference.binaries.iter().map(BinaryRecord::binary).collect()),
            ("bolt".to_string(), bolted.to_vec()),
        ],
        startup: None,
        started: Instant::now(),
        bar: bar.clone(),
    };
    let samples = measure::run(&plan, &mut exec, |s| {
        bar.set_length(u64::from(s.rounds.max(plan.min_rounds)) + u64::from(s.rounds >= plan.min_rounds));
        bar.set_position(u64::from(s.rounds));
    });
    bar.finish_and_clear();
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
    match Verdict::of(&g, plan.noise, plan.confidence) {
        Verdict::Faster => {
            ctx.printer.status(
                "bolt",
                format!(
                    "BOLT is {:.1}% faster than {what} alone (geometric mean over {} workloads, {interval}): keeping BOLT",
                    (1.0 - g.value) * 100.0,
                    bench.len()
                ),
            );
            Ok(true)
        }
        verdict => {
            let how = match verdict {
                Verdict::Slower => format!("{:.1}% slower", (g.value - 1.0) * 100.0),
                _ => format!("no clear difference: {:.3}×", g.value),
            };
            ctx.printer.warn(format!(
                "BOLT was not shown to be faster than {what} alone ({how}, geometric mean over {} workloads, \
                 {interval}), so the {what} binaries stay the result; --keep-bolt keeps BOLT anyway. The BOLT \
                 binaries are in {}",
                bench.len(),
                ctx.layout.root.join(if reference.label == "pgo" { "bolt" } else { "bolt-no-pgo" }).display()
            ));
            Ok(false)
        }
    }
}

/// Runs the benchmark workloads (the training ones when there are none) with the
/// PGO and the BOLT binaries; any difference in exit status keeps the PGO ones.
pub(super) fn verify(ctx: &Ctx, label: &str, before: &[Binary], bolted: &[Binary]) -> Result<()> {
    let mut checks: Vec<&Workload> = ctx.config.workloads_for(Use::Bench).collect();
    if checks.is_empty() {
        checks = ctx.config.workloads_for(Use::Train).collect();
    }
    for w in checks {
        let mut outcomes: Vec<Outcome> = Vec::new();
        let mut stdouts: Vec<Vec<u8>> = Vec::new();
        for (variant, bins) in [(label, before), ("bolt", bolted)] {
            let cmd = workload::command(ctx, w, "bolt-verify", bins, &[])?;
            let logs = ctx.layout.logs("bolt-verify");
            let log = logs.join(format!("{}.{variant}.log", w.name));
            let stderr_log = logs.join(format!("{}.{variant}.stderr.log", w.name));
            let split = w.check_output.then_some(stderr_log.as_path());
            outcomes.push(workload::run_split(ctx, w, &cmd, &log, split)?.outcome);
            stdouts.push(std::fs::read(&log).unwrap_or_default());
        }
        let what = shown(label);
        if w.check_output && stdouts[0] != stdouts[1] {
            bail!(
                "the BOLT binary printed different output from the {what} binary on workload `{}` (check-output \
                 is set), so it was not delivered; the {what} binary stays the result. Compare {} with {}",
                w.name,
                ctx.layout.logs("bolt-verify").join(format!("{}.{label}.log", w.name)).display(),
                ctx.layout.logs("bolt-verify").join(format!("{}.bolt.log", w.name)).display()
            );
        }
        if let Some(o) = outcomes.iter().find(|o| matches!(o, Outcome::Interrupted | Outcome::TimedOut(_))) {
            bail!("checking workload `{}` did not finish ({o}), so the BOLT binary was not delivered", w.name);
        }
        if outcomes[0] != outcomes[1] {
            bail!(
                "the BOLT binary behaved differently from the {what} binary on workload `{}` ({} with {what}, {} \
                 with BOLT), so it was not delivered; the {what} binary stays the result. Logs: {}",
                w.name,
                outcomes[0],
                outcomes[1],
                ctx.layout.logs("bolt-verify").display()
            );
        }
    }
    ctx.printer
        .status("bolt", format!("verified: the BOLT binaries ran every check workload like the {} ones", shown(label)));
    Ok(())
}

/// How a reference variant is named in messages.
pub(super) fn shown(label: &str) -> &'static str {
    if label == "pgo" { "PGO" } else { "plain" }
}
