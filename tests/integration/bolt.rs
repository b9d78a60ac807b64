//! BOLT on top of PGO, with the real llvm-bolt (`.ci/run` installs bolt-22).

use crate::utils::{FIXTURE_MANIFEST, TestProject, run_binary, stderr};

/// True when the ELF file at `path` still has a symbol table.
fn has_symtab(path: &std::path::Path) -> bool {
    let bytes = std::fs::read(path).expect("binary readable");
    bytes.windows(8).any(|w| w == b".symtab\0")
}

#[test]
fn pgo_then_bolt_delivers_a_verified_binary() {
    let p = TestProject::new();
    let out = p.run(&["all", "--bolt", "--keep-bolt", "--no-compare"]);
    let err = stderr(&out);
    assert!(err.contains("instrumented 1 binary with llvm-bolt"), "{err}");
    assert!(!err.contains("BOLT/PGO "), "--keep-bolt skips the measurement: {err}");
    assert!(err.contains("taken branches"), "dyno-stats summary expected: {err}");
    assert!(err.contains("verified: the BOLT binaries ran every check workload"), "{err}");
    assert!(err.contains("deliver pgo+bolt (fixture)") && err.contains("--keep-bolt"), "{err}");
    let bolted = p.pgo_dir().join("out/fixture");
    let pgo = p.pgo_dir().join("out/pgo/fixture");
    assert_eq!(run_binary(&bolted, &["1000"]), run_binary(&pgo, &["1000"]));
    let state = p.state();
    // Each stage keeps its own binaries; delivery copied BOLT's to the output.
    assert_eq!(state["bolt"]["binaries"][0]["path"], p.pgo_dir().join("bolt/fixture").display().to_string());
    assert_eq!(state["optimize"]["binaries"][0]["path"], p.pgo_dir().join("optimized/fixture").display().to_string());
    assert_eq!(state["delivery"]["variant"], "pgo+bolt");
    assert_eq!(state["delivery"]["binaries"][0]["path"], bolted.display().to_string());
    assert_eq!(state["delivery"]["binaries"][0]["sha256"], state["bolt"]["binaries"][0]["sha256"]);
    // The BOLT input kept its symbols; the default release profile strips debug
    // info only, so the delivered binaries keep their symbol table too.
    assert!(has_symtab(&bolted) && has_symtab(&pgo));
    // Every build of the pipeline used the same unstripped settings.
    assert_eq!(state["instrument"]["settings"]["profile_overrides"][0][0], "strip");
    assert_eq!(state["instrument"]["settings"]["bolt"], true);
}

#[test]
fn strip_symbols_profile_goes_through_bolt_and_is_stripped_at_the_end() {
    let p = TestProject::new();
    p.file("Cargo.toml", &format!("{FIXTURE_MANIFEST}\n[profile.release]\nstrip = \"symbols\"\npanic = \"abort\"\n"));
    p.run(&["all", "--bolt", "--keep-bolt", "--no-compare"]);
    let bolted = p.pgo_dir().join("out/fixture");
    assert!(!has_symtab(&bolted), "the profile asked for strip = \"symbols\"");
    assert!(!has_symtab(&p.pgo_dir().join("out/pgo/fixture")));
    assert!(run_binary(&bolted, &["50"]).parse::<u64>().is_ok());
}

