//! Regression tests, each named after the bug it pins (found by a fault trial
//! and by a newcomer's first run on a real crate).

use std::time::{Duration, Instant};

use crate::utils::{TestProject, stderr, stdout};

/// The pids of running processes whose executable is `exe`.
fn running(exe: &std::path::Path) -> Vec<u32> {
    let Ok(want) = exe.canonicalize() else { return Vec::new() };
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe"))
                .is_ok_and(|p| p.to_string_lossy().trim_end_matches(" (deleted)") == want.to_string_lossy())
        })
        .collect()
}

/// The run folders left in the raw-profile folder (`.run-…`): each run stages
/// its profiles in one of its own, gone once it is done.
fn staging_folders(p: &TestProject) -> Vec<String> {
    std::fs::read_dir(p.pgo_dir().join("profiles/raw"))
        .expect("raw dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn a_leftover_process_never_poisons_the_next_training_run() {
    let p = TestProject::new();
    // The workload leaves a long run behind in the background, and runs the binary once.
    p.script(
        "workloads/leaky.sh",
        "#!/bin/sh\n(\"$PGO_BUILD_BIN\" 100000000000 > /dev/null &)\n\"$PGO_BUILD_BIN\" 1000 > /dev/null\nsleep 0.2\n",
    );
    p.file("pgo-build.toml", "[[workload]]\nname = \"leaky\"\nrun = \"workloads/leaky.sh\"\nuse = [\"train\"]\n");
    p.run(&["instrument"]);
    let out = p.run(&["train"]);
    let err = stderr(&out);
    assert!(err.contains("workload `leaky` ended while 1 process it started still ran"), "{err}");
    assert!(err.contains("runs the workload again, with one profile per process"), "{err}");
    assert!(err.contains("left 1 process behind again") && err.contains("their profiles are dropped"), "{err}");
    let instrumented = p.recorded_binary("instrument");
    let left = running(&instrumented);
    for pid in &left {
        let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    assert!(left.is_empty(), "the leftover was stopped");
    assert_eq!(p.state()["train"]["workloads"][0]["raw_files"], 1, "only the finished run's profile: {}", p.state());
    // Each run stages its profiles in a folder of its own, gone once it is done.
    let staging = staging_folders(&p);
    assert!(staging.is_empty(), "{staging:?}");
}

/// A background child started by a workload's last line has forked but often not
/// yet exec'd the binary when the workload ends: it still runs `/bin/sh`. Found by
/// its environment, it is stopped in each of twenty workloads, and nothing
/// re-creates the run's staging folder afterwards.
#[test]
fn a_background_child_on_a_workloads_last_line_never_escapes() {
    let p = TestProject::new();
    p.script(
        "workloads/bg.sh",
        "#!/bin/sh\n\"$PGO_BUILD_BIN\" 1000 > /dev/null\n\"$PGO_BUILD_BIN\" 30000000000 > /dev/null &\n",
    );
    let config: String = (0..20)
        .map(|i| format!("[[workload]]\nname = \"bg{i}\"\nrun = \"workloads/bg.sh\"\nuse = [\"train\"]\n\n"))
        .collect();
    p.file("pgo-build.toml", &config);
    p.run(&["instrument"]);
    let err = stderr(&p.run(&["train"]));
    let caught =
        (0..20).filter(|i| err.contains(&format!("workload `bg{i}` ended while 1 process it started"))).count();
    let instrumented = p.recorded_binary("instrument");
    std::thread::sleep(Duration::from_millis(500));
    let left = running(&instrumented);
    for pid in &left {
        let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    assert_eq!(caught, 20, "caught in {caught} of 20 workloads: {err}");
    assert!(left.is_empty(), "{} instrumented processes outlived pgo-build", left.len());
    for w in p.state()["train"]["workloads"].as_array().expect("train record") {
        assert_eq!(w["raw_files"], 1, "only the finished run's profile: {w}");
    }
    let staging = staging_folders(&p);
    assert!(staging.is_empty(), "a leftover re-created a staging folder: {staging:?}");
}

#[test]
fn status_calls_merge_stale_after_a_weight_change() {
    let p = TestProject::new();
    p.run(&["all", "--no-compare"]);
    let config = std::fs::read_to_string(p.path().join("pgo-build.toml")).expect("config");
    p.file("pgo-build.toml", &config.replacen("use = [\"train\"]", "use = [\"train\"]\nweight = 3", 1));
    let status = stdout(&p.run(&["status"]));
    let merge = status.lines().skip_while(|l| !l.trim_start().starts_with("merge ")).nth(1).unwrap_or_default();
    assert!(merge.contains("stale: the training workloads' weights changed"), "{status}");
    let optimize = status.lines().skip_while(|l| !l.trim_start().starts_with("optimize ")).nth(1).unwrap_or_default();
    assert!(optimize.contains("waits on merge"), "{status}");
    assert_eq!(status.matches("stale:").count(), 1, "the reason is said once: {status}");
    // And a run does what status said.
    let err = stderr(&p.run(&["merge"]));
    assert!(!err.contains("up to date") && err.contains("weights short×3"), "{err}");
}

#[test]
fn all_with_no_workloads_fails_before_building() {
    let p = TestProject::new();
    p.file("pgo-build.toml", "[[workload]]\nname = \"long\"\nrun = \"workloads/long.sh\"\nuse = [\"bench\"]\n");
    let err = stderr(&p.fail(&["all"]));
    assert!(err.contains("there are no training workloads"), "{err}");
    assert!(!p.pgo_dir().join("build").exists(), "nothing was built");

    p.file("pgo-build.toml", "[[workload]]\nname = \"short\"\nrun = \"$PGO_BUILD_BIN 1000\"\nuse = [\"train\"]\n");
    let err = stderr(&p.fail(&["all"]));
    assert!(err.contains("no benchmark workloads for compare") && err.contains("--no-compare"), "{err}");
    assert!(!p.pgo_dir().join("build").exists(), "nothing was built");
}

#[test]
fn an_invalid_out_dir_is_named_before_building() {
    let p = TestProject::new();
    let bad = p.path().join("Cargo.toml/out");
    let err = stderr(&p.fail(&["all", "--no-compare", "--out-dir", bad.to_str().expect("utf-8")]));
    assert!(err.contains(&format!("the output directory {} cannot be created", bad.display())), "{err}");
    assert!(err.contains("--out-dir") && !err.contains(".tmp"), "{err}");
    assert!(!p.pgo_dir().join("build").exists(), "nothing was built");
}

#[test]
fn merge_force_writing_the_same_profile_keeps_optimize_current() {
    let p = TestProject::new();
    p.run(&["all", "--no-compare"]);
    let profile = p.state()["merge"]["sha256"].clone();
    p.run(&["--force", "merge"]);
    assert_eq!(p.state()["merge"]["sha256"], profile, "the same raw profiles merge to the same bytes");
    assert!(!p.state()["optimize"].is_null(), "optimize's record survives");
    let status = stdout(&p.run(&["status"]));
    assert!(!status.contains("stale") && !status.contains("not run"), "{status}");
    assert!(stderr(&p.run(&["optimize"])).contains("up to date"));
}

#[test]
fn a_truncated_raw_profile_is_noticed_by_a_plain_merge() {
    let p = TestProject::new();
    p.run(&["all", "--no-compare"]);
    let raw = walkdir::WalkDir::new(p.pgo_dir().join("profiles/raw/short"))
        .into_iter()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "profraw"))
        .expect("a raw profile")
        .into_path();
    let len = std::fs::metadata(&raw).expect("raw").len();
    std::fs::OpenOptions::new().write(true).open(&raw).expect("raw").set_len(len / 3).expect("truncate");
    let status = stdout(&p.run(&["status"]));
    assert!(status.contains("stale: the raw profiles changed"), "{status}");
    let err = stderr(&p.fail(&["merge"]));
    assert!(!err.contains("up to date") && err.contains(&raw.display().to_string()), "{err}");
}

#[test]
fn status_exits_0_on_a_broken_config() {
    let p = TestProject::new();
    p.file("pgo-build.toml", "[[workload]]\nname = \"x\"\nrun = \"true\"\nuse = [\"train\"]\nweigth = 3\n");
    let out = p.run(&["status"]);
    assert!(stdout(&out).contains("weigth"), "the error is the status: {}", stdout(&out));
}

#[test]
fn later_commands_keep_the_recorded_bolt_mode() {
    let p = TestProject::new();
    p.run(&["all", "--bolt", "--no-compare"]);
    // No --bolt: the record says BOLT mode, and every stage is current in it.
    let status = stdout(&p.run(&["status"]));
    assert!(status.contains("BOLT mode") && !status.contains("stale"), "{status}");
    let err = stderr(&p.run(&["optimize"]));
    assert!(err.contains("up to date"), "{err}");
    // check builds in the recorded mode too, so the fresh profile fits it whole.
    p.run(&["-q", "check", "--max-stale", "0"]);
    // Leaving BOLT mode is one flag, and status says what it changes, once.
    let status = stdout(&p.run(&["--no-bolt", "status"]));
    assert!(status.contains("stale: it was built in BOLT mode, and this command runs without it"), "{status}");
    assert!(status.contains("run `pgo-build instrument --no-bolt`"), "{status}");
    assert_eq!(status.matches("stale:").count(), 1, "{status}");
}

#[test]
fn show_does_not_wait_for_a_running_pipeline_and_status_says_it_runs() {
    let p = TestProject::new();
    p.run(&["all", "--no-compare"]);
    // Another pgo-build holds the project's lock (flock(1) takes the same lock).
    let lock = p.pgo_dir().join("lock");
    let mut holder =
        std::process::Command::new("flock").arg(&lock).args(["sleep", "60"]).spawn().expect("flock(1) runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !stdout(&p.run(&["status"])).contains("a run is in progress") {
        assert!(Instant::now() < deadline, "status never saw the lock held");
        std::thread::sleep(Duration::from_millis(50));
    }
    let start = Instant::now();
    let out = p.run(&["show"]);
    assert!(start.elapsed() < Duration::from_secs(30), "show waited for the lock");
    assert!(!stderr(&out).contains("waiting"), "{}", stderr(&out));
    let _ = holder.kill();
    let _ = holder.wait();
}

#[test]
fn status_says_when_the_delivered_binaries_are_from_an_earlier_build() {
    let p = TestProject::new();
    p.run(&["all", "--no-compare"]);
    let status = stdout(&p.run(&["status"]));
    assert!(status.contains("pgo delivered") && !status.contains("earlier build"), "{status}");
    p.file("src/main.rs", &crate::utils::FIXTURE_MAIN.replace("n / 7", "n / 9"));
    p.run(&["instrument"]);
    let status = stdout(&p.run(&["status"]));
    assert!(status.contains("from an earlier build: the next delivery replaces them"), "{status}");
}

#[test]
fn the_spawned_command_clears_the_cargo_build_variables_too() {
    // `std_cmd` (runs a test signals) once left CARGO_BUILD_RUSTFLAGS and
    // CARGO_BUILD_TARGET_DIR from the developer's shell in place, which `cmd` cleared.
    let p = TestProject::empty();
    let cmd = p.std_cmd(&["status"]);
    let removed: Vec<String> =
        cmd.get_envs().filter(|(_, v)| v.is_none()).map(|(k, _)| k.to_string_lossy().into_owned()).collect();
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "PGO_BUILD_LLVM_PROFDATA",
        "LLVM_PROFILE_FILE",
    ] {
        assert!(removed.iter().any(|r| r == var), "{var} is not cleared: {removed:?}");
    }
}

