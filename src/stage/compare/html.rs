//! `report.html`: the Markdown report's content as one page a maintainer can open
//! from a CI artifact or attach to an issue, with a bar chart per workload.
//!
//! The page is self-contained on purpose: inline CSS, no scripts, no fonts or
//! anything else fetched, so it opens offline and prints. The charts are SVG drawn
//! here in Rust rather than by a JavaScript library: a few rectangles and lines are
//! all a bar chart with intervals needs, and SVG stays sharp on paper. Every text
//! that comes from the report (names, descriptions, the error) goes through
//! [`escape`]. Each variant keeps one colour in every chart ([`BASELINE_COLOUR`],
//! then [`PALETTE`] in report order).

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use super::report::{Report, Timing, VariantReport, count, ratio_text, same_build_note, stop_text, time, verdict_text};
use crate::measure::stats::Verdict;
use crate::util::human_size;

/// The baseline's bar colour: a neutral grey, so the eye goes to the others.
pub const BASELINE_COLOUR: &str = "#7f7f7f";

/// The other variants' bar colours, in report order (repeating past the end).
pub const PALETTE: [&str; 8] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

const STYLE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:#1b1b1b;\
background:#fff;max-width:1100px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
p,ul{margin:6px 0}
table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d8d8d8;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}
.num{text-align:right}
td.num{white-space:nowrap}
tbody tr:nth-child(even){background:#fafafa}
.faster{color:#1a7f37}.slower{color:#b42318}.same{color:#555}
.note,figcaption,.sub{color:#555}
.wide{overflow-x:auto}
td:first-child{white-space:nowrap}
.banner{padding:10px 14px;border-radius:4px;margin:12px 0}
.banner.error{background:#fdecea;border:1px solid #f0b4b0}
.banner.partial{background:#fff8e1;border:1px solid #ecd27f}
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}
figure{margin:18px 0;break-inside:avoid}
figcaption strong{color:#1b1b1b}
svg{display:block;max-width:100%;height:auto;margin-top:4px}
svg text{font-size:12px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f3f3;padding:1px 4px;border-radius:3px}
footer{margin-top:32px;color:#777;font-size:12px}
@media print{body{margin:0;max-width:none}.wide{overflow:visible}h2{break-after:avoid}tbody tr:nth-child(even){background:none}}
";

/// Text made safe for HTML and SVG, in element content and in quoted attributes.
pub fn escape(text: &str) -> String {
    let mut o = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The whole page.
pub fn page(r: &Report) -> String {
    let mut o = String::with_capacity(32 * 1024);
    let title = format!("pgo-build report: {} ({} profile)", r.project.package, r.project.profile);
    let _ = write!(
        o,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let _ = writeln!(
        o,
        "<h1>pgo-build report: <code>{}</code> ({} profile)</h1>",
        escape(&r.project.package),
        escape(&r.project.profile)
    );
    if let Some(err) = &r.error {
        let _ = writeln!(o, "<div class=\"banner error\"><strong>Incomplete:</strong> {}</div>", escape(err));
    } else if !r.complete {
        let _ = writeln!(
            o,
            "<div class=\"banner partial\"><strong>Partial:</strong> still measuring; \
             this file is rewritten after every round.</div>"
        );
    }
    summary(&mut o, r);
    charts(&mut o, r);
    super::metrics::html(&mut o, r);
    super::counts::html::section(&mut o, r);
    details(&mut o, r);
    bolt_vs_pgo(&mut o, r);
    gates(&mut o, r);
    build_settings(&mut o, r);
    environment(&mut o, r);
    method(&mut o, r);
    let written = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(r.generated_unix));
    let _ = writeln!(
        o,
        "<footer>{}; report schema {}; written {written}</footer>\n</body>\n</html>",
        escape(&r.tool),
        r.schema_version
    );
    o
}

/// The variant's colour in every chart and swatch.
pub(super) fn colour(r: &Report, variant: usize) -> &'static str {
    if r.variants.get(variant).is_some_and(|v| v.name == r.baseline) {
        return BASELINE_COLOUR;
    }
    let others = r.variants[..variant].iter().filter(|v| v.name != r.baseline).count();
    PALETTE[others % PALETTE.len()]
}

pub(super) fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Faster => "faster",
        Verdict::Slower => "slower",
        Verdict::NoClearDifference => "same",
    }
}

fn measured(t: &Timing) -> bool {
    t.runs > 0 && t.median_s.is_finite()
}

/// What a chart shows: the startup run, or workload `i`.
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

fn all_charts(r: &Report) -> Vec<Which> {
    let startup = r.method.startup_args.is_some().then_some(Which::Startup);
    startup.into_iter().chain((0..r.workloads.len()).map(Which::Workload)).collect()
}

fn charted(r: &Report, v: &VariantReport) -> bool {
    all_charts(r).into_iter().any(|w| w.of(v).is_some_and(measured))
}

fn timing_cell(t: Option<&Timing>, is_base: bool) -> String {
    match t {
        Some(t) if measured(t) && is_base => time(t.median_s),
        Some(t) if measured(t) => format!(
            "{}<br><span class=\"{}\">{}</span>",
            time(t.median_s),
            verdict_class(t.verdict),
            verdict_text(t.ratio, t.verdict)
        ),
        _ => "—".to_string(),
    }
}

fn summary(o: &mut String, r: &Report) {
    let with_startup = r.method.startup_args.is_some();
    let with_builds = r.variants.iter().any(|v| v.build_times.is_some());
    let _ = writeln!(
        o,
        "<h2>Summary</h2>\n<div class=\"wide\">\n<table class=\"summary\">\n<thead><tr><th>variant</th><th class=\"num\">size</th>"
    );
    if with_startup {
        o.push_str("<th class=\"num\">startup</th>");
    }
    for w in &r.workloads {
        let _ = write!(o, "<th class=\"num\">{}{}</th>", escape(&w.name), if w.trained_on { " †" } else { "" });
    }
    // The figures workloads report (requests/s, p99), as in report.md's table.
    let figures = super::metrics::columns(r);
    for (w, name) in &figures {
        let _ = write!(o, "<th class=\"num\">{} {}</th>", escape(&r.workloads[*w].name), escape(name));
    }
    o.push_str("<th class=\"num\">geometric mean</th>");
    if with_builds {
        o.push_str("<th class=\"num\">cold build</th><th class=\"num\">warm rebuild</th>");
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for (i, v) in r.variants.iter().enumerate() {
        let is_base = v.name == r.baseline;
        let swatch = if charted(r, v) {
            format!("<span class=\"swatch\" style=\"background:{}\"></span>", colour(r, i))
        } else {
            String::new()
        };
        let _ = write!(
            o,
            "<tr><td>{swatch}<strong>{}</strong>{}</td>",
            escape(&v.name),
            if is_base { " (baseline)" } else { "" }
        );
        let size = match v.size_ratio {
            Some(ratio) if !is_base => format!("{} ({:+.1}%)", human_size(v.size_bytes), (ratio - 1.0) * 100.0),
            _ => human_size(v.size_bytes),
        };
        let _ = write!(o, "<td class=\"num\">{size}</td>");
        if with_startup {
            let _ = write!(o, "<td class=\"num\">{}</td>", timing_cell(v.startup.as_ref(), is_base));
        }
        for i in 0..r.workloads.len() {
            let _ = write!(o, "<td class=\"num\">{}</td>", timing_cell(v.workloads.get(i), is_base));
        }
        for (w, name) in &figures {
            let _ = write!(
                o,
                "<td class=\"num\">{}</td>",
                escape(&super::metrics::cell(v.workloads.get(*w), name, is_base))
            );
        }
        let geomean = match &v.geomean {
            _ if v.same_build_as.is_some() => {
                format!("same build as <strong>{}</strong>", escape(v.same_build_as.as_deref().unwrap_or("")))
            }
            _ if is_base => "1.000×".to_string(),
            Some(g) if r.method.rounds > 0 => format!(
                "<strong class=\"{}\">{}</strong><br><span class=\"sub\">{}</span>",
                verdict_class(g.verdict),
                verdict_text(g.ratio, g.verdict),
                ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high)
            ),
            _ => "—".to_string(),
        };
        let _ = write!(o, "<td class=\"num\">{geomean}</td>");
        if with_builds {
            match &v.build_times {
                Some(b) => {
                    let _ =
                        write!(o, "<td class=\"num\">{}</td><td class=\"num\">{}</td>", time(b.cold_s), time(b.warm_s));
                }
                None => o.push_str("<td class=\"num\">—</td><td class=\"num\">—</td>"),
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n</div>\n");
    let _ = writeln!(
        o,
        "<p class=\"note\">Times are medians of whole workload runs; ratios are to the baseline, paired by round. A \
         variant is faster or slower only when the {:.0}% confidence interval of its ratio lies wholly beyond ±{}% \
         of 1. {}, variants interleaved; {}.</p>",
        r.method.confidence * 100.0,
        r.method.noise_threshold * 100.0,
        count(r.method.rounds, "round"),
        escape(&stop_text(&r.method))
    );
    if let Some(note) = same_build_note(r) {
        let note = escape(&note).replacen("*Same build as X*", "<em>Same build as X</em>", 1);
        let _ = writeln!(o, "<p class=\"note\">{note}</p>");
    }
    if r.workloads.iter().any(|w| w.trained_on) {
        let _ =
            writeln!(o, "<p class=\"note\">† also a training workload: PGO has seen it, so its gain is flattered.</p>");
    }
}

/// Same words as the Markdown report's sentence on why measuring stopped.
fn charts(o: &mut String, r: &Report) {
    let _ = writeln!(o, "<h2>Charts</h2>");
    let mut any = false;
    for which in all_charts(r) {
        let (name, trained) = match which {
            Which::Startup => ("startup".to_string(), false),
            Which::Workload(i) => (r.workloads[i].name.clone(), r.workloads[i].trained_on),
        };
        let bars: Vec<(usize, &VariantReport, &Timing)> = r
            .variants
            .iter()
            .enumerate()
            .filter_map(|(i, v)| which.of(v).filter(|t| measured(t)).map(|t| (i, v, t)))
            .collect();
        if bars.is_empty() {
            continue;
        }
        any = true;
        let _ = writeln!(
            o,
            "<figure class=\"chart\">\n<figcaption><strong>{}</strong>{} — median time per run; \
             the lines are the {:.0}% confidence interval of the median{}</figcaption>",
            escape(&name),
            if trained { " †" } else { "" },
            r.method.confidence * 100.0,
            if r.variants.iter().any(|v| v.name == r.baseline) {
                ", the dashed line the baseline's median"
            } else {
                ""
            }
        );
        chart(o, r, &name, &bars);
        o.push_str("</figure>\n");
    }
    if !any {
        let _ = writeln!(o, "<p class=\"note\">No measurements yet.</p>");
    }
}

// Chart geometry, in SVG user units (pixels at 100%).
pub(super) const WIDTH: f64 = 960.0;
const TEXT_COLUMN: f64 = 340.0;
pub(super) const TOP: f64 = 6.0;
pub(super) const ROW: f64 = 30.0;
pub(super) const BAR: f64 = 20.0;
pub(super) const AXIS: f64 = 34.0;

/// One horizontal bar per variant, from zero to the median, with the median's
/// interval as a whisker, then the median and the comparison as text.
fn chart(o: &mut String, r: &Report, name: &str, bars: &[(usize, &VariantReport, &Timing)]) {
    let longest = bars.iter().map(|(_, v, _)| v.name.chars().count()).max().unwrap_or(0);
    let label_w = (longest as f64 * 7.2 + 16.0).clamp(80.0, 240.0);
    let x0 = label_w;
    let plot_w = WIDTH - TEXT_COLUMN - x0 - 10.0;
    let top_value =
        bars.iter().flat_map(|(_, _, t)| [t.median_s, t.ci_high_s]).filter(|s| s.is_finite()).fold(0.0, f64::max);
    let step = nice_step(top_value);
    let axis_max = if step > 0.0 { (top_value / step).ceil().max(1.0) * step } else { 1.0 };
    let x = |s: f64| x0 + (s / axis_max).clamp(0.0, 1.0) * plot_w;
    let plot_bottom = TOP + bars.len() as f64 * ROW;
    let height = plot_bottom + AXIS;
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{}: median time per variant\">",
        escape(name)
    );

    // Grid and axis.
    let ticks = if step > 0.0 { (axis_max / step).round() as usize } else { 0 };
    let unit = Unit::for_max(axis_max);
    for k in 0..=ticks {
        let value = k as f64 * step;
        let tx = x(value);
        let _ = writeln!(
            o,
            "<line class=\"grid\" x1=\"{tx:.1}\" y1=\"{TOP}\" x2=\"{tx:.1}\" y2=\"{plot_bottom}\" stroke=\"#e4e4e4\"/>\
             <line class=\"tick\" x1=\"{tx:.1}\" y1=\"{plot_bottom}\" x2=\"{tx:.1}\" y2=\"{:.1}\" stroke=\"#555\"/>\
             <text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            plot_bottom + 5.0,
            plot_bottom + 18.0,
            unit.label(value, step)
        );
    }
    let _ = writeln!(
        o,
        "<line class=\"axis\" x1=\"{x0:.1}\" y1=\"{plot_bottom}\" x2=\"{:.1}\" y2=\"{plot_bottom}\" stroke=\"#555\"/>",
        x0 + plot_w
    );

    for (row, (i, v, t)) in bars.iter().enumerate() {
        let is_base = v.name == r.baseline;
        let y = TOP + row as f64 * ROW + (ROW - BAR) / 2.0;
        let cy = y + BAR / 2.0;
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\"{}>{}</text>",
            x0 - 8.0,
            cy + 4.0,
            if is_base { "" } else { " font-weight=\"600\"" },
            escape(&v.name)
        );
        let _ = writeln!(
            o,
            "<rect class=\"bar\" x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{BAR}\" fill=\"{}\"><title>{}: {}</title></rect>",
            (x(t.median_s) - x0).max(1.0),
            colour(r, *i),
            escape(&v.name),
            time(t.median_s)
        );
        if t.ci_low_s.is_finite() && t.ci_high_s.is_finite() {
            let (lo, hi) = (x(t.ci_low_s), x(t.ci_high_s));
            let _ = writeln!(
                o,
                "<line class=\"whisker\" x1=\"{lo:.1}\" y1=\"{cy:.1}\" x2=\"{hi:.1}\" y2=\"{cy:.1}\" stroke=\"#222\" stroke-width=\"1.5\"/>\
                 <line class=\"whisker\" x1=\"{lo:.1}\" y1=\"{:.1}\" x2=\"{lo:.1}\" y2=\"{:.1}\" stroke=\"#222\" stroke-width=\"1.5\"/>\
                 <line class=\"whisker\" x1=\"{hi:.1}\" y1=\"{:.1}\" x2=\"{hi:.1}\" y2=\"{:.1}\" stroke=\"#222\" stroke-width=\"1.5\"/>",
                cy - 5.0,
                cy + 5.0,
                cy - 5.0,
                cy + 5.0
            );
        }
        let comparison = if is_base {
            " · baseline".to_string()
        } else if t.ratio.is_finite() {
            format!(
                " · {} · <tspan class=\"{}\" fill=\"{}\">{}</tspan>",
                ratio_text(t.ratio, t.ratio_ci_low, t.ratio_ci_high),
                verdict_class(t.verdict),
                match t.verdict {
                    Verdict::Faster => "#1a7f37",
                    Verdict::Slower => "#b42318",
                    Verdict::NoClearDifference => "#555",
                },
                verdict_text(t.ratio, t.verdict)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}{comparison}</text>",
            WIDTH - TEXT_COLUMN + 4.0,
            cy + 4.0,
            time(t.median_s)
        );
    }

    // The baseline's median, for the eye to compare against.
    if let Some((_, _, t)) = bars.iter().find(|(_, v, _)| v.name == r.baseline) {
        let bx = x(t.median_s);
        let _ = writeln!(
            o,
            "<line class=\"ref\" x1=\"{bx:.1}\" y1=\"{:.1}\" x2=\"{bx:.1}\" y2=\"{plot_bottom}\" stroke=\"#444\" \
             stroke-dasharray=\"4 3\"/>",
            TOP - 2.0
        );
    }
    o.push_str("</svg>\n");
}

/// A round axis step giving about five ticks up to `max`: 1, 2 or 5 × 10ⁿ.
pub(super) fn nice_step(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 0.0;
    }
    let raw = max / 5.0;
    let magnitude = 10f64.powi(raw.log10().floor() as i32);
    let f = raw / magnitude;
    let nice = if f <= 1.0 + 1e-9 {
        1.0
    } else if f <= 2.0 + 1e-9 {
        2.0
    } else if f <= 5.0 + 1e-9 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// The axis's one unit, so ticks read `0  200  400 ms` rather than mixing units.
#[derive(Debug, Clone, Copy)]
struct Unit {
    scale: f64,
    suffix: &'static str,
}

impl Unit {
    fn for_max(max: f64) -> Unit {
        if max >= 1.0 {
            Unit { scale: 1.0, suffix: "s" }
        } else if max >= 1e-3 {
            Unit { scale: 1e3, suffix: "ms" }
        } else {
            Unit { scale: 1e6, suffix: "µs" }
        }
    }

    fn label(self, value: f64, step: f64) -> String {
        if value == 0.0 {
            return "0".to_string();
        }
        let decimals = (-(step * self.scale).log10()).ceil().max(0.0) as usize;
        format!("{:.*} {}", decimals, value * self.scale, self.suffix)
    }
}

fn details(o: &mut String, r: &Report) {
    if r.method.rounds == 0 {
        return;
    }
    let pct = r.method.confidence * 100.0;
    let _ = writeln!(
        o,
        "<h2>Details</h2>\n<table class=\"details\">\n<thead><tr><th>variant</th><th>workload</th>\
         <th class=\"num\">runs</th><th class=\"num\">median</th><th class=\"num\">{pct:.0}% CI of median</th>\
         <th class=\"num\">ratio to baseline [{pct:.0}% CI]</th><th>verdict</th></tr></thead>\n<tbody>"
    );
    for v in &r.variants {
        let is_base = v.name == r.baseline;
        for t in v.startup.iter().chain(&v.workloads) {
            let (ratio, verdict) = if is_base {
                ("baseline".to_string(), String::new())
            } else if measured(t) {
                (
                    ratio_text(t.ratio, t.ratio_ci_low, t.ratio_ci_high),
                    format!("<span class=\"{}\">{}</span>", verdict_class(t.verdict), t.verdict.text()),
                )
            } else {
                ("—".to_string(), String::new())
            };
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}–{}</td><td class=\"num\">{ratio}</td><td>{verdict}</td></tr>",
                escape(&v.name),
                escape(&t.name),
                t.runs,
                time(t.median_s),
                time(t.ci_low_s),
                time(t.ci_high_s)
            );
        }
        if let Some(g) = v.geomean.as_ref().filter(|_| !is_base) {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td><em>geometric mean</em></td><td></td><td></td><td></td>\
                 <td class=\"num\">{}</td><td><span class=\"{}\">{}</span></td></tr>",
                escape(&v.name),
                ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high),
                verdict_class(g.verdict),
                g.verdict.text()
            );
        }
    }
    o.push_str("</tbody>\n</table>\n");
}

/// `pgo+bolt` against `pgo` and the decision, when both were measured.
fn bolt_vs_pgo(o: &mut String, r: &Report) {
    let Some(b) = &r.bolt_vs_pgo else { return };
    let pct = r.method.confidence * 100.0;
    let _ = writeln!(
        o,
        "<h2>BOLT vs PGO</h2>\n<p class=\"note\"><code>pgo+bolt</code>'s times over <code>pgo</code>'s, paired by \
         round like the ratios to the baseline; the decision rests on the geometric mean.</p>\n\
         <table class=\"bolt-vs-pgo\">\n<thead><tr><th>workload</th><th class=\"num\">pgo+bolt / pgo [{pct:.0}% CI]</th>\
         <th>verdict</th></tr></thead>\n<tbody>"
    );
    let rows = b.workloads.iter().map(|w| (escape(&w.name), &w.ratio));
    for (name, g) in rows.chain(std::iter::once(("<em>geometric mean</em>".to_string(), &b.geomean))) {
        let _ = writeln!(
            o,
            "<tr><td>{name}</td><td class=\"num\">{}</td><td><span class=\"{}\">{}</span></td></tr>",
            ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high),
            verdict_class(g.verdict),
            verdict_text(g.ratio, g.verdict)
        );
    }
    let _ = writeln!(
        o,
        "</tbody>\n</table>\n<p class=\"decision\"><strong>Decision: ship <code>{}</code></strong> — because {}.</p>",
        escape(&b.delivered),
        escape(&b.reason)
    );
}

