//! The report's sentences, each written once for every format: why measuring
//! stopped, what a ratio is, what a verdict rests on, and the notes under the
//! tables. A [`Prose`] marks emphasis and code; each format shows the marks its
//! own way (Markdown `*…*`, HTML `<em>`, the terminal not at all).

use crate::measure::Stop;
use crate::measure::stats::{Estimate, Verdict};
use crate::measure::text::{time, verdict_text};
use crate::report::record::{Method, Report};
use crate::util::human_size;

/// A piece of a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    Text(String),
    Emphasis(String),
    Strong(String),
    Code(String),
}

/// A sentence or a paragraph, with its emphasis marked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prose(pub Vec<Span>);

impl Prose {
    pub fn text(s: impl Into<String>) -> Prose {
        Prose(vec![Span::Text(s.into())])
    }
}

impl From<String> for Prose {
    fn from(s: String) -> Prose {
        Prose::text(s)
    }
}

/// `1 round`, `3 rounds`, `2 binaries`: a count with its noun, in the plural
/// unless the count is one.
pub fn count(n: impl Into<u64>, singular: &str) -> String {
    let n = n.into();
    if n == 1 {
        return format!("1 {singular}");
    }
    let consonant_y = singular.strip_suffix('y').filter(|stem| !stem.ends_with(['a', 'e', 'i', 'o', 'u']));
    let plural = match consonant_y {
        Some(stem) => format!("{stem}ies"),
        None if singular.ends_with(['s', 'x']) || singular.ends_with("ch") || singular.ends_with("sh") => {
            format!("{singular}es")
        }
        None => format!("{singular}s"),
    };
    format!("{n} {plural}")
}

/// `566.4 KiB (+2.4%)`: a size, and its change from the baseline's.
pub fn size(bytes: u64, change: Option<f64>) -> String {
    match change {
        Some(r) => format!("{} ({:+.1}%)", human_size(bytes), (r - 1.0) * 100.0),
        None => human_size(bytes),
    }
}

/// `1`, `0.5`, `2.5`: a fraction as a percentage, without trailing zeros.
pub fn percent(fraction: f64) -> String {
    let p = (fraction * 100.0 * 1000.0).round() / 1000.0;
    format!("{p}")
}

/// Why measuring stopped (or that it goes on).
pub fn stop_text(m: &Method) -> String {
    let precision = m.achieved_precision.map(|p| format!("±{:.1}%", p * 100.0)).unwrap_or_else(|| "—".into());
    let target = format!("±{:.1}%", m.target_precision * 100.0);
    match m.stop {
        Stop::Precise => format!("every ratio's interval reached the target {target} (widest: {precision})"),
        Stop::Budget => format!(
            "the time budget ({}) ran out before every ratio's interval reached {target}; the widest is {precision}",
            time(m.budget_s)
        ),
        Stop::MaxRounds => format!(
            "the round limit ({}) was reached before every ratio's interval reached {target}; the widest is {precision}",
            m.max_rounds
        ),
        Stop::Running => format!("still measuring; the widest interval so far is {precision}"),
    }
}

/// The sentence under the summary: what the figures are, the rule a verdict
/// follows, and how measuring went.
pub fn method_note(r: &Report) -> Prose {
    Prose::text(format!(
        "Times are medians of whole workload runs; ratios are to the baseline, paired by round. A variant is faster \
         or slower only when the {:.0}% confidence interval of its ratio lies wholly beyond ±{}% of 1. {}, variants \
         interleaved; {}.",
        r.method.confidence * 100.0,
        r.method.noise_threshold * 100.0,
        count(r.method.rounds, "round"),
        stop_text(&r.method)
    ))
}

/// The terminal's line under its table: what a ratio is (not the medians' ratio:
/// a median of ratios paired by round) and what the brackets and marks mean.
pub fn ratio_note(r: &Report) -> String {
    format!(
        "Ratios are to the baseline, paired by round (not the ratio of the medians); [low–high] is the {:.0}% \
         interval; ↓ faster, ↑ slower only when the whole interval is beyond ±{}% of 1, else ≈.",
        r.method.confidence * 100.0,
        percent(r.method.noise_threshold)
    )
}

