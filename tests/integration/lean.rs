//! The lean instrumented build: LTO skipped (`-Clto=off` appended to the
//! rustflags, Cargo's profile untouched), every name kept, so the optimized LTO
//! build finds data for every profiled function; `lean-instrument = false` and a
//! profile without LTO build as before.

use crate::utils::{FIXTURE_CONFIG, FIXTURE_MANIFEST, TestProject, stderr};

/// The fixture with fat LTO over several codegen units.
fn lto_project(config_first: &str) -> TestProject {
    let p = TestProject::new();
    p.file("Cargo.toml", &format!("{FIXTURE_MANIFEST}\n[profile.release]\nlto = \"fat\"\ncodegen-units = 4\n"));
    p.file("pgo-build.toml", &format!("{config_first}{FIXTURE_CONFIG}"));
    p
}

#[test]
fn a_fat_lto_profile_is_instrumented_without_lto_and_every_function_keeps_its_data() {
    let p = lto_project("");
    let err = stderr(&p.run(&["-v", "all", "--no-compare"]));
    let instrument = err.lines().find(|l| l.contains("cargo build") && l.contains("-Cprofile-generate")).unwrap();
    assert!(instrument.contains("-Clto=off"), "{instrument}");
    let optimize = err.lines().find(|l| l.contains("cargo build") && l.contains("-Cprofile-use")).unwrap();
    assert!(!optimize.contains("-Clto=off"), "the optimized build keeps its LTO: {optimize}");
    assert!(err.contains("instrument lean: LTO skipped"), "{err}");
    assert!(err.contains(" 0 of ") && err.contains("profiled functions without profile data, 0 with"), "{err}");
    assert_eq!(p.state()["instrument"]["lean"], true);

    // The way out: as before, LTO and all.
    let p = lto_project("lean-instrument = false\n");
    let err = stderr(&p.run(&["-v", "instrument"]));
    assert!(
        !err.contains("-Clto=off") && err.contains("LTO kept in the instrumented build: lean-instrument = false"),
        "{err}"
    );
    assert_eq!(p.state()["instrument"]["lean"], false);
}

#[test]
fn a_profile_without_lto_has_nothing_to_skip() {
    let p = TestProject::new();
    let err = stderr(&p.run(&["-v", "instrument"]));
    assert!(err.contains("LTO kept in the instrumented build: the profile does not use LTO"), "{err}");
    assert!(!err.contains("-Clto=off"), "{err}");
}
