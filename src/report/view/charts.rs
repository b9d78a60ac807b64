//! The chart series: which bars each chart of the page has, in which colour,
//! with which words. `chart.rs` draws them all the same way.

use super::colour;
use super::summary::{figure_columns, measured};
use super::words::Prose;
use crate::measure::counter::Figure;
use crate::measure::stats::Verdict;
use crate::measure::text::{count_verdict_text, ratio_text, time, verdict_text};
use crate::report::record::{MetricVerdict, Report, Timing, VariantReport};
use crate::workload::metrics::Better;

/// The baseline's bar colour: a neutral grey, so the eye goes to the others.
pub const BASELINE_COLOUR: &str = "#7f7f7f";

/// The other variants' bar colours, in report order (repeating past the end).
pub const PALETTE: [&str; 8] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

/// What the axis measures, which decides its origin and its tick labels.
#[derive(Debug, Clone, PartialEq)]
pub enum Scale {
    /// Seconds, from 0: ticks in one unit (`200 ms`).
    Time,
    /// A figure in its unit, from 0.
    Value { unit: String },
    /// A ratio to the baseline, around 1×.
    Ratio,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    /// Drawn in bold (every variant but the baseline).
    pub strong: bool,
    pub colour: &'static str,
    pub value: f64,
    /// The interval of the value, drawn as a whisker.
    pub interval: Option<(f64, f64)>,
    /// The figures in words, right of the plot.
    pub text: String,
    /// The comparison's verdict and words, coloured after the text.
    pub verdict: Option<(Verdict, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// What the chart is of (in bold), then how to read it.
    pub title: String,
    pub caption: Prose,
    /// The accessible name of the picture.
    pub aria: String,
    pub scale: Scale,
    pub bars: Vec<Bar>,
    /// A value marked across the plot (the baseline's median, or 1×), dashed or not.
    pub reference: Option<(f64, bool)>,
}

/// What a timing chart shows: the startup run, or workload `i`.
#[derive(Debug, Clone, Copy)]
enum Which {
    Startup,
    Workload(usize),
}

impl Which {
    fn of(self, v: &VariantReport) -> Option<&Timing> {
        match self {
            Which::Startup => v.startup.as_ref(),
            Which::Workload(i) => v.workloads.get(i),
        }
    }
}

fn all(r: &Report) -> Vec<Which> {
    let startup = r.method.startup_args.is_some().then_some(Which::Startup);
    startup.into_iter().chain((0..r.workloads.len()).map(Which::Workload)).collect()
}

/// Whether the variant has a bar in a timing chart (and so a swatch).
pub fn charted(r: &Report, v: &VariantReport) -> bool {
    all(r).into_iter().any(|w| w.of(v).is_some_and(measured))
}

/// One chart per timed workload: each measured variant's median with its
/// interval, the baseline's median marked.
pub fn timings(r: &Report) -> Vec<Chart> {
    let with_base = r.variants.iter().any(|v| r.is_baseline(v));
    let mut charts = Vec::new();
    for which in all(r) {
        let (name, trained) = match which {
            Which::Startup => ("startup".to_string(), false),
            Which::Workload(i) => (r.workloads[i].name.clone(), r.workloads[i].trained_on),
        };
        let mut reference = None;
        let bars: Vec<Bar> = r
            .variants
            .iter()
            .enumerate()
            .filter_map(|(i, v)| which.of(v).filter(|t| measured(t)).map(|t| (i, v, t)))
            .map(|(i, v, t)| {
                let base = r.is_baseline(v);
                if base {
                    reference = Some((t.median_s, true));
                }
                let (text, verdict) = if base {
                    (format!("{} · baseline", time(t.median_s)), None)
                } else if t.ratio.is_finite() {
                    let text =
                        format!("{} · {}", time(t.median_s), ratio_text(t.ratio, t.ratio_ci_low, t.ratio_ci_high));
                    (text, Some((t.verdict, verdict_text(t.ratio, t.verdict))))
                } else {
                    (time(t.median_s), None)
                };
                Bar {
                    label: v.name.clone(),
                    strong: !base,
                    colour: colour(r, i),
                    value: t.median_s,
                    interval: Some((t.ci_low_s, t.ci_high_s)),
                    text,
                    verdict,
                }
            })
            .collect();
        if bars.is_empty() {
            continue;
        }
        let caption = format!(
            "{} — median time per run; the lines are the {:.0}% confidence interval of the median{}",
            if trained { " †" } else { "" },
            r.method.confidence * 100.0,
            if with_base { ", the dashed line the baseline's median" } else { "" }
        );
        charts.push(Chart {
            aria: format!("{name}: median time per variant"),
            title: name,
            caption: Prose::text(caption),
            scale: Scale::Time,
            bars,
            reference,
        });
    }
    charts
}

/// One chart per workload and figure it reports: each variant's median with
/// its interval.
pub fn figures(r: &Report) -> Vec<Chart> {
    let mut charts = Vec::new();
    for (w, name) in figure_columns(r) {
        let found: Vec<_> = r
            .variants
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.workloads.get(w).and_then(|t| t.metrics.iter().find(|m| m.name == name)).map(|m| (i, v, m))
            })
            .collect();
        let Some((_, _, first)) = found.first() else { continue };
        let direction = match first.better {
            Better::Higher => "higher is better",
            Better::Lower => "lower is better",
        };
        let unit = first.unit.clone();
        let bars = found
            .iter()
            .map(|(i, v, m)| {
                let base = r.is_baseline(v);
                let verdict = match m.verdict {
                    MetricVerdict::Better => Verdict::Faster,
                    MetricVerdict::Worse => Verdict::Slower,
                    MetricVerdict::NoClearDifference => Verdict::NoClearDifference,
                };
                Bar {
                    label: v.name.clone(),
                    strong: !base,
                    colour: colour(r, *i),
                    value: m.median,
                    interval: Some((m.ci_low, m.ci_high)),
                    text: if base { format!("{} · baseline", m.value_text()) } else { m.value_text() },
                    verdict: (!base).then(|| (verdict, m.verdict_text())),
                }
            })
            .collect();
        charts.push(Chart {
            title: format!("{} · {name}", r.workloads[w].name),
            caption: Prose::text(format!(
                " — median per run ({direction}); the lines are the {:.0}% confidence interval of the median",
                r.method.confidence * 100.0
            )),
            aria: name,
            scale: Scale::Value { unit },
            bars,
            reference: None,
        });
    }
    charts
}

