//! `compare` on a real tiny project: the variants, the reports, the statistics on
//! real runs (an A/A comparison), presets through `--config`, the CI checks'
//! exit codes, build times, and a failure part-way that keeps the report so far.

use serde_json::Value;

use crate::utils::{TestProject, stderr, stdout};

fn report(p: &TestProject) -> Value {
    let text = std::fs::read_to_string(p.pgo_dir().join("report/report.json")).expect("report.json exists");
    serde_json::from_str(&text).expect("report.json parses")
}

fn names(report: &Value) -> Vec<String> {
    report["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|v| v["name"].as_str().expect("a name").to_string())
        .collect()
}

#[test]
fn all_ends_with_a_report_in_three_formats() {
    let p = TestProject::new();
    let manifest = std::fs::read_to_string(p.path().join("Cargo.toml")).unwrap();
    let out = p.run(&["all", "--rounds", "3", "--warmup", "0"]);
    let table = stdout(&out);
    assert!(table.contains("baseline (base)") && table.contains("pgo "), "{table}");
    assert!(table.contains("3 rounds; the round limit (3) was reached"), "{table}");

    let r = report(&p);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["complete"], true);
    assert_eq!(names(&r), ["baseline", "release", "pgo"]);
    assert_eq!(r["baseline"], "baseline");
    assert_eq!(r["method"]["rounds"], 3);
    assert_eq!(r["method"]["startup_args"][0], "--version");
    for v in r["variants"].as_array().unwrap() {
        assert!(v["size_bytes"].as_u64().unwrap() > 10_000, "{v}");
        let w = &v["workloads"][0];
        assert_eq!(w["name"], "long");
        assert_eq!(w["runs"], 3);
        let (lo, m, hi) =
            (w["ci_low_s"].as_f64().unwrap(), w["median_s"].as_f64().unwrap(), w["ci_high_s"].as_f64().unwrap());
        assert!(0.0 < lo && lo <= m && m <= hi, "{w}");
        let verdict = w["verdict"].as_str().unwrap();
        assert!(["faster", "slower", "no-clear-difference"].contains(&verdict), "{w}");
        // Three rounds are too few for a 95% interval: no verdict may claim anything.
        assert_eq!(verdict, "no-clear-difference", "{w}");
        assert!(v["startup"]["median_s"].as_f64().unwrap() > 0.0, "{v}");
    }
    // The baseline is the production preset, applied through --config.
    let base = &r["variants"][0]["build"];
    assert_eq!(base["cargo_profile"], "pgo-build-production");
    assert!(base["cargo_config"].to_string().contains("panic=\\\"abort\\\""), "{base}");
    assert_eq!(std::fs::read_to_string(p.path().join("Cargo.toml")).unwrap(), manifest, "Cargo.toml untouched");

    let md = std::fs::read_to_string(p.pgo_dir().join("report/report.md")).unwrap();
    assert!(md.contains("| variant | size | startup | long | geometric mean |"), "{md}");
    assert!(md.contains("### Environment") && md.contains("rustc 1.95") || md.contains("rustc "), "{md}");
    let html = std::fs::read_to_string(p.pgo_dir().join("report/report.html")).unwrap();
    assert!(html.contains("<svg") && !html.contains("src=\"http"), "self-contained page with a chart");
}

#[test]
fn a_binary_compared_with_itself_shows_no_clear_difference() {
    let p = TestProject::new();
    // No pipeline needed: the baseline and the variant are both `release`, the
    // very same binary, measured in interleaved rounds. At 95% an honest
    // interval misses 1 in about one A/A run in 20 by design (fewer with the 1% noise threshold) (the mock tests check
    // that rate); at 99.9% a miss here means a biased method, not bad luck.
    let out = p.run(&[
        "compare",
        "--baseline",
        "release",
        "--variants",
        "release",
        "--rounds",
        "20",
        "--confidence",
        "0.999",
    ]);
    let r = report(&p);
    assert_eq!(names(&r), ["baseline", "release"]);
    let v = &r["variants"][1];
    assert_eq!(v["workloads"][0]["verdict"], "no-clear-difference", "{}", stdout(&out));
    assert_eq!(v["geomean"]["verdict"], "no-clear-difference");
    assert_eq!(v["startup"]["verdict"], "no-clear-difference");
    let (lo, hi) = (v["geomean"]["ratio_ci_low"].as_f64().unwrap(), v["geomean"]["ratio_ci_high"].as_f64().unwrap());
    assert!(lo <= 1.0 && 1.0 <= hi || (hi - lo) < 0.05, "an A/A interval sits at 1: {lo}–{hi}");
    assert_eq!(v["size_ratio"], 1.0);
}