#[test]
fn bolt_on_its_own_is_measured_against_pgo_and_the_faster_one_is_delivered() {
    let p = TestProject::new();
    // `all --bolt --no-compare` measures nothing: it delivers the checked BOLT binary.
    let err = stderr(&p.run(&["all", "--bolt", "--no-compare"]));
    assert!(!err.contains("BOLT/PGO "), "{err}");
    assert!(err.contains("deliver pgo+bolt (fixture)") && err.contains("it was not measured"), "{err}");
    // `pgo-build bolt` on its own measures (the stage itself is up to date).
    let out = p.run(&["bolt", "--rounds", "6", "--warmup", "0"]);
    let err = stderr(&out);
    assert!(err.contains("bolt up to date"), "{err}");
    assert!(err.contains("long: PGO ") && err.contains("(medians of 6): BOLT/PGO "), "{err}");
    assert!(err.contains("95% interval"), "the decision shows its interval: {err}");
    let kept_bolt = err.contains("deliver pgo+bolt");
    assert!(kept_bolt || err.contains("deliver pgo (fixture)"), "{err}");
    if kept_bolt {
        assert!(err.contains("faster than PGO alone"), "the delivery line gives the measurement: {err}");
    }
    // What was delivered matches the verdict, whichever it was; the BOLT binaries
    // stay recorded either way, for compare's pgo+bolt variant.
    let state = p.state();
    assert_eq!(state["delivery"]["variant"], if kept_bolt { "pgo+bolt" } else { "pgo" }, "{state}");
    assert_eq!(p.pgo_dir().join("out/pgo/fixture").exists(), kept_bolt);
    assert!(p.pgo_dir().join("out/fixture").is_file());
    assert!(!state["bolt"]["binaries"][0]["path"].is_null());
}

#[test]
fn training_that_writes_no_bolt_profile_is_an_error() {
    let p = TestProject::new();
    // Runs the binary during PGO training only, so BOLT gets no profile.
    p.file(
        "pgo-build.toml",
        "[[workload]]\nname = \"w\"\nrun = '''if [ \"$PGO_BUILD_STAGE\" = train ]; then \"$PGO_BUILD_BIN\" 1000; fi'''\nuse = [\"train\"]\n",
    );
    let out = p.fail(&["all", "--bolt", "--no-compare"]);
    assert!(stderr(&out).contains("wrote no BOLT profile for `fixture`"), "{}", stderr(&out));
    assert!(!p.pgo_dir().join("out/pgo").exists(), "nothing delivered");
}

#[test]
fn missing_llvm_bolt_is_a_clear_error() {
    let p = TestProject::new();
    p.run(&["--bolt", "instrument"]);
    p.run(&["--bolt", "train"]);
    p.run(&["--bolt", "merge"]);
    p.run(&["--bolt", "optimize"]);
    let out = p.fail(&["--llvm-bolt", "/nonexistent/llvm-bolt", "bolt"]);
    let err = stderr(&out);
    assert!(err.contains("/nonexistent/llvm-bolt") && err.contains("no such file"), "{err}");
    assert!(err.contains("apt-get install bolt-22"), "{err}");
}

#[test]
fn bolt_after_a_pipeline_without_bolt_mode_says_what_to_run() {
    let p = TestProject::new();
    p.run(&["all", "--no-compare"]);
    let out = p.fail(&["bolt"]);
    let err = stderr(&out);
    assert!(err.contains("without BOLT mode") && err.contains("pgo-build all --bolt"), "{err}");
}

#[test]
fn bolt_flags_can_be_replaced_and_extended() {
    let p = TestProject::new();
    let config = std::fs::read_to_string(p.path().join("pgo-build.toml")).unwrap();
    p.file("pgo-build.toml", &format!("bolt-args = [\"-split-eh\"]\n{config}"));
    let args = [
        "-v",
        "all",
        "--bolt",
        "--keep-bolt",
        "--no-compare",
        "--bolt-flags=-reorder-blocks=ext-tsp,-dyno-stats",
        "--bolt-arg=-split-functions",
    ];
    let out = p.run(&args);
    let err = stderr(&out);
    let line = err.lines().find(|l| l.contains("llvm-bolt") && l.contains("-data=")).expect("llvm-bolt shown with -v");
    assert!(line.ends_with("-reorder-blocks=ext-tsp -dyno-stats -split-eh -split-functions"), "{line}");
    assert!(!line.contains("-icf=all"), "the default set was replaced: {line}");
}