#[test]
fn a_record_whose_options_cannot_be_read_is_stale_not_defaulted() {
    let p = TestProject::new();
    p.run(&["instrument"]);
    p.run(&["train"]);
    p.run(&["merge"]);
    // A record written by a pgo-build with a --failure-mode this one does not know:
    // it was once read as the default mode, and the merge judged current.
    let mut state = p.state();
    state["merge"]["options"]["failure_mode"] = "newer-mode".into();
    std::fs::write(p.pgo_dir().join("state.json"), serde_json::to_string(&state).unwrap()).unwrap();

    let err = stderr(&p.fail(&["optimize"]));
    assert!(err.contains("the merged profile is out of date: the options it was run with cannot be read"), "{err}");
    assert!(err.contains("unknown variant `newer-mode`") && err.contains("run `pgo-build merge`"), "{err}");
    let status = stdout(&p.run(&["status"]));
    assert!(status.contains("stale: the options it was run with cannot be read"), "{status}");
    // What the message says to run does run, and brings the merge up to date.
    let err = stderr(&p.run(&["merge"]));
    assert!(!err.contains("up to date"), "{err}");
    assert_eq!(p.state()["merge"]["options"]["failure_mode"], "fail");
    let status = stdout(&p.run(&["status"]));
    assert!(!status.contains("stale"), "{status}");
}

