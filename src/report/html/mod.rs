//! `report.html`: the report as one page a maintainer can open from a CI
//! artifact or attach to an issue, with a bar chart per workload.
//!
//! The page is self-contained on purpose: inline CSS (`style.css`), no
//! scripts, no fonts or anything else fetched, so it opens offline and prints.
//! Every value reaches the page through [`html!`](crate::html) (`report/markup.rs`),
//! which escapes it unless it is markup already.

use std::time::{Duration, UNIX_EPOCH};

use super::markup::Html;
use crate::html;
use crate::measure::text::{count, ratio_text, time, verdict_text};
use crate::report::chart;
use crate::report::view::charts::Chart;
use crate::report::view::counts::CountsView;
use crate::report::view::sections::{Against, bolt_note};
use crate::report::view::summary::verdict_class;
use crate::report::view::words::size;
use crate::report::view::{Cell, Column, Geomean, Prose, Span, Status, View, words};

const STYLE: &str = include_str!("style.css");

/// Prose with its marks as elements.
fn prose(p: &Prose) -> Html {
    p.0.iter()
        .map(|s| match s {
            Span::Text(t) => Html::text(t),
            Span::Emphasis(t) => html!("<em>{}</em>", t),
            Span::Strong(t) => html!("<strong>{}</strong>", t),
            Span::Code(t) => html!("<code>{}</code>", t),
        })
        .collect()
}

/// The whole page.
pub fn page(v: &View) -> String {
    let title = format!("pgo-build report: {} ({} profile)", v.package, v.profile);
    let mut o = html!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{}</style>\n</head>\n<body>\n",
        title,
        Html::trusted(STYLE.to_string())
    );
    o.push(html!("<h1>pgo-build report: <code>{}</code> ({} profile)</h1>\n", v.package, v.profile));
    match &v.status {
        Status::Incomplete(err) => {
            o.push(html!("<div class=\"banner error\"><strong>Incomplete:</strong> {}</div>\n", err));
        }
        Status::Partial => o.push(html!(
            "<div class=\"banner partial\"><strong>Partial:</strong> still measuring; this file is rewritten after \
             every round.</div>\n"
        )),
        Status::Complete => {}
    }
    o.push(summary(v));
    o.push(html!("<h2>Charts</h2>\n"));
    for c in &v.charts {
        o.push(figure(c));
    }
    if v.charts.is_empty() {
        o.push(html!("<p class=\"note\">No measurements yet.</p>\n"));
    }
    if let Some(f) = &v.figures {
        o.push(html!("<h2>Workload figures</h2>\n"));
        o.extend(f.charts.iter().map(figure));
    }
    if let Some(c) = &v.counts {
        o.push(counts(c));
    }
    o.push(details(v));
    o.push(bolt(v));
    o.push(sections(v));
    let written = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(v.generated_unix)).to_string();
    o.push(html!(
        "<footer>{}; report schema {}; written {}</footer>\n</body>\n</html>\n",
        v.tool,
        v.schema_version,
        written
    ));
    o.into_string()
}

fn figure(c: &Chart) -> Html {
    html!(
        "<figure class=\"chart\">\n<figcaption><strong>{}</strong>{}</figcaption>\n{}</figure>\n",
        c.title,
        prose(&c.caption),
        chart::svg(c)
    )
}

fn verdict_span(ratio: f64, verdict: crate::measure::stats::Verdict) -> Html {
    html!("<span class=\"{}\">{}</span>", verdict_class(verdict), verdict_text(ratio, verdict))
}

fn cell(c: &Cell) -> Html {
    match c {
        Cell::Missing => html!("—"),
        Cell::Size { bytes, change } => Html::text(&size(*bytes, *change)),
        Cell::Time { median_s, against: None } => Html::text(&time(*median_s)),
        Cell::Time { median_s, against: Some(r) } => {
            html!("{}<br>{}", time(*median_s), verdict_span(r.ratio, r.verdict))
        }
        Cell::Figure { value, verdict: None } => Html::text(value),
        Cell::Figure { value, verdict: Some(v) } => Html::text(&format!("{value} · {v}")),
        Cell::Geomean(Geomean::SameBuildAs(other)) => html!("same build as <strong>{}</strong>", other),
        Cell::Geomean(Geomean::Baseline) => html!("1.000×"),
        Cell::Geomean(Geomean::Ratio(g)) => html!(
            "<strong class=\"{}\">{}</strong><br><span class=\"sub\">{}</span>",
            verdict_class(g.verdict),
            verdict_text(g.ratio, g.verdict),
            ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high)
        ),
        Cell::Geomean(Geomean::Missing) => html!("—"),
        Cell::Seconds(s) => Html::text(&time(*s)),
    }
}

