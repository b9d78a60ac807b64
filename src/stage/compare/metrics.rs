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
        let e = Estimate { value: self.ratio, low: self.ratio_ci_low, high: self.ratio_ci_high, coverage: 1.0 };
        let Estimate { value: ratio, low, high, .. } = turned(self.better, e);
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

/// A figure's ratio turned so that below 1 is better: as it is for a figure where
/// lower is better, inverted (interval bounds swapped) where higher is.
fn turned(better: Better, e: Estimate) -> Estimate {
    match better {
        Better::Lower => e,
        Better::Higher => Estimate { value: 1.0 / e.value, low: 1.0 / e.high, high: 1.0 / e.low, ..e },
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
            let verdict = match Verdict::of(&turned(first.better, r), plan.noise, plan.confidence) {
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

/// The figures in report.html: one chart per workload and figure, a bar per
/// variant from zero to its median with the median's interval as a whisker.
pub fn html(o: &mut String, r: &Report) {
    use super::html::{BAR, ROW, WIDTH, colour, escape, nice_step};
    let columns = columns(r);
    if columns.is_empty() {
        return;
    }
    let _ = writeln!(o, "<h2>Workload figures</h2>");
    for (w, name) in &columns {
        let bars: Vec<(usize, &str, &MetricReport)> = r
            .variants
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.workloads
                    .get(*w)
                    .and_then(|t| t.metrics.iter().find(|m| &m.name == name))
                    .map(|m| (i, v.name.as_str(), m))
            })
            .collect();
        let Some((_, _, first)) = bars.first() else { continue };
        let direction = match first.better {
            Better::Higher => "higher is better",
            Better::Lower => "lower is better",
        };
        let (label_w, text_w) = (160.0, 300.0);
        let top = bars.iter().map(|(_, _, m)| m.ci_high.max(m.median)).fold(0.0, f64::max);
        let step = nice_step(top);
        let axis = if step > 0.0 { (top / step).ceil().max(1.0) * step } else { 1.0 };
        let plot = WIDTH - label_w - text_w;
        let x = |v: f64| label_w + (v / axis).clamp(0.0, 1.0) * plot;
        let height = bars.len() as f64 * ROW + 30.0;
        let _ = writeln!(
            o,
            "<figure class=\"chart\">\n<figcaption><strong>{} · {}</strong> — median per run ({direction}); the lines \
             are the {:.0}% confidence interval of the median</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
             width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{}\">",
            escape(&r.workloads[*w].name),
            escape(name),
            r.method.confidence * 100.0,
            escape(name)
        );
        for (k, (i, vname, m)) in bars.iter().enumerate() {
            let y = k as f64 * ROW + (ROW - BAR) / 2.0;
            let cy = y + BAR / 2.0;
            let comparison = if *vname == r.baseline { "baseline".to_string() } else { m.verdict_text() };
            let _ = writeln!(
                o,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
                 <rect class=\"bar\" x=\"{label_w}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{BAR}\" fill=\"{}\"/>\
                 <line class=\"whisker\" x1=\"{:.1}\" y1=\"{cy:.1}\" x2=\"{:.1}\" y2=\"{cy:.1}\" stroke=\"#222\" stroke-width=\"1.5\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{} · {}</text>",
                label_w - 8.0,
                cy + 4.0,
                escape(vname),
                (x(m.median) - label_w).max(1.0),
                colour(r, *i),
                x(m.ci_low),
                x(m.ci_high),
                WIDTH - text_w + 8.0,
                cy + 4.0,
                escape(&m.value_text()),
                escape(&comparison)
            );
        }
        let _ = writeln!(
            o,
            "<text x=\"{label_w}\" y=\"{:.1}\" fill=\"#555\">0</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" \
             fill=\"#555\">{}</text>\n</svg>\n</figure>",
            height - 8.0,
            label_w + plot,
            height - 8.0,
            escape(&value(axis, &first.unit))
        );
    }
}
