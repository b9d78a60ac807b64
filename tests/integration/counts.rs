//! `compare --counts` on a real tiny project under the real counter (cachegrind
//! here: this machine's perf cannot read hardware counters): counts repeat
//! exactly, a build that does half the work counts half the instructions, the
//! processes of one workload are summed, the CI checks judge counts with the
//! time checks' exit codes, the budget cuts counting short and says so, and a
//! counter that cannot work is refused before anything is built.

use serde_json::Value;

use crate::utils::{TestProject, stderr, stdout};

/// The fixture's program does its loop twice when built with debug assertions:
/// the `checked` profile does strictly more work than `release`.
const MAIN: &str = r#"
fn classify(n: u64) -> u64 {
    match n % 7 {
        0 => n / 7,
        1 | 2 => n * 3 + 1,
        3 => n ^ 0x55,
        _ => n.rotate_left(3),
    }
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(classify(std::hint::black_box(i)));
    }
    if cfg!(debug_assertions) {
        for i in 0..n {
            acc = acc.wrapping_add(classify(std::hint::black_box(i ^ 1)));
        }
    }
    println!("{acc}");
}
"#;

const MANIFEST: &str = r#"[package]
name = "fixture"
version = "0.1.0"
edition = "2021"

[workspace]

[profile.checked]
inherits = "release"
debug-assertions = true
"#;

/// `once` runs the binary once; `thrice` runs it three times from a shell loop.
const CONFIG: &str = r#"[[workload]]
name = "once"
run = "\"$PGO_BUILD_BIN\" 200000 > /dev/null"
use = ["bench"]

[[workload]]
name = "thrice"
run = "for i in 1 2 3; do \"$PGO_BUILD_BIN\" 200000 > /dev/null; done"
use = ["bench"]
"#;

fn project(config_extra: &str) -> TestProject {
    let p = TestProject::empty();
    p.file("Cargo.toml", MANIFEST);
    p.file("src/main.rs", MAIN);
    p.file("pgo-build.toml", &format!("{config_extra}{CONFIG}"));
    p
}

fn report(p: &TestProject) -> Value {
    let text = std::fs::read_to_string(p.pgo_dir().join("report/report.json")).expect("report.json exists");
    serde_json::from_str(&text).expect("report.json parses")
}

/// Whether this machine's perf can count instructions (it cannot on the VMs the
/// project's CI runs on; the tests check whichever is true).
fn perf_counts() -> bool {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("probe");
    let ran = std::process::Command::new("perf")
        .args(["stat", "-x", ",", "-e", "instructions:u", "-o"])
        .arg(&out)
        .args(["--", "true"])
        .output();
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    ran.is_ok_and(|o| o.status.success())
        && text.lines().any(|l| l.split(',').next().is_some_and(|v| v.parse::<u64>().is_ok()))
}

/// The counted figure of `workload` for the variant at `v`.
fn counted(r: &Value, v: usize, workload: &str, key: &str) -> u64 {
    let ws = r["variants"][v]["counts"]["workloads"].as_array().unwrap_or_else(|| panic!("no counts: {r}"));
    let w = ws.iter().find(|w| w["name"] == workload).unwrap_or_else(|| panic!("{workload} not counted"));
    w[key].as_u64().unwrap_or_else(|| panic!("{key} missing: {w}"))
}

const BASE: [&str; 10] =
    ["compare", "--baseline", "checked", "--variants", "release", "--rounds", "1", "--warmup", "0", "--startup-args"];