fn summary(v: &View) -> Html {
    let mut o = html!("<h2>Summary</h2>\n<div class=\"wide\">\n<table class=\"summary\">\n<thead><tr><th>variant</th>");
    for c in &v.summary.columns {
        let label = match c {
            Column::Size => "size".to_string(),
            Column::Startup => "startup".to_string(),
            Column::Workload { name, trained } => format!("{name}{}", if *trained { " †" } else { "" }),
            Column::Figure { workload, name } => format!("{workload} {name}"),
            Column::Geomean => "geometric mean".to_string(),
            Column::ColdBuild => "cold build".to_string(),
            Column::WarmRebuild => "warm rebuild".to_string(),
        };
        o.push(html!("<th class=\"num\">{}</th>", label));
    }
    o.push(html!("</tr></thead>\n<tbody>\n"));
    for row in &v.summary.rows {
        let swatch = match row.colour {
            Some(c) => html!("<span class=\"swatch\" style=\"background:{}\"></span>", c),
            None => Html::default(),
        };
        let base = if row.baseline { html!(" (baseline)") } else { Html::default() };
        o.push(html!("<tr><td>{}<strong>{}</strong>{}</td>", swatch, row.variant, base));
        for c in &row.cells {
            o.push(html!("<td class=\"num\">{}</td>", cell(c)));
        }
        o.push(html!("</tr>\n"));
    }
    o.push(html!("</tbody>\n</table>\n</div>\n"));
    for note in &v.notes {
        o.push(html!("<p class=\"note\">{}</p>\n", prose(note)));
    }
    o
}

fn counts(c: &CountsView) -> Html {
    let mut o = html!(
        "<h2>Counts ({})</h2>\n<table class=\"counts\">\n<thead><tr><th>variant</th><th>workload</th>",
        c.counter
    );
    for f in &c.figures {
        o.push(html!("<th class=\"num\">{}</th>", f));
    }
    o.push(html!("</tr></thead>\n<tbody>\n"));
    for row in c.rows.iter().filter(|r| r.counted) {
        let Some(workload) = &row.workload else { continue };
        o.push(html!("<tr><td><strong>{}</strong></td><td>{}</td>", row.variant, workload));
        for x in &row.cells {
            let text = match (x.count, &x.ratio) {
                (Some(n), Some(q)) => {
                    html!("{}<br><span class=\"{}\">{:.3}×</span>", count(n), verdict_class(q.verdict), q.ratio)
                }
                (Some(n), None) => Html::text(&count(n)),
                (None, _) => html!("—"),
            };
            o.push(html!("<td class=\"num\">{}</td>", text));
        }
        o.push(html!("</tr>\n"));
    }
    o.push(html!("</tbody>\n</table>\n"));
    for n in &c.notes {
        o.push(html!("<p class=\"note\">{}</p>\n", prose(n)));
    }
    o.extend(c.charts.iter().map(figure));
    o
}

fn details(v: &View) -> Html {
    if v.details.is_empty() {
        return Html::default();
    }
    let pct = v.confidence_pct;
    let mut o = html!(
        "<h2>Details</h2>\n<table class=\"details\">\n<thead><tr><th>variant</th><th>workload</th>\
         <th class=\"num\">runs</th><th class=\"num\">median</th><th class=\"num\">{:.0}% CI of median</th>\
         <th class=\"num\">ratio to baseline [{:.0}% CI]</th><th>verdict</th></tr></thead>\n<tbody>\n",
        pct,
        pct
    );
    for d in &v.details {
        let (ratio, verdict) = match &d.against {
            Against::Baseline => (Html::text("baseline"), Html::default()),
            Against::Missing => (html!("—"), Html::default()),
            Against::Ratio(g) => (
                Html::text(&ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high)),
                html!("<span class=\"{}\">{}</span>", verdict_class(g.verdict), g.verdict.text()),
            ),
        };
        o.push(match &d.timing {
            Some(t) => html!(
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}–{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
                d.variant,
                t.workload,
                t.runs,
                time(t.median_s),
                time(t.low_s),
                time(t.high_s),
                ratio,
                verdict
            ),
            None => html!(
                "<tr><td>{}</td><td><em>geometric mean</em></td><td></td><td></td><td></td>\
                 <td class=\"num\">{}</td><td>{}</td></tr>\n",
                d.variant,
                ratio,
                verdict
            ),
        });
    }
    o.push(html!("</tbody>\n</table>\n"));
    o
}