#[test]
fn check_output_refuses_a_bolt_binary_that_prints_differently() {
    let p = TestProject::new();
    // The output names the binary under test, so PGO and BOLT print differently.
    let config = |check: bool| {
        format!(
            "[[workload]]\nname = \"short\"\nrun = \"$PGO_BUILD_BIN 2000\"\nuse = [\"train\"]\n\n\
             [[workload]]\nname = \"says-its-name\"\nrun = '''echo \"$PGO_BUILD_BIN\"; \"$PGO_BUILD_BIN\" 1000'''\n\
             use = [\"bench\"]\ncheck-output = {check}\n"
        )
    };
    p.file("pgo-build.toml", &config(true));
    let out = p.run(&["all", "--bolt", "--keep-bolt", "--no-compare"]);
    let err = stderr(&out);
    assert!(err.contains("printed different output from the PGO binary on workload `says-its-name`"), "{err}");
    assert!(err.contains("deliver pgo (fixture)") && err.contains("BOLT failed its check"), "{err}");
    assert!(!p.pgo_dir().join("out/pgo").exists(), "the PGO binary stays the result");
    let state = p.state();
    assert_eq!(state["delivery"]["binaries"][0]["sha256"], state["optimize"]["binaries"][0]["sha256"]);
    // compare leaves out a BOLT build that failed its check.
    let err = stderr(&p.fail(&["compare", "--variants", "pgo+bolt", "--rounds", "1"]));
    assert!(err.contains("failed their check"), "{err}");

    p.file("pgo-build.toml", &config(false));
    p.run(&["all", "--bolt", "--keep-bolt", "--no-compare"]);
    assert!(p.pgo_dir().join("out/pgo/fixture").is_file());
}

#[test]
fn perf_mode_never_degrades_silently() {
    let p = TestProject::new();
    let doctor = crate::utils::stdout(&p.run(&["doctor"]));
    let can_sample = doctor.lines().any(|l| l.starts_with("perf branches") && l.contains(" ok "));
    let args = ["all", "--bolt", "--bolt-mode", "perf", "--keep-bolt", "--no-compare"];
    if can_sample {
        // A machine with branch sampling takes the sampling path for real.
        let out = p.run(&args);
        assert!(stderr(&out).contains("verified: the BOLT binaries"), "{}", stderr(&out));
    } else {
        let out = p.fail(&args);
        let err = stderr(&out);
        assert!(err.contains("--bolt-mode perf needs `perf` to sample branch stacks"), "{err}");
        assert!(err.contains("instrumentation mode"), "{err}");
        assert!(!p.pgo_dir().join("out/pgo").exists(), "nothing delivered");
    }
}

#[test]
fn bolt_without_pgo_needs_no_pgo_stages() {
    let p = TestProject::new();
    let out = p.run(&["bolt", "--no-pgo", "--keep-bolt"]);
    let err = stderr(&out);
    assert!(err.contains("without PGO, linked with relocations"), "{err}");
    assert!(err.contains("verified: the BOLT binaries ran every check workload like the plain ones"), "{err}");
    let bolted = p.pgo_dir().join("out/no-pgo/fixture");
    let plain = p.pgo_dir().join("out/no-pgo/plain/fixture");
    assert_eq!(run_binary(&bolted, &["1000"]), run_binary(&plain, &["1000"]));
    let state = p.pgo_dir().join("state.json");
    assert!(!state.exists() || p.state()["bolt"].is_null(), "a --no-pgo run is no part of the PGO pipeline's record");
    assert!(!state.exists() || p.state()["instrument"].is_null(), "no PGO stage ran");
}

#[test]
fn a_flag_llvm_bolt_does_not_know_gets_its_message_and_a_hint() {
    let p = TestProject::new();
    let out = p.fail(&["all", "--bolt", "--no-compare", "--bolt-arg=-no-such-bolt-flag"]);
    let err = stderr(&out);
    assert!(err.contains("llvm-bolt failed on") && err.contains("no-such-bolt-flag"), "{err}");
    assert!(err.contains("replace the flag set with `bolt-flags`"), "{err}");
    assert!(!p.pgo_dir().join("out/pgo").exists(), "nothing delivered");
}

