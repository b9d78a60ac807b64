//! `pgo-build init` and `pgo-build try`: a new project's first files, the
//! placeholder that stops `all` before it builds, and one trial run of every
//! workload against a plain build.

use std::os::unix::fs::PermissionsExt;

use crate::utils::{FIXTURE_MAIN, FIXTURE_MANIFEST, TestProject, stderr, stdout};

const TRAIN: &str = "workloads/train/example-train.sh";
const BENCH: &str = "workloads/bench/example-bench.sh";

/// The fixture package with `profiles` appended to its manifest, and no config.
fn project(profiles: &str) -> TestProject {
    let p = TestProject::empty();
    p.file("Cargo.toml", &format!("{FIXTURE_MANIFEST}\n{profiles}"));
    p.file("src/main.rs", FIXTURE_MAIN);
    p
}

fn read(p: &TestProject, rel: &str) -> String {
    std::fs::read_to_string(p.path().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The line of `rel` that holds init's placeholder, 1-based.
fn placeholder_line(p: &TestProject, rel: &str) -> usize {
    read(p, rel).lines().position(|l| l.contains("PGO-BUILD-PLACEHOLDER") && !l.starts_with('#')).expect("placeholder")
        + 1
}

/// The table row of `workload`, its cells joined by one space.
fn row(table: &str, workload: &str) -> String {
    let line = table.lines().find(|l| l.split_whitespace().next() == Some(workload));
    line.unwrap_or_else(|| panic!("no row for {workload}: {table}")).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn init_chooses_the_profile_with_lto_says_why_and_writes_a_config_that_loads() {
    let p = project("[profile.production]\ninherits = \"release\"\nlto = \"fat\"\ncodegen-units = 1\n");
    let out = p.run(&["init"]);
    let config = read(&p, "pgo-build.toml");
    assert!(config.contains("\npackage = \"fixture\"\nbins = [\"fixture\"]\n"), "{config}");
    assert!(
        config.contains("# profile \"production\" sets lto = \"fat\", the build you ship\nprofile = \"production\"\n"),
        "{config}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("init wrote pgo-build.toml: package fixture, binaries fixture, profile \"production\""),
        "{err}"
    );
    assert!(err.contains(&format!("init wrote {TRAIN}")) && err.contains(&format!("init wrote {BENCH}")), "{err}");
    let next = stdout(&out);
    // The commands carry the --project init was given.
    let me = format!("pgo-build --project {}", p.path().display());
    for step in [
        "  1. replace the line marked PGO-BUILD-PLACEHOLDER".to_string(),
        format!("then `{me} try` runs every workload once"),
        format!("  2. `{me} doctor`"),
        format!("  3. `{me} all`"),
    ] {
        assert!(next.contains(&step), "{step}: {next}");
    }
    for script in [TRAIN, BENCH] {
        let text = read(&p, script);
        assert!(text.starts_with("#!/bin/sh\n") && text.contains("\nset -eu\n"), "{text}");
        assert!(text.contains("# \"$PGO_BUILD_BIN\" --help > /dev/null"), "{text}");
        let mode = std::fs::metadata(p.path().join(script)).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{script} is not executable");
    }
    // pgo-build reads it back: the profile for every build, and the two examples
    // found in their folders.
    let build = stdout(&p.run(&["instrument", "--dry-run"]));
    assert!(build.contains("--profile production"), "{build}");
    let train = stdout(&p.run(&["train", "--dry-run"]));
    assert!(train.contains(&p.path().join(TRAIN).display().to_string()), "{train}");
    assert!(!train.contains("example-bench"), "{train}");
}

#[test]
fn init_without_lto_chooses_release() {
    let p = project("[profile.release]\ndebug = 1\n");
    p.run(&["init"]);
    let config = read(&p, "pgo-build.toml");
    assert!(config.contains("# profile \"release\": no profile in Cargo.toml sets lto"), "{config}");
    assert!(config.contains("\nprofile = \"release\"\n"), "{config}");
}

#[test]
fn init_never_overwrites_without_force() {
    let p = project("");
    p.run(&["init"]);
    let written: Vec<String> = ["pgo-build.toml", TRAIN, BENCH].iter().map(|f| read(&p, f)).collect();
    p.file(TRAIN, "#!/bin/sh\n\"$PGO_BUILD_BIN\" 1000\n");
    std::fs::remove_file(p.path().join(BENCH)).unwrap();

    let out = p.fail(&["init"]);
    let err = stderr(&out);
    assert!(
        err.contains("init writes nothing, because these files already exist")
            && err.contains("pgo-build.toml, workloads/train/example-train.sh;"),
        "{err}"
    );
    assert!(err.contains("`pgo-build init --force` replaces them"), "{err}");
    // All or nothing: the edited script is kept, and the missing one is not written.
    assert_eq!(read(&p, TRAIN), "#!/bin/sh\n\"$PGO_BUILD_BIN\" 1000\n");
    assert_eq!(read(&p, "pgo-build.toml"), written[0]);
    assert!(!p.path().join(BENCH).exists());

    let out = p.run(&["init", "--force"]);
    assert!(stderr(&out).contains(&format!("init replaced {TRAIN}")), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("init wrote {BENCH}")), "{}", stderr(&out));
    let again: Vec<String> = ["pgo-build.toml", TRAIN, BENCH].iter().map(|f| read(&p, f)).collect();
    assert_eq!(again, written);
}

#[test]
fn init_in_a_workspace_needs_the_package_when_several_have_binaries() {
    let p = TestProject::empty();
    p.file("Cargo.toml", "[workspace]\nmembers = [\"a\", \"b\"]\nresolver = \"2\"\n\n[profile.dist]\ninherits = \"release\"\nlto = \"thin\"\n");
    for name in ["a", "b"] {
        p.file(
            &format!("{name}/Cargo.toml"),
            &format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        );
        p.file(&format!("{name}/src/main.rs"), "fn main() {}\n");
    }
    let out = p.fail(&["init"]);
    assert!(stderr(&out).contains("several packages with binaries (a, b)"), "{}", stderr(&out));
    assert!(!p.path().join("pgo-build.toml").exists());

    p.run(&["-p", "b", "init"]);
    let config = read(&p, "pgo-build.toml");
    assert!(config.contains("\npackage = \"b\"\nbins = [\"b\"]\n"), "{config}");
    assert!(
        config.contains("# profile \"dist\" sets lto = \"thin\", the build you ship\nprofile = \"dist\"\n"),
        "{config}"
    );
}

#[test]
fn all_after_init_stops_at_the_placeholders_before_building() {
    let p = project("");
    p.run(&["init"]);
    let out = p.fail(&["all"]);
    let err = stderr(&out);
    for script in [TRAIN, BENCH] {
        assert!(err.contains(&format!("  {script}:{}", placeholder_line(&p, script))), "{script}: {err}");
    }
    assert!(err.contains("Replace the line marked PGO-BUILD-PLACEHOLDER"), "{err}");
    assert!(!p.pgo_dir().join("build").exists(), "all built before refusing");
    assert!(!p.pgo_dir().join("state.json").exists());

    // `try` runs what is ready, and names the example still left as it was.
    let (line, text) = (placeholder_line(&p, TRAIN), read(&p, TRAIN));
    let edited: Vec<&str> =
        text.lines().enumerate().map(|(i, l)| if i + 1 == line { "\"$PGO_BUILD_BIN\" 1000" } else { l }).collect();
    p.file(TRAIN, &(edited.join("\n") + "\n"));
    let out = p.fail(&["try"]);
    let table = stdout(&out);
    let train = row(&table, "example-train");
    assert!(train.starts_with("example-train train ") && train.ends_with("ms ok, too short"), "{table}");
    let not_run =
        format!("example-bench bench - not run: init's placeholder at {BENCH}:{}", placeholder_line(&p, BENCH));
    assert_eq!(row(&table, "example-bench"), not_run, "{table}");
    assert!(
        stderr(&out).contains("1 of 2 workloads did not succeed: `example-bench` (init's placeholder)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn try_runs_every_workload_reports_each_failure_and_flags_short_runs() {
    let p = project("");
    let main = FIXTURE_MAIN.replace(
        "    let n: u64",
        "    if args.iter().any(|a| a == \"--explode\") {\n        panic!(\"--explode is not supported yet\");\n    }\n    let n: u64",
    );
    p.file("src/main.rs", &main);
    p.script("workloads/train/crash.sh", "#!/bin/sh\necho about to explode\nexec \"$PGO_BUILD_BIN\" --explode\n");
    p.script(
        "workloads/train/steady.sh",
        "#!/bin/sh\nset -eu\necho \"$PGO_BUILD_STAGE $PGO_BUILD_BIN\" > seen.txt\nsleep 0.3\n\"$PGO_BUILD_BIN\" 1000 > /dev/null\n",
    );
    p.script("workloads/bench/instant.sh", "#!/bin/sh\nexec \"$PGO_BUILD_BIN\" 10 > /dev/null\n");

    let out = p.fail(&["try"]);
    let (table, err) = (stdout(&out), stderr(&out));
    let crash = row(&table, "crash");
    assert!(crash.starts_with("crash train ") && crash.ends_with(" failed: exit status 101"), "{table}");
    assert!(row(&table, "steady").starts_with("steady train ") && row(&table, "steady").ends_with(" ok"), "{table}");
    let instant = row(&table, "instant");
    assert!(instant.starts_with("instant bench ") && instant.ends_with(" ok, too short"), "{table}");
    // The failure in full: how it ended, and the end of its output with the log.
    assert!(table.contains("workload `crash` failed during a trial run: exit status 101 after"), "{table}");
    assert!(table.contains("about to explode") && table.contains("--explode is not supported yet"), "{table}");
    assert!(table.contains(&p.pgo_dir().join("logs/try/crash.log").display().to_string()), "{table}");
    // Only the short one is flagged, named, for its use.
    assert!(
        err.contains("warning: workload `instant` ran for") && err.contains("too short to measure reliably"),
        "{err}"
    );
    assert!(!err.contains("workload `steady` ran for"), "{err}");
    assert!(err.contains("error: 1 of 3 workloads did not succeed: `crash` (exit status 101)"), "{err}");
    // The workload after the failure ran, against the plain build in its own folder.
    let seen = read(&p, "seen.txt");
    assert!(seen.starts_with("try ") && seen.contains(&p.pgo_dir().join("build/try").display().to_string()), "{seen}");
    assert!(!p.pgo_dir().join("state.json").exists(), "try recorded a stage");

    // One workload by name, and the build is reused.
    std::fs::remove_file(p.path().join("seen.txt")).unwrap();
    let out = p.run(&["try", "steady"]);
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
    assert!(read(&p, "seen.txt").starts_with("try "));
    let out = p.fail(&["try", "nope"]);
    assert!(
        stderr(&out).contains("there is no workload `nope` (there are: crash, instant, steady)"),
        "{}",
        stderr(&out)
    );
}
