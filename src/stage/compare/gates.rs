//! The CI checks of `compare`: `--fail-if-slower` and `--require-speedup`,
//! judged on the report's intervals (`--gate-on time`, the default) or on a
//! counted figure (`--gate-on instructions`), with exit codes of their own.

use super::variants;
use crate::cli::{CompareArgs, GateOn};
use crate::measure::counter::Figure;
use crate::measure::stats::Verdict;
use crate::report::record::{Gate, Ratio, Report, VariantReport};

/// Exit codes of the CI checks (docs/compare.md).
pub mod exit {
    /// `--fail-if-slower`: a workload is slower than the baseline by more than the limit.
    pub const SLOWER: u8 = 3;
    /// `--require-speedup`: the geometric mean is not shown to be faster by the amount asked.
    pub const NO_SPEEDUP: u8 = 4;
}

impl GateOn {
    /// The counted figure judged, `None` for time.
    pub fn figure(self) -> Option<Figure> {
        match self {
            GateOn::Time => None,
            GateOn::Instructions => Some(Figure::Instructions),
            GateOn::EstimatedCycles => Some(Figure::EstimatedCycles),
        }
    }

    pub fn key(self) -> &'static str {
        self.figure().map(Figure::key).unwrap_or("time")
    }
}

/// One variant's ratios as a check sees them, with the words for its direction.
struct Judged {
    workloads: Vec<(String, Ratio)>,
    geomean: Option<Ratio>,
    /// "slower" / "more instructions"
    worse: String,
    /// "faster" / "fewer instructions"
    better: String,
    /// " with confidence" for intervals from timed rounds, "" for counts.
    confidence: &'static str,
}

fn judged(report: &Report, v: &VariantReport, on: GateOn, metric: Option<&str>) -> Judged {
    if let Some(name) = metric {
        let workloads: Vec<(String, Ratio)> = v
            .workloads
            .iter()
            .filter_map(|t| t.metrics.iter().find(|m| m.name == name).map(|m| (t.name.clone(), m.oriented())))
            .collect();
        return Judged {
            geomean: geomean(&workloads),
            workloads,
            worse: format!("worse in `{name}`"),
            better: format!("better in `{name}`"),
            confidence: " with confidence",
        };
    }
    match on.figure() {
        None => Judged {
            workloads: v.workloads.iter().map(|t| (t.name.clone(), t.against_baseline())).collect(),
            geomean: v.geomean.clone(),
            worse: "slower".into(),
            better: "faster".into(),
            confidence: " with confidence",
        },
        Some(f) => {
            let vc = v.counts.as_ref();
            Judged {
                workloads: report
                    .workloads
                    .iter()
                    .filter_map(|w| vc.and_then(|c| c.ratio(&w.name, f)).map(|r| (w.name.clone(), r.clone())))
                    .collect(),
                geomean: vc.and_then(|c| c.geomean(f)).cloned(),
                worse: format!("more {}", f.label()),
                better: format!("fewer {}", f.label()),
                confidence: "",
            }
        }
    }
}

/// The geometric mean of oriented ratios and of their bounds (a figure reported
/// by several workloads); the verdict from the bounds like any other.
fn geomean(ratios: &[(String, Ratio)]) -> Option<Ratio> {
    if ratios.is_empty() {
        return None;
    }
    let g =
        |f: &dyn Fn(&Ratio) -> f64| (ratios.iter().map(|(_, r)| f(r).ln()).sum::<f64>() / ratios.len() as f64).exp();
    let (ratio, low, high) = (g(&|r| r.ratio), g(&|r| r.ratio_ci_low), g(&|r| r.ratio_ci_high));
    let verdict = if ratios.len() == 1 {
        ratios[0].1.verdict
    } else if ratios.iter().all(|(_, r)| r.verdict == Verdict::Faster) {
        Verdict::Faster
    } else if ratios.iter().all(|(_, r)| r.verdict == Verdict::Slower) {
        Verdict::Slower
    } else {
        Verdict::NoClearDifference
    };
    Some(Ratio { ratio, ratio_ci_low: low, ratio_ci_high: high, verdict })
}

