//! The stages on their own and together.

use crate::utils::{TestProject, run_binary, stderr, stdout};

#[test]
fn stages_run_one_by_one_and_deliver_a_pgo_binary() {
    let p = TestProject::new();

    let out = p.run(&["instrument"]);
    assert!(stderr(&out).contains("with -Cprofile-generate"), "{}", stderr(&out));
    let instrumented = p.recorded_binary("instrument");
    assert!(instrumented.starts_with(p.pgo_dir().join("build/instrumented")), "{}", instrumented.display());
    assert!(
        instrumented.to_string_lossy().contains("x86_64-unknown-linux-gnu"),
        "explicit --target: {}",
        instrumented.display()
    );
    assert!(!p.path().join("target/release").exists(), "the user's target/release must be left alone");

    let out = p.run(&["train"]);
    assert!(stderr(&out).contains("short: 1 raw profile,"), "{}", stderr(&out));
    let raw = p.pgo_dir().join("profiles/raw/short");
    let raws: Vec<_> = std::fs::read_dir(&raw).unwrap().flatten().collect();
    assert_eq!(raws.len(), 1);
    assert!(raws[0].file_name().to_string_lossy().ends_with(".profraw"));

    let out = p.run(&["merge"]);
    let merged = p.state()["merge"]["profile"].as_str().unwrap().to_string();
    assert!(merged.contains("/profiles/merged-") && merged.ends_with(".profdata"), "{merged}");
    assert!(std::path::Path::new(&merged).is_file());
    assert!(stderr(&out).contains("with counts"), "{}", stderr(&out));
    assert!(p.state()["merge"]["functions"].as_u64().unwrap() > 0);

    let out = p.run(&["optimize"]);
    assert!(stderr(&out).contains(" 0 of "), "no function should lack profile data: {}", stderr(&out));
    let optimized = p.pgo_dir().join("out/fixture");
    assert!(optimized.is_file());
    assert_eq!(run_binary(&optimized, &["1000"]), run_binary(&instrumented, &["1000"]));
}

#[test]
fn each_stage_names_the_stage_to_run_first() {
    let p = TestProject::new();
    for stage in ["train", "merge", "optimize", "compare"] {
        let out = p.fail(&[stage]);
        assert!(stderr(&out).contains("run `pgo-build instrument` first"), "{stage}: {}", stderr(&out));
    }
    p.run(&["instrument"]);
    let out = p.fail(&["merge"]);
    assert!(stderr(&out).contains("run `pgo-build train` first"), "{}", stderr(&out));
    p.run(&["train"]);
    let out = p.fail(&["optimize"]);
    assert!(stderr(&out).contains("run `pgo-build merge` first"), "{}", stderr(&out));
    p.run(&["merge"]);
    let out = p.fail(&["compare"]);
    assert!(stderr(&out).contains("run `pgo-build optimize` first"), "{}", stderr(&out));

    // An identical rebuild leaves the training profiles valid…
    p.run(&["--force", "instrument"]);
    p.run(&["merge"]);
    // …an edited source makes the instrumented build stale, and a new one the profiles.
    p.file("src/main.rs", &crate::utils::FIXTURE_MAIN.replace("n * 3 + 1", "n * 3 + 2"));
    let out = p.fail(&["merge"]);
    assert!(stderr(&out).contains("the instrumented build is out of date"), "{}", stderr(&out));
    assert!(stderr(&out).contains("run `pgo-build instrument`"), "{}", stderr(&out));
    p.run(&["instrument"]);
    let out = p.fail(&["merge"]);
    assert!(stderr(&out).contains("run `pgo-build train` first"), "{}", stderr(&out));
}

#[test]
fn dry_run_shows_commands_and_changes_nothing() {
    let p = TestProject::new();
    let out = p.run(&["all", "--dry-run"]);
    let text = stdout(&out);
    assert!(text.contains("cargo build") && text.contains("-Cprofile-generate="), "{text}");
    assert!(text.contains("LLVM_PROFILE_FILE=") && text.contains("%4m.profraw"), "{text}");
    // The merge is shown with the llvm-profdata the run would use, by its full path.
    let merge = text.lines().find(|l| l.contains("llvm-profdata merge ")).expect("the merge is shown");
    let tool = std::path::Path::new(merge.split(" merge ").next().unwrap());
    assert!(tool.is_absolute() && tool.is_file(), "{merge}");
    assert!(text.contains("-Cprofile-use="), "{text}");
    assert!(!p.pgo_dir().join("state.json").exists());
    assert!(!p.pgo_dir().join("build").exists());
}

#[test]
fn verbose_shows_commands_as_they_run() {
    let p = TestProject::new();
    let out = p.run(&["-v", "instrument"]);
    let err = stderr(&out);
    assert!(err.contains("running cd ") && err.contains("&& cargo build --manifest-path"), "{err}");
}