#[test]
fn counts_repeat_exactly_sum_processes_and_see_a_build_doing_less_work() {
    let p = project("");
    let mut args = BASE.to_vec();
    args.extend(["", "--counts", "--counter", "cachegrind"]);
    let out = p.run(&args);
    let r = report(&p);
    assert_eq!(r["schema_version"], 3);
    let m = &r["counts"];
    assert_eq!(m["counter"], "cachegrind", "{m}");
    assert!(m["tool"].as_str().unwrap().starts_with("valgrind-"), "{m}");
    assert_eq!((m["runs"].as_u64(), m["planned_runs"].as_u64()), (Some(6), Some(6)), "{m}");
    assert!(m["stopped"].is_null(), "{m}");
    // The baseline counted twice: identical, every figure.
    let repeat = m["repeat"].as_array().unwrap();
    assert_eq!(repeat.len(), 2, "{m}");
    assert!(repeat.iter().all(|x| x["difference"] == 0.0 && x["figure"].is_null()), "{m}");

    // Every process of the binary under test counted, none of the shell's.
    assert_eq!(counted(&r, 0, "once", "processes"), 1);
    assert_eq!(counted(&r, 0, "thrice", "processes"), 3);
    let (once, thrice) = (counted(&r, 0, "once", "instructions"), counted(&r, 0, "thrice", "instructions"));
    let ratio = thrice as f64 / (3 * once) as f64;
    assert!((ratio - 1.0).abs() < 0.005, "three runs count three times one: {thrice} vs 3 × {once}");

    // `release` skips the second loop: about half the instructions, counted fewer.
    let pgo = &r["variants"][1]["counts"];
    let g = pgo["geomean"].as_array().unwrap().iter().find(|g| g["figure"] == "instructions").unwrap();
    let q = g["ratio"].as_f64().unwrap();
    assert!((0.4..0.6).contains(&q), "{g}");
    assert_eq!(g["verdict"], "faster", "{g}");
    assert_eq!(g["ratio_ci_low"], g["ratio_ci_high"], "identical repeats make the interval a point: {g}");
    for key in ["estimated_cycles", "i1_misses", "ll_misses", "branch_mispredicts"] {
        assert!(counted(&r, 1, "once", key) > 0, "{key}");
    }

    let md = std::fs::read_to_string(p.pgo_dir().join("report/report.md")).expect("report.md");
    assert!(md.contains("### Counts (cachegrind)"), "{md}");
    assert!(md.contains("The baseline, counted a second time, gave identical figures on every workload."), "{md}");
    assert!(md.contains("Counts are not time"), "{md}");
    assert!(stdout(&out).contains("counted by cachegrind: release: instructions 0."), "{}", stdout(&out));
    assert!(stderr(&out).contains("counting once with baseline under cachegrind"), "{}", stderr(&out));

    // Counted again in a second run: the very same figures.
    p.run(&args);
    let again = report(&p);
    for (v, w) in [(0, "once"), (0, "thrice"), (1, "once"), (1, "thrice")] {
        for key in ["instructions", "estimated_cycles", "i1_misses", "branch_mispredicts"] {
            assert_eq!(counted(&r, v, w, key), counted(&again, v, w, key), "{key} of {w}, variant {v}");
        }
    }
}

