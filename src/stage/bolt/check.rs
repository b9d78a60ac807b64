//! Whether a BOLT binary may replace the binary it was made from: it must run the
//! check workloads like it (exit statuses, and standard output where a workload
//! sets `check-output`), and, unless `--keep-bolt`, be faster on the benchmark
//! workloads.

use anyhow::Result;
use anyhow::bail;

use super::Reference;
use crate::build::Binary;
use crate::config::{Use, Workload};
use crate::context::Ctx;
use crate::process::Outcome;
use crate::stage::compare::{CompareArgs, Variant, geomean_ratio, measure, median};
use crate::state::BinaryRecord;
use crate::workload;

/// Measures the BOLT binaries against the PGO ones on the benchmark workloads and
/// says which to keep. BOLT is not always a gain, and a BOLT input that lost its
/// PGO profile is slower than the PGO binary it would replace.
pub(super) fn bolt_is_faster(ctx: &Ctx, reference: &Reference, bolted: &[Binary], args: &CompareArgs) -> Result<bool> {
    let bench: Vec<&Workload> = ctx.config.workloads_for(Use::Bench).collect();
    if bench.is_empty() {
        ctx.printer.warn(format!(
            "no benchmark workloads to measure BOLT against {}; keeping the BOLT binaries unmeasured",
            shown(reference.label)
        ));
        return Ok(true);
    }
    let variants = [
        Variant {
            name: reference.label,
            binaries: reference.binaries.iter().map(BinaryRecord::binary).collect(),
            size: reference.binaries.iter().map(|b| b.size).sum(),
        },
        Variant { name: "bolt", binaries: bolted.to_vec(), size: 0 },
    ];
    let what = shown(reference.label);
    let results = measure(ctx, &variants, &bench, args, &format!("bolt vs {}", reference.label))?;
    for m in &results {
        ctx.printer.note(format!(
            "{}: {what} {:.1} ms, BOLT {:.1} ms (median of {}): BOLT/{what} time ratio {:.3}",
            m.workload.name,
            median(&m.times[0]) * 1000.0,
            median(&m.times[1]) * 1000.0,
            m.times[0].len(),
            m.ratio(0, 1)
        ));
    }
    let ratio = geomean_ratio(&results, 0, 1);
    if ratio < 1.0 {
        ctx.printer.status(
            "bolt",
            format!(
                "BOLT is {:.1}% faster than {what} alone (geometric mean over {} workloads): keeping BOLT",
                (1.0 - ratio) * 100.0,
                results.len()
            ),
        );
        Ok(true)
    } else {
        ctx.printer.warn(format!(
            "BOLT was not faster than {what} alone ({:.1}% slower, geometric mean over {} workloads), so the \
             {what} binaries stay the result; --keep-bolt keeps BOLT anyway. The BOLT binaries are in {}",
            (ratio - 1.0) * 100.0,
            results.len(),
            ctx.layout.root.join("bolt").display()
        ));
        Ok(false)
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