fn gates(o: &mut String, r: &Report) {
    if r.gates.is_empty() {
        return;
    }
    let _ = writeln!(o, "<h2>CI checks</h2>\n<ul>");
    for g in &r.gates {
        let mark =
            if g.passed { "<span class=\"faster\">passed</span>" } else { "<strong class=\"slower\">failed</strong>" };
        let _ = writeln!(
            o,
            "<li><code>--{} {}</code> on <code>{}</code>: {mark}: {}</li>",
            escape(&g.name),
            g.threshold_pct,
            escape(&g.variant),
            escape(&g.detail)
        );
    }
    o.push_str("</ul>\n");
}

fn build_settings(o: &mut String, r: &Report) {
    let _ = writeln!(o, "<h2>Build settings</h2>\n<ul>");
    for v in &r.variants {
        let _ = write!(
            o,
            "<li><strong>{}</strong>: {} ({})\n<ul><li>cargo profile <code>{}</code></li>",
            escape(&v.name),
            escape(&v.description),
            escape(&v.build.origin),
            escape(&v.build.cargo_profile)
        );
        if !v.build.cargo_config.is_empty() {
            let cfg: Vec<String> = v.build.cargo_config.iter().map(|c| format!("<code>{}</code>", escape(c))).collect();
            let _ = write!(o, "<li><code>--config</code> {}</li>", cfg.join(", "));
        }
        if !v.build.rustflags.is_empty() {
            let _ = write!(o, "<li>rustflags added: <code>{}</code></li>", escape(&v.build.rustflags.join(" ")));
        }
        for step in &v.build.post {
            let _ = write!(o, "<li>then: {}</li>", escape(step));
        }
        if v.binaries.len() > 1 {
            let sizes: Vec<String> = v
                .binaries
                .iter()
                .map(|b| format!("<code>{}</code> {}", escape(&b.name), human_size(b.size_bytes)))
                .collect();
            let _ = write!(o, "<li>binaries: {}</li>", sizes.join(", "));
        }
        o.push_str("</ul></li>\n");
    }
    o.push_str("</ul>\n");
}

