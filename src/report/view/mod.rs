//! The report as every format shows it, built once from the record: the summary
//! table of typed cells, the notes under it, the charts, the details, the
//! workloads' figures, the counts, BOLT against PGO, the CI checks, the build
//! settings, the environment and the method. The formats (`markdown.rs`,
//! `terminal.rs`, `html/`) only lay this out; what a row holds, which variant
//! has which colour and what a sentence says is decided here, so a new figure
//! or variant is added in one place.

pub mod charts;
pub mod counts;
pub mod sections;
pub mod summary;
pub mod words;

use self::charts::{BASELINE_COLOUR, Chart, PALETTE};
pub use self::summary::{Cell, Column, Geomean, Summary};
pub use self::words::{Prose, Span, count};
use crate::report::record::{Environment, Report};

/// Whether the report is whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Complete,
    /// Still measuring: the file is rewritten after every round.
    Partial,
    /// A run that failed part-way, with the error.
    Incomplete(String),
}

/// The report, ready for any format.
#[derive(Debug, Clone)]
pub struct View {
    pub package: String,
    pub profile: String,
    pub status: Status,
    pub summary: Summary,
    /// The notes under the summary: the method, then those that apply.
    pub notes: Vec<Prose>,
    /// `20 rounds; every ratio's interval reached …`: how measuring went.
    pub rounds: String,
    /// The terminal's line on what a ratio is, once there are ratios.
    pub ratio_note: Option<String>,
    /// One chart per timed workload (and the startup run).
    pub charts: Vec<Chart>,
    pub confidence_pct: f64,
    /// Per variant and workload: the interval behind each summary cell.
    pub details: Vec<sections::Detail>,
    pub figures: Option<sections::Figures>,
    pub counts: Option<counts::CountsView>,
    pub bolt: Option<sections::Bolt>,
    pub gates: Vec<sections::GateLine>,
    pub builds: Vec<sections::Build>,
    pub environment: Environment,
    /// The method as a list of (what, how) for the page.
    pub method: Vec<(&'static str, Prose)>,
    /// `pgo-build 0.1.0`.
    pub tool: String,
    pub schema_version: u32,
    pub generated_unix: u64,
}

impl View {
    pub fn of(r: &Report) -> View {
        let colour_of = |i: usize| charts::charted(r, &r.variants[i]).then(|| colour(r, i));
        let mut notes = vec![words::method_note(r)];
        notes.extend(words::same_build_note(r));
        notes.extend(words::trained_note(r));
        View {
            package: r.project.package.clone(),
            profile: r.project.profile.clone(),
            status: match (&r.error, r.complete) {
                (Some(e), _) => Status::Incomplete(e.clone()),
                (None, false) => Status::Partial,
                (None, true) => Status::Complete,
            },
            summary: summary::of(r, colour_of),
            notes,
            rounds: format!("{}; {}.", count(r.method.rounds, "round"), words::stop_text(&r.method)),
            ratio_note: r.measured().then(|| words::ratio_note(r)),
            charts: charts::timings(r),
            confidence_pct: r.method.confidence * 100.0,
            details: if r.measured() { sections::details(r) } else { Vec::new() },
            figures: sections::figures(r),
            counts: counts::of(r),
            bolt: sections::bolt(r),
            gates: sections::gates(r),
            builds: sections::builds(r),
            environment: r.environment.clone(),
            method: sections::method(r),
            tool: r.tool.clone(),
            schema_version: r.schema_version,
            generated_unix: r.generated_unix,
        }
    }
}

/// The variant's colour in every chart and swatch: grey for the baseline, then
/// [`PALETTE`] in report order, so a variant keeps one colour on the page.
pub fn colour(r: &Report, variant: usize) -> &'static str {
    if r.variants.get(variant).is_some_and(|v| r.is_baseline(v)) {
        return BASELINE_COLOUR;
    }
    let others = r.variants[..variant].iter().filter(|v| !r.is_baseline(v)).count();
    PALETTE[others % PALETTE.len()]
}