#[test]
fn a_profile_with_debug_info_keeps_its_symbols_through_bolt_mode() {
    let p = TestProject::new();
    p.file("Cargo.toml", &format!("{FIXTURE_MANIFEST}\n[profile.release]\ndebug = true\n"));
    p.run(&["all", "--bolt", "--keep-bolt", "--no-compare"]);
    let pgo = p.pgo_dir().join("out/pgo/fixture");
    let bytes = std::fs::read(&pgo).unwrap();
    assert!(has_symtab(&pgo), "strip resolves to none: symbols stay");
    assert!(bytes.windows(12).any(|w| w == b".debug_info\0"), "and debug info stays");
    assert!(has_symtab(&p.pgo_dir().join("out/fixture")));
}

#[test]
fn dry_run_in_bolt_mode_runs_nothing() {
    let p = TestProject::new();
    let out = p.run(&["--dry-run", "all", "--bolt"]);
    let text = crate::utils::stdout(&out);
    assert!(text.contains("-instrument") && text.contains("--instrumentation-file-append-pid"), "{text}");
    assert!(text.contains("profile.release.strip=false"), "{text}");
    assert!(!p.pgo_dir().join("state.json").exists() && !p.pgo_dir().join("bolt").exists());
}

#[test]
fn a_failed_bolt_run_leaves_the_last_delivery_and_the_pgo_build_alone() {
    let p = TestProject::new();
    p.run(&["all", "--bolt", "--keep-bolt", "--no-compare"]);
    let state = p.state();
    let (delivered, optimized) = (state["delivery"].clone(), state["optimize"].clone());
    p.fail(&["bolt", "--keep-bolt", "--bolt-arg=-no-such-bolt-flag"]);
    let state = p.state();
    assert_eq!(state["optimize"], optimized, "the BOLT stage never touches optimize's record");
    assert_eq!(state["delivery"], delivered, "nothing was delivered");
    assert!(p.pgo_dir().join("bolt/fixture").is_file(), "the last good BOLT binary is kept");
    // The record is the last good run's, with its options: still current.
    let status = crate::utils::stdout(&p.run(&["status"]));
    assert!(!status.contains("stale"), "{status}");
    // And the pipeline still holds together: compare measures that BOLT build.
    let out = p.run(&["compare", "--rounds", "1", "--warmup", "0"]);
    let report = std::fs::read_to_string(p.pgo_dir().join("report/report.json")).unwrap();
    assert!(report.contains("\"pgo+bolt\""), "{}", stderr(&out));
}

#[test]
fn bolt_mode_checks_for_llvm_bolt_before_building() {
    let p = TestProject::new();
    let out = p.fail(&["--bolt", "--llvm-bolt", "/nonexistent/llvm-bolt", "instrument"]);
    assert!(stderr(&out).contains("BOLT mode is on, but no usable llvm-bolt was found"), "{}", stderr(&out));
    assert!(!p.pgo_dir().join("build").exists());
}

#[test]
fn bolt_options_outside_bolt_mode_are_refused() {
    let p = TestProject::new();
    let out = p.fail(&["all", "--keep-bolt"]);
    assert!(stderr(&out).contains("--keep-bolt only applies to BOLT"), "{}", stderr(&out));
    let out = p.fail(&["optimize", "--bolt-arg=-v=1"]);
    assert!(stderr(&out).contains("--bolt-arg only applies to BOLT") && stderr(&out).contains("add --bolt"));
    assert!(!p.pgo_dir().join("build").exists(), "refused before building");
}

