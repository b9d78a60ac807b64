//! The sections after the summary, format-free: the details behind each cell,
//! the workloads' figures, BOLT against PGO, the CI checks, each variant's
//! build settings and the method.

use super::charts;
use super::charts::Chart;
use super::summary::measured;
use super::words::{Prose, Span, count, stop_text};
use crate::measure::text::time;
use crate::report::record::figures::value;
use crate::report::record::{Ratio, Report};
use crate::util::human_size;
use crate::workload::metrics::Better;

/// A ratio as a row shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Against {
    /// The baseline's own row.
    Baseline,
    Missing,
    Ratio(Ratio),
}

/// A row of the details: one workload (or the geometric mean) of one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub variant: String,
    pub baseline: bool,
    /// The workload's times; `None` for the geometric mean's row.
    pub timing: Option<DetailTiming>,
    pub against: Against,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DetailTiming {
    pub workload: String,
    pub runs: usize,
    pub median_s: f64,
    pub low_s: f64,
    pub high_s: f64,
}

pub fn details(r: &Report) -> Vec<Detail> {
    let mut rows = Vec::new();
    for v in &r.variants {
        let base = r.is_baseline(v);
        for t in v.startup.iter().chain(&v.workloads) {
            let against = if base {
                Against::Baseline
            } else if measured(t) {
                Against::Ratio(t.against_baseline())
            } else {
                Against::Missing
            };
            let timing = DetailTiming {
                workload: t.name.clone(),
                runs: t.runs,
                median_s: t.median_s,
                low_s: t.ci_low_s,
                high_s: t.ci_high_s,
            };
            rows.push(Detail { variant: v.name.clone(), baseline: base, timing: Some(timing), against });
        }
        if let Some(g) = v.geomean.as_ref().filter(|_| !base) {
            rows.push(Detail {
                variant: v.name.clone(),
                baseline: base,
                timing: None,
                against: Against::Ratio(g.clone()),
            });
        }
    }
    rows
}

/// The workloads' own figures: a row per variant, workload and figure, and a
/// chart per workload and figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub rows: Vec<FigureRow>,
    pub charts: Vec<Chart>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FigureRow {
    pub variant: String,
    pub workload: String,
    /// `requests_per_s (higher is better)`.
    pub figure: String,
    /// `41.2 k req/s [40.8 k–41.6 k]`.
    pub median: String,
    pub ratio: (f64, f64, f64),
    /// `9.4% more (better)`, or `baseline`.
    pub verdict: String,
}

pub fn figures(r: &Report) -> Option<Figures> {
    if super::summary::figure_columns(r).is_empty() {
        return None;
    }
    let mut rows = Vec::new();
    for v in &r.variants {
        for t in &v.workloads {
            for m in &t.metrics {
                let better = match m.better {
                    Better::Higher => "higher is better",
                    Better::Lower => "lower is better",
                };
                rows.push(FigureRow {
                    variant: v.name.clone(),
                    workload: t.name.clone(),
                    figure: format!("{} ({better})", m.name),
                    median: format!("{} [{}–{}]", m.value_text(), value(m.ci_low, ""), value(m.ci_high, "")),
                    ratio: (m.ratio, m.ratio_ci_low, m.ratio_ci_high),
                    verdict: if r.is_baseline(v) { "baseline".to_string() } else { m.verdict_text() },
                });
            }
        }
    }
    Some(Figures { rows, charts: charts::figures(r) })
}

/// The sentence under the figures' table.
pub const FIGURES_NOTE: &str = "Figures the workloads reported through `PGO_BUILD_METRICS`, one value per run, \
                                summarized like the times: better or worse only when the whole interval of the ratio \
                                is beyond the noise threshold, in the figure's own direction.";

/// `pgo+bolt` against `pgo`: a row per workload, the geometric mean, the decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Bolt {
    pub rows: Vec<(String, Ratio)>,
    pub geomean: Ratio,
    pub delivered: String,
    pub reason: String,
}

/// The sentence before the BOLT table.
pub fn bolt_note() -> Prose {
    Prose(vec![
        Span::Code("pgo+bolt".into()),
        Span::Text("'s times over ".into()),
        Span::Code("pgo".into()),
        Span::Text(
            "'s, paired by round like the ratios to the baseline; the decision rests on the geometric mean.".into(),
        ),
    ])
}

pub fn bolt(r: &Report) -> Option<Bolt> {
    let b = r.bolt_vs_pgo.as_ref()?;
    Some(Bolt {
        rows: b.workloads.iter().map(|w| (w.name.clone(), w.ratio.clone())).collect(),
        geomean: b.geomean.clone(),
        delivered: b.delivered.name().to_string(),
        reason: b.reason.clone(),
    })
}

/// A CI check's line.
#[derive(Debug, Clone, PartialEq)]
pub struct GateLine {
    /// `--fail-if-slower 5`.
    pub flag: String,
    pub variant: String,
    pub passed: bool,
    pub detail: String,
}

pub fn gates(r: &Report) -> Vec<GateLine> {
    r.gates
        .iter()
        .map(|g| GateLine {
            flag: format!("--{} {}", g.name, g.threshold_pct),
            variant: g.variant.clone(),
            passed: g.passed,
            detail: g.detail.clone(),
        })
        .collect()
}

/// A variant's build settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Build {
    pub variant: String,
    pub description: String,
    pub origin: String,
    pub cargo_profile: String,
    pub cargo_config: Vec<String>,
    pub rustflags: Option<String>,
    pub post: Vec<String>,
    /// Each binary's name and size, when there are several.
    pub binaries: Vec<(String, String)>,
}

pub fn builds(r: &Report) -> Vec<Build> {
    r.variants
        .iter()
        .map(|v| Build {
            variant: v.name.clone(),
            description: v.description.clone(),
            origin: v.build.origin.clone(),
            cargo_profile: v.build.cargo_profile.clone(),
            cargo_config: v.build.cargo_config.clone(),
            rustflags: (!v.build.rustflags.is_empty()).then(|| v.build.rustflags.join(" ")),
            post: v.build.post.clone(),
            binaries: if v.binaries.len() > 1 {
                v.binaries.iter().map(|b| (b.name.clone(), human_size(b.size_bytes))).collect()
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// The method, as (what, how).
pub fn method(r: &Report) -> Vec<(&'static str, Prose)> {
    let m = &r.method;
    let mut rows = vec![
        ("confidence", Prose::text(format!("{:.0}%", m.confidence * 100.0))),
        (
            "rounds",
            Prose::text(format!(
                "{} measured (at least {}, at most {}), after {}; variants interleaved",
                count(m.rounds, "round"),
                m.min_rounds,
                m.max_rounds,
                count(m.warmup_rounds, "warm-up round")
            )),
        ),
        ("time budget", Prose::text(time(m.budget_s))),
        (
            "precision",
            Prose::text(format!(
                "{} achieved (widest ratio interval), target ±{:.1}%",
                m.achieved_precision.map(|p| format!("±{:.1}%", p * 100.0)).unwrap_or_else(|| "—".into()),
                m.target_precision * 100.0
            )),
        ),
        ("stopped because", Prose::text(stop_text(m))),
    ];
    if let Some(args) = &m.startup_args {
        let shown = if args.is_empty() { "(no arguments)".to_string() } else { args.join(" ") };
        rows.push(("startup run", Prose(vec![Span::Code(shown)])));
    }
    rows
}