fn bolt(v: &View) -> Html {
    let Some(b) = &v.bolt else { return Html::default() };
    let mut o = html!(
        "<h2>BOLT vs PGO</h2>\n<p class=\"note\">{}</p>\n<table class=\"bolt-vs-pgo\">\n<thead><tr><th>workload</th>\
         <th class=\"num\">pgo+bolt / pgo [{:.0}% CI]</th><th>verdict</th></tr></thead>\n<tbody>\n",
        prose(&bolt_note()),
        v.confidence_pct
    );
    let rows = b.rows.iter().map(|(name, g)| (Html::text(name), g));
    for (name, g) in rows.chain(std::iter::once((html!("<em>geometric mean</em>"), &b.geomean))) {
        o.push(html!(
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>\n",
            name,
            ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high),
            verdict_span(g.ratio, g.verdict)
        ));
    }
    o.push(html!(
        "</tbody>\n</table>\n<p class=\"decision\"><strong>Decision: ship <code>{}</code></strong> — because {}.</p>\n",
        b.delivered,
        b.reason
    ));
    o
}

/// The CI checks, the build settings, the environment and the method.
fn sections(v: &View) -> Html {
    let mut o = Html::default();
    if !v.gates.is_empty() {
        o.push(html!("<h2>CI checks</h2>\n<ul>\n"));
        for g in &v.gates {
            let mark = if g.passed {
                html!("<span class=\"faster\">passed</span>")
            } else {
                html!("<strong class=\"slower\">failed</strong>")
            };
            o.push(html!("<li><code>{}</code> on <code>{}</code>: {}: {}</li>\n", g.flag, g.variant, mark, g.detail));
        }
        o.push(html!("</ul>\n"));
    }
    o.push(html!("<h2>Build settings</h2>\n<ul>\n"));
    for b in &v.builds {
        o.push(html!(
            "<li><strong>{}</strong>: {} ({})\n<ul><li>cargo profile <code>{}</code></li>",
            b.variant,
            b.description,
            b.origin,
            b.cargo_profile
        ));
        if !b.cargo_config.is_empty() {
            let cfg = Html::join(b.cargo_config.iter().map(|c| html!("<code>{}</code>", c)), ", ");
            o.push(html!("<li><code>--config</code> {}</li>", cfg));
        }
        if let Some(flags) = &b.rustflags {
            o.push(html!("<li>rustflags added: <code>{}</code></li>", flags));
        }
        for step in &b.post {
            o.push(html!("<li>then: {}</li>", step));
        }
        if !b.binaries.is_empty() {
            let sizes = Html::join(b.binaries.iter().map(|(name, size)| html!("<code>{}</code> {}", name, size)), ", ");
            o.push(html!("<li>binaries: {}</li>", sizes));
        }
        o.push(html!("</ul></li>\n"));
    }
    o.push(html!("</ul>\n"));
    let e = &v.environment;
    let mut rows: Vec<(String, Prose)> = vec![
        ("rustc".into(), Prose::text(e.rustc.clone())),
        ("LLVM".into(), Prose::text(e.llvm.clone())),
        ("host".into(), Prose::text(e.host.clone())),
    ];
    if let Some(t) = &e.target {
        rows.push(("target".into(), Prose::text(t.clone())));
    }
    rows.push(("CPU".into(), Prose::text(format!("{} ({})", e.cpu, words::count(e.cores as u64, "core")))));
    rows.push(("OS".into(), Prose::text(e.os.clone())));
    rows.extend(e.tools.iter().map(|(tool, version)| (tool.clone(), Prose::text(version.clone()))));
    o.push(table("Environment", "environment", rows.iter().map(|(k, v)| (k.as_str(), v))));
    o.push(table("Method", "method", v.method.iter().map(|(k, v)| (*k, v))));
    o
}

/// A heading and a table of (what, how).
fn table<'a>(heading: &str, class: &str, rows: impl Iterator<Item = (&'a str, &'a Prose)>) -> Html {
    let mut o = html!("<h2>{}</h2>\n<table class=\"{}\"><tbody>\n", heading, class);
    for (key, value) in rows {
        o.push(html!("<tr><th>{}</th><td>{}</td></tr>\n", key, prose(value)));
    }
    o.push(html!("</tbody></table>\n"));
    o
}
