//! The report's formats from one fixture: a hand-made record with every section
//! (a same build, an unmeasured variant, workload figures, counts, BOLT against
//! PGO, a CI check), its view rendered in each format and snapshotted.

mod html;

use std::collections::BTreeMap;

pub use self::html::screenshot;
use crate::measure::Stop;
use crate::measure::counter::{Counter, CounterKind, Counts, Figure};
use crate::measure::stats::Verdict;
use crate::report::record::*;
use crate::workload::metrics::Better;

pub fn timing(name: &str, median: f64, ratio: f64, verdict: Verdict) -> Timing {
    Timing {
        name: name.to_string(),
        runs: 12,
        median_s: median,
        ci_low_s: median * 0.97,
        ci_high_s: median * 1.04,
        ratio,
        ratio_ci_low: ratio - 0.02,
        ratio_ci_high: ratio + 0.02,
        verdict,
        metrics: Vec::new(),
    }
}

pub fn variant(name: &str, speed: f64, verdict: Verdict) -> VariantReport {
    VariantReport {
        name: name.to_string(),
        description: format!("the {name} build"),
        same_build_as: None,
        build: BuildInfo {
            origin: "built".into(),
            cargo_profile: "release".into(),
            cargo_config: vec!["profile.release.lto=\"fat\"".into()],
            rustflags: vec!["-Cprofile-use=/tmp/merged.profdata".into()],
            post: vec![],
        },
        binaries: vec![BinaryInfo { name: "demo".into(), size_bytes: 2_400_000 }],
        size_bytes: 2_400_000,
        size_ratio: Some(1.0 + (1.0 - speed) / 4.0),
        startup: Some(timing("startup", 0.0021 * speed, speed, verdict)),
        workloads: vec![
            timing("parse <script>alert(1)</script>", 0.84 * speed, speed, verdict),
            timing("render", 1.6 * speed, speed, verdict),
        ],
        geomean: Some(Ratio { ratio: speed, ratio_ci_low: speed - 0.02, ratio_ci_high: speed + 0.02, verdict }),
        build_times: Some(BuildTimes { cold_s: 41.0, warm_s: 3.2 }),
        counts: None,
    }
}

/// A measured report: the baseline, three measured variants, one not measured.
pub fn sample() -> Report {
    let mut unmeasured = variant("preset-size", 1.0, Verdict::NoClearDifference);
    unmeasured.startup = None;
    unmeasured.workloads = vec![];
    unmeasured.geomean = None;
    unmeasured.build_times = None;
    let mut tools = BTreeMap::new();
    tools.insert("llvm-profdata".to_string(), "LLVM version 20.1.8".to_string());
    Report {
        schema_version: 2,
        tool: "pgo-build 0.1.0".into(),
        generated_unix: 1_780_000_000,
        complete: true,
        error: None,
        project: ProjectInfo { package: "demo".into(), binaries: vec!["demo".into()], profile: "release".into() },
        environment: Environment {
            rustc: "rustc 1.95.0".into(),
            llvm: "LLVM 20.1.8".into(),
            host: "x86_64-unknown-linux-gnu".into(),
            target: None,
            cpu: "Example CPU".into(),
            cores: 2,
            os: "Debian 12".into(),
            tools,
        },
        method: Method {
            confidence: 0.95,
            warmup_rounds: 1,
            min_rounds: 6,
            max_rounds: 200,
            target_precision: 0.01,
            budget_s: 600.0,
            noise_threshold: 0.01,
            rounds: 12,
            stop: Stop::Precise,
            achieved_precision: Some(0.009),
            startup_args: Some(vec!["--version".into()]),
        },
        baseline: "lto".into(),
        workloads: vec![
            WorkloadInfo { name: "parse <script>alert(1)</script>".into(), trained_on: false },
            WorkloadInfo { name: "render".into(), trained_on: true },
        ],
        variants: vec![
            variant("lto", 1.0, Verdict::NoClearDifference),
            variant("pgo", 0.81, Verdict::Faster),
            variant("pgo+bolt", 0.74, Verdict::Faster),
            unmeasured,
            variant("preset-fast", 1.06, Verdict::Slower),
        ],
        bolt_vs_pgo: None,
        counts: None,
        gates: vec![Gate {
            name: "fail-if-slower".into(),
            on: "time".into(),
            threshold_pct: 2.0,
            variant: "pgo+bolt".into(),
            passed: true,
            detail: "no workload is slower".into(),
        }],
    }
}

