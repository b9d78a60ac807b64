//! `report.md`: the table a maintainer pastes into a pull request, the details
//! behind it, the environment and each variant's exact build settings.

use std::fmt::Write as _;

use crate::measure::text::{count, ratio_text, time, verdict_text};
use crate::report::view::counts::CountsView;
use crate::report::view::sections::{Against, FIGURES_NOTE, bolt_note};
use crate::report::view::words::size;
use crate::report::view::{Cell, Column, Geomean, Prose, Span, Status, View, words};

/// Prose with Markdown's marks.
fn prose(p: &Prose) -> String {
    p.0.iter()
        .map(|s| match s {
            Span::Text(t) => t.clone(),
            Span::Emphasis(t) => format!("*{t}*"),
            Span::Strong(t) => format!("**{t}**"),
            Span::Code(t) => format!("`{t}`"),
        })
        .collect()
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Missing => "—".to_string(),
        Cell::Size { bytes, change } => size(*bytes, *change),
        Cell::Time { median_s, against: None } => time(*median_s),
        Cell::Time { median_s, against: Some(r) } => {
            format!("{} · {}", time(*median_s), verdict_text(r.ratio, r.verdict))
        }
        Cell::Figure { value, verdict: None } => value.clone(),
        Cell::Figure { value, verdict: Some(v) } => format!("{value} · {v}"),
        Cell::Geomean(Geomean::SameBuildAs(other)) => format!("same build as **{other}**"),
        Cell::Geomean(Geomean::Baseline) => "1.000×".to_string(),
        Cell::Geomean(Geomean::Ratio(g)) => format!(
            "**{}** · {}",
            verdict_text(g.ratio, g.verdict),
            ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high)
        ),
        Cell::Geomean(Geomean::Missing) => "—".to_string(),
        Cell::Seconds(s) => time(*s),
    }
}

pub fn render(v: &View) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "## pgo-build report: `{}` ({} profile)\n", v.package, v.profile);
    match &v.status {
        Status::Incomplete(err) => {
            let _ = writeln!(o, "> **Incomplete:** {err}\n");
        }
        Status::Partial => {
            let _ = writeln!(o, "> **Partial:** still measuring; this file is rewritten after every round.\n");
        }
        Status::Complete => {}
    }
    summary(&mut o, v);
    let pct = v.confidence_pct;
    if !v.details.is_empty() {
        let _ = writeln!(o, "\n### Details\n");
        let _ = writeln!(
            o,
            "| variant | workload | runs | median | {pct:.0}% CI of median | ratio to baseline [{pct:.0}% CI] | verdict |"
        );
        let _ = writeln!(o, "|:--|:--|--:|--:|--:|--:|:--|");
        for d in v.details.iter().filter(|d| !d.baseline) {
            let (ratio, verdict) = match &d.against {
                Against::Ratio(g) => (ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high), g.verdict.text()),
                Against::Baseline | Against::Missing => ("—".to_string(), ""),
            };
            match &d.timing {
                Some(t) => {
                    let (median, low, high) = (time(t.median_s), time(t.low_s), time(t.high_s));
                    let _ = writeln!(
                        o,
                        "| {} | {} | {} | {median} | {low}–{high} | {ratio} | {verdict} |",
                        d.variant, t.workload, t.runs
                    );
                }
                None => {
                    let _ = writeln!(o, "| {} | *geometric mean* | | | | {ratio} | {verdict} |", d.variant);
                }
            }
        }
    }
    if let Some(f) = &v.figures {
        let _ = writeln!(o, "\n### Workload figures\n");
        let _ = writeln!(
            o,
            "| variant | workload | figure | median [{pct:.0}% CI] | ratio to baseline [{pct:.0}% CI] | verdict |"
        );
        let _ = writeln!(o, "|:--|:--|:--|--:|--:|:--|");
        for r in &f.rows {
            let (ratio, low, high) = r.ratio;
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {ratio:.3}× [{low:.3}–{high:.3}] | {} |",
                r.variant, r.workload, r.figure, r.median, r.verdict
            );
        }
        let _ = writeln!(o, "\n{FIGURES_NOTE}");
    }
    if let Some(c) = &v.counts {
        counts(&mut o, c);
    }
    if let Some(b) = &v.bolt {
        let _ = writeln!(o, "\n### BOLT vs PGO\n");
        let _ = writeln!(o, "{}\n", prose(&bolt_note()));
        let _ = writeln!(o, "| workload | pgo+bolt / pgo [{pct:.0}% CI] | verdict |");
        let _ = writeln!(o, "|:--|--:|:--|");
        for (name, g) in &b.rows {
            let (ratio, verdict) =
                (ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high), verdict_text(g.ratio, g.verdict));
            let _ = writeln!(o, "| {name} | {ratio} | {verdict} |");
        }
        let g = &b.geomean;
        let (ratio, verdict) = (ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high), verdict_text(g.ratio, g.verdict));
        let _ = writeln!(o, "| *geometric mean* | **{ratio}** | **{verdict}** |");
        let _ = writeln!(o, "\n**Decision: ship {}** — because {}.", b.delivered, b.reason);
    }
    if !v.gates.is_empty() {
        let _ = writeln!(o, "\n### CI checks\n");
        for g in &v.gates {
            let mark = if g.passed { "passed" } else { "**failed**" };
            let _ = writeln!(o, "- `{}` on `{}`: {mark}: {}", g.flag, g.variant, g.detail);
        }
    }
    let _ = writeln!(o, "\n### Build settings\n");
    for b in &v.builds {
        let _ = writeln!(o, "- **{}**: {} ({})", b.variant, b.description, b.origin);
        let _ = writeln!(o, "  - cargo profile `{}`", b.cargo_profile);
        if !b.cargo_config.is_empty() {
            let cfg: Vec<String> = b.cargo_config.iter().map(|c| format!("`{c}`")).collect();
            let _ = writeln!(o, "  - `--config` {}", cfg.join(", "));
        }
        if let Some(flags) = &b.rustflags {
            let _ = writeln!(o, "  - rustflags added: `{flags}`");
        }
        for step in &b.post {
            let _ = writeln!(o, "  - then: {step}");
        }
    }
    let e = &v.environment;
    let _ = writeln!(o, "\n### Environment\n");
    let target = e.target.as_ref().map(|t| format!(", built for {t}")).unwrap_or_default();
    let _ = writeln!(o, "- {}; {} ({}{target})", e.rustc, e.llvm, e.host);
    let _ = writeln!(o, "- CPU: {} ({}); {}", e.cpu, words::count(e.cores as u64, "core"), e.os);
    for (tool, version) in &e.tools {
        let _ = writeln!(o, "- {tool}: {version}");
    }
    let _ = writeln!(o, "- {}; report schema {}", v.tool, v.schema_version);
    o
}