#[test]
fn compare_measures_pgo_and_pgo_bolt_side_by_side() {
    let p = TestProject::new();
    p.run(&["all", "--bolt", "--no-compare"]);
    // The BOLT binaries are recorded whether or not they were kept.
    assert!(!p.state()["bolt"]["binaries"][0]["path"].is_null(), "{}", p.state());
    let out = p.run(&["--bolt", "compare", "--rounds", "2", "--warmup", "0", "--startup-args", ""]);
    let text = std::fs::read_to_string(p.pgo_dir().join("report/report.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = r["variants"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["baseline", "release", "pgo", "pgo+bolt"], "{}", stderr(&out));
    let bolt = &r["variants"][3];
    assert!(bolt["build"]["post"][0].as_str().unwrap().starts_with("llvm-bolt -reorder-blocks=ext-tsp"), "{bolt}");
    assert_eq!(bolt["workloads"][0]["runs"], 2);
}

#[test]
fn bolt_no_split_leaves_out_the_splitting_flags() {
    let p = TestProject::new();
    let out = p.run(&["-v", "all", "--bolt", "--keep-bolt", "--no-compare", "--bolt-no-split"]);
    let err = stderr(&out);
    let line = err.lines().find(|l| l.contains("llvm-bolt") && l.contains("-data=")).expect("llvm-bolt shown with -v");
    assert!(line.contains("-reorder-blocks=ext-tsp") && line.contains("-use-old-text"), "{line}");
    assert!(!line.contains("-split-"), "{line}");
    // The same from the config; BOLT's flags are part of the stage's inputs.
    let config = std::fs::read_to_string(p.path().join("pgo-build.toml")).unwrap();
    p.file("pgo-build.toml", &format!("bolt-split = false\n{config}"));
    let out = p.run(&["-v", "--force", "bolt", "--keep-bolt"]);
    let err = stderr(&out);
    let line = err.lines().find(|l| l.contains("llvm-bolt") && l.contains("-data=")).expect("llvm-bolt shown with -v");
    assert!(!line.contains("-split-"), "{line}");
}

/// How often `-v` output shows workload `long` run with `PGO_BUILD_STAGE=stage`.
fn runs_of_long(err: &str, stage: &str) -> usize {
    err.lines().filter(|l| l.contains("workloads/long.sh") && l.contains(&format!("PGO_BUILD_STAGE={stage} "))).count()
}

#[test]
fn all_bolt_measures_once_and_delivers_what_compare_decided() {
    let p = TestProject::new();
    // Without compare: the benchmark workload runs once per binary, to check BOLT.
    let err = stderr(&p.run(&["-v", "all", "--bolt", "--no-compare"]));
    assert_eq!(runs_of_long(&err, "bolt-verify"), 2, "{err}");
    assert_eq!(runs_of_long(&err, "bench"), 0, "{err}");
    // With compare: the stages are up to date, BOLT is measured only in compare's
    // rounds (4 variants × 2 rounds), and its decision is what gets delivered.
    let out = p.run(&["-v", "all", "--bolt", "--rounds", "2", "--warmup", "0", "--startup-args", ""]);
    let err = stderr(&out);
    assert!(!err.contains("bolt vs pgo") && !err.contains("BOLT/PGO"), "no second measurement: {err}");
    assert_eq!(runs_of_long(&err, "bolt-verify"), 0, "{err}");
    assert_eq!(runs_of_long(&err, "bench"), 8, "{err}");
    let text = std::fs::read_to_string(p.pgo_dir().join("report/report.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Two rounds are too few for a 95% interval: no clear difference, so PGO is kept.
    assert_eq!(r["bolt_vs_pgo"]["verdict"], "no-clear-difference", "{r}");
    let decided = r["bolt_vs_pgo"]["delivered"].clone();
    assert_eq!(decided, "pgo", "{r}");
    let state = p.state();
    assert_eq!(state["delivery"]["variant"], decided, "{state}");
    assert!(state["delivery"]["reason"].as_str().unwrap().starts_with("measured by compare"), "{state}");
    assert!(!p.pgo_dir().join("out/pgo/fixture").exists(), "no BOLT delivered, nothing beside it");
    let delivered = std::fs::read(p.pgo_dir().join("out/fixture")).unwrap();
    assert!(delivered == std::fs::read(p.recorded_binary("optimize")).unwrap(), "the PGO binary is delivered");
}