#[test]
fn the_ci_checks_judge_a_count_with_the_time_checks_exit_codes() {
    // `counts = true` and the counter from the config; --gate-on needs no --counts.
    let p = project("counts = true\ncounter = \"cachegrind\"\n");
    let mut args = BASE.to_vec();
    args.extend(["", "--gate", "release", "--gate-on", "instructions"]);

    let mut pass = args.clone();
    pass.extend(["--require-speedup", "30"]);
    p.run(&pass);
    let r = report(&p);
    assert_eq!(r["gates"][0]["on"], "instructions");
    assert_eq!(r["gates"][0]["passed"], true, "{}", r["gates"]);

    let mut more = args.clone();
    more.extend(["--require-speedup", "60"]);
    let out = p.fail(&more);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not shown to be 60% fewer instructions"), "{}", stderr(&out));

    // The other way round: `checked` counts about twice the instructions of `release`.
    let out = p.fail(&[
        "compare",
        "--baseline",
        "release",
        "--variants",
        "checked",
        "--rounds",
        "1",
        "--warmup",
        "0",
        "--startup-args",
        "",
        "--gate-on",
        "instructions",
        "--fail-if-slower",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--fail-if-slower 10: more instructions than the baseline by more than 10%: once (1.9"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_budget_cuts_counting_short_and_the_report_says_so() {
    let p = project("");
    let mut args = BASE.to_vec();
    args.extend(["", "--counts", "--counter", "cachegrind", "--budget", "1ms"]);
    let out = p.run(&args);
    let r = report(&p);
    assert_eq!(r["complete"], true);
    let stopped = r["counts"]["stopped"].as_str().unwrap_or_else(|| panic!("not stopped: {}", r["counts"]));
    // Foreseen from a plain run: not even the first counted run is started.
    assert!(stopped.starts_with("0 of 6 counted runs made: a counted run of `once` would take about"), "{stopped}");
    assert!(stopped.contains("(a plain run took"), "{stopped}");
    assert!(stopped.contains("of the 1ms budget is left"), "{stopped}");
    assert_eq!(r["counts"]["runs"], 0);
    assert!(r["variants"][1]["counts"].is_null(), "release was not counted: {}", r["variants"][1]);
    assert!(stdout(&out).contains("counting stopped early: 0 of 6 counted runs made"), "{}", stdout(&out));
    assert!(stderr(&out).contains("runs, each once): about"), "the cost is told first: {}", stderr(&out));
    let md = std::fs::read_to_string(p.pgo_dir().join("report/report.md")).expect("report.md");
    assert!(md.contains("**Counting stopped early:**"), "{md}");
    let status = stdout(&p.run(&["status"]));
    assert!(status.contains("complete (counting stopped early, 0 of 6 counted runs)"), "{status}");
}

#[test]
fn a_workload_that_never_runs_the_binary_under_test_is_named() {
    let p = project("");
    p.file("pgo-build.toml", "[[workload]]\nname = \"elsewhere\"\nrun = \"true\"\nuse = [\"bench\"]\n");
    let mut args = BASE.to_vec();
    args.extend(["", "--counts", "--counter", "cachegrind"]);
    let err = stderr(&p.fail(&args));
    assert!(err.contains("workload `elsewhere` with the baseline binary under cachegrind"), "{err}");
    assert!(err.contains("no process of the binary under test was counted"), "{err}");
    assert!(err.contains("\"$PGO_BUILD_BIN\""), "{err}");
}

#[test]
fn perf_is_used_only_where_it_can_count_and_refused_before_building_otherwise() {
    let p = project("");
    let mut args = BASE.to_vec();
    args.extend(["", "--counts", "--counter", "perf"]);
    if perf_counts() {
        p.run(&args);
        assert_eq!(report(&p)["counts"]["counter"], "perf");
        return;
    }
    let err = stderr(&p.fail(&args));
    assert!(err.contains("--counter perf: "), "{err}");
    assert!(err.contains("use --counter cachegrind (or auto)"), "{err}");
    assert!(!p.pgo_dir().join("build").exists(), "nothing is built before the counter is known to work");
    // `all` asks before its first build too.
    p.file(
        "pgo-build.toml",
        &format!("{CONFIG}[[workload]]\nname = \"t\"\nrun = \"$PGO_BUILD_BIN\"\nuse = [\"train\"]\n"),
    );
    let err = stderr(&p.fail(&["all", "--counts", "--counter", "perf"]));
    assert!(err.contains("--counter perf: "), "{err}");
    assert!(!p.pgo_dir().join("build").exists(), "`all` built before finding the counter unusable");
    p.file("pgo-build.toml", CONFIG);
    // auto falls back to cachegrind and says why.
    let mut auto = BASE.to_vec();
    auto.extend(["", "--counts"]);
    let out = p.run(&auto);
    assert_eq!(report(&p)["counts"]["counter"], "cachegrind");
    assert!(report(&p)["counts"]["why"].as_str().unwrap().contains("so cachegrind simulates the machine"));
    assert!(stderr(&out).contains("counting with cachegrind"), "{}", stderr(&out));
}
