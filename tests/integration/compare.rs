//! `compare` on a real tiny project: the variants, the reports, the statistics on
//! real runs (an A/A comparison), presets through `--config`, the CI checks'
//! exit codes, build times, a failure part-way that keeps the report so far,
//! variants that are the same build (built and measured once), progress lines
//! in a log, and BOLT decided against PGO from compare's own rounds.

use serde_json::Value;

use crate::utils::{FIXTURE_MANIFEST, TestProject, stderr, stdout};

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
    assert!(!table.contains("pgo+bolt vs pgo"), "no BOLT, no BOLT decision: {table}");
    // Standard error is not a terminal here, as in CI: progress comes as lines.
    let err = stderr(&out);
    assert!(err.contains("measuring 3 builds on 1 benchmark workload and the startup run"), "{err}");
    assert!(err.contains("measuring round 1: too few rounds yet for a 95% interval"), "{err}");

    let r = report(&p);
    assert_eq!(r["schema_version"], 3);
    assert!(r["bolt_vs_pgo"].is_null(), "{}", r["bolt_vs_pgo"]);
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
    assert!(md.contains("### Environment\n\n- rustc "), "the environment section names rustc: {md}");
    let html = std::fs::read_to_string(p.pgo_dir().join("report/report.html")).unwrap();
    assert!(html.contains("<svg") && !html.contains("src=\"http"), "self-contained page with a chart");
}

