//! Workloads: the environment contract and every way a run can fail.

use crate::utils::{FIXTURE_CONFIG, TestProject, stderr, stdout};

/// A project whose only training workload is `run` (plus `extra` keys).
fn with_training(run: &str, extra: &str) -> TestProject {
    let p = TestProject::new();
    p.file("pgo-build.toml", &format!("[[workload]]\nname = \"w\"\nrun = '''{run}'''\nuse = [\"train\"]\n{extra}\n"));
    p.run(&["instrument"]);
    p
}

#[test]
fn failing_workload_is_named_with_status_and_output_tail() {
    let p = with_training("echo starting; echo 'parse error at line 3' >&2; exit 3", "");
    let out = p.fail(&["train"]);
    let err = stderr(&out);
    assert!(err.contains("workload `w` failed during training: exit status 3"), "{err}");
    assert!(err.contains("parse error at line 3"), "{err}");
    assert!(err.contains("logs/train/w.log"), "{err}");
}

#[test]
fn timeout_stops_the_workload_and_its_children() {
    let p = with_training("sleep 30 & sleep 30", "timeout = 0.5");
    let started = std::time::Instant::now();
    let out = p.fail(&["train"]);
    assert!(stderr(&out).contains("timed out after 500ms."), "{}", stderr(&out));
    // Not a timing claim: a hung test here means the kill did not happen.
    assert!(started.elapsed().as_secs() < 25);
}

#[test]
fn signal_is_reported_by_name() {
    let p = with_training("kill -KILL $$", "");
    let out = p.fail(&["train"]);
    assert!(stderr(&out).contains("killed by signal 9 (SIGKILL)"), "{}", stderr(&out));
}

#[test]
fn workload_that_writes_no_profile_is_explained() {
    let p = with_training("echo did not run the binary", "");
    let out = p.fail(&["train"]);
    let err = stderr(&out);
    assert!(err.contains("succeeded but no raw profile was written"), "{err}");
    assert!(err.contains("$PGO_BUILD_BIN"), "{err}");
}

