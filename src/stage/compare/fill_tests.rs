//! The record filled from a deterministic run of the mock executor, and its
//! JSON (report.json) snapshotted: a PGO variant 20% faster, BOLT on top
//! of it 5% faster again, a `small` one slower, an A/A `release` variant that
//! must come out as no clear difference, and a `production` variant that is the
//! same build as the baseline (so built and measured once).

use std::collections::BTreeMap;

use crate::measure::stats::Verdict;
use crate::measure::{self, Plan, Stop, mock::Mock};
use crate::report::record::*;
use crate::report::{markdown, terminal};

fn variant(name: &str, size: u64) -> VariantReport {
    VariantReport {
        name: name.into(),
        description: format!("the {name} variant"),
        same_build_as: (name == "production").then(|| "baseline".to_string()),
        build: BuildInfo {
            origin: if name == "production" {
                "not built again: the same build as `baseline`".into()
            } else {
                "built by `pgo-build compare`".into()
            },
            cargo_profile: "release".into(),
            cargo_config: if name == "small" {
                vec!["profile.pgo-build-small.opt-level=\"s\"".into()]
            } else {
                Vec::new()
            },
            rustflags: if name.starts_with("pgo") { vec!["-Cprofile-use=<merged profile>".into()] } else { Vec::new() },
            post: Vec::new(),
        },
        binaries: vec![BinaryInfo { name: "demo".into(), size_bytes: size }],
        size_bytes: size,
        size_ratio: None,
        startup: None,
        workloads: Vec::new(),
        geomean: None,
        counts: None,
        build_times: match name {
            "production" => None,
            "pgo" => Some(BuildTimes { cold_s: 7.5, warm_s: 2.25 }),
            "pgo+bolt" => Some(BuildTimes { cold_s: 8.75, warm_s: 3.5 }),
            _ => Some(BuildTimes { cold_s: 6.25, warm_s: 1.5 }),
        },
    }
}

/// A report filled from 20 rounds of the mock: baseline, production (the same
/// build as the baseline, not measured), release (A/A), pgo, pgo+bolt, small.
pub fn sample() -> Report {
    let plan = Plan {
        variants: 5,
        workloads: 3,
        gated: vec![true, true, false],
        baseline: 0,
        warmup: 1,
        min_rounds: 20,
        max_rounds: 20,
        target: 0.01,
        budget_s: 300.0,
        confidence: 0.95,
        noise: 0.01,
    };
    let factors = vec![
        vec![1.0, 1.0, 1.0],
        vec![1.0, 1.0, 1.0],
        vec![0.8, 0.78, 1.0],
        vec![0.76, 0.74, 0.98],
        vec![1.3, 1.25, 0.95],
    ];
    let mut mock = Mock::new(11, vec![0.8, 0.5, 0.0012], factors, 0.02);
    let samples = measure::run(&plan, &mut mock, |_| {}).expect("the mock measures");
    let mut r = Report {
        schema_version: SCHEMA_VERSION,
        tool: "pgo-build 0.0.0-test".into(),
        generated_unix: 0,
        complete: true,
        error: None,
        project: ProjectInfo { package: "demo".into(), binaries: vec!["demo".into()], profile: "release".into() },
        environment: Environment {
            rustc: "rustc 1.95.0".into(),
            llvm: "LLVM 22.1.0".into(),
            host: "x86_64-unknown-linux-gnu".into(),
            target: None,
            cpu: "Test CPU".into(),
            cores: 2,
            os: "Linux".into(),
            tools: BTreeMap::from([("cargo".to_string(), "cargo 1.95.0".to_string())]),
        },
        method: Method {
            confidence: 0.95,
            warmup_rounds: 1,
            min_rounds: 20,
            max_rounds: 20,
            target_precision: 0.01,
            budget_s: 300.0,
            noise_threshold: 0.01,
            rounds: 0,
            stop: Stop::Running,
            achieved_precision: None,
            startup_args: Some(vec!["--version".into()]),
        },
        baseline: "baseline".into(),
        workloads: vec![
            WorkloadInfo { name: "puzzles".into(), trained_on: false },
            WorkloadInfo { name: "calc".into(), trained_on: true },
        ],
        variants: vec![
            variant("baseline", 580_000),
            variant("production", 580_000),
            variant("release", 580_000),
            variant("pgo", 594_000),
            variant("pgo+bolt", 655_000),
            variant("small", 530_000),
        ],
        bolt_vs_pgo: None,
        counts: None,
        gates: vec![Gate {
            name: "fail-if-slower".into(),
            on: "time".into(),
            threshold_pct: 5.0,
            variant: "pgo".into(),
            passed: true,
            detail: "no workload is slower than the baseline by more than 5% with confidence".into(),
        }],
    };
    r.set_size_ratios();
    r.fill(&plan, &samples, false);
    r
}

