//! `status` against what a run would do: one change of each kind of input, for
//! each stage, makes that stage the first stale one, with the reason; undoing
//! the change makes every stage current again (fingerprints are of content).

use crate::utils::{TestProject, stdout};

/// The verdict line under stage `stage` in `status`'s output.
fn verdict(status: &str, stage: &str) -> String {
    let mut lines = status.lines().skip_while(|l| !l.trim_start().starts_with(&format!("{stage} ")));
    lines.next();
    lines.next().unwrap_or_default().trim().to_string()
}

fn all_current(p: &TestProject) {
    let status = stdout(&p.run(&["status"]));
    for stage in ["instrument", "train", "merge", "optimize", "bolt"] {
        assert_eq!(verdict(&status, stage), "current", "{stage}: {status}");
    }
}

/// Applies `change`, expects `stage` to be the first stale one for `why`, then undoes it.
fn expect_stale(p: &TestProject, file: &str, change: impl Fn(&str) -> String, stage: &str, why: &str) {
    let path = p.path().join(file);
    let before = std::fs::read_to_string(&path).expect("file to change");
    p.file(file, &change(&before));
    let status = stdout(&p.run(&["status"]));
    let line = verdict(&status, stage);
    assert!(line.starts_with("stale:") && line.contains(why), "{file} → {stage} ({why}): {status}");
    assert_eq!(status.matches("stale:").count(), 1, "only the first stale stage says why: {status}");
    p.file(file, &before);
    all_current(p);
}

#[test]
fn each_kind_of_input_makes_its_stage_stale() {
    let p = TestProject::new();
    p.run(&["all", "--bolt", "--keep-bolt", "--no-compare"]);
    all_current(&p);

    // instrument: the sources, the Cargo profile settings, the environment.
    expect_stale(&p, "src/main.rs", |s| format!("{s}\n// edited\n"), "instrument", "the files it read");
    expect_stale(
        &p,
        "Cargo.toml",
        |s| format!("{s}\n[profile.release]\nopt-level = 2\n"),
        "instrument",
        "the Cargo profile settings",
    );
    let status = stdout(&p.cmd(&["status"]).env("CARGO_PROFILE_RELEASE_LTO", "true").output().expect("status runs"));
    assert!(verdict(&status, "instrument").contains("the Cargo profile settings"), "{status}");

    // train: a training workload's definition.
    expect_stale(
        &p,
        "pgo-build.toml",
        |s| s.replace("$PGO_BUILD_BIN 200000", "$PGO_BUILD_BIN 300000"),
        "train",
        "the training workloads",
    );
    // merge: a weight.
    expect_stale(
        &p,
        "pgo-build.toml",
        |s| s.replacen("use = [\"train\"]", "use = [\"train\"]\nweight = 2", 1),
        "merge",
        "weights",
    );
    // bolt: its flags, and the benchmark workloads it is checked on.
    expect_stale(&p, "pgo-build.toml", |s| format!("bolt-args = [\"-split-eh\"]\n{s}"), "bolt", "llvm-bolt's flags");
    expect_stale(
        &p,
        "workloads/long.sh",
        |s| s.replace("2000000", "2000001"),
        "bolt",
        "the benchmark workloads it is checked on",
    );
}

#[test]
fn a_build_from_a_stored_profile_is_stale_when_the_file_changes() {
    let p = TestProject::new();
    p.run(&["all", "--no-compare"]);
    p.run(&["merge", "--output", "pgo/fixture.profdata"]);
    p.run(&["optimize", "--profile", "pgo/fixture.profdata"]);
    let status = stdout(&p.run(&["status"]));
    assert_eq!(verdict(&status, "optimize"), "current", "{status}");
    assert!(status.contains("from the stored profile"), "{status}");
    // Another profile under the same name.
    p.file("pgo/fixture.profdata", "not the same profile");
    let status = stdout(&p.run(&["status"]));
    assert!(verdict(&status, "optimize").starts_with("stale:"), "{status}");
}
