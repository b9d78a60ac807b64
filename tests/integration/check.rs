//! `pgo-build check`: a profile checked against the code it is used on.

use crate::utils::{FIXTURE_MAIN, TestProject, stderr, stdout};

/// The check's JSON result.
fn check_json(p: &TestProject) -> serde_json::Value {
    let text = std::fs::read_to_string(p.pgo_dir().join("check.json")).expect("check.json exists");
    serde_json::from_str(&text).expect("check.json parses")
}

#[test]
fn fresh_profile_has_nothing_stale() {
    let p = TestProject::new();
    p.run(&["all", "--no-compare"]);
    let out = p.run(&["-q", "check", "--max-stale", "0"]);
    let text = stdout(&out);
    assert!(text.lines().any(|l| l.starts_with("fixture ")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("total ") && l.ends_with("0 (0.0%)")), "{text}");
    assert_eq!(stderr(&out), "", "-q prints only results");
    let json = check_json(&p);
    assert_eq!(json["passed"], true);
    assert_eq!(json["total"]["stale_functions"], 0);
    assert_eq!(json["crates"][0]["name"], "fixture");
    assert!(json["crates"][0]["profiled_functions"].as_u64().unwrap() > 0, "{json}");
}

/// The case: a profile kept in the repository, reused after a source edit.
#[test]
fn stored_profile_reused_after_a_source_edit_reports_the_edited_function_as_stale() {
    let p = TestProject::new();
    // Kept out of line, so the edit changes `classify` itself rather than `main`.
    p.file("src/main.rs", &FIXTURE_MAIN.replace("fn classify", "#[inline(never)]\nfn classify"));
    p.run(&["all", "--no-compare"]);
    let merged = p.state()["merge"]["profile"].as_str().unwrap().to_string();
    std::fs::create_dir_all(p.path().join("pgo")).unwrap();
    std::fs::copy(&merged, p.path().join("pgo/fixture.profdata")).unwrap();
    // A stored profile needs no pipeline at all.
    std::fs::remove_dir_all(p.pgo_dir()).unwrap();

    // One more arm: the control flow changes, so the profile's hash no longer fits.
    let main = std::fs::read_to_string(p.path().join("src/main.rs")).unwrap();
    p.file(
        "src/main.rs",
        &main.replace("        3 => n ^ 0x55,\n", "        3 => n ^ 0x55,\n        4 if n > 9 => n - 9,\n"),
    );

    let out = p.run(&["check", "--profile", "pgo/fixture.profdata"]);
    let text = stdout(&out);
    assert!(text.contains("fixture::classify (hash mismatch)"), "{text}");
    let json = check_json(&p);
    assert_eq!(json["passed"], true, "no threshold, no failure");
    assert_eq!(json["crates"][0]["mismatched"], serde_json::json!(["fixture::classify"]), "{json}");
    assert_eq!(json["total"]["stale_functions"], 1, "{json}");
    assert!(json["profile"].as_str().unwrap().ends_with("pgo/fixture.profdata"), "{json}");

    let out = p.fail(&["check", "--profile", "pgo/fixture.profdata", "--max-stale", "0"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("more than --max-stale 0% allows"), "{err}");
    assert!(
        err.contains("`pgo-build all`") && err.contains("`pgo-build merge --output pgo/fixture.profdata`"),
        "{err}"
    );
    assert_eq!(check_json(&p)["passed"], false);
}

#[test]
fn unreadable_profile_is_a_clear_error() {
    let p = TestProject::new();
    p.file("pgo/broken.profdata", "this is not a profile\n");
    let out = p.fail(&["check", "--profile", "pgo/broken.profdata"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("the profile ") && err.contains("pgo/broken.profdata cannot be read"), "{err}");
    assert!(err.contains("rustc uses LLVM") && err.contains("`pgo-build merge --output"), "{err}");
    assert!(!p.pgo_dir().join("build/check").exists(), "nothing is built with an unreadable profile");

    let out = p.fail(&["check", "--profile", "pgo/missing.profdata"]);
    assert!(stderr(&out).contains("pgo/missing.profdata does not exist"), "{}", stderr(&out));
    let out = p.fail(&["check"]);
    assert!(stderr(&out).contains("no merged profile was found"), "{}", stderr(&out));
}

#[test]
fn show_and_check_both_refuse_a_merged_profile_changed_on_disk() {
    let p = TestProject::new();
    p.run(&["instrument"]);
    p.run(&["train"]);
    // Another valid profile: the same training, weighted differently.
    let config = std::fs::read_to_string(p.path().join("pgo-build.toml")).unwrap();
    p.file("pgo-build.toml", &config.replace("use = [\"train\"]", "use = [\"train\"]\nweight = 3"));
    p.run(&["merge"]);
    let other = std::fs::read(p.state()["merge"]["profile"].as_str().unwrap()).unwrap();
    p.file("pgo-build.toml", &config);
    p.run(&["merge"]);
    let merged = p.state()["merge"]["profile"].as_str().unwrap().to_string();
    assert_ne!(std::fs::read(&merged).unwrap(), other, "the two profiles differ");
    std::fs::write(&merged, &other).unwrap();

    for (args, or) in [(&["show"][..], "`pgo-build show FILE`"), (&["check"][..], "`pgo-build check --profile FILE`")] {
        let err = stderr(&p.fail(args));
        assert!(err.contains(&format!("the merged profile {merged} is missing or changed")), "{args:?}: {err}");
        assert!(err.contains("run `pgo-build merge`") && err.contains(or), "{args:?}: {err}");
    }
    assert!(!p.pgo_dir().join("check.json").exists(), "nothing checked");
}