#[test]
fn a_binary_compared_with_itself_shows_no_clear_difference() {
    let p = TestProject::new();
    // No pipeline needed: the baseline is `release`, the variant `aa` is release
    // with `split-debuginfo = "packed"`, which without debug info changes no code
    // (the same machine code and size; compare would build and measure an
    // identical profile only once), measured in interleaved rounds. At 95% an
    // honest interval misses 1 in about one A/A run in 20 by design (fewer with
    // the 1% noise threshold; the mock tests check that rate); at 99.9% a miss
    // here means a biased method, not bad luck.
    p.file(
        "Cargo.toml",
        &format!("{FIXTURE_MANIFEST}\n[profile.aa]\ninherits = \"release\"\nsplit-debuginfo = \"packed\"\n"),
    );
    let out =
        p.run(&["compare", "--baseline", "release", "--variants", "aa", "--rounds", "20", "--confidence", "0.999"]);
    let r = report(&p);
    assert_eq!(names(&r), ["baseline", "aa"]);
    let v = &r["variants"][1];
    assert!(v["same_build_as"].is_null(), "{v}");
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
    let out = p.run(&[
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
    // Each timed build says how long it took, and the terminal table has them.
    let err = stderr(&out);
    for what in ["cold build of `small`: ", "warm rebuild of `small`: ", "cold build of `baseline`: "] {
        let line = err.lines().find(|l| l.contains(what)).unwrap_or_else(|| panic!("no `{what}` line: {err}"));
        assert!(line.trim_end().ends_with(" s") || line.trim_end().ends_with(" ms"), "{line}");
    }
    let table = stdout(&out);
    assert!(table.lines().next().is_some_and(|h| h.contains("cold build") && h.contains("warm rebuild")), "{table}");
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

#[test]
fn a_release_profile_that_is_the_production_preset_is_built_and_measured_once() {
    let p = TestProject::new();
    // `lto = true` is cargo's `"fat"`: the production preset, spelled otherwise.
    p.file(
        "Cargo.toml",
        &format!("{FIXTURE_MANIFEST}\n[profile.release]\nlto = true\ncodegen-units = 1\npanic = \"abort\"\n"),
    );
    let out = p.run(&[
        "-v",
        "compare",
        "--variants",
        "release,production",
        "--rounds",
        "2",
        "--warmup",
        "0",
        "--startup-args",
        "",
    ]);
    let err = stderr(&out);
    let builds: Vec<&str> = err.lines().filter(|l| l.contains("running") && l.contains("cargo build")).collect();
    assert_eq!(builds.len(), 1, "one cargo build for three variants of one build:\n{err}");
    assert!(builds[0].contains("--profile pgo-build-production"), "{}", builds[0]);
    assert!(err.contains("`release` is the same build as `baseline`"), "{err}");
    assert!(err.contains("`production` is the same build as `baseline`"), "{err}");
    assert!(err.contains("measuring 1 build on 1 benchmark workload:"), "{err}");
    assert!(!p.pgo_dir().join("build/variant-release").exists(), "release was built");

    let r = report(&p);
    assert_eq!(names(&r), ["baseline", "release", "production"]);
    assert_eq!(r["variants"][0]["workloads"][0]["runs"], 2, "the build is measured");
    for v in &r["variants"].as_array().unwrap()[1..] {
        assert_eq!(v["same_build_as"], "baseline", "{v}");
        assert!(v["workloads"].as_array().unwrap().is_empty() && v["geomean"].is_null(), "no figures of its own: {v}");
        assert_eq!(v["size_ratio"], 1.0, "{v}");
    }
    let table = stdout(&out);
    let row = table.lines().find(|l| l.starts_with("release ")).unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("same build as baseline"), "{row}");
    let md = std::fs::read_to_string(p.pgo_dir().join("report/report.md")).unwrap();
    assert!(md.contains("| **release** |") && md.contains("same build as **baseline**"), "{md}");
    let html = std::fs::read_to_string(p.pgo_dir().join("report/report.html")).unwrap();
    assert!(html.contains("same build as <strong>baseline</strong>"), "{html}");
}

#[test]
fn quiet_prints_no_progress() {
    let p = TestProject::new();
    let out = p.run(&[
        "--quiet",
        "compare",
        "--baseline",
        "release",
        "--variants",
        "small",
        "--rounds",
        "2",
        "--warmup",
        "0",
        "--startup-args",
        "",
    ]);
    let err = stderr(&out);
    assert!(!err.contains("measuring") && !err.contains("round 1"), "{err}");
    assert!(stdout(&out).contains("2 rounds; the round limit (2) was reached"), "{}", stdout(&out));
}

#[test]
fn bolt_is_decided_against_pgo_from_compares_own_rounds() {
    let p = TestProject::new();
    p.run(&["all", "--bolt", "--keep-bolt", "--no-compare"]);
    // Two rounds are too few for an interval at 95%: no clear difference, so
    // PGO is delivered, and the report says why.
    let out = p.run(&["--bolt", "compare", "--rounds", "2", "--warmup", "0", "--startup-args", ""]);
    let r = report(&p);
    assert_eq!(names(&r), ["baseline", "release", "pgo", "pgo+bolt"]);
    let b = &r["bolt_vs_pgo"];
    assert_eq!(b["workloads"][0]["name"], "long", "{b}");
    assert_eq!(b["verdict"], "no-clear-difference", "{b}");
    assert_eq!((b["keep_bolt_asked"].as_bool(), b["keep_bolt"].as_bool()), (Some(false), Some(false)), "{b}");
    assert_eq!(b["delivered"], "pgo", "{b}");
    assert!(b["reason"].as_str().unwrap().contains("too few rounds for a 95% interval"), "{b}");
    let table = stdout(&out);
    assert!(table.contains("pgo+bolt vs pgo: ship pgo — because no clear difference"), "{table}");
    let md = std::fs::read_to_string(p.pgo_dir().join("report/report.md")).unwrap();
    assert!(md.contains("### BOLT vs PGO") && md.contains("**Decision: ship pgo** — because"), "{md}");
    let html = std::fs::read_to_string(p.pgo_dir().join("report/report.html")).unwrap();
    assert!(html.contains("<h2>BOLT vs PGO</h2>"), "{html}");
}

#[test]
fn a_percentage_out_of_range_is_refused_with_the_range_it_may_take() {
    let p = TestProject::new();
    for (args, range) in [
        (&["compare", "--require-speedup", "100"][..], "\"100\" is not a percentage from 0 up to (not including) 100"),
        (&["compare", "--noise-threshold", "100"][..], "\"100\" is not a percentage from 0 up to (not including) 100"),
        (&["compare", "--fail-if-slower=-1"][..], "\"-1\" is not a percentage of 0 or more"),
        (&["compare", "--precision", "0"][..], "\"0\" is not a percentage above 0 and below 100"),
        (&["check", "--max-stale", "150"][..], "\"150\" is not a percentage from 0 to 100"),
    ] {
        let out = p.fail(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(range), "{args:?}: {}", stderr(&out));
    }
    // A slowdown may be any size, and a share may end in `%`.
    p.run(&["--dry-run", "compare", "--fail-if-slower", "250"]);
    p.run(&["--dry-run", "check", "--max-stale", "12.5%"]);
}

#[test]
fn comparison_options_with_no_compare_are_refused_before_building() {
    // They once exited 0 and delivered: a CI check that never ran, passed.
    let p = TestProject::new();
    let out = p.fail(&["all", "--no-compare", "--require-speedup", "50"]);
    let err = stderr(&out);
    assert!(err.contains("--require-speedup only applies to the comparison, and --no-compare skips it"), "{err}");
    assert!(err.contains("drop --no-compare to measure the builds, or drop --require-speedup"), "{err}");
    let out = p.fail(&["all", "--no-compare", "--fail-if-slower", "3", "--gate-metric", "requests_per_s"]);
    let err = stderr(&out);
    assert!(err.contains("--fail-if-slower, --gate-metric only apply to the comparison"), "{err}");
    let err = stderr(&p.fail(&["--dry-run", "all", "--no-compare", "--rounds", "3"]));
    assert!(err.contains("--rounds only applies to the comparison"), "a dry run is refused too: {err}");
    assert!(!p.pgo_dir().join("build").exists(), "refused before building");
    assert!(!p.pgo_dir().join("out").exists(), "nothing delivered");
}

/// Issue 18: every `compare` silently replaced the previous report. Each run
/// keeps a folder of its own, `report/` is the latest, and the last line says
/// where; `--report-dir` writes there and makes nothing else.
#[test]
fn each_compare_keeps_its_report_and_report_is_the_latest() {
    let p = TestProject::new();
    let args = [
        "compare",
        "--baseline",
        "release",
        "--variants",
        "small",
        "--rounds",
        "1",
        "--warmup",
        "0",
        "--startup-args",
        "",
    ];
    p.run(&args);
    let first = std::fs::read_link(p.pgo_dir().join("report")).expect("report is a link");
    let out = p.run(&args);
    let second = std::fs::read_link(p.pgo_dir().join("report")).expect("report is a link");
    assert_ne!(first, second, "the second run has a folder of its own");
    let reports = p.pgo_dir().join("reports");
    assert_eq!(std::fs::read_dir(&reports).unwrap().count(), 2);
    for run in [&first, &second] {
        assert!(p.pgo_dir().join(run).join("report.json").is_file(), "{}", run.display());
    }
    assert_eq!(report(&p)["complete"], true, "report/ reads as a folder");
    let err = stderr(&out);
    let line = err.lines().find(|l| l.contains("measured in")).unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains(&format!("reports in {}", p.pgo_dir().join(&second).display())), "{line}");
    assert!(line.contains("report is the latest, earlier ones stay in"), "{line}");

    let explicit = p.path().join("ci-report");
    let mut with_dir = args.to_vec();
    with_dir.extend(["--report-dir", explicit.to_str().expect("a UTF-8 path")]);
    p.run(&with_dir);
    assert!(explicit.join("report.md").is_file());
    assert_eq!(std::fs::read_dir(&reports).unwrap().count(), 2, "--report-dir makes no folder in reports/");
    assert_eq!(std::fs::read_link(p.pgo_dir().join("report")).unwrap(), second);
}

/// Issue 18: `compare --help` left `pgo-rust-only` out of `--variants`.
#[test]
fn the_help_names_every_pipeline_variant() {
    let p = TestProject::new();
    let help = stdout(&p.run(&["compare", "--help"]));
    let variants = &help[help.find("--variants").expect("--variants is documented")..];
    let variants = &variants[..variants.find("--baseline").expect("then --baseline")];
    for name in ["`pgo`", "`pgo+bolt`", "`pgo-rust-only`", "preset"] {
        assert!(variants.contains(name), "{name} missing: {variants}");
    }
}
