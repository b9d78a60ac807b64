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

/// `↓` (faster, fewer), `↑` (slower, more) or `≈`: a verdict in a terminal cell.
pub fn mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Faster => "↓",
        Verdict::Slower => "↑",
        Verdict::NoClearDifference => "≈",
    }
}

/// `13.9% fewer`, `2.0% more`, `no clear difference`: a count's ratio in words.
pub fn count_verdict_text(ratio: f64, verdict: Verdict) -> String {
    match verdict {
        Verdict::Faster => format!("{:.1}% fewer", (1.0 - ratio) * 100.0),
        Verdict::Slower => format!("{:.1}% more", (ratio - 1.0) * 100.0),
        Verdict::NoClearDifference => "no clear difference".to_string(),
    }
}

/// `361.7 M`, `6.5 k`, `4.44 G`, `812`: a count in three or four digits.
pub fn count(n: u64) -> String {
    let x = n as f64;
    if x >= 1e9 {
        format!("{:.2} G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.1} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        n.to_string()
    }
}
