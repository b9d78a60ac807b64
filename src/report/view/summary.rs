//! The summary table, format-free: one column per figure (size, startup, each
//! workload, each figure a workload reports, the geometric mean, build times)
//! and one row per variant of typed cells. A new column is added here, once,
//! and every format shows it.

use crate::measure::stats::Verdict;
use crate::report::record::{Ratio, Report, Timing, VariantReport};

/// A column of the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Size,
    Startup,
    /// A benchmark workload's time; `trained`: it also trains.
    Workload {
        name: String,
        trained: bool,
    },
    /// A figure workload `workload` reports (`PGO_BUILD_METRICS`).
    Figure {
        workload: String,
        name: String,
    },
    Geomean,
    ColdBuild,
    WarmRebuild,
}

/// One cell; each format writes it its own way.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing measured (`—`).
    Missing,
    /// All binaries' size; `change`: the ratio to the baseline's, for the others.
    Size {
        bytes: u64,
        change: Option<f64>,
    },
    /// A median time; `against`: the ratio to the baseline, for the others.
    Time {
        median_s: f64,
        against: Option<Ratio>,
    },
    /// A figure's value; `verdict`: its comparison in words, for the others.
    Figure {
        value: String,
        verdict: Option<String>,
    },
    Geomean(Geomean),
    /// A build's duration.
    Seconds(f64),
}

/// The geometric-mean cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Geomean {
    Baseline,
    SameBuildAs(String),
    Ratio(Ratio),
    Missing,
}

/// A variant's row: its cells in the order of the columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub variant: String,
    pub baseline: bool,
    /// Its colour in the charts, when it has a bar in one.
    pub colour: Option<&'static str>,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// Whether a timing has runs to show.
pub fn measured(t: &Timing) -> bool {
    t.runs > 0 && t.median_s.is_finite()
}

/// The figure columns: (workload index, figure name), in the baseline's order.
pub fn figure_columns(r: &Report) -> Vec<(usize, String)> {
    let Some(base) = r.variants.iter().find(|v| r.is_baseline(v)) else { return Vec::new() };
    base.workloads.iter().enumerate().flat_map(|(w, t)| t.metrics.iter().map(move |m| (w, m.name.clone()))).collect()
}

pub fn of(r: &Report, colour: impl Fn(usize) -> Option<&'static str>) -> Summary {
    let with_startup = r.method.startup_args.is_some();
    let with_builds = r.variants.iter().any(|v| v.build_times.is_some());
    let figures = figure_columns(r);
    let mut columns = vec![Column::Size];
    if with_startup {
        columns.push(Column::Startup);
    }
    columns.extend(r.workloads.iter().map(|w| Column::Workload { name: w.name.clone(), trained: w.trained_on }));
    columns.extend(
        figures.iter().map(|(w, name)| Column::Figure { workload: r.workloads[*w].name.clone(), name: name.clone() }),
    );
    columns.push(Column::Geomean);
    if with_builds {
        columns.extend([Column::ColdBuild, Column::WarmRebuild]);
    }
    let rows = r
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let base = r.is_baseline(v);
            let mut cells = vec![Cell::Size { bytes: v.size_bytes, change: v.size_ratio.filter(|_| !base) }];
            if with_startup {
                cells.push(time(v.startup.as_ref(), base));
            }
            cells.extend((0..r.workloads.len()).map(|w| time(v.workloads.get(w), base)));
            cells.extend(figures.iter().map(|(w, name)| figure(v.workloads.get(*w), name, base)));
            cells.push(Cell::Geomean(geomean(r, v, base)));
            if with_builds {
                match &v.build_times {
                    Some(b) => cells.extend([Cell::Seconds(b.cold_s), Cell::Seconds(b.warm_s)]),
                    None => cells.extend([Cell::Missing, Cell::Missing]),
                }
            }
            Row { variant: v.name.clone(), baseline: base, colour: colour(i), cells }
        })
        .collect();
    Summary { columns, rows }
}

fn time(t: Option<&Timing>, base: bool) -> Cell {
    match t {
        Some(t) if measured(t) => Cell::Time { median_s: t.median_s, against: (!base).then(|| t.against_baseline()) },
        _ => Cell::Missing,
    }
}

fn figure(t: Option<&Timing>, name: &str, base: bool) -> Cell {
    match t.and_then(|t| t.metrics.iter().find(|m| m.name == name)) {
        Some(m) => Cell::Figure { value: m.value_text(), verdict: (!base).then(|| m.verdict_text()) },
        None => Cell::Missing,
    }
}

fn geomean(r: &Report, v: &VariantReport, base: bool) -> Geomean {
    match &v.geomean {
        _ if v.same_build_as.is_some() => Geomean::SameBuildAs(v.same_build_as.clone().unwrap_or_default()),
        _ if base => Geomean::Baseline,
        Some(g) if r.measured() => Geomean::Ratio(g.clone()),
        _ => Geomean::Missing,
    }
}

/// The CSS class of a verdict (also the word for its colour in the charts).
pub fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Faster => "faster",
        Verdict::Slower => "slower",
        Verdict::NoClearDifference => "same",
    }
}