/// The note for variants that are the same build as another; `None` when none is.
pub fn same_build_note(r: &Report) -> Option<Prose> {
    r.variants.iter().any(|v| v.same_build_as.is_some()).then(|| {
        Prose(vec![
            Span::Emphasis("Same build as X".into()),
            Span::Text(
                ": the variant has X's effective Cargo profile settings (after inheritance, config files and ".into(),
            ),
            Span::Code("--config".into()),
            Span::Text(
                ") and rustflags, so it was built and measured once, as X; its row has no figures of its own.".into(),
            ),
        ])
    })
}

/// The note for workloads that also train; `None` when none does.
pub fn trained_note(r: &Report) -> Option<Prose> {
    r.workloads
        .iter()
        .any(|w| w.trained_on)
        .then(|| Prose::text("† also a training workload: PGO has seen it, so its gain is flattered."))
}

/// Why a ratio got its verdict, by the rule applied ([`Verdict::of`]): a
/// difference is called only when the whole interval lies beyond ±noise of 1.
/// `than` names what the ratio is against (`than pgo`), `subject` what it is of.
pub fn verdict_reason(e: &Estimate, noise: f64, confidence: f64, subject: &str, than: &str) -> String {
    let verdict = Verdict::of(e, noise, confidence);
    let band = format!("±{}% noise band", percent(noise));
    let (low, high) = (format!("{:.3}", e.low), format!("{:.3}", e.high));
    match verdict {
        Verdict::Faster => format!(
            "{subject} is {} than {than}: {:.3}×, and its whole interval {low}–{high} lies below {:.3}, beyond the \
             {band}",
            verdict_text(e.value, verdict),
            e.value,
            1.0 - noise
        ),
        Verdict::Slower => format!(
            "{subject} is {} than {than}: {:.3}×, and its whole interval {low}–{high} lies above {:.3}, beyond the \
             {band}",
            verdict_text(e.value, verdict),
            e.value,
            1.0 + noise
        ),
        Verdict::NoClearDifference if e.coverage + 1e-9 < confidence => format!(
            "no clear difference: too few rounds for a {}% interval ({:.3}× [{low}–{high}])",
            percent(confidence),
            e.value
        ),
        Verdict::NoClearDifference => {
            format!("no clear difference: {:.3}×, but its interval {low}–{high} reaches into the {band}", e.value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_pluralized() {
        assert_eq!(count(1u32, "round"), "1 round");
        assert_eq!(count(0u32, "round"), "0 rounds");
        assert_eq!(count(2u32, "binary"), "2 binaries");
        assert_eq!(count(3u32, "workload"), "3 workloads");
        assert_eq!(count(2u32, "day"), "2 days");
        assert_eq!(count(2u32, "batch"), "2 batches");
    }

    /// Issue 18: "0.965× [0.878–0.999] is within the 1% noise threshold" was
    /// false (the ratio is not within it); the interval reaching into the band
    /// is what makes it no clear difference.
    #[test]
    fn a_verdict_is_worded_by_the_rule_applied() {
        let e = |value, low, high| Estimate { value, low, high, coverage: 0.96 };
        let reason = |x| verdict_reason(&x, 0.01, 0.95, "pgo+bolt", "pgo");
        assert_eq!(
            reason(e(0.965, 0.878, 0.999)),
            "no clear difference: 0.965×, but its interval 0.878–0.999 reaches into the ±1% noise band"
        );
        assert_eq!(
            reason(e(0.958, 0.941, 0.975)),
            "pgo+bolt is 4.2% faster than pgo: 0.958×, and its whole interval 0.941–0.975 lies below 0.990, beyond \
             the ±1% noise band"
        );
        assert_eq!(
            reason(e(1.05, 1.03, 1.07)),
            "pgo+bolt is 5.0% slower than pgo: 1.050×, and its whole interval 1.030–1.070 lies above 1.010, beyond \
             the ±1% noise band"
        );
        let few = Estimate { coverage: 0.9, ..e(0.8, 0.7, 0.9) };
        assert_eq!(reason(few), "no clear difference: too few rounds for a 95% interval (0.800× [0.700–0.900])");
        for text in [reason(e(0.965, 0.878, 0.999)), reason(e(1.0, 0.98, 1.02))] {
            assert!(!text.contains("is within"), "{text}");
        }
    }
}