/// The sample with everything the report can hold: a figure a workload
/// reports, counts, BOLT against PGO, and a variant that is the same build as
/// the baseline.
pub fn fixture() -> Report {
    let mut r = sample();
    for (v, rate) in r.variants.iter_mut().zip([41_200.0, 45_100.0, 44_900.0, 45_000.0]) {
        if let Some(t) = v.workloads.get_mut(1) {
            let ratio = rate / 41_200.0;
            let verdict = if ratio > 1.01 { MetricVerdict::Better } else { MetricVerdict::NoClearDifference };
            t.metrics.push(MetricReport {
                name: "requests".into(),
                unit: "req/s".into(),
                better: Better::Higher,
                runs: 12,
                median: rate,
                ci_low: rate * 0.99,
                ci_high: rate * 1.01,
                ratio,
                ratio_ci_low: ratio - 0.01,
                ratio_ci_high: ratio + 0.01,
                verdict,
            });
        }
    }
    let counter = Counter {
        kind: CounterKind::Cachegrind,
        program: "/usr/bin/valgrind".into(),
        version: "valgrind-3.19.0".into(),
        why: "perf stat cannot read the hardware counters here".into(),
    };
    let mut method = CountsMethod::new(&counter, 8);
    method.runs = 8;
    method.repeat = r
        .workloads
        .iter()
        .map(|w| Repeat { workload: w.name.clone(), difference: 0.0, figure: None, instructions: 0.0 })
        .collect();
    r.counts = Some(method);
    let ratio = |ratio: f64, verdict| Ratio { ratio, ratio_ci_low: ratio, ratio_ci_high: ratio, verdict };
    for (v, factor) in r.variants.iter_mut().zip([1.0, 0.86, 0.85]) {
        let figures = |n: u64| Counts {
            processes: 1,
            instructions: n,
            cycles: None,
            i1_misses: Some(n / 2000),
            ll_misses: Some(n / 50_000),
            branch_mispredicts: Some(n / 250),
            estimated_cycles: Some(n + n / 400 + n / 1400 + n / 25),
        };
        let judged = if factor < 1.0 { Verdict::Faster } else { Verdict::NoClearDifference };
        let workloads: Vec<WorkloadCounts> = r_workloads()
            .iter()
            .zip([1_000_000_000u64, 400_000_000])
            .map(|(w, n)| WorkloadCounts {
                name: w.to_string(),
                counts: figures((n as f64 * factor) as u64),
                ratios: [Figure::Instructions, Figure::EstimatedCycles]
                    .into_iter()
                    .map(|f| FigureRatio { figure: f, ratio: ratio(factor, judged) })
                    .collect(),
            })
            .collect();
        let geomean = [Figure::Instructions, Figure::EstimatedCycles]
            .into_iter()
            .map(|f| FigureRatio { figure: f, ratio: ratio(factor, judged) })
            .collect();
        v.counts = Some(VariantCounts { workloads, geomean });
    }
    let near =
        |ratio: f64, verdict| Ratio { ratio, ratio_ci_low: ratio - 0.087, ratio_ci_high: ratio + 0.034, verdict };
    r.bolt_vs_pgo = Some(BoltVsPgo {
        workloads: r_workloads()
            .iter()
            .map(|w| NamedRatio { name: w.to_string(), ratio: near(0.965, Verdict::NoClearDifference) })
            .collect(),
        geomean: near(0.965, Verdict::NoClearDifference),
        verdict: Verdict::NoClearDifference,
        keep_bolt_asked: false,
        keep_bolt: false,
        delivered: crate::state::Shipped::Pgo,
        reason: "no clear difference: 0.965×, but its interval 0.878–0.999 reaches into the ±1% noise band".into(),
    });
    let mut same = variant("release", 1.0, Verdict::NoClearDifference);
    same.same_build_as = Some("lto".into());
    (same.startup, same.workloads, same.geomean, same.build_times) = (None, Vec::new(), None, None);
    r.variants.push(same);
    for (v, size) in r.variants.iter_mut().zip([2_400_000, 2_460_000, 2_650_000, 2_100_000, 2_380_000, 2_400_000]) {
        (v.size_bytes, v.binaries[0].size_bytes) = (size, size);
    }
    r.set_size_ratios();
    r
}

fn r_workloads() -> [&'static str; 2] {
    ["parse <script>alert(1)</script>", "render"]
}

/// Issue 18: the terminal printed `855.4 ms (0.996×≈)` beside a baseline of
/// 799.7 ms, with no interval and no word on what the ratio is (a median of
/// ratios paired by round, not the ratio of the two medians).
#[test]
fn the_terminal_gives_each_ratio_its_interval_and_says_what_a_ratio_is() {
    let t = crate::report::terminal(&sample());
    assert!(t.contains("680.4 ms (0.810× [0.790–0.830] ↓)"), "{t}");
    assert!(t.contains("0.740× [0.720–0.760] 26.0% faster"), "{t}");
    let note = "Ratios are to the baseline, paired by round (not the ratio of the medians); [low–high] is the 95% \
                interval; ↓ faster, ↑ slower only when the whole interval is beyond ±1% of 1, else ≈.\n12 rounds;";
    assert!(t.contains(note), "{t}");
    let mut r = sample();
    r.method.rounds = 0;
    assert!(!crate::report::terminal(&r).contains("Ratios are"), "no ratios, no word on them");
}

#[test]
fn terminal_snapshot() {
    insta::assert_snapshot!(crate::report::terminal(&fixture()));
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(crate::report::markdown(&fixture()));
}

#[test]
fn html_snapshot() {
    insta::assert_snapshot!(crate::report::page(&fixture()));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(crate::report::json::render(&fixture()).expect("serializes"));
}
