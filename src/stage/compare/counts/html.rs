//! The counts in report.html: the table of report.md and one chart per headline
//! figure, each bar a variant's ratio to the baseline on a workload, drawn from
//! 1× (the baseline) left for fewer and right for more.

use std::fmt::Write as _;

use super::super::html::{AXIS, BAR, ROW, TOP, WIDTH, colour, escape, nice_step, verdict_class};
use super::super::report::Report;
use super::render;
use crate::measure::counts::Figure;
use crate::measure::stats::Verdict;
use crate::measure::text::{count, count_verdict_text};

/// The `Counts` section; nothing when there are no counts.
pub fn section(o: &mut String, r: &Report) {
    let Some(m) = &r.counts else { return };
    let _ = writeln!(o, "<h2>Counts ({})</h2>", escape(m.counter.name()));
    let _ = write!(o, "<table class=\"counts\">\n<thead><tr><th>variant</th><th>workload</th>");
    for f in &m.figures {
        let _ = write!(o, "<th class=\"num\">{}</th>", escape(f.label()));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for v in r.variants.iter() {
        let Some(vc) = &v.counts else { continue };
        for w in &vc.workloads {
            let _ = write!(o, "<tr><td><strong>{}</strong></td><td>{}</td>", escape(&v.name), escape(&w.name));
            for &f in &m.figures {
                let text = match (w.counts.get(f), vc.ratio(&w.name, f)) {
                    (Some(n), Some(q)) if v.name != r.baseline => {
                        format!("{}<br><span class=\"{}\">{:.3}×</span>", count(n), verdict_class(q.verdict), q.ratio)
                    }
                    (Some(n), _) => count(n),
                    (None, _) => "—".into(),
                };
                let _ = write!(o, "<td class=\"num\">{text}</td>");
            }
            o.push_str("</tr>\n");
        }
    }
    o.push_str("</tbody>\n</table>\n");
    for n in render::notes(r) {
        let n = escape(&n).replace("**", "");
        let _ = writeln!(o, "<p class=\"note\">{n}</p>");
    }
    for f in m.figures.iter().copied().filter(|f| matches!(f, Figure::Instructions | Figure::EstimatedCycles)) {
        chart(o, r, f);
    }
}

// The page's chart geometry, with wider labels (`workload · variant`).
const LABEL: f64 = 260.0;
const TEXT: f64 = 240.0;

/// Ratio bars for `figure`: one per workload and variant besides the baseline.
fn chart(o: &mut String, r: &Report, figure: Figure) {
    let bars: Vec<(usize, String, f64, Verdict)> = r
        .variants
        .iter()
        .enumerate()
        .filter(|(_, v)| v.name != r.baseline)
        .flat_map(|(i, v)| {
            v.counts.iter().flat_map(move |vc| {
                vc.workloads.iter().filter_map(move |w| {
                    vc.ratio(&w.name, figure).map(|q| (i, format!("{} · {}", w.name, v.name), q.ratio, q.verdict))
                })
            })
        })
        .collect();
    if bars.is_empty() {
        return;
    }
    let reach = bars.iter().map(|b| (b.2 - 1.0).abs()).fold(0.05, f64::max);
    let step = nice_step(reach).max(0.01);
    let reach = (reach / step).ceil() * step;
    let (x0, plot_w) = (LABEL, WIDTH - LABEL - TEXT);
    let x = |ratio: f64| x0 + ((ratio - 1.0 + reach) / (2.0 * reach)).clamp(0.0, 1.0) * plot_w;
    let bottom = TOP + bars.len() as f64 * ROW;
    let height = bottom + AXIS;
    let _ = writeln!(
        o,
        "<figure class=\"chart\">\n<figcaption><strong>{}</strong> — each variant's count over the baseline's, per \
         workload; left of 1× is fewer</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" \
         height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{}: ratio to the \
         baseline\">",
        escape(figure.label()),
        escape(figure.label())
    );
    let ticks = (reach / step).round() as i64;
    for k in -ticks..=ticks {
        let value = 1.0 + k as f64 * step;
        let tx = x(value);
        let _ = writeln!(
            o,
            "<line class=\"grid\" x1=\"{tx:.1}\" y1=\"{TOP}\" x2=\"{tx:.1}\" y2=\"{bottom}\" stroke=\"#e4e4e4\"/>\
             <text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}×</text>",
            bottom + 18.0,
            trim(value)
        );
    }
    for (row, (i, label, ratio, verdict)) in bars.iter().enumerate() {
        let y = TOP + row as f64 * ROW + (ROW - BAR) / 2.0;
        let cy = y + BAR / 2.0;
        let (a, b) = (x(1.0).min(x(*ratio)), x(1.0).max(x(*ratio)));
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect class=\"bar\" x=\"{a:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{BAR}\" fill=\"{}\">\
             <title>{}: {ratio:.3}×</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\">{ratio:.3}× · {}</text>",
            x0 - 8.0,
            cy + 4.0,
            escape(label),
            (b - a).max(1.0),
            colour(r, *i),
            escape(label),
            WIDTH - TEXT + 8.0,
            cy + 4.0,
            count_verdict_text(*ratio, *verdict)
        );
    }
    let one = x(1.0);
    let _ = writeln!(
        o,
        "<line class=\"ref\" x1=\"{one:.1}\" y1=\"{:.1}\" x2=\"{one:.1}\" y2=\"{bottom}\" stroke=\"#444\"/>\n</svg>\n\
         </figure>",
        TOP - 2.0
    );
}

/// `0.95`, `1`, `1.1`: a tick's value without trailing zeros.
fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