#[test]
fn presets_build_through_cargo_config_and_the_ci_checks_set_the_exit_code() {
    let p = TestProject::new();
    let manifest = std::fs::read_to_string(p.path().join("Cargo.toml")).unwrap();
    // `develop` is an unoptimized build: clearly slower than release.
    let args = ["compare", "--baseline", "release", "--variants", "develop", "--rounds", "6", "--startup-args", ""];
    let mut slower: Vec<&str> = args.to_vec();
    slower.extend(["--fail-if-slower", "10", "--gate", "develop"]);
    let out = p.fail(&slower);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--fail-if-slower 10: slower than the baseline by more than 10%"),
        "{}",
        stderr(&out)
    );
    let r = report(&p);
    assert_eq!(r["gates"][0]["name"], "fail-if-slower");
    assert_eq!(r["gates"][0]["passed"], false);
    assert_eq!(r["variants"][1]["workloads"][0]["verdict"], "slower");
    assert!(r["variants"][1]["startup"].is_null(), "--startup-args \"\" measures no startup");
    assert_eq!(r["variants"][1]["build"]["cargo_profile"], "pgo-build-develop");
    assert!(p.pgo_dir().join("build/variant-pgo-build-develop").is_dir());
    assert_eq!(std::fs::read_to_string(p.path().join("Cargo.toml")).unwrap(), manifest);

    let mut speedup: Vec<&str> = args.to_vec();
    speedup.extend(["--require-speedup", "5", "--gate", "develop"]);
    let out = p.fail(&speedup);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not shown to be 5% faster"), "{}", stderr(&out));

    // Without a gate failing, the same run succeeds.
    let mut lenient: Vec<&str> = args.to_vec();
    lenient.extend(["--fail-if-slower", "1000"]);
    p.run(&lenient);
}

#[test]
fn build_times_are_measured_on_request() {
    let p = TestProject::new();
    let before = std::fs::metadata(p.path().join("src/main.rs")).unwrap().modified().unwrap();
    p.run(&[
        "compare",
        "--baseline",
        "release",
        "--variants",
        "small",
        "--build-times",
        "--rounds",
        "2",
        "--startup-args",
        "",
    ]);
    let r = report(&p);
    for v in r["variants"].as_array().unwrap() {
        let (cold, warm) = (v["build_times"]["cold_s"].as_f64().unwrap(), v["build_times"]["warm_s"].as_f64().unwrap());
        assert!(cold > 0.0 && warm > 0.0, "{v}");
    }
    let after = std::fs::metadata(p.path().join("src/main.rs")).unwrap().modified().unwrap();
    assert!(after > before, "the warm rebuild touches the root source file");
    let md = std::fs::read_to_string(p.pgo_dir().join("report/report.md")).unwrap();
    assert!(md.contains("cold build | warm rebuild"), "{md}");
    assert!(!p.pgo_dir().join("build-times/small").exists(), "the cold build's target dir is removed");
}

#[test]
fn a_workload_failing_part_way_keeps_the_report_so_far() {
    let p = TestProject::new();
    // Fails on its 7th run: two variants per round, so after three full rounds.
    p.script(
        "workloads/long.sh",
        "#!/bin/sh\nn=$(cat \"$PGO_BUILD_WORKDIR/../count\" 2>/dev/null || echo 0); n=$((n+1)); \
         echo $n > \"$PGO_BUILD_WORKDIR/../count\"\n[ $n -le 6 ] || { echo 'worn out' >&2; exit 7; }\n\
         exec \"$PGO_BUILD_BIN\" 1000 > /dev/null\n",
    );
    let out = p.fail(&[
        "compare",
        "--baseline",
        "release",
        "--variants",
        "small",
        "--rounds",
        "10",
        "--warmup",
        "0",
        "--startup-args",
        "",
    ]);
    let err = stderr(&out);
    assert!(err.contains("long") && err.contains("exit status 7"), "{err}");
    assert!(err.contains("the report so far is in"), "{err}");
    let r = report(&p);
    assert_eq!(r["complete"], false);
    assert!(r["error"].as_str().unwrap().contains("exit status 7"), "{r}");
    assert_eq!(r["method"]["rounds"], 3);
    assert_eq!(r["variants"][1]["workloads"][0]["runs"], 3);
    let md = std::fs::read_to_string(p.pgo_dir().join("report/report.md")).unwrap();
    assert!(md.contains("**Incomplete:**"), "{md}");
}

#[test]
fn unknown_variants_are_named_with_the_choices() {
    let p = TestProject::new();
    let out = p.fail(&["compare", "--variants", "turbo"]);
    let err = stderr(&out);
    assert!(err.contains("unknown variant `turbo`") && err.contains("smallest") && err.contains("pgo+bolt"), "{err}");
    let out = p.fail(&["compare", "--variants", "pgo+bolt"]);
    assert!(stderr(&out).contains("run `pgo-build instrument` first"), "{}", stderr(&out));
}