/// One chart per headline count (instructions, estimated cycles): each
/// variant's ratio to the baseline per workload, from 1×.
pub fn counts(r: &Report) -> Vec<Chart> {
    let Some(m) = &r.counts else { return Vec::new() };
    let headline = m.figures.iter().copied().filter(|f| matches!(f, Figure::Instructions | Figure::EstimatedCycles));
    headline
        .filter_map(|figure| {
            let bars: Vec<Bar> = r
                .variants
                .iter()
                .enumerate()
                .filter(|(_, v)| !r.is_baseline(v))
                .flat_map(|(i, v)| {
                    v.counts.iter().flat_map(move |vc| {
                        vc.workloads.iter().filter_map(move |w| {
                            vc.ratio(&w.name, figure).map(|q| Bar {
                                label: format!("{} · {}", w.name, v.name),
                                strong: true,
                                colour: colour(r, i),
                                value: q.ratio,
                                interval: None,
                                text: format!("{:.3}×", q.ratio),
                                verdict: Some((q.verdict, count_verdict_text(q.ratio, q.verdict))),
                            })
                        })
                    })
                })
                .collect();
            (!bars.is_empty()).then(|| Chart {
                title: figure.label().to_string(),
                caption: Prose::text(" — each variant's count over the baseline's, per workload; left of 1× is fewer"),
                aria: format!("{}: ratio to the baseline", figure.label()),
                scale: Scale::Ratio,
                bars,
                reference: Some((1.0, false)),
            })
        })
        .collect()
}
