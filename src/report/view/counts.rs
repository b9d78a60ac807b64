//! The counts (`--counts`), format-free: the table of counts with their ratios,
//! the sentences that say what counts are and are not, the charts, and the
//! terminal's one line per variant.

use super::charts;
use super::charts::Chart;
use super::words::{Prose, Span};
use crate::measure::counter::{CounterKind, Figure};
use crate::report::record::{Ratio, Report};

#[derive(Debug, Clone, PartialEq)]
pub struct CountsView {
    /// `cachegrind`.
    pub counter: &'static str,
    /// The figures' labels: the table's columns.
    pub figures: Vec<&'static str>,
    pub rows: Vec<CountRow>,
    pub notes: Vec<Prose>,
    pub charts: Vec<Chart>,
    /// Per variant besides the baseline: the headline figures' ratios.
    pub headlines: Vec<(String, Vec<Headline>)>,
    /// Why counting stopped before every run, if it did.
    pub stopped: Option<String>,
}

/// A row: a variant's counts on a workload, or their geometric means.
#[derive(Debug, Clone, PartialEq)]
pub struct CountRow {
    pub variant: String,
    pub baseline: bool,
    /// `None` for the geometric means' row.
    pub workload: Option<String>,
    /// Whether the workload was counted with this variant.
    pub counted: bool,
    pub cells: Vec<CountCell>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CountCell {
    pub count: Option<u64>,
    /// The ratio to the baseline (none on the baseline's rows).
    pub ratio: Option<Ratio>,
}

/// A headline figure's ratio, on one workload or (`workload: None`) all.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    pub figure: &'static str,
    pub workload: Option<String>,
    pub ratio: Ratio,
}

pub fn of(r: &Report) -> Option<CountsView> {
    let m = r.counts.as_ref()?;
    let mut rows = Vec::new();
    for v in r.variants.iter() {
        let Some(vc) = &v.counts else { continue };
        let base = r.is_baseline(v);
        for w in &r.workloads {
            let counted = vc.workloads.iter().find(|x| x.name == w.name);
            let cells = m
                .figures
                .iter()
                .map(|&f| CountCell {
                    count: counted.and_then(|c| c.counts.get(f)),
                    ratio: vc.ratio(&w.name, f).filter(|_| !base).cloned(),
                })
                .collect();
            rows.push(CountRow {
                variant: v.name.clone(),
                baseline: base,
                workload: Some(w.name.clone()),
                counted: counted.is_some(),
                cells,
            });
        }
        if !base && !vc.geomean.is_empty() {
            let cells = m.figures.iter().map(|&f| CountCell { count: None, ratio: vc.geomean(f).cloned() }).collect();
            rows.push(CountRow { variant: v.name.clone(), baseline: base, workload: None, counted: true, cells });
        }
    }
    Some(CountsView {
        counter: m.counter.name(),
        figures: m.figures.iter().map(|f| f.label()).collect(),
        rows,
        notes: notes(r),
        charts: charts::counts(r),
        headlines: headlines(r),
        stopped: m.stopped.clone(),
    })
}

/// The headline figures (those a CI check can judge) of each variant: the
/// geometric means, or workload by workload when not every one was counted.
fn headlines(r: &Report) -> Vec<(String, Vec<Headline>)> {
    let Some(m) = &r.counts else { return Vec::new() };
    let shown: Vec<Figure> =
        m.figures.iter().copied().filter(|f| matches!(f, Figure::Instructions | Figure::EstimatedCycles)).collect();
    let mut lines = Vec::new();
    for v in r.variants.iter().filter(|v| !r.is_baseline(v)) {
        let Some(vc) = &v.counts else { continue };
        let mut parts: Vec<Headline> = shown
            .iter()
            .filter_map(|&f| vc.geomean(f).map(|g| Headline { figure: f.label(), workload: None, ratio: g.clone() }))
            .collect();
        if parts.is_empty() {
            parts = vc
                .workloads
                .iter()
                .flat_map(|w| {
                    shown.iter().filter_map(move |&f| {
                        let q = vc.ratio(&w.name, f)?;
                        Some(Headline { figure: f.label(), workload: Some(w.name.clone()), ratio: q.clone() })
                    })
                })
                .collect();
        }
        if !parts.is_empty() {
            lines.push((v.name.clone(), parts));
        }
    }
    lines
}

/// The sentences under the counts table: the counter, the repeat, what counts miss.
pub fn notes(r: &Report) -> Vec<Prose> {
    let Some(m) = &r.counts else { return Vec::new() };
    let mut notes = vec![Prose::text(format!(
        "Each benchmark workload ran once per variant under {} ({}), counting only the binary under test and \
         summing its processes; {}.",
        m.counter.name(),
        m.tool,
        m.why
    ))];
    let same = m.repeat.iter().all(|x| x.difference == 0.0);
    if !m.repeat.is_empty() && same {
        notes.push(Prose::text("The baseline, counted a second time, gave identical figures on every workload."));
    } else if let Some(worst) = m.repeat.iter().max_by(|a, b| a.difference.total_cmp(&b.difference)) {
        let instructions = m.repeat.iter().map(|x| x.instructions).fold(0.0, f64::max);
        let also = if worst.figure == Some(Figure::Instructions) {
            String::new()
        } else {
            format!("; instructions by at most {}", percent(instructions))
        };
        notes.push(Prose(vec![
            Span::Strong("The counts are not exactly repeatable:".into()),
            Span::Text(format!(
                " the baseline counted twice differed by up to {} ({}, {}){also}. Each ratio's interval spans its \
                 figure's difference on either side (random hashing, time or addresses in the program change what it \
                 does).",
                percent(worst.difference),
                worst.workload,
                worst.figure.map(Figure::label).unwrap_or("")
            )),
        ]));
    }
    if let Some(formula) = &m.estimated_cycles {
        notes.push(Prose::text(format!(
            "Estimated cycles = {formula} (docs/compare.md); simulated caches: {}.",
            m.cache_model.as_deref().unwrap_or("")
        )));
    }
    let source = match m.counter {
        CounterKind::Cachegrind => "cachegrind simulates a simple cache and branch predictor, not this machine's",
        CounterKind::Perf => "perf counts events, not what each one cost",
    };
    notes.push(Prose::text(format!(
        "Counts are not time: {source}, and no count sees memory latency, parallelism or waiting (I/O, locks, \
         sleep). Wall time above is the headline; ratios are each variant's count over the baseline's."
    )));
    if let Some(stopped) = &m.stopped {
        notes.push(Prose(vec![
            Span::Strong("Counting stopped early:".into()),
            Span::Text(format!(" {stopped}; the workloads left are not counted.")),
        ]));
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
