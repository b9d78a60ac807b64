//! The CI checks of `compare`: `--fail-if-slower` and `--require-speedup`,
//! judged on the report's intervals, with exit codes of their own.

use super::CompareArgs;
use super::report::{Gate, Report};
use super::variants;
use crate::measure::stats::Verdict;

/// Exit codes of the CI checks (docs/compare.md).
pub mod exit {
    /// `--fail-if-slower`: a workload is slower than the baseline by more than the limit.
    pub const SLOWER: u8 = 3;
    /// `--require-speedup`: the geometric mean is not shown to be faster by the amount asked.
    pub const NO_SPEEDUP: u8 = 4;
}

/// Applies `--fail-if-slower` and `--require-speedup`; returns the exit code.
pub fn apply_gates(report: &mut Report, args: &CompareArgs) -> u8 {
    if args.fail_if_slower.is_none() && args.require_speedup.is_none() {
        return 0;
    }
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
        let v = report.figures_of(named);
        let shared = match &named.same_build_as {
            Some(other) => format!(" (the same build as `{other}`, measured as it)"),
            None => String::new(),
        };
        if let Some(pct) = args.fail_if_slower {
            let limit = 1.0 + pct / 100.0;
            let slow: Vec<String> = v
                .workloads
                .iter()
                .filter(|t| t.verdict == Verdict::Slower && t.ratio_ci_low > limit)
                .map(|t| format!("{} ({:.3}×, interval {:.3}–{:.3})", t.name, t.ratio, t.ratio_ci_low, t.ratio_ci_high))
                .collect();
            let passed = slow.is_empty();
            let detail = if passed {
                format!("no workload is slower than the baseline by more than {pct}% with confidence{shared}")
            } else {
                format!("slower than the baseline by more than {pct}% with confidence{shared}: {}", slow.join(", "))
            };
            if !passed && code == 0 {
                code = exit::SLOWER;
            }
            gates.push(Gate {
                name: "fail-if-slower".into(),
                threshold_pct: pct,
                variant: named.name.clone(),
                passed,
                detail,
            });
        }
        if let Some(pct) = args.require_speedup {
            let limit = 1.0 - pct / 100.0;
            let (passed, detail) = match &v.geomean {
                Some(g) if g.ratio_ci_high <= limit && g.verdict == Verdict::Faster => (
                    true,
                    format!(
                        "geometric mean {:.3}× (interval {:.3}–{:.3}) is at least {pct}% faster",
                        g.ratio, g.ratio_ci_low, g.ratio_ci_high
                    ),
                ),
                Some(g) => (
                    false,
                    format!(
                        "geometric mean {:.3}× (interval {:.3}–{:.3}) is not shown to be {pct}% faster (the whole \
                         interval must be at or below {limit:.3})",
                        g.ratio, g.ratio_ci_low, g.ratio_ci_high
                    ),
                ),
                None => (false, "no geometric mean was measured".to_string()),
            };
            let detail = format!("{detail}{shared}");
            if !passed && code == 0 {
                code = exit::NO_SPEEDUP;
            }
            gates.push(Gate {
                name: "require-speedup".into(),
                threshold_pct: pct,
                variant: named.name.clone(),
                passed,
                detail,
            });
        }
    }
    report.gates.extend(gates);
    code
}
