//! The counts in report.md and in the terminal: a second table after the times,
//! and the sentences that say what counts are and are not.

use std::fmt::Write as _;

use super::super::report::{Report, VariantReport};
use crate::measure::counts::{CounterKind, Figure};
use crate::measure::text::{count, mark};

/// A count with its ratio to the baseline: `7.50 G (0.861×)`.
fn cell(r: &Report, v: &VariantReport, workload: &str, figure: Figure) -> String {
    let Some(vc) = &v.counts else { return "—".into() };
    let Some(w) = vc.workloads.iter().find(|w| w.name == workload) else { return "—".into() };
    let Some(n) = w.counts.get(figure) else { return "—".into() };
    if v.name == r.baseline {
        return count(n);
    }
    match vc.ratio(workload, figure) {
        Some(q) => format!("{} ({:.3}×)", count(n), q.ratio),
        None => count(n),
    }
}

/// The sentences under the counts table: the counter, the repeat, what counts miss.
pub fn notes(r: &Report) -> Vec<String> {
    let Some(m) = &r.counts else { return Vec::new() };
    let mut notes = vec![format!(
        "Each benchmark workload ran once per variant under {} ({}), counting only the binary under test and \
         summing its processes; {}.",
        m.counter.name(),
        m.tool,
        m.why
    )];
    let same = m.repeat.iter().all(|x| x.difference == 0.0);
    if !m.repeat.is_empty() && same {
        notes.push("The baseline, counted a second time, gave identical figures on every workload.".into());
    } else if let Some(worst) = m.repeat.iter().max_by(|a, b| a.difference.total_cmp(&b.difference)) {
        let instructions = m.repeat.iter().map(|x| x.instructions).fold(0.0, f64::max);
        let also = if worst.figure == Some(Figure::Instructions) {
            String::new()
        } else {
            format!("; instructions by at most {}", percent(instructions))
        };
        notes.push(format!(
            "**The counts are not exactly repeatable:** the baseline counted twice differed by up to {} ({}, \
             {}){also}. Each ratio's interval spans its figure's difference on either side (random hashing, time \
             or addresses in the program change what it does).",
            percent(worst.difference),
            worst.workload,
            worst.figure.map(Figure::label).unwrap_or("")
        ));
    }
    if let Some(formula) = &m.estimated_cycles {
        notes.push(format!(
            "Estimated cycles = {formula} (docs/compare.md); simulated caches: {}.",
            m.cache_model.as_deref().unwrap_or("")
        ));
    }
    let source = match m.counter {
        CounterKind::Cachegrind => "cachegrind simulates a simple cache and branch predictor, not this machine's",
        CounterKind::Perf => "perf counts events, not what each one cost",
    };
    notes.push(format!(
        "Counts are not time: {source}, and no count sees memory latency, parallelism or waiting (I/O, locks, \
         sleep). Wall time above is the headline; ratios are each variant's count over the baseline's."
    ));
    if let Some(stopped) = &m.stopped {
        notes.push(format!("**Counting stopped early:** {stopped}; the workloads left are not counted."));
    }
    notes
}

/// `1.19%`, `0.0015%`, `0%`: a small fraction with two significant digits.
fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    if p == 0.0 {
        return "0%".into();
    }
    let decimals = (1.0 - p.log10().floor()).max(2.0) as usize;
    format!("{p:.decimals$}%")
}

/// The `### Counts` section of report.md.
pub fn markdown(o: &mut String, r: &Report) {
    let Some(m) = &r.counts else { return };
    let _ = writeln!(o, "\n### Counts ({})\n", m.counter.name());
    let mut head = vec!["variant", "workload"];
    head.extend(m.figures.iter().map(|f| f.label()));
    let _ = writeln!(o, "| {} |", head.join(" | "));
    let _ = writeln!(o, "|:--|:--|{}", "--:|".repeat(m.figures.len()));
    for v in r.variants.iter().filter(|v| v.counts.is_some()) {
        for w in &r.workloads {
            let cells: Vec<String> = m.figures.iter().map(|&f| cell(r, v, &w.name, f)).collect();
            let _ = writeln!(o, "| **{}** | {} | {} |", v.name, w.name, cells.join(" | "));
        }
        if v.name != r.baseline
            && let Some(vc) = &v.counts
            && !vc.geomean.is_empty()
        {
            let cells: Vec<String> = m
                .figures
                .iter()
                .map(|&f| match vc.geomean(f) {
                    Some(g) => format!("**{:.3}×**", g.ratio),
                    None => "—".into(),
                })
                .collect();
            let _ = writeln!(o, "| **{}** | *geometric mean* | {} |", v.name, cells.join(" | "));
        }
    }
    let _ = writeln!(o);
    for n in notes(r) {
        let _ = writeln!(o, "{n}");
    }
}

/// One line per variant under the terminal's table: the geometric means of the
/// figures a gate can judge.
pub fn terminal(o: &mut String, r: &Report) {
    let Some(m) = &r.counts else { return };
    let shown: Vec<Figure> =
        m.figures.iter().copied().filter(|f| matches!(f, Figure::Instructions | Figure::EstimatedCycles)).collect();
    for v in r.variants.iter().filter(|v| v.name != r.baseline) {
        let Some(vc) = &v.counts else { continue };
        let mut parts: Vec<String> = shown
            .iter()
            .filter_map(|&f| vc.geomean(f).map(|g| format!("{} {:.3}×{}", f.label(), g.ratio, mark(g.verdict))))
            .collect();
        if parts.is_empty() {
            // Not every workload was counted: what was, workload by workload.
            parts = vc
                .workloads
                .iter()
                .flat_map(|w| {
                    shown.iter().filter_map(move |&f| {
                        let q = vc.ratio(&w.name, f)?;
                        Some(format!("{} on {} {:.3}×{}", f.label(), w.name, q.ratio, mark(q.verdict)))
                    })
                })
                .collect();
        }
        if !parts.is_empty() {
            let _ = write!(o, "\ncounted by {}: {}: {}", m.counter.name(), v.name, parts.join(", "));
        }
    }
    if let Some(stopped) = &m.stopped {
        let _ = write!(o, "\ncounting stopped early: {stopped}");
    }
}
