//! Cargo profiles: custom ones, and the rule that every build of a pipeline uses
//! the same profile settings.

use crate::utils::{TestProject, stderr};

const CUSTOM: &str = "\n[profile.dist]\ninherits = \"release\"\nopt-level = 2\npanic = \"abort\"\n";

#[test]
fn custom_profile_from_the_command_line() {
    let p = TestProject::new();
    p.file("Cargo.toml", &format!("{}{CUSTOM}", crate::utils::FIXTURE_MANIFEST));
    p.run(&["--profile", "dist", "all", "--no-compare"]);
    let instrumented = p.recorded_binary("instrument");
    assert!(instrumented.to_string_lossy().contains("/dist/"), "{}", instrumented.display());
    assert!(p.pgo_dir().join("out/fixture").is_file());
}

#[test]
fn custom_profile_from_the_config_and_stages_agree() {
    let p = TestProject::new();
    p.file("Cargo.toml", &format!("{}{CUSTOM}", crate::utils::FIXTURE_MANIFEST));
    let config = std::fs::read_to_string(p.path().join("pgo-build.toml")).unwrap();
    p.file("pgo-build.toml", &format!("profile = \"dist\"\n{config}"));
    p.run(&["instrument"]);
    assert_eq!(p.state()["instrument"]["settings"]["profile"], "dist");
    // Asking for another profile in a later stage is refused: the profile would not fit.
    let out = p.fail(&["--profile", "release", "train"]);
    assert!(stderr(&out).contains("cargo profile changed since"), "{}", stderr(&out));
    p.run(&["train"]);
}

#[test]
fn changed_profile_settings_require_a_new_instrumented_build() {
    let p = TestProject::new();
    p.run(&["instrument"]);
    p.file("Cargo.toml", &format!("{}\n[profile.release]\nstrip = true\n", crate::utils::FIXTURE_MANIFEST));
    let out = p.fail(&["train"]);
    let err = stderr(&out);
    assert!(err.contains("[profile] settings in Cargo.toml changed since"), "{err}");
    assert!(err.contains("run `pgo-build instrument` again"), "{err}");
}

/// The bug this tool exists to prevent: a profile setting that differs between the
/// instrumented and the optimized build (here `strip`, set where pgo-build's
/// settings record does not look) changes every symbol name, and rustc silently
/// builds without the profile. `optimize` must refuse to deliver that binary.
#[test]
fn regression_strip_changed_between_builds_is_refused_by_optimize() {
    let p = TestProject::new();
    p.run(&["instrument"]);
    p.run(&["train"]);
    p.run(&["merge"]);
    p.file(".cargo/config.toml", "[profile.release]\nstrip = true\n");
    let out = p.fail(&["optimize"]);
    let err = stderr(&out);
    assert!(err.contains("rustc found no profile data for"), "{err}");
    assert!(err.contains("cargo hashes those settings into every symbol name"), "{err}");
    assert!(!p.pgo_dir().join("out/fixture").exists(), "a build without its profile must not be delivered");
}
