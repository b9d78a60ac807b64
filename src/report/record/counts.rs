//! The counts in the record (`compare --counts`): how they were made, and each
//! variant's figures with their ratios to the baseline.

use serde::Serialize;

use super::Ratio;
use crate::measure::counter::{CACHE_MODEL, Counter, CounterKind, Counts, ESTIMATED_CYCLES, Figure};

/// How the counts were made: the report's `counts` section.
#[derive(Debug, Clone, Serialize)]
pub struct CountsMethod {
    pub counter: CounterKind,
    /// The counter's version line (`valgrind-3.19.0`).
    pub tool: String,
    /// Why this counter (perf refused, asked for, …).
    pub why: String,
    /// The figures the counter gives, in report order.
    pub figures: Vec<Figure>,
    /// cachegrind's simulated caches (its options).
    pub cache_model: Option<String>,
    /// How `estimated-cycles` is computed.
    pub estimated_cycles: Option<String>,
    /// Counted runs done, and planned (workloads × (variants + 1)).
    pub runs: u32,
    pub planned_runs: u32,
    pub elapsed_s: f64,
    /// Why counting stopped before every run was counted, if it did.
    pub stopped: Option<String>,
    /// The baseline counted twice, per workload.
    pub repeat: Vec<Repeat>,
}

/// The baseline's two counts of one workload.
#[derive(Debug, Clone, Serialize)]
pub struct Repeat {
    pub workload: String,
    /// The largest relative difference between the two counts over the figures,
    /// perf's cycles left out (0: identical).
    pub difference: f64,
    /// The figure that differed most; `None` when identical.
    pub figure: Option<Figure>,
    /// The instructions' own difference: small counts (cache misses) can differ
    /// by a percent where the instructions differ by a thousandth of one.
    pub instructions: f64,
}

/// One variant's counts on every counted workload, and the geometric means.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VariantCounts {
    pub workloads: Vec<WorkloadCounts>,
    /// Per figure, the geometric mean of the workloads' ratios to the baseline
    /// (only when every workload was counted).
    pub geomean: Vec<FigureRatio>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadCounts {
    pub name: String,
    #[serde(flatten)]
    pub counts: Counts,
    /// Per figure, the ratio to the baseline; the interval is the baseline's
    /// repeat difference on either side (a point when the repeat was identical).
    pub ratios: Vec<FigureRatio>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FigureRatio {
    pub figure: Figure,
    #[serde(flatten)]
    pub ratio: Ratio,
}

impl VariantCounts {
    /// The ratio of `figure` on workload `name`.
    pub fn ratio(&self, name: &str, figure: Figure) -> Option<&Ratio> {
        self.workloads.iter().find(|w| w.name == name).and_then(|w| find(&w.ratios, figure))
    }

    pub fn geomean(&self, figure: Figure) -> Option<&Ratio> {
        find(&self.geomean, figure)
    }
}

pub fn find(ratios: &[FigureRatio], figure: Figure) -> Option<&Ratio> {
    ratios.iter().find(|r| r.figure == figure).map(|r| &r.ratio)
}

impl CountsMethod {
    pub fn new(counter: &Counter, planned_runs: u32) -> CountsMethod {
        let cachegrind = counter.kind == CounterKind::Cachegrind;
        CountsMethod {
            counter: counter.kind,
            tool: counter.version.clone(),
            why: counter.why.clone(),
            figures: Figure::of(counter.kind),
            cache_model: cachegrind.then(|| CACHE_MODEL.join(" ")),
            estimated_cycles: cachegrind.then(|| ESTIMATED_CYCLES.to_string()),
            runs: 0,
            planned_runs,
            elapsed_s: 0.0,
            stopped: None,
            repeat: Vec::new(),
        }
    }
}
