//! The report's Markdown and JSON, snapshotted from a deterministic run of the
//! mock executor: a PGO variant 20% faster, a `small` one slower, and an A/A
//! `release` variant that must come out as no clear difference.

use super::*;
use crate::measure::{self, mock::Mock};

fn variant(name: &str, size: u64) -> VariantReport {
    VariantReport {
        name: name.into(),
        description: format!("the {name} variant"),
        build: BuildInfo {
            origin: "built by `pgo-build compare`".into(),
            cargo_profile: "release".into(),
            cargo_config: if name == "small" {
                vec!["profile.pgo-build-small.opt-level=\"s\"".into()]
            } else {
                Vec::new()
            },
            rustflags: if name == "pgo" { vec!["-Cprofile-use=<merged profile>".into()] } else { Vec::new() },
            post: Vec::new(),
        },
        binaries: vec![BinaryInfo { name: "demo".into(), size_bytes: size }],
        size_bytes: size,
        size_ratio: None,
        startup: None,
        workloads: Vec::new(),
        geomean: None,
        build_times: (name != "pgo").then_some(BuildTimes { cold_s: 6.25, warm_s: 1.5 }),
    }
}

/// A report filled from 20 rounds of the mock: baseline, release (A/A), pgo, small.
pub fn sample() -> Report {
    let plan = Plan {
        variants: 4,
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
    let factors = vec![vec![1.0, 1.0, 1.0], vec![1.0, 1.0, 1.0], vec![0.8, 0.78, 1.0], vec![1.3, 1.25, 0.95]];
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
            variant("release", 580_000),
            variant("pgo", 594_000),
            variant("small", 530_000),
        ],
        gates: vec![Gate {
            name: "fail-if-slower".into(),
            threshold_pct: 5.0,
            variant: "pgo".into(),
            passed: true,
            detail: "no workload is slower than the baseline by more than 5% with confidence".into(),
        }],
    };
    r.set_size_ratios();
    r.fill(&plan, &samples);
    r
}

#[test]
fn the_a_a_variant_shows_no_difference_and_pgo_is_faster() {
    let r = sample();
    let release = &r.variants[1];
    assert!(release.workloads.iter().all(|t| t.verdict == Verdict::NoClearDifference));
    assert_eq!(release.geomean.as_ref().map(|g| g.verdict), Some(Verdict::NoClearDifference));
    let pgo = &r.variants[2];
    assert!(pgo.workloads.iter().all(|t| t.verdict == Verdict::Faster), "{:?}", pgo.workloads);
    assert_eq!(r.variants[3].geomean.as_ref().map(|g| g.verdict), Some(Verdict::Slower));
    for t in r.variants.iter().flat_map(|v| &v.workloads) {
        assert!(t.ci_low_s <= t.median_s && t.median_s <= t.ci_high_s, "{t:?}");
        assert!(t.ratio_ci_low <= t.ratio && t.ratio <= t.ratio_ci_high, "{t:?}");
    }
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(markdown(&sample()));
}

#[test]
fn json_snapshot() {
    let json = serde_json::to_string_pretty(&sample()).expect("serializes");
    insta::assert_snapshot!(json);
}

#[test]
fn json_has_the_documented_fields() {
    let v: serde_json::Value = serde_json::to_value(sample()).expect("serializes");
    assert_eq!(v["schema_version"], 1);
    let w = &v["variants"][2]["workloads"][0];
    for key in ["name", "median_s", "ci_low_s", "ci_high_s", "ratio", "ratio_ci_low", "ratio_ci_high", "verdict"] {
        assert!(!w[key].is_null(), "variants[].workloads[].{key} missing: {w}");
    }
    assert_eq!(v["variants"][2]["name"], "pgo");
    assert!(v["variants"][2]["size_bytes"].is_u64());
    assert_eq!(w["verdict"], "faster");
}
