//! BOLT against PGO, measured once: when `compare` measures both `pgo` and
//! `pgo+bolt`, their runs are interleaved like every variant's, so `pgo+bolt`'s
//! times are paired with `pgo`'s round by round, exactly as every variant's are
//! with the baseline's. The ratios, their geometric mean and one decision come
//! out of that: which of the two binaries `pgo-build all --bolt` delivers.
//!
//! The rule ([`decide`]) is deliberately one-sided: BOLT makes a binary bigger and
//! its layout is one more thing to go wrong, so it must *earn* its place by being
//! faster beyond the noise threshold, with confidence (the geometric mean's
//! verdict is `faster`). Anything else, "no clear difference" included, keeps the
//! PGO binary, unless `--keep-bolt` was given.

use super::variants::{PGO, PGO_BOLT};
use crate::measure::stats::{Estimate, Verdict};
use crate::measure::{Plan, Samples};
use crate::report::record::{BoltVsPgo, NamedRatio, Ratio};
use crate::report::view::words::verdict_reason;
use crate::state::Shipped;

/// The decision and the words for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub keep_bolt: bool,
    pub reason: String,
}

/// Keep BOLT iff `--keep-bolt` was asked, or the geometric mean of `pgo+bolt`
/// over `pgo` is `faster` ([`Verdict::of`]: its whole interval below
/// `1 − noise`, at the confidence asked). Otherwise PGO. The reason words the
/// rule applied ([`verdict_reason`]).
pub fn decide(geomean: &Estimate, noise: f64, confidence: f64, keep_bolt_asked: bool) -> Decision {
    let verdict = Verdict::of(geomean, noise, confidence);
    let measured = verdict_reason(geomean, noise, confidence, PGO_BOLT, PGO);
    let keep_bolt = keep_bolt_asked || verdict == Verdict::Faster;
    let reason = if keep_bolt_asked { format!("--keep-bolt was given (measured: {measured})") } else { measured };
    Decision { keep_bolt, reason }
}