#[test]
fn the_a_a_variant_shows_no_difference_and_pgo_is_faster() {
    let r = sample();
    let release = &r.variants[2];
    assert!(release.workloads.iter().all(|t| t.verdict == Verdict::NoClearDifference));
    assert_eq!(release.geomean.as_ref().map(|g| g.verdict), Some(Verdict::NoClearDifference));
    let pgo = &r.variants[3];
    assert!(pgo.workloads.iter().all(|t| t.verdict == Verdict::Faster), "{:?}", pgo.workloads);
    assert_eq!(r.variants[5].geomean.as_ref().map(|g| g.verdict), Some(Verdict::Slower));
    for t in r.variants.iter().flat_map(|v| &v.workloads) {
        assert!(t.ci_low_s <= t.median_s && t.median_s <= t.ci_high_s, "{t:?}");
        assert!(t.ratio_ci_low <= t.ratio && t.ratio <= t.ratio_ci_high, "{t:?}");
    }
}

#[test]
fn the_same_build_has_no_figures_of_its_own() {
    let r = sample();
    let production = &r.variants[1];
    assert_eq!(production.same_build_as.as_deref(), Some("baseline"));
    assert!(production.workloads.is_empty() && production.geomean.is_none() && production.startup.is_none());
    assert_eq!(r.measured_indices(), [Some(0), None, Some(1), Some(2), Some(3), Some(4)]);
    assert_eq!(r.figures_of(production).name, "baseline");
    let md = markdown(&r);
    assert!(
        md.contains("| **production** | 566.4 KiB (+0.0%) | — | — | — | same build as **baseline** | — | — |"),
        "{md}"
    );
    assert!(terminal(&r).contains("same build as baseline"), "{}", terminal(&r));
}

#[test]
fn bolt_against_pgo_is_reported_and_decided() {
    let r = sample();
    let b = r.bolt_vs_pgo.as_ref().expect("pgo and pgo+bolt are measured");
    assert_eq!((b.verdict, b.keep_bolt, b.delivered.name()), (Verdict::Faster, true, "pgo+bolt"));
    assert_eq!(b.workloads.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(), ["puzzles", "calc"]);
    assert!((b.geomean.ratio - 0.95).abs() < 0.01, "{b:?}");
    assert!(markdown(&r).contains("\n**Decision: ship pgo+bolt** — because pgo+bolt is "), "{}", markdown(&r));
    assert!(terminal(&r).contains("\npgo+bolt vs pgo: ship pgo+bolt — because "), "{}", terminal(&r));
}

#[test]
fn json_snapshot() {
    let json = serde_json::to_string_pretty(&sample()).expect("serializes");
    insta::assert_snapshot!(json);
}

#[test]
fn json_has_the_documented_fields() {
    let v: serde_json::Value = serde_json::to_value(sample()).expect("serializes");
    assert_eq!(v["schema_version"], 3);
    let w = &v["variants"][3]["workloads"][0];
    for key in ["name", "median_s", "ci_low_s", "ci_high_s", "ratio", "ratio_ci_low", "ratio_ci_high", "verdict"] {
        assert!(!w[key].is_null(), "variants[].workloads[].{key} missing: {w}");
    }
    assert_eq!(v["variants"][3]["name"], "pgo");
    assert!(v["variants"][3]["size_bytes"].is_u64());
    assert_eq!(w["verdict"], "faster");
    assert_eq!(v["variants"][1]["same_build_as"], "baseline");
    assert!(v["variants"][3]["same_build_as"].is_null());
    let b = &v["bolt_vs_pgo"];
    for key in ["workloads", "geomean", "verdict", "keep_bolt_asked", "keep_bolt", "delivered", "reason"] {
        assert!(!b[key].is_null(), "bolt_vs_pgo.{key} missing: {b}");
    }
    for key in ["name", "ratio", "ratio_ci_low", "ratio_ci_high", "verdict"] {
        assert!(!b["workloads"][0][key].is_null(), "bolt_vs_pgo.workloads[].{key} missing: {b}");
    }
}
