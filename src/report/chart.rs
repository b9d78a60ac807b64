//! The one bar chart of the report, as SVG: every chart of report.html (times,
//! the workloads' figures, the counts' ratios) is a [`Chart`] (its series are
//! the view's, `view/charts.rs`) drawn by [`svg`].
//!
//! One horizontal bar per entry from the axis's origin (0, or 1× for ratios) to
//! its value, its interval as a whisker, its label on the left and its figures
//! in words on the right, over a grid of round ticks. SVG drawn here rather than
//! by a JavaScript library: a few rectangles and lines are all a bar chart with
//! intervals needs, the page stays self-contained, and SVG stays sharp on paper.

use crate::html;
use crate::measure::stats::Verdict;
use crate::report::markup::Html;
use crate::report::record::figures::value;
use crate::report::view::charts::{Chart, Scale};
use crate::report::view::summary::verdict_class;

// Geometry, in SVG user units (pixels at 100%).
const WIDTH: f64 = 960.0;
const TEXT_COLUMN: f64 = 340.0;
const TOP: f64 = 6.0;
const ROW: f64 = 30.0;
const BAR: f64 = 20.0;
const AXIS: f64 = 34.0;

/// The colour of a verdict's words.
fn verdict_colour(v: Verdict) -> &'static str {
    match v {
        Verdict::Faster => "#1a7f37",
        Verdict::Slower => "#b42318",
        Verdict::NoClearDifference => "#555",
    }
}

/// The axis: its ends, its step, and how a tick reads.
struct Axis {
    low: f64,
    high: f64,
    step: f64,
}

impl Axis {
    fn of(c: &Chart) -> Axis {
        let ends = c.bars.iter().flat_map(|b| [Some(b.value), b.interval.map(|i| i.0), b.interval.map(|i| i.1)]);
        let ends: Vec<f64> = ends.flatten().filter(|v| v.is_finite()).collect();
        if c.scale == Scale::Ratio {
            let reach = ends.iter().map(|v| (v - 1.0).abs()).fold(0.05, f64::max);
            let step = nice_step(reach).max(0.01);
            let reach = (reach / step).ceil() * step;
            return Axis { low: 1.0 - reach, high: 1.0 + reach, step };
        }
        let top = ends.iter().copied().fold(0.0, f64::max);
        let step = nice_step(top);
        let high = if step > 0.0 { (top / step).ceil().max(1.0) * step } else { 1.0 };
        Axis { low: 0.0, high, step }
    }

    fn origin(&self, scale: &Scale) -> f64 {
        if *scale == Scale::Ratio { 1.0 } else { 0.0 }
    }

    fn ticks(&self) -> Vec<f64> {
        if self.step <= 0.0 {
            return Vec::new();
        }
        let n = ((self.high - self.low) / self.step).round() as i64;
        (0..=n).map(|k| self.low + k as f64 * self.step).collect()
    }

    fn label(&self, scale: &Scale, v: f64) -> String {
        match scale {
            Scale::Time => Unit::for_max(self.high).label(v, self.step),
            Scale::Value { .. } if v == 0.0 => "0".to_string(),
            Scale::Value { unit } => value(v, unit),
            Scale::Ratio => format!("{}×", trim(v)),
        }
    }
}

