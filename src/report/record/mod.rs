//! The record of a `compare` run: what was measured and how, apart from how it
//! is shown. It is what `report.json` serializes (schema in
//! docs/report-schema.md: a field that changes meaning bumps
//! [`SCHEMA_VERSION`]), and what [`crate::report::view`] reads. The measuring
//! in `stage/compare/` fills it; nothing here measures or renders.

pub mod bolt;
pub mod counts;
pub mod figures;

use std::collections::BTreeMap;

use serde::Serialize;

pub use self::bolt::{BoltVsPgo, NamedRatio};
pub use self::counts::{CountsMethod, FigureRatio, Repeat, VariantCounts, WorkloadCounts};
pub use self::figures::{MetricReport, MetricVerdict};
use crate::measure::Stop;
use crate::measure::stats::{Estimate, Verdict};

/// Bumped when a field changes meaning or goes away (additions keep it). 2: a
/// variant may be `same_build_as` another, with no figures of its own; `bolt_vs_pgo`.
/// 3: `counts` (the report's and each variant's); a gate says what it judged (`on`),
/// and may judge a count rather than time.
pub const SCHEMA_VERSION: u32 = 3;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    /// `pgo-build <version>`.
    pub tool: String,
    /// Unix seconds when the report was (last) written.
    pub generated_unix: u64,
    /// False while measuring and when a run failed part-way (see `error`).
    pub complete: bool,
    pub error: Option<String>,
    pub project: ProjectInfo,
    pub environment: Environment,
    pub method: Method,
    /// The name of the variant the others are compared with.
    pub baseline: String,
    pub workloads: Vec<WorkloadInfo>,
    pub variants: Vec<VariantReport>,
    /// `pgo+bolt` against `pgo` and the decision it leads to, when both are measured.
    pub bolt_vs_pgo: Option<BoltVsPgo>,
    /// How the counts were made (`--counts`), `None` without counts.
    pub counts: Option<CountsMethod>,
    pub gates: Vec<Gate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectInfo {
    pub package: String,
    pub binaries: Vec<String>,
    /// The Cargo profile the PGO pipeline optimizes.
    pub profile: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Environment {
    pub rustc: String,
    pub llvm: String,
    pub host: String,
    /// The target the binaries were built for, when it is not the host's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub cpu: String,
    pub cores: usize,
    pub os: String,
    /// Tool name → the version line it printed.
    pub tools: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Method {
    pub confidence: f64,
    pub warmup_rounds: u32,
    pub min_rounds: u32,
    pub max_rounds: u32,
    /// The target relative half-width of every ratio's interval (0.01 is ±1%).
    pub target_precision: f64,
    pub budget_s: f64,
    /// Ratios closer to 1 than this fraction are "no clear difference".
    pub noise_threshold: f64,
    /// Measured rounds done.
    pub rounds: u32,
    pub stop: Stop,
    /// The widest relative half-width among the ratios' intervals.
    pub achieved_precision: Option<f64>,
    /// Arguments of the startup run, `None` when startup is not measured.
    pub startup_args: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadInfo {
    pub name: String,
    /// Also a training workload: its figures flatter PGO.
    pub trained_on: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct VariantReport {
    pub name: String,
    pub description: String,
    /// The earlier variant whose build this one is (same effective profile
    /// settings and rustflags): built and measured once, as that one, so this
    /// one has no timings or build times of its own.
    pub same_build_as: Option<String>,
    pub build: BuildInfo,
    pub binaries: Vec<BinaryInfo>,
    /// All binaries together.
    pub size_bytes: u64,
    /// `size_bytes` over the baseline's.
    pub size_ratio: Option<f64>,
    pub startup: Option<Timing>,
    pub workloads: Vec<Timing>,
    /// Over the benchmark workloads, against the baseline.
    pub geomean: Option<Ratio>,
    pub build_times: Option<BuildTimes>,
    /// The counted figures (`--counts`), `None` when not counted.
    pub counts: Option<VariantCounts>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildInfo {
    /// How the binaries came about: built by compare, or reused from a stage
    /// (a phrase, e.g. "reused from `pgo-build optimize`").
    pub origin: String,
    pub cargo_profile: String,
    /// `--config` values cargo was given (presets, pgo-build's own overrides).
    pub cargo_config: Vec<String>,
    /// Flags pgo-build added to the user's rustflags.
    pub rustflags: Vec<String>,
    /// Steps after cargo (BOLT, stripping).
    pub post: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BinaryInfo {
    pub name: String,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildTimes {
    /// A build into an empty target directory.
    pub cold_s: f64,
    /// A rebuild after touching the package's root source file.
    pub warm_s: f64,
}

/// One workload's (or the startup run's) times for one variant.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub name: String,
    pub runs: usize,
    pub median_s: f64,
    pub ci_low_s: f64,
    pub ci_high_s: f64,
    pub ratio: f64,
    pub ratio_ci_low: f64,
    pub ratio_ci_high: f64,
    pub verdict: Verdict,
    /// The workload's own figures (`PGO_BUILD_METRICS`), empty when it reports none.
    pub metrics: Vec<MetricReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ratio {
    pub ratio: f64,
    pub ratio_ci_low: f64,
    pub ratio_ci_high: f64,
    pub verdict: Verdict,
}

impl Timing {
    /// The ratio to the baseline with its interval and verdict.
    pub fn against_baseline(&self) -> Ratio {
        Ratio {
            ratio: self.ratio,
            ratio_ci_low: self.ratio_ci_low,
            ratio_ci_high: self.ratio_ci_high,
            verdict: self.verdict,
        }
    }
}

impl Ratio {
    pub fn judged(e: Estimate, noise: f64, confidence: f64) -> Ratio {
        Ratio {
            ratio: e.value,
            ratio_ci_low: e.low,
            ratio_ci_high: e.high,
            verdict: Verdict::of(&e, noise, confidence),
        }
    }
}

/// A CI check and how it came out.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    /// `fail-if-slower` or `require-speedup`.
    pub name: String,
    /// What it judged: `time`, or a counted figure (`instructions`, `estimated-cycles`).
    pub on: String,
    pub threshold_pct: f64,
    pub variant: String,
    pub passed: bool,
    pub detail: String,
}

impl Report {
    /// Each variant's index among the measured ones (the plan's variants): the
    /// variants in order, those that are the same build as another left out.
    pub fn measured_indices(&self) -> Vec<Option<usize>> {
        let mut next = 0;
        self.variants
            .iter()
            .map(|v| {
                v.same_build_as.is_none().then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    }

    /// The variant whose figures `v` has: itself, or the one it is the same build as.
    pub fn figures_of<'r>(&'r self, v: &'r VariantReport) -> &'r VariantReport {
        v.same_build_as.as_ref().and_then(|n| self.variants.iter().find(|x| &x.name == n)).unwrap_or(v)
    }

    /// Sizes relative to the baseline's.
    pub fn set_size_ratios(&mut self) {
        let base = self.variants.iter().find(|v| v.name == self.baseline).map(|v| v.size_bytes);
        for v in &mut self.variants {
            v.size_ratio = base.filter(|b| *b > 0).map(|b| v.size_bytes as f64 / b as f64);
        }
    }

    /// Whether a round has been measured yet.
    pub fn measured(&self) -> bool {
        self.method.rounds > 0
    }

    /// Whether `v` is the baseline.
    pub fn is_baseline(&self, v: &VariantReport) -> bool {
        v.name == self.baseline
    }
}
