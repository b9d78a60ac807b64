//! Workload figures (`PGO_BUILD_METRICS`) in `compare`, on real runs: parsed and
//! summarized per variant, direction-aware (a throughput that drops is worse, a
//! latency that rises is worse), an A/A comparison that shows no clear
//! difference, a CI check on a figure, and a promised figure that is missing.

use serde_json::Value;

use crate::utils::{FIXTURE_MANIFEST, TestProject, stderr, stdout};

/// A benchmark workload that times the binary itself and reports a throughput
/// (higher is better) and its elapsed milliseconds (lower is better).
const SCRIPT: &str = r#"#!/bin/sh
set -eu
start=$(date +%s%N)
"$PGO_BUILD_BIN" 3000000 > /dev/null
end=$(date +%s%N)
ns=$((end - start))
echo "{\"name\": \"ops_per_s\", \"value\": $((3000000 * 1000000000 / ns)), \"unit\": \"op/s\", \"better\": \"higher\"}" >> "$PGO_BUILD_METRICS"
echo "{\"name\": \"elapsed_ms\", \"value\": $((ns / 1000)).0e-3, \"unit\": \"ms\", \"better\": \"lower\"}" >> "$PGO_BUILD_METRICS"
"#;

const CONFIG: &str = r#"[[workload]]
name = "short"
run = "$PGO_BUILD_BIN 200000 > /dev/null"
use = ["train"]

[[workload]]
name = "timed"
run = "workloads/timed.sh"
use = ["bench"]
metrics = ["ops_per_s", "elapsed_ms"]
"#;

fn project() -> TestProject {
    let p = TestProject::new();
    p.file("pgo-build.toml", CONFIG);
    p.script("workloads/timed.sh", SCRIPT);
    p.file(
        "Cargo.toml",
        &format!("{FIXTURE_MANIFEST}\n[profile.aa]\ninherits = \"release\"\nsplit-debuginfo = \"packed\"\n"),
    );
    p
}

fn report(p: &TestProject) -> Value {
    let text = std::fs::read_to_string(p.pgo_dir().join("report/report.json")).expect("report.json exists");
    serde_json::from_str(&text).expect("report.json parses")
}

fn figure<'a>(r: &'a Value, variant: usize, name: &str) -> &'a Value {
    let ms = r["variants"][variant]["workloads"][0]["metrics"].as_array().unwrap_or_else(|| panic!("no metrics: {r}"));
    ms.iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("no {name}: {ms:?}"))
}

#[test]
fn figures_are_judged_in_their_own_direction_and_can_gate() {
    let p = project();
    // `develop` is unoptimized: fewer operations per second and more milliseconds, both worse.
    let args = ["compare", "--baseline", "release", "--variants", "develop", "--rounds", "6", "--startup-args", ""];
    let out = p.run(&args);
    let r = report(&p);
    let ops = figure(&r, 1, "ops_per_s");
    assert_eq!(
        (ops["better"].as_str(), ops["unit"].as_str(), ops["runs"].as_u64()),
        (Some("higher"), Some("op/s"), Some(6))
    );
    assert!(ops["ratio"].as_f64().unwrap() < 0.5, "{ops}");
    assert_eq!(ops["verdict"], "worse", "fewer operations per second is worse: {ops}");
    let ms = figure(&r, 1, "elapsed_ms");
    assert!(ms["ratio"].as_f64().unwrap() > 2.0, "{ms}");
    assert_eq!(ms["verdict"], "worse", "more milliseconds is worse: {ms}");
    let md = std::fs::read_to_string(p.pgo_dir().join("report/report.md")).expect("report.md");
    assert!(md.contains("| timed ops_per_s |") && md.contains("% less (worse)"), "{md}");
    assert!(md.contains("### Workload figures"), "{md}");
    let html = std::fs::read_to_string(p.pgo_dir().join("report/report.html")).expect("report.html");
    assert!(
        html.contains("<h2>Workload figures</h2>") && html.contains("<strong>timed · ops_per_s</strong>"),
        "{html}"
    );
    assert!(stdout(&out).contains("ops_per_s"), "{}", stdout(&out));

    // A CI check on the figure.
    let mut gated = args.to_vec();
    gated.extend(["--gate", "develop", "--gate-metric", "ops_per_s", "--fail-if-slower", "10"]);
    let out = p.fail(&gated);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--fail-if-slower 10: worse in `ops_per_s` than the baseline by more than 10%"),
        "{}",
        stderr(&out)
    );
    assert_eq!(report(&p)["gates"][0]["on"], "metric:ops_per_s");
    let mut unknown = args.to_vec();
    unknown.extend(["--gate-metric", "nope", "--fail-if-slower", "10"]);
    assert!(stderr(&p.fail(&unknown)).contains("--gate-metric nope: no benchmark workload promises that figure"));
}

#[test]
fn an_a_a_comparison_of_a_figure_shows_no_clear_difference() {
    let p = project();
    p.run(&[
        "compare",
        "--baseline",
        "release",
        "--variants",
        "aa",
        "--rounds",
        "12",
        "--confidence",
        "0.999",
        "--startup-args",
        "",
    ]);
    let r = report(&p);
    for name in ["ops_per_s", "elapsed_ms"] {
        assert_eq!(figure(&r, 1, name)["verdict"], "no-clear-difference", "{}", figure(&r, 1, name));
    }
}

#[test]
fn a_promised_figure_that_is_missing_fails_the_workload_named() {
    let p = project();
    p.script("workloads/timed.sh", "#!/bin/sh\n\"$PGO_BUILD_BIN\" 1000 > /dev/null\n");
    let err = stderr(&p.fail(&[
        "compare",
        "--baseline",
        "release",
        "--variants",
        "aa",
        "--rounds",
        "1",
        "--startup-args",
        "",
    ]));
    assert!(
        err.contains(
            "workload `timed` promised the figures `ops_per_s`, `elapsed_ms` (`metrics` in its table) but wrote none"
        ),
        "{err}"
    );
    p.script("workloads/timed.sh", "#!/bin/sh\n\"$PGO_BUILD_BIN\" 1000 > /dev/null\necho '{\"name\": \"ops_per_s\", \"value\": 1}' >> \"$PGO_BUILD_METRICS\"\n");
    let err = stderr(&p.fail(&[
        "compare",
        "--baseline",
        "release",
        "--variants",
        "aa",
        "--rounds",
        "1",
        "--startup-args",
        "",
    ]));
    assert!(
        err.contains("wrote a bad figure to $PGO_BUILD_METRICS") && err.contains("line 1: missing field `better`"),
        "{err}"
    );
}
