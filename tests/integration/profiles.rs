//! Cargo profiles: custom ones, and the rule that every build of a pipeline uses
//! the same profile settings.

use crate::utils::{TestProject, stderr};

const CUSTOM: &str = "\n[profile.dist]\ninherits = \"release\"\nopt-level = 2\npanic = \"abort\"\n";

#[test]
fn custom_profile_from_the_command_line() {
    let p = TestProject::new();
    p.file("Cargo.toml", &format!("{}{CUSTOM}", crate::utils::FIXTURE_MANIFEST));
    p.run(&["--cargo-profile", "dist", "all", "--no-compare"]);
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
    let out = p.fail(&["--cargo-profile", "release", "train"]);
    assert!(stderr(&out).contains("the Cargo profile changed since it ran"), "{}", stderr(&out));
    p.run(&["train"]);
}

#[test]
fn changed_profile_settings_require_a_new_instrumented_build() {
    let p = TestProject::new();
    p.run(&["instrument"]);
    p.file("Cargo.toml", &format!("{}\n[profile.release]\nstrip = true\n", crate::utils::FIXTURE_MANIFEST));
    let out = p.fail(&["train"]);
    let err = stderr(&out);
    assert!(err.contains("the Cargo profile settings (Cargo hashes them into every symbol name)"), "{err}");
    assert!(err.contains("run `pgo-build instrument`"), "{err}");
}

/// The bug this tool exists to prevent: a profile setting that differs between the
/// instrumented and the optimized build (here `strip`, set in a cargo config file or
/// the environment rather than Cargo.toml) changes every symbol name, and rustc
/// silently builds without the profile. `optimize` must refuse before building.
#[test]
fn regression_strip_changed_between_builds_is_refused_by_optimize() {
    let p = TestProject::new();
    p.run(&["instrument"]);
    p.run(&["train"]);
    p.run(&["merge"]);

    let mut cmd = p.cmd(&["optimize"]);
    cmd.env("CARGO_PROFILE_RELEASE_STRIP", "true");
    let out = p.check(cmd, &["optimize"], false);
    assert!(stderr(&out).contains("Cargo hashes them into every symbol name"), "{}", stderr(&out));

    p.file(".cargo/config.toml", "[profile.release]\nstrip = true\n");
    let out = p.fail(&["optimize"]);
    let err = stderr(&out);
    assert!(err.contains("the Cargo profile settings (Cargo hashes them into every symbol name)"), "{err}");
    assert!(!p.pgo_dir().join("build/optimized").exists(), "refused before building");
    assert!(!p.pgo_dir().join("out/fixture").exists(), "a build without its profile must not be delivered");
}

/// The last line of defence, for what no record can see: when most functions get
/// no profile data (here a stored profile meets sources rewritten since it was
/// made), `optimize` refuses to deliver a binary that would be PGO-optimized in
/// name only.
#[test]
fn optimize_refuses_a_build_the_profile_does_not_fit() {
    let p = TestProject::new();
    p.run(&["instrument"]);
    p.run(&["train"]);
    p.run(&["merge", "--output", "pgo/fixture.profdata"]);
    let mut src = String::from("use std::hint::black_box;\n");
    let mut table = Vec::new();
    for i in 0..40 {
        src.push_str(&format!(
            "#[inline(never)] fn renamed_{i}(x: u64) -> u64 {{ if x % {m} == 0 {{ x / 3 }} else {{ x ^ {i} }} }}\n",
            m = i + 2
        ));
        table.push(format!("renamed_{i}"));
    }
    src.push_str(&format!(
        "fn main() {{ let fs: [fn(u64) -> u64; 40] = [{}]; let mut a = 0; for (i, f) in fs.iter().enumerate() {{ a += f(black_box(i as u64)); }} println!(\"{{a}}\"); }}\n",
        table.join(", ")
    ));
    p.file("src/main.rs", &src);
    // The pipeline's own stages see the edit (instrument is stale) and say so.
    let err = stderr(&p.fail(&["optimize"]));
    assert!(err.contains("the instrumented build is out of date"), "{err}");
    let out = p.fail(&["optimize", "--profile", "pgo/fixture.profdata", "--max-unprofiled", "50"]);
    let err = stderr(&out);
    assert!(err.contains("rustc found no profile data for"), "{err}");
    assert!(err.contains("the profile does not fit these functions"), "{err}");
    assert!(!p.pgo_dir().join("out/fixture").exists(), "a build without its profile must not be delivered");
}
