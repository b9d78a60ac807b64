//! The terminal's report: the summary's rows aligned, each ratio with its
//! interval and a line on what a ratio is (paired by round, so not the ratio of
//! the two medians beside it), then how measuring went,
//! the counts' headline ratios and, when both were measured, BOLT against PGO.

use std::fmt::Write as _;

use crate::measure::text::{mark, ratio_text, time, verdict_text};
use crate::report::view::words::size;
use crate::report::view::{Cell, Column, Geomean, View};

fn cell(c: &Cell) -> String {
    match c {
        Cell::Missing => "—".to_string(),
        Cell::Size { bytes, change } => size(*bytes, *change),
        Cell::Time { median_s, against: None } => time(*median_s),
        Cell::Time { median_s, against: Some(r) } => {
            format!(
                "{} ({} {})",
                time(*median_s),
                ratio_text(r.ratio, r.ratio_ci_low, r.ratio_ci_high),
                mark(r.verdict)
            )
        }
        Cell::Figure { value, verdict: None } => value.clone(),
        Cell::Figure { value, verdict: Some(v) } => format!("{value} · {v}"),
        Cell::Geomean(Geomean::SameBuildAs(other)) => format!("same build as {other}"),
        Cell::Geomean(Geomean::Ratio(g)) => {
            format!("{} {}", ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high), verdict_text(g.ratio, g.verdict))
        }
        Cell::Geomean(Geomean::Baseline | Geomean::Missing) => String::new(),
        Cell::Seconds(s) => time(*s),
    }
}

pub fn render(v: &View) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["variant".to_string()];
    head.extend(v.summary.columns.iter().map(|c| match c {
        Column::Size => "size".to_string(),
        Column::Startup => "startup".to_string(),
        Column::Workload { name, .. } => name.clone(),
        Column::Figure { name, .. } => name.clone(),
        Column::Geomean => "geomean".to_string(),
        Column::ColdBuild => "cold build".to_string(),
        Column::WarmRebuild => "warm rebuild".to_string(),
    }));
    rows.push(head);
    for row in &v.summary.rows {
        let name = if row.baseline { format!("{} (base)", row.variant) } else { row.variant.clone() };
        rows.push(std::iter::once(name).chain(row.cells.iter().map(cell)).collect());
    }
    let mut o = String::new();
    for line in crate::util::aligned(&rows) {
        let _ = writeln!(o, "{line}");
    }
    if let Some(note) = &v.ratio_note {
        let _ = writeln!(o, "{note}");
    }
    let _ = write!(o, "{}", v.rounds);
    if let Some(c) = &v.counts {
        for (variant, parts) in &c.headlines {
            let parts: Vec<String> = parts
                .iter()
                .map(|h| match &h.workload {
                    None => format!("{} {:.3}×{}", h.figure, h.ratio.ratio, mark(h.ratio.verdict)),
                    Some(w) => format!("{} on {w} {:.3}×{}", h.figure, h.ratio.ratio, mark(h.ratio.verdict)),
                })
                .collect();
            let _ = write!(o, "\ncounted by {}: {variant}: {}", c.counter, parts.join(", "));
        }
        if let Some(stopped) = &c.stopped {
            let _ = write!(o, "\ncounting stopped early: {stopped}");
        }
    }
    if let Some(b) = &v.bolt {
        let _ = write!(o, "\npgo+bolt vs pgo: ship {} — because {}.", b.delivered, b.reason);
    }
    o
}
