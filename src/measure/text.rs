//! How measured figures read, wherever they are printed: times, ratios with
//! their intervals, verdicts.

use super::stats::Verdict;

/// `812.3 ms`, `1.24 s`, `950 µs`.
pub fn time(seconds: f64) -> String {
    if !seconds.is_finite() {
        "—".to_string()
    } else if seconds >= 10.0 {
        format!("{seconds:.1} s")
    } else if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else if seconds >= 0.001 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{:.0} µs", seconds * 1e6)
    }
}

/// `0.80× [0.78–0.82]`.
pub fn ratio_text(ratio: f64, low: f64, high: f64) -> String {
    format!("{ratio:.3}× [{low:.3}–{high:.3}]")
}

/// `20.0% faster`, `3.1% slower`, `no clear difference`.
pub fn verdict_text(ratio: f64, verdict: Verdict) -> String {
    match verdict {
        Verdict::Faster => format!("{:.1}% faster", (1.0 - ratio) * 100.0),
        Verdict::Slower => format!("{:.1}% slower", (ratio - 1.0) * 100.0),
        Verdict::NoClearDifference => "no clear difference".to_string(),
    }
}
