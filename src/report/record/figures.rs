//! The workloads' own figures (`PGO_BUILD_METRICS`) in the record: each one
//! summarized like a workload's time, with a direction-aware verdict: for a
//! figure where higher is better (`requests_per_s`), a ratio above 1 is better.

use serde::Serialize;

use super::Ratio;
use crate::measure::stats::{Estimate, Verdict};
use crate::workload::metrics::Better;

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
pub fn turned(better: Better, e: Estimate) -> Estimate {
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