/// `pgo+bolt` (measured variant `bolt`) against `pgo` (measured variant `pgo`)
/// on the benchmark workloads, whose names are `names` in the plan's order;
/// `None` before the first round.
pub fn measure(
    plan: &Plan,
    samples: &Samples,
    names: &[String],
    pgo: usize,
    bolt: usize,
    keep_bolt_asked: bool,
) -> Option<BoltVsPgo> {
    let g = samples.geomean_to(plan, bolt, pgo)?;
    let workloads = (0..plan.workloads)
        .filter(|&w| plan.gated[w])
        .zip(names)
        .map(|(w, name)| NamedRatio {
            name: name.clone(),
            ratio: Ratio::judged(samples.ratio_to(plan, w, bolt, pgo), plan.noise, plan.confidence),
        })
        .collect();
    let decision = decide(&g, plan.noise, plan.confidence, keep_bolt_asked);
    Some(BoltVsPgo {
        workloads,
        geomean: Ratio::judged(g, plan.noise, plan.confidence),
        verdict: Verdict::of(&g, plan.noise, plan.confidence),
        keep_bolt_asked,
        keep_bolt: decision.keep_bolt,
        delivered: if decision.keep_bolt { Shipped::PgoBolt } else { Shipped::Pgo },
        reason: decision.reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::{self, mock::Mock};

    fn e(value: f64, low: f64, high: f64) -> Estimate {
        Estimate { value, low, high, coverage: 0.96 }
    }

    #[test]
    fn the_decision_rule() {
        struct Case {
            geomean: Estimate,
            keep_asked: bool,
            keep: bool,
            reason: &'static str,
        }
        let few = Estimate { coverage: 0.9, ..e(0.8, 0.7, 0.9) };
        let cases = [
            Case {
                geomean: e(0.958, 0.941, 0.975),
                keep_asked: false,
                keep: true,
                reason: "pgo+bolt is 4.2% faster than pgo: 0.958×, and its whole interval 0.941–0.975 lies below 0.990, \
                         beyond the ±1% noise band",
            },
            Case {
                geomean: e(0.987, 0.977, 0.997),
                keep_asked: false,
                keep: false,
                reason: "no clear difference: 0.987×, but its interval 0.977–0.997 reaches into the ±1% noise band",
            },
            Case {
                geomean: e(1.0, 0.98, 1.02),
                keep_asked: false,
                keep: false,
                reason: "no clear difference: 1.000×, but its interval 0.980–1.020 reaches into the ±1% noise band",
            },
            Case {
                geomean: e(1.05, 1.03, 1.07),
                keep_asked: false,
                keep: false,
                reason: "pgo+bolt is 5.0% slower than pgo: 1.050×, and its whole interval 1.030–1.070 lies above 1.010, \
                         beyond the ±1% noise band",
            },
            Case {
                geomean: few,
                keep_asked: false,
                keep: false,
                reason: "no clear difference: too few rounds for a 95% interval (0.800× [0.700–0.900])",
            },
            Case {
                geomean: e(1.05, 1.03, 1.07),
                keep_asked: true,
                keep: true,
                reason: "--keep-bolt was given (measured: pgo+bolt is 5.0% slower than pgo: 1.050×, and its whole \
                         interval 1.030–1.070 lies above 1.010, beyond the ±1% noise band)",
            },
        ];
        for c in cases {
            let d = decide(&c.geomean, 0.01, 0.95, c.keep_asked);
            assert_eq!(d, Decision { keep_bolt: c.keep, reason: c.reason.to_string() }, "{:?}", c.geomean);
        }
        // The threshold is the one given, not always 1%.
        let d = decide(&e(0.96, 0.95, 0.97), 0.05, 0.95, false);
        assert!(!d.keep_bolt && d.reason.contains("reaches into the ±5% noise band"), "{}", d.reason);
    }

    fn plan() -> Plan {
        Plan {
            variants: 3,
            workloads: 3,
            gated: vec![true, true, false],
            baseline: 0,
            warmup: 1,
            min_rounds: 20,
            max_rounds: 20,
            target: 0.01,
            budget_s: 1e9,
            confidence: 0.95,
            noise: 0.01,
        }
    }

    fn names() -> Vec<String> {
        vec!["puzzles".into(), "calc".into()]
    }

    #[test]
    fn bolt_clearly_faster_is_kept() {
        // baseline, pgo 20% faster, pgo+bolt 8% faster than pgo; the third
        // workload (startup) is not part of the decision.
        let factors = vec![vec![1.0, 1.0, 1.0], vec![0.8, 0.8, 1.0], vec![0.736, 0.736, 1.3]];
        let mut mock = Mock::new(21, vec![0.8, 0.5, 0.002], factors, 0.02);
        let p = plan();
        let s = measure::run(&p, &mut mock, |_| {}).expect("the mock measures");
        let b = measure(&p, &s, &names(), 1, 2, false).expect("measured");
        assert!(b.keep_bolt, "{b:?}");
        assert_eq!((b.verdict, b.delivered.name()), (Verdict::Faster, "pgo+bolt"));
        assert_eq!(b.workloads.len(), 2);
        assert!(b.workloads.iter().all(|w| w.ratio.verdict == Verdict::Faster), "{b:?}");
        assert!((b.geomean.ratio - 0.92).abs() < 0.01, "{b:?}");
        assert!(b.reason.starts_with("pgo+bolt is ") && b.reason.contains("faster than pgo"), "{}", b.reason);
    }

    #[test]
    fn an_a_a_bolt_is_not_kept_and_the_threshold_is_named() {
        // BOLT changed nothing: pgo and pgo+bolt are the same speed.
        let factors = vec![vec![1.0, 1.0, 1.0], vec![0.8, 0.8, 1.0], vec![0.8, 0.8, 1.0]];
        let mut mock = Mock::new(21, vec![0.8, 0.5, 0.002], factors, 0.02);
        let p = plan();
        let s = measure::run(&p, &mut mock, |_| {}).expect("the mock measures");
        let b = measure(&p, &s, &names(), 1, 2, false).expect("measured");
        assert!(!b.keep_bolt, "{b:?}");
        assert_eq!((b.verdict, b.delivered.name()), (Verdict::NoClearDifference, "pgo"));
        assert!(b.reason.starts_with("no clear difference: ") && b.reason.ends_with("reaches into the ±1% noise band"));
        // --keep-bolt overrides it, and says so.
        let kept = measure(&p, &s, &names(), 1, 2, true).expect("measured");
        assert!(kept.keep_bolt && kept.reason.starts_with("--keep-bolt was given"), "{kept:?}");
    }
}
