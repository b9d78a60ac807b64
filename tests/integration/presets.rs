//! `pgo-build profiles`: the presets listed, shown, and written into a real
//! Cargo.toml that cargo then builds with.

use std::path::Path;

use crate::utils::{TestProject, stderr, stdout};

const PRESETS: [&str; 6] = ["develop", "fast", "fastest", "small", "smallest", "production"];

/// A dependency-free project whose manifest has comments everywhere toml_edit
/// could lose them: the top, after a value, between tables, the end.
const COMMENTED_MANIFEST: &str = r#"# A tiny project, commented.
[package]
name = "tiny"   # the binary's name
version = "0.1.0"
edition = "2021"

# No workspace above this one.
[workspace]

# Debug info on release builds, for profilers.
[profile.release]
debug = "line-tables-only"   # enough for perf

# Lints last.
[lints.rust]
unsafe_code = "forbid"
# The end.
"#;

fn tiny_project() -> TestProject {
    let p = TestProject::empty();
    p.file("Cargo.toml", COMMENTED_MANIFEST);
    p.file("src/main.rs", "fn main() {\n    println!(\"tiny\");\n}\n");
    p
}

fn manifest(p: &TestProject) -> String {
    std::fs::read_to_string(p.path().join("Cargo.toml")).expect("Cargo.toml")
}

/// `cargo build --profile NAME` in the project, with the developer's build settings removed.
fn cargo_build(dir: &Path, profile: &str) {
    let mut cmd = std::process::Command::new("cargo");
    cmd.args(["build", "--profile", profile]).current_dir(dir);
    for var in
        ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
    {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo build --profile {profile} failed in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn list_names_every_preset_with_its_base() {
    let p = TestProject::empty();
    let out = stdout(&p.run(&["profiles", "list"]));
    for name in PRESETS {
        let line = out.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap_or_else(|| panic!("{out}"));
        let base = if name == "develop" { "dev" } else { "release" };
        assert_eq!(line.split_whitespace().nth(1), Some(base), "{line}");
    }
    assert_eq!(out.lines().count(), PRESETS.len() + 1, "a header and one line per preset:\n{out}");
}

#[test]
fn show_prints_the_exact_table() {
    let p = TestProject::empty();
    let out = p.run(&["profiles", "show", "production"]);
    assert_eq!(
        stdout(&out),
        "[profile.production]\ninherits = \"release\"\nlto = \"fat\"\ncodegen-units = 1\npanic = \"abort\"\n"
    );
}

#[test]
fn unknown_preset_lists_the_presets() {
    let p = TestProject::empty();
    let err = stderr(&p.fail(&["profiles", "show", "tiny"]));
    assert!(err.contains(&PRESETS.join(", ")), "{err}");
}

#[test]
fn write_keeps_every_line_and_cargo_builds_with_it() {
    let p = tiny_project();
    let out = p.run(&["profiles", "write", "small"]);
    assert!(stderr(&out).contains("cargo build --profile small"), "{}", stderr(&out));
    let written = manifest(&p);
    // Only a table was added, after [profile.release]: every other byte is as it was.
    let added = "\n[profile.small]\ninherits = \"release\"\nopt-level = \"s\"\n";
    let at = COMMENTED_MANIFEST.find("\n# Lints last.").expect("fixture");
    assert_eq!(written, format!("{}{added}{}", &COMMENTED_MANIFEST[..at], &COMMENTED_MANIFEST[at..]));
    cargo_build(p.path(), "small");
    assert!(p.path().join("target/small/tiny").is_file(), "no target/small/tiny");
}

#[test]
fn writing_an_existing_profile_needs_force() {
    let p = tiny_project();
    p.run(&["profiles", "write", "fastest"]);
    let first = manifest(&p);
    let err = stderr(&p.fail(&["profiles", "write", "fastest"]));
    assert!(err.contains("already has [profile.fastest]") && err.contains("--force"), "{err}");
    assert_eq!(manifest(&p), first, "a refused write must not touch Cargo.toml");

    p.run(&["profiles", "write", "fastest", "--force"]);
    assert_eq!(manifest(&p), first, "replacing a profile with the same preset changes nothing");
    p.run(&["profiles", "write", "small", "--as", "fastest", "--force"]);
    let replaced = manifest(&p);
    assert_eq!(replaced.matches("[profile.fastest]").count(), 1, "{replaced}");
    assert!(replaced.contains("[profile.fastest]\ninherits = \"release\"\nopt-level = \"s\"\n"), "{replaced}");
}

#[test]
fn built_in_profile_takes_the_keys_without_inherits() {
    let p = tiny_project();
    let err = stderr(&p.fail(&["profiles", "write", "develop", "--as", "release"]));
    assert!(err.contains("builds on `dev`") && err.contains("--as dev"), "{err}");
    assert_eq!(manifest(&p), COMMENTED_MANIFEST);

    p.run(&["profiles", "write", "production", "--as", "release", "--force"]);
    let written = manifest(&p);
    assert!(
        written.contains(
            "# Debug info on release builds, for profilers.\n[profile.release]\nlto = \"fat\"\ncodegen-units = 1\n\
             panic = \"abort\"\n\n# Lints last."
        ),
        "{written}"
    );
}

#[test]
fn invalid_profile_name_is_refused() {
    let p = tiny_project();
    let err = stderr(&p.fail(&["profiles", "write", "small", "--as", "my.profile"]));
    assert!(err.contains("not allowed in a cargo profile name"), "{err}");
    let err = stderr(&p.fail(&["profiles", "write", "small", "--as", "doc"]));
    assert!(err.contains("reserves the profile name `doc`"), "{err}");
}

#[test]
fn write_goes_to_the_workspace_root() {
    let p = TestProject::empty();
    p.file("Cargo.toml", "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n");
    p.file("app/Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
    p.file("app/src/main.rs", "fn main() {}\n");
    let member = p.path().join("app");
    // From the member's directory: `p.run` would point --project at the root.
    let args = ["profiles", "write", "develop"];
    let mut cmd = assert_cmd::Command::cargo_bin("pgo-build").expect("pgo-build binary");
    cmd.arg("--project").arg(&member).args(args).env("NO_COLOR", "1");
    let out = p.check(cmd, &args, true);
    assert!(stderr(&out).contains(&p.path().join("Cargo.toml").display().to_string()), "{}", stderr(&out));
    assert!(manifest(&p).ends_with("\n[profile.develop]\ninherits = \"dev\"\ndebug = false\n"), "{}", manifest(&p));
    let app = std::fs::read_to_string(member.join("Cargo.toml")).expect("member manifest");
    assert!(!app.contains("[profile"), "{app}");
}

#[test]
fn dry_run_writes_nothing() {
    let p = tiny_project();
    let out = p.run(&["--dry-run", "profiles", "write", "smallest"]);
    assert!(stdout(&out).starts_with("[profile.smallest]\n"), "{}", stdout(&out));
    assert_eq!(manifest(&p), COMMENTED_MANIFEST);
}