/// The chart as an SVG element.
pub fn svg(c: &Chart) -> Html {
    let axis = Axis::of(c);
    let longest = c.bars.iter().map(|b| b.label.chars().count()).max().unwrap_or(0);
    let x0 = (longest as f64 * 7.2 + 16.0).clamp(80.0, 260.0);
    let plot_w = WIDTH - TEXT_COLUMN - x0 - 10.0;
    let span = (axis.high - axis.low).max(f64::MIN_POSITIVE);
    let x = |v: f64| x0 + ((v - axis.low) / span).clamp(0.0, 1.0) * plot_w;
    let bottom = TOP + c.bars.len() as f64 * ROW;
    let height = bottom + AXIS;
    let mut o = html!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" \
         aria-label=\"{}\">\n",
        WIDTH,
        height,
        WIDTH,
        height,
        c.aria
    );
    for t in axis.ticks() {
        let tx = x(t);
        o.push(html!(
            "<line class=\"grid\" x1=\"{:.1}\" y1=\"{}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"#e4e4e4\"/>\
             <line class=\"tick\" x1=\"{:.1}\" y1=\"{}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#555\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>\n",
            tx,
            TOP,
            tx,
            bottom,
            tx,
            bottom,
            tx,
            bottom + 5.0,
            tx,
            bottom + 18.0,
            axis.label(&c.scale, t)
        ));
    }
    o.push(html!(
        "<line class=\"axis\" x1=\"{:.1}\" y1=\"{}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"#555\"/>\n",
        x0,
        bottom,
        x0 + plot_w,
        bottom
    ));
    let origin = x(axis.origin(&c.scale));
    for (row, b) in c.bars.iter().enumerate() {
        let y = TOP + row as f64 * ROW + (ROW - BAR) / 2.0;
        let cy = y + BAR / 2.0;
        let weight = if b.strong { html!(" font-weight=\"600\"") } else { Html::default() };
        o.push(html!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\"{}>{}</text>\n",
            x0 - 8.0,
            cy + 4.0,
            weight,
            b.label
        ));
        let (a, z) = (origin.min(x(b.value)), origin.max(x(b.value)));
        o.push(html!(
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"{}\"><title>{}: {}</title></rect>\n",
            a,
            y,
            (z - a).max(1.0),
            BAR,
            b.colour,
            b.label,
            b.text
        ));
        if let Some((lo, hi)) = b.interval.filter(|(lo, hi)| lo.is_finite() && hi.is_finite()) {
            let (lo, hi) = (x(lo), x(hi));
            let line = |x1: f64, y1: f64, x2: f64, y2: f64| {
                html!(
                    "<line class=\"whisker\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#222\" \
                     stroke-width=\"1.5\"/>",
                    x1,
                    y1,
                    x2,
                    y2
                )
            };
            o.push(line(lo, cy, hi, cy));
            o.push(line(lo, cy - 5.0, lo, cy + 5.0));
            o.push(line(hi, cy - 5.0, hi, cy + 5.0));
            o.push(html!("\n"));
        }
        let verdict = match &b.verdict {
            Some((v, words)) => {
                html!(" · <tspan class=\"{}\" fill=\"{}\">{}</tspan>", verdict_class(*v), verdict_colour(*v), words)
            }
            None => Html::default(),
        };
        o.push(html!(
            "<text x=\"{:.1}\" y=\"{:.1}\">{}{}</text>\n",
            WIDTH - TEXT_COLUMN + 4.0,
            cy + 4.0,
            b.text,
            verdict
        ));
    }
    if let Some((at, dashed)) = c.reference {
        let rx = x(at);
        let dash = if dashed { html!(" stroke-dasharray=\"4 3\"") } else { Html::default() };
        o.push(html!(
            "<line class=\"ref\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"#444\"{}/>\n",
            rx,
            TOP - 2.0,
            rx,
            bottom,
            dash
        ));
    }
    o.push(html!("</svg>\n"));
    o
}

/// A round axis step giving about five ticks up to `max`: 1, 2 or 5 × 10ⁿ.
pub fn nice_step(max: f64) -> f64 {
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

/// The time axis's one unit, so ticks read `0  200  400 ms` rather than mixing units.
#[derive(Debug, Clone, Copy)]
pub struct Unit {
    scale: f64,
    suffix: &'static str,
}

impl Unit {
    pub fn for_max(max: f64) -> Unit {
        if max >= 1.0 {
            Unit { scale: 1.0, suffix: "s" }
        } else if max >= 1e-3 {
            Unit { scale: 1e3, suffix: "ms" }
        } else {
            Unit { scale: 1e6, suffix: "µs" }
        }
    }

    pub fn label(self, value: f64, step: f64) -> String {
        if value == 0.0 {
            return "0".to_string();
        }
        let decimals = (-(step * self.scale).log10()).ceil().max(0.0) as usize;
        format!("{:.*} {}", decimals, value * self.scale, self.suffix)
    }
}

/// `0.95`, `1`, `1.1`: a tick's value without trailing zeros.
fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::view::Prose;
    use crate::report::view::charts::{Bar, PALETTE};

    #[test]
    fn axis_ticks_are_round() {
        assert_eq!(nice_step(1.0), 0.2);
        assert_eq!(nice_step(1.7), 0.5);
        assert_eq!(nice_step(0.0), 0.0);
        let ms = Unit::for_max(0.8);
        assert_eq!(ms.label(0.2, 0.2), "200 ms");
        assert_eq!(ms.label(0.0, 0.2), "0");
        let s = Unit::for_max(2.0);
        assert_eq!(s.label(1.5, 0.5), "1.5 s");
        assert_eq!(Unit::for_max(0.0005).label(0.0001, 0.0001), "100 µs");
    }

    #[test]
    fn a_ratio_axis_is_centred_on_one() {
        let bar = |value| Bar {
            label: "x".into(),
            strong: true,
            colour: PALETTE[0],
            value,
            interval: None,
            text: String::new(),
            verdict: None,
        };
        let chart = Chart {
            title: String::new(),
            caption: Prose::default(),
            aria: String::new(),
            scale: Scale::Ratio,
            bars: vec![bar(0.86), bar(1.2)],
            reference: Some((1.0, false)),
        };
        let a = Axis::of(&chart);
        assert!((a.low - 0.8).abs() < 1e-9 && (a.high - 1.2).abs() < 1e-9, "{} {}", a.low, a.high);
        assert_eq!(a.label(&Scale::Ratio, 1.0), "1×");
        assert!(svg(&chart).as_str().contains("<rect class=\"bar\""));
    }
}
