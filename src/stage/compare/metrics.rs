//! The workloads' own figures in the report (`PGO_BUILD_METRICS`): each one
//! summarized like a workload's time — per variant a median with its interval,
//! and a ratio to the baseline paired by round — with a direction-aware verdict:
//! for a figure where higher is better (`requests_per_s`), a ratio above 1 is
//! better. `--gate-metric NAME` lets the CI checks judge one.

use std::fmt::Write as _;

use serde::Serialize;

use super::report::{Ratio, Report, Timing};
use crate::measure::stats::{Estimate, Verdict, median_interval, paired_ratio};
use crate::measure::{Plan, Samples};
use crate::workload::metrics::{Better, Metric};

/// One figure of one workload for one variant.
#[derive(Debug, Clone, Serialize)]
pub struct MetricReport {
    pub name: String,
    pub unit: String,
    pub better: Better,
    pub runs: usize,
    pub median: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// The variant's figure over the baseline's, paired by round.
    pub ratio: f64,
    pub ratio_ci_low: f64,
    pub ratio_ci_high: f64,
    pub verdict: MetricVerdict,
}

/// What a figure's interval says, in its own direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetricVerdict {
    Better,
    Worse,
    NoClearDifference,
}

impl MetricReport {
    /// The ratio turned so that below 1 is better (what the time checks read),
    /// with its verdict.
    pub fn oriented(&self) -> Ratio {
        let (ratio, low, high) = match self.better {
            Better::Lower => (self.ratio, self.ratio_ci_low, self.ratio_ci_high),
            Better::Higher => (1.0 / self.ratio, 1.0 / self.ratio_ci_high, 1.0 / self.ratio_ci_low),
        };
        let verdict = match self.verdict {
            MetricVerdict::Better => Verdict::Faster,
            MetricVerdict::Worse => Verdict::Slower,
            MetricVerdict::NoClearDifference => Verdict::NoClearDifference,
        };
        Ratio { ratio, ratio_ci_low: low, ratio_ci_high: high, verdict }
    }

    /// `9.4% more (better)`, `3.0% less (worse)`, `no clear difference`.
    pub fn verdict_text(&self) -> String {
        let pct = (self.ratio - 1.0).abs() * 100.0;
        let way = if self.ratio >= 1.0 { "more" } else { "less" };
        match self.verdict {
            MetricVerdict::Better => format!("{pct:.1}% {way} (better)"),
            MetricVerdict::Worse => format!("{pct:.1}% {way} (worse)"),
            MetricVerdict::NoClearDifference => "no clear difference".to_string(),
        }
    }

    /// `41.2 k req/s`.
    pub fn value_text(&self) -> String {
        value(self.median, &self.unit)
    }
}

/// A figure's value with its unit, in four significant digits or so.
pub fn value(v: f64, unit: &str) -> String {
    let n = if v.abs() >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v.abs() >= 1e4 {
        format!("{:.1} k", v / 1e3)
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if unit.is_empty() { n } else { format!("{n} {unit}") }
}

/// The values of figure `name` in `runs` (one list of figures per round); `None`
/// unless every run reported it.
fn values<'a>(runs: &'a [Vec<Metric>], name: &str) -> Option<(Vec<f64>, &'a Metric)> {
    let first = runs.first()?.iter().find(|m| m.name == name)?;
    let v: Option<Vec<f64>> = runs.iter().map(|r| r.iter().find(|m| m.name == name).map(|m| m.value)).collect();
    v.map(|v| (v, first))
}

/// Puts each measured variant's figures into its workloads' timings.
pub fn fill(report: &mut Report, plan: &Plan, samples: &Samples) {
    let measured = report.measured_indices();
    for (variant, v) in report.variants.iter_mut().zip(measured) {
        let Some(v) = v else { continue };
        for (w, timing) in variant.workloads.iter_mut().enumerate() {
            timing.metrics = figures_of(plan, samples, w, v);
        }
    }
}

