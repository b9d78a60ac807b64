//! The user's own rustflags survive in every build pgo-build makes, from each of
//! the places cargo reads them.

use crate::utils::{TestProject, run_binary, stderr};

const HOST: &str = "x86_64-unknown-linux-gnu";

/// Runs the pipeline and checks that `--cfg user_flag` reached both the
/// instrumented and the optimized binary, and that the profile still applied.
fn assert_flags_survive(p: &TestProject, env: &[(&str, &str)]) {
    let mut cmd = p.cmd(&["all", "--no-compare"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = p.check(cmd, &["all", "--no-compare"], true);
    assert!(stderr(&out).contains(" 0 of "), "the profile must apply fully: {}", stderr(&out));
    assert_eq!(run_binary(&p.recorded_binary("instrument"), &["--flags"]), "user_flag=on", "instrumented build");
    assert_eq!(run_binary(&p.pgo_dir().join("out/fixture"), &["--flags"]), "user_flag=on", "optimized build");
}

#[test]
fn rustflags_env_survives() {
    assert_flags_survive(&TestProject::new(), &[("RUSTFLAGS", "--cfg user_flag")]);
}

#[test]
fn cargo_encoded_rustflags_env_survives() {
    assert_flags_survive(&TestProject::new(), &[("CARGO_ENCODED_RUSTFLAGS", "--cfg\x1fuser_flag")]);
}

#[test]
fn build_rustflags_in_cargo_config_survive() {
    let p = TestProject::new();
    p.file(".cargo/config.toml", "[build]\nrustflags = [\"--cfg\", \"user_flag\"]\n");
    assert_flags_survive(&p, &[]);
}

#[test]
fn target_rustflags_in_cargo_config_survive() {
    let p = TestProject::new();
    // Also a [build] entry, which cargo ignores once target flags apply: ours must
    // go where the user's effective flags are.
    p.file(
        ".cargo/config.toml",
        &format!("[build]\nrustflags = [\"--cfg\", \"ignored_by_cargo\"]\n\n[target.{HOST}]\nrustflags = [\"--cfg\", \"user_flag\"]\n"),
    );
    assert_flags_survive(&p, &[]);
}

#[test]
fn cfg_target_rustflags_in_cargo_config_survive() {
    let p = TestProject::new();
    p.file(".cargo/config.toml", "[target.'cfg(target_os = \"linux\")']\nrustflags = [\"--cfg\", \"user_flag\"]\n");
    assert_flags_survive(&p, &[]);
}