fn summary(o: &mut String, v: &View) {
    let mut head = vec!["variant".to_string()];
    head.extend(v.summary.columns.iter().map(|c| match c {
        Column::Size => "size".to_string(),
        Column::Startup => "startup".to_string(),
        Column::Workload { name, trained: true } => format!("{name} †"),
        Column::Workload { name, trained: false } => name.clone(),
        Column::Figure { workload, name } => format!("{workload} {name}"),
        Column::Geomean => "geometric mean".to_string(),
        Column::ColdBuild => "cold build".to_string(),
        Column::WarmRebuild => "warm rebuild".to_string(),
    }));
    let _ = writeln!(o, "| {} |", head.join(" | "));
    let _ = writeln!(o, "|:--|{}", "--:|".repeat(head.len() - 1));
    for row in &v.summary.rows {
        let name = if row.baseline && row.variant != "baseline" {
            format!("**{}** (baseline)", row.variant)
        } else {
            format!("**{}**", row.variant)
        };
        let cells: Vec<String> = std::iter::once(name).chain(row.cells.iter().map(cell)).collect();
        let _ = writeln!(o, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(o);
    for note in &v.notes {
        let _ = writeln!(o, "{}", prose(note));
    }
}

fn counts(o: &mut String, c: &CountsView) {
    let _ = writeln!(o, "\n### Counts ({})\n", c.counter);
    let _ = writeln!(o, "| variant | workload | {} |", c.figures.join(" | "));
    let _ = writeln!(o, "|:--|:--|{}", "--:|".repeat(c.figures.len()));
    for row in &c.rows {
        let cells: Vec<String> = row
            .cells
            .iter()
            .map(|x| match (row.workload.is_some(), x.count, &x.ratio) {
                (true, Some(n), Some(q)) => format!("{} ({:.3}×)", count(n), q.ratio),
                (true, Some(n), None) => count(n),
                (false, _, Some(q)) => format!("**{:.3}×**", q.ratio),
                _ => "—".to_string(),
            })
            .collect();
        let workload = row.workload.clone().unwrap_or_else(|| "*geometric mean*".to_string());
        let _ = writeln!(o, "| **{}** | {workload} | {} |", row.variant, cells.join(" | "));
    }
    let _ = writeln!(o);
    for n in &c.notes {
        let _ = writeln!(o, "{}", prose(n));
    }
}