fn environment(o: &mut String, r: &Report) {
    let e = &r.environment;
    let _ = writeln!(o, "<h2>Environment</h2>\n<table class=\"environment\"><tbody>");
    let mut row = |key: &str, value: &str| {
        let _ = writeln!(o, "<tr><th>{}</th><td>{}</td></tr>", escape(key), escape(value));
    };
    row("rustc", &e.rustc);
    row("LLVM", &e.llvm);
    row("host", &e.host);
    if let Some(t) = &e.target {
        row("target", t);
    }
    row("CPU", &format!("{} ({})", e.cpu, count(e.cores as u64, "core")));
    row("OS", &e.os);
    for (tool, version) in &e.tools {
        row(tool, version);
    }
    o.push_str("</tbody></table>\n");
}

fn method(o: &mut String, r: &Report) {
    let m = &r.method;
    let _ = writeln!(o, "<h2>Method</h2>\n<table class=\"method\"><tbody>");
    let mut row = |key: &str, value: String| {
        let _ = writeln!(o, "<tr><th>{key}</th><td>{value}</td></tr>");
    };
    row("confidence", format!("{:.0}%", m.confidence * 100.0));
    row(
        "rounds",
        format!(
            "{} measured (at least {}, at most {}), after {}; variants interleaved",
            count(m.rounds, "round"),
            m.min_rounds,
            m.max_rounds,
            count(m.warmup_rounds, "warm-up round")
        ),
    );
    row("time budget", time(m.budget_s));
    row(
        "precision",
        format!(
            "{} achieved (widest ratio interval), target ±{:.1}%",
            m.achieved_precision.map(|p| format!("±{:.1}%", p * 100.0)).unwrap_or_else(|| "—".into()),
            m.target_precision * 100.0
        ),
    );
    row("stopped because", escape(&stop_text(m)));
    if let Some(args) = &m.startup_args {
        let shown = if args.is_empty() { "(no arguments)".to_string() } else { args.join(" ") };
        row("startup run", format!("<code>{}</code>", escape(&shown)));
    }
    o.push_str("</tbody></table>\n");
}

#[cfg(test)]
#[path = "html_tests.rs"]
pub mod tests;