fn figures_of(plan: &Plan, samples: &Samples, w: usize, v: usize) -> Vec<MetricReport> {
    let (Some(base_runs), Some(runs)) =
        (samples.metrics.get(w).and_then(|x| x.get(plan.baseline)), samples.metrics.get(w).and_then(|x| x.get(v)))
    else {
        return Vec::new();
    };
    let Some(names) = runs.first().map(|r| r.iter().map(|m| m.name.clone()).collect::<Vec<_>>()) else {
        return Vec::new();
    };
    names
        .iter()
        .filter_map(|name| {
            let (vals, first) = values(runs, name)?;
            let (base, _) = values(base_runs, name)?;
            let m = median_interval(&vals, plan.confidence);
            let r = paired_ratio(&base, &vals, plan.confidence);
            let oriented = match first.better {
                Better::Lower => r,
                Better::Higher => Estimate { value: 1.0 / r.value, low: 1.0 / r.high, high: 1.0 / r.low, ..r },
            };
            let verdict = match Verdict::of(&oriented, plan.noise, plan.confidence) {
                Verdict::Faster => MetricVerdict::Better,
                Verdict::Slower => MetricVerdict::Worse,
                Verdict::NoClearDifference => MetricVerdict::NoClearDifference,
            };
            Some(MetricReport {
                name: name.clone(),
                unit: first.unit.clone(),
                better: first.better,
                runs: vals.len(),
                median: m.value,
                ci_low: m.low,
                ci_high: m.high,
                ratio: r.value,
                ratio_ci_low: r.low,
                ratio_ci_high: r.high,
                verdict,
            })
        })
        .collect()
}

/// The summary table's figure columns: (workload index, figure name), in the
/// baseline's order.
pub fn columns(r: &Report) -> Vec<(usize, String)> {
    let Some(base) = r.variants.iter().find(|v| v.name == r.baseline) else { return Vec::new() };
    base.workloads.iter().enumerate().flat_map(|(w, t)| t.metrics.iter().map(move |m| (w, m.name.clone()))).collect()
}

/// One summary cell: `45.1 k req/s · 9.4% more (better)`.
pub fn cell(t: Option<&Timing>, name: &str, is_base: bool) -> String {
    match t.and_then(|t| t.metrics.iter().find(|m| m.name == name)) {
        Some(m) if is_base => m.value_text(),
        Some(m) => format!("{} · {}", m.value_text(), m.verdict_text()),
        None => "—".to_string(),
    }
}

/// The `### Workload figures` section of report.md.
pub fn markdown(o: &mut String, r: &Report) {
    if columns(r).is_empty() {
        return;
    }
    let pct = r.method.confidence * 100.0;
    let _ = writeln!(o, "\n### Workload figures\n");
    let _ = writeln!(
        o,
        "| variant | workload | figure | median [{pct:.0}% CI] | ratio to baseline [{pct:.0}% CI] | verdict |"
    );
    let _ = writeln!(o, "|:--|:--|:--|--:|--:|:--|");
    for v in &r.variants {
        for t in &v.workloads {
            for m in &t.metrics {
                let better = match m.better {
                    Better::Higher => "higher is better",
                    Better::Lower => "lower is better",
                };
                let _ = writeln!(
                    o,
                    "| {} | {} | {} ({better}) | {} [{}–{}] | {:.3}× [{:.3}–{:.3}] | {} |",
                    v.name,
                    t.name,
                    m.name,
                    m.value_text(),
                    value(m.ci_low, ""),
                    value(m.ci_high, ""),
                    m.ratio,
                    m.ratio_ci_low,
                    m.ratio_ci_high,
                    if v.name == r.baseline { "baseline".to_string() } else { m.verdict_text() }
                );
            }
        }
    }
    let _ = writeln!(
        o,
        "\nFigures the workloads reported through `PGO_BUILD_METRICS`, one value per run, summarized like the times: \
         better or worse only when the whole interval of the ratio is beyond the noise threshold, in the figure's \
         own direction."
    );
}