/// Applies `--fail-if-slower` and `--require-speedup`; returns the exit code.
pub fn apply_gates(report: &mut Report, args: &CompareArgs) -> u8 {
    if args.fail_if_slower.is_none() && args.require_speedup.is_none() {
        return 0;
    }
    let on = args.gate_on;
    let metric = args.gate_metric.as_deref();
    let on_key = metric.map_or_else(|| on.key().to_string(), |m| format!("metric:{m}"));
    let gated: Vec<String> = match &args.gate {
        Some(g) => vec![g.clone()],
        None => {
            let names: Vec<&str> = report.variants.iter().map(|v| v.name.as_str()).collect();
            if names.contains(&variants::PGO_BOLT) {
                vec![variants::PGO_BOLT.to_string()]
            } else if names.contains(&variants::PGO) {
                vec![variants::PGO.to_string()]
            } else {
                names.iter().filter(|n| **n != report.baseline).map(|n| n.to_string()).collect()
            }
        }
    };
    let mut code = 0;
    if gated.is_empty() {
        let name = if args.require_speedup.is_some() { "require-speedup" } else { "fail-if-slower" };
        report.gates.push(Gate {
            name: name.into(),
            on: on_key.clone(),
            threshold_pct: args.require_speedup.or(args.fail_if_slower).unwrap_or_default(),
            variant: String::new(),
            passed: false,
            detail: "there is no variant besides the baseline to judge".into(),
        });
        return if args.require_speedup.is_some() { exit::NO_SPEEDUP } else { exit::SLOWER };
    }
    let mut gates = Vec::new();
    for named in report.variants.iter().filter(|v| gated.contains(&v.name)) {
        // A variant that is the same build as another is judged on that one's figures.
        let j = judged(report, report.figures_of(named), on, metric);
        let shared = match &named.same_build_as {
            Some(other) => format!(" (the same build as `{other}`, measured as it)"),
            None => String::new(),
        };
        let gate = |name: &str, pct: f64, passed: bool, detail: String| Gate {
            name: name.into(),
            on: on_key.clone(),
            threshold_pct: pct,
            variant: named.name.clone(),
            passed,
            detail: format!("{detail}{shared}"),
        };
        if let Some(pct) = args.fail_if_slower {
            let limit = 1.0 + pct / 100.0;
            let worse: Vec<String> = j
                .workloads
                .iter()
                .filter(|(_, t)| t.verdict == Verdict::Slower && t.ratio_ci_low > limit)
                .map(|(n, t)| format!("{n} ({:.3}×, interval {:.3}–{:.3})", t.ratio, t.ratio_ci_low, t.ratio_ci_high))
                .collect();
            let (passed, detail) = if j.workloads.is_empty() {
                (false, format!("nothing was measured to judge {on_key}"))
            } else if worse.is_empty() {
                (true, format!("no workload is {} than the baseline by more than {pct}%{}", j.worse, j.confidence))
            } else {
                (
                    false,
                    format!("{} than the baseline by more than {pct}%{}: {}", j.worse, j.confidence, worse.join(", ")),
                )
            };
            if !passed && code == 0 {
                code = exit::SLOWER;
            }
            gates.push(gate("fail-if-slower", pct, passed, detail));
        }
        if let Some(pct) = args.require_speedup {
            let limit = 1.0 - pct / 100.0;
            let (passed, detail) = match &j.geomean {
                Some(g) if g.ratio_ci_high <= limit && g.verdict == Verdict::Faster => (
                    true,
                    format!(
                        "geometric mean {:.3}× (interval {:.3}–{:.3}) is at least {pct}% {}",
                        g.ratio, g.ratio_ci_low, g.ratio_ci_high, j.better
                    ),
                ),
                Some(g) => (
                    false,
                    format!(
                        "geometric mean {:.3}× (interval {:.3}–{:.3}) is not shown to be {pct}% {} (the whole \
                         interval must be at or below {limit:.3})",
                        g.ratio, g.ratio_ci_low, g.ratio_ci_high, j.better
                    ),
                ),
                None => (false, format!("no geometric mean of {on_key} was measured")),
            };
            if !passed && code == 0 {
                code = exit::NO_SPEEDUP;
            }
            gates.push(gate("require-speedup", pct, passed, detail));
        }
    }
    report.gates.extend(gates);
    code
}