#[test]
fn failed_training_keeps_the_previous_profiles() {
    let p = TestProject::new();
    p.run(&["instrument"]);
    p.run(&["train"]);
    let raw = p.pgo_dir().join("profiles/raw/short");
    let before: Vec<_> = std::fs::read_dir(&raw).unwrap().flatten().map(|e| e.file_name()).collect();

    let failing = format!("{FIXTURE_CONFIG}\n[[workload]]\nname = \"broken\"\nrun = \"exit 1\"\nuse = [\"train\"]\n");
    p.file("pgo-build.toml", &failing);
    p.fail(&["train"]);
    let after: Vec<_> = std::fs::read_dir(&raw).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(before, after, "the good profile set was replaced by a failed run");
    let leftovers: Vec<_> = std::fs::read_dir(p.pgo_dir().join("profiles/raw"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "staging directories left behind");
    assert!(!p.pgo_dir().join("profiles/raw/broken").exists(), "a failed workload's profile must never be kept");

    // Back to the good config: the old profiles are still the merged ones.
    p.file("pgo-build.toml", FIXTURE_CONFIG);
    p.run(&["merge"]);
}

#[test]
fn reordering_workloads_keeps_the_training_profiles_valid() {
    let p = TestProject::new();
    p.run(&["instrument"]);
    p.run(&["train"]);
    let reordered = "[[workload]]\nname = \"long\"\nrun = \"workloads/long.sh\"\nuse = [\"bench\"]\n\n\
                     [[workload]]\nname = \"short\"\nrun = \"$PGO_BUILD_BIN 200000 > /dev/null\"\nuse = [\"train\"]\n";
    p.file("pgo-build.toml", reordered);
    p.run(&["merge"]);
    // A changed definition, though, makes them stale.
    p.file("pgo-build.toml", &reordered.replace("200000", "300000"));
    let out = p.fail(&["optimize"]);
    assert!(stderr(&out).contains("the training workloads (their definitions or data) changed"), "{}", stderr(&out));
}

#[test]
fn workload_environment_follows_the_contract() {
    let p = with_training(
        "{ env | grep -E '^(PGO_BUILD_|SIZE=)' | sort; echo \"cwd=$(pwd)\"; ls -A \"$PGO_BUILD_WORKDIR\" | wc -l; } > seen.txt; \"$PGO_BUILD_BIN\" 10",
        "env = { SIZE = \"large\" }",
    );
    p.run(&["train"]);
    let seen = std::fs::read_to_string(p.path().join("seen.txt")).unwrap();
    let bin = p.recorded_binary("instrument");
    assert!(seen.contains(&format!("PGO_BUILD_BIN={}", bin.display())), "{seen}");
    assert!(seen.contains(&format!("PGO_BUILD_BIN_FIXTURE={}", bin.display())), "{seen}");
    assert!(seen.contains("PGO_BUILD_STAGE=train"), "{seen}");
    assert!(seen.contains("PGO_BUILD_WORKLOAD=w"), "{seen}");
    assert!(seen.contains(&format!("PGO_BUILD_WORKDIR={}", p.pgo_dir().join("work/w").display())), "{seen}");
    assert!(seen.contains("SIZE=large"), "{seen}");
    assert!(seen.contains(&format!("cwd={}", p.path().display())), "{seen}");
    assert!(seen.trim_end().ends_with('0'), "the scratch directory must start empty: {seen}");
}

#[test]
fn parallel_processes_each_write_their_own_profile() {
    let p = with_training("\"$PGO_BUILD_BIN\" 1000 & \"$PGO_BUILD_BIN\" 2000 & \"$PGO_BUILD_BIN\" 3000; wait", "");
    let out = p.run(&["train"]);
    assert!(stderr(&out).contains("w: 3 raw profiles,"), "{}", stderr(&out));
}

#[test]
fn script_args_and_weights_reach_their_places() {
    let p = TestProject::new();
    p.script(
        "workloads/train.sh",
        "#!/bin/sh\necho \"$@\" > \"args-$PGO_BUILD_WORKLOAD.txt\"\nexec \"$PGO_BUILD_BIN\" \"$1\"\n",
    );
    p.file(
        "pgo-build.toml",
        r#"
[[workload]]
name = "heavy"
run = "workloads/train.sh"
args = ["5000", "two words"]
use = ["train"]
weight = 3

[[workload]]
name = "light"
run = "workloads/train.sh"
args = ["100"]
use = ["train"]
"#,
    );
    p.run(&["instrument"]);
    p.run(&["train"]);
    assert_eq!(std::fs::read_to_string(p.path().join("args-heavy.txt")).unwrap(), "5000 two words\n");
    let out = p.run(&["merge"]);
    assert!(stderr(&out).contains("weights heavy×3, light×1"), "{}", stderr(&out));
    let inputs = std::fs::read_to_string(p.pgo_dir().join("profiles/merge-inputs.txt")).unwrap();
    assert!(inputs.lines().any(|l| l.starts_with("3,") && l.contains("/raw/heavy/")), "{inputs}");
    assert!(inputs.lines().any(|l| l.starts_with("1,") && l.contains("/raw/light/")), "{inputs}");
}

/// A command line's `args` were pasted after it as ` "$@"`, so a line ending in
/// `done` became `…; done "$@"`, a shell syntax error. They are its positional
/// parameters now, for the line to place.
#[test]
fn args_with_a_shell_loop_ending_in_done() {
    let p = with_training(
        r#"echo "$0 $#" > seen.txt; for n in "$@"; do "$PGO_BUILD_BIN" "$n" > /dev/null; done"#,
        "args = [\"1000\", \"2000\"]",
    );
    let out = p.run(&["train"]);
    assert!(stderr(&out).contains("w: 2 raw profiles,"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(p.path().join("seen.txt")).unwrap(), "w 2\n");
}

#[test]
fn non_executable_script_says_chmod() {
    let p = TestProject::new();
    p.file("workloads/plain.sh", "#!/bin/sh\n\"$PGO_BUILD_BIN\"\n");
    p.file("pgo-build.toml", "[[workload]]\nname = \"plain\"\nrun = \"workloads/plain.sh\"\nuse = [\"train\"]\n");
    p.run(&["instrument"]);
    let out = p.fail(&["train"]);
    assert!(stderr(&out).contains("is not executable; run `chmod +x"), "{}", stderr(&out));
}

#[test]
fn multi_binary_projects_get_one_variable_per_binary() {
    let p = TestProject::new();
    p.file(
        "src/bin/other-tool.rs",
        "fn main() { let n: u64 = std::env::args().count() as u64; println!(\"{}\", n * 7); }\n",
    );
    p.file(
        "pgo-build.toml",
        "[[workload]]\nname = \"both\"\nrun = '''\"$PGO_BUILD_BIN_FIXTURE\" 1000 && \"$PGO_BUILD_BIN_OTHER_TOOL\" x'''\nuse = [\"train\"]\n",
    );
    let out = p.run(&["all", "--no-compare"]);
    assert!(stderr(&out).contains("both: 2 raw profiles,"), "{}", stderr(&out));
    assert!(p.pgo_dir().join("out/fixture").is_file());
    assert!(p.pgo_dir().join("out/other-tool").is_file());
}

/// A workload that runs the binary many times leaves a pool of at most four raw
/// profiles (LLVM's online merging), not one per run, and every run is counted.
#[test]
fn many_runs_of_the_binary_merge_into_a_pool_of_four_profiles() {
    let p = TestProject::new();
    p.script(
        "workloads/many.sh",
        "#!/bin/sh\ni=0\nwhile [ $i -lt 60 ]; do \"$PGO_BUILD_BIN\" 100 > /dev/null & i=$((i+1)); done\nwait\n",
    );
    p.file("pgo-build.toml", "[[workload]]\nname = \"many\"\nrun = \"workloads/many.sh\"\nuse = [\"train\"]\n");
    p.run(&["instrument"]);
    let err = stderr(&p.run(&["train"]));
    assert!(!err.contains("runs the workload again"), "{err}");
    let files = p.state()["train"]["workloads"][0]["raw_files"].as_u64().unwrap();
    assert!((1..=4).contains(&files), "{files} raw profiles for 60 runs");
    p.run(&["merge"]);
    let shown = stdout(&p.run(&["show", "--top", "50"]));
    let main = shown.lines().find(|l| l.ends_with("fixture::main")).unwrap_or_else(|| panic!("{shown}"));
    // Each run adds the same counts to main, so 60 runs add up to a multiple of 60.
    let count: u64 = main.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("{main}"));
    assert!(count > 0 && count.is_multiple_of(60), "a run was lost: {main}");
}