#[test]
fn a_missing_workload_is_asked_for_where_the_workloads_come_from() {
    // Only workloads/train/: the message once said to add `[[workload]]` tables
    // "to the workloads/ folder (no pgo-build.toml)".
    let p = TestProject::new();
    std::fs::remove_file(p.path().join("pgo-build.toml")).unwrap();
    p.script("workloads/train/short.sh", "#!/bin/sh\nexec \"$PGO_BUILD_BIN\" 1000 > /dev/null\n");
    let bench = p.path().join("workloads/bench");
    let err = stderr(&p.fail(&["all"]));
    let want = format!(
        "there are no benchmark workloads for compare to measure: add an executable script to {}; or build \
         without measuring: `pgo-build all --no-compare`",
        bench.display()
    );
    assert!(err.contains(&want), "{err}");
    let err = stderr(&p.fail(&["compare"]));
    assert!(
        err.contains(&format!("there are no benchmark workloads: add an executable script to {}", bench.display()))
    );
    assert!(!err.contains("[[workload]]"), "{err}");

    // Declared in pgo-build.toml: the folders are not read, so a table there.
    p.file("pgo-build.toml", "[[workload]]\nname = \"short\"\nrun = \"$PGO_BUILD_BIN 1000\"\nuse = [\"train\"]\n");
    let err = stderr(&p.fail(&["all"]));
    let want = format!(
        "there are no benchmark workloads for compare to measure: add a `[[workload]]` table with `use = [\"bench\"]` \
         to {} (or \"bench\" to the `use` of one there)",
        p.path().join("pgo-build.toml").display()
    );
    assert!(err.contains(&want), "{err}");
    assert!(!p.pgo_dir().join("build").exists(), "nothing was built");
}
