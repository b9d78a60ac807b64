//! The profile's life after the first pipeline: stored profiles, robust and
//! distributed merging, caching, interruption and concurrent runs.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::utils::{TestProject, stderr};

/// Two training workloads (`a`, `b`) from scripts, one benchmark workload.
fn two_workloads() -> TestProject {
    let p = TestProject::new();
    p.script("workloads/a.sh", "#!/bin/sh\nexec \"$PGO_BUILD_BIN\" 100000 > /dev/null\n");
    p.script("workloads/b.sh", "#!/bin/sh\nexec \"$PGO_BUILD_BIN\" 200000 > /dev/null\n");
    p.file(
        "pgo-build.toml",
        "[[workload]]\nname = \"a\"\nrun = \"workloads/a.sh\"\nuse = [\"train\"]\n\n\
         [[workload]]\nname = \"b\"\nrun = \"workloads/b.sh\"\nuse = [\"train\"]\nweight = 2\n\n\
         [[workload]]\nname = \"long\"\nrun = \"workloads/long.sh\"\nuse = [\"bench\"]\n",
    );
    p
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("test I/O");
        let dest = to.join(entry.path().strip_prefix(from).expect("test I/O"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("test I/O");
        } else {
            std::fs::copy(entry.path(), &dest).expect("test I/O");
        }
    }
}

fn sha(path: &Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).expect("test I/O")).to_vec()
}

#[test]
fn a_stored_profile_builds_a_release_without_the_pipeline() {
    let p = TestProject::new();
    p.run(&["all", "--no-compare"]);
    let out = p.run(&["merge", "--output", "pgo/fixture.profdata"]);
    assert!(stderr(&out).contains("stored a copy in pgo/fixture.profdata"), "{}", stderr(&out));
    assert!(stderr(&out).contains("up to date"), "the merge itself was cached: {}", stderr(&out));
    // The release job: a fresh checkout with the stored profile, no pipeline.
    std::fs::remove_dir_all(p.pgo_dir()).expect("test I/O");
    let out = p.run(&["optimize", "--profile", "pgo/fixture.profdata"]);
    let err = stderr(&out);
    assert!(err.contains(" 0 of ") && err.contains("without profile data"), "{err}");
    assert!(p.pgo_dir().join("out/fixture").is_file());
    assert!(p.state()["instrument"].is_null(), "no instrumented build was needed");
    assert_eq!(p.state()["optimize"]["stored_profile"], true);
    assert!(p.state()["optimize"]["profile"].as_str().expect("test I/O").ends_with("pgo/fixture.profdata"));
    // `all` with a stored profile collects nothing.
    std::fs::remove_dir_all(p.pgo_dir()).expect("test I/O");
    let out = p.run(&["all", "--profile", "pgo/fixture.profdata", "--no-compare"]);
    assert!(!stderr(&out).contains("-Cprofile-generate"), "{}", stderr(&out));
    // Later stages accept a build from a stored profile.
    p.run(&["compare", "--variants", "pgo", "--rounds", "2", "--warmup", "0", "--startup-args", ""]);

    // A file llvm-profdata cannot read is refused before building.
    p.file("pgo/bad.profdata", "this is not a profile");
    let out = p.fail(&["optimize", "--profile", "pgo/bad.profdata"]);
    let err = stderr(&out);
    assert!(err.contains("pgo/bad.profdata cannot be read by this toolchain's llvm-profdata"), "{err}");
    assert!(err.contains("rustc would not stop on it"), "{err}");
}

#[test]
fn a_truncated_raw_profile_is_named_and_can_be_skipped() {
    let p = two_workloads();
    p.run(&["instrument"]);
    p.run(&["train"]);
    let raw = walkdir::WalkDir::new(p.pgo_dir().join("profiles/raw/b"))
        .into_iter()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "profraw"))
        .expect("a raw profile of b")
        .into_path();
    let len = std::fs::metadata(&raw).expect("test I/O").len();
    std::fs::OpenOptions::new().write(true).open(&raw).expect("test I/O").set_len(len / 3).expect("test I/O");

    let out = p.fail(&["merge"]);
    let err = stderr(&out);
    assert!(err.contains(&raw.display().to_string()), "the bad file is named: {err}");
    assert!(err.contains("--failure-mode warn"), "{err}");
    assert!(
        !p.pgo_dir()
            .join("profiles")
            .read_dir()
            .expect("test I/O")
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("merged-"))
    );

    let out = p.run(&["merge", "--failure-mode", "warn"]);
    let err = stderr(&out);
    assert!(err.contains("skipped by --failure-mode warn") && err.contains(&raw.display().to_string()), "{err}");
    assert!(p.state()["merge"]["functions"].as_u64().expect("test I/O") > 0);
}

#[test]
fn sharded_training_is_merged_from_the_shards_folders() {
    let p = two_workloads();
    p.run(&["instrument"]);
    let sets = tempfile::tempdir().expect("test I/O");
    for k in ["1/2", "2/2"] {
        let out = p.run(&["train", "--shard", k]);
        assert!(stderr(&out).contains(&format!("shard {k}: 1 of 2 training workloads")), "{}", stderr(&out));
        copy_dir(&p.pgo_dir().join("profiles/raw"), &sets.path().join(k.replace('/', "-of-")));
    }
    let out = p.fail(&["merge"]);
    assert!(stderr(&out).contains("merge every shard's set with `pgo-build merge --from"), "{}", stderr(&out));

    let (one, two) = (sets.path().join("1-of-2"), sets.path().join("2-of-2"));
    let out = p.fail(&["merge", "--from", one.to_str().expect("test I/O")]);
    assert!(stderr(&out).contains("no profiles for training workload `b`"), "{}", stderr(&out));
    assert!(!p.pgo_dir().join("profiles/raw/a").exists(), "a refused join copies nothing in");
    let out = p.run(&["merge", "--from", one.to_str().expect("test I/O"), two.to_str().expect("test I/O")]);
    let err = stderr(&out);
    assert!(err.contains("joined 2 profile sets with 2 workloads") && err.contains("weights a×1, b×2"), "{err}");
    let out = p.run(&["optimize"]);
    assert!(stderr(&out).contains(" 0 of "), "{}", stderr(&out));

    // Sets from an instrumented binary other than this machine's are refused.
    p.file("src/main.rs", &crate::utils::FIXTURE_MAIN.replace("n * 3 + 1", "n * 5 + 1"));
    p.run(&["instrument"]);
    let out = p.fail(&["merge", "--from", one.to_str().expect("test I/O"), two.to_str().expect("test I/O")]);
    let err = stderr(&out);
    assert!(err.contains("came from a different instrumented binary"), "{err}");
    assert!(err.contains("copy the instrument job's target/pgo-build"), "{err}");
}

#[test]
fn unchanged_stages_are_skipped_and_force_runs_them() {
    let p = TestProject::new();
    p.script("workloads/short.sh", "#!/bin/sh\nexec \"$PGO_BUILD_BIN\" $(cat workloads/n.txt) > /dev/null\n");
    p.file("workloads/n.txt", "200000\n");
    p.file(
        "pgo-build.toml",
        &crate::utils::FIXTURE_CONFIG
            .replace("run = \"$PGO_BUILD_BIN 200000 > /dev/null\"", "run = \"workloads/short.sh\""),
    );
    p.run(&["all", "--no-compare", "--out-dir", "dist"]);
    // Files pgo-build writes into the project are not sources.
    p.run(&["merge", "--output", "pgo/fixture.profdata"]);
    let instrumented = sha(&p.recorded_binary("instrument"));
    let out = p.run(&["all", "--no-compare", "--out-dir", "dist"]);
    let err = stderr(&out);
    for stage in ["instrument", "train", "merge", "optimize"] {
        assert!(err.contains(&format!("{stage} up to date: its inputs are unchanged")), "{stage}: {err}");
    }
    assert!(!err.contains("building fixture"), "nothing was rebuilt: {err}");
    let out = p.run(&["status"]);
    let text = crate::utils::stdout(&out);
    assert_eq!(text.matches("current").count(), 4, "{text}");

    let out = p.run(&["--force", "train"]);
    assert!(stderr(&out).contains("short: 1 raw profile,"), "{}", stderr(&out));
    // The workload's input data is part of its fingerprint.
    p.run(&["merge"]);
    p.file("workloads/n.txt", "300000\n");
    let out = p.run(&["train"]);
    assert!(stderr(&out).contains("short: 1 raw profile,"), "{}", stderr(&out));

    // So do rustflags in a cargo config file.
    p.file(".cargo/config.toml", "[build]\nrustflags = [\"--cfg\", \"user_flag\"]\n");
    let text = crate::utils::stdout(&p.run(&["status"]));
    assert!(text.contains("stale: the files it read (sources, manifests, Cargo.lock, cargo config) changed"), "{text}");
    std::fs::remove_file(p.path().join(".cargo/config.toml")).expect("test I/O");
    // And the workload's data.
    p.file("workloads/n.txt", "250000\n");
    let text = crate::utils::stdout(&p.run(&["status"]));
    assert!(text.contains("stale: the training workloads (their definitions or data) changed"), "{text}");

    // An edited source makes the builds stale; status says so, and all rebuilds.
    p.file("src/main.rs", &crate::utils::FIXTURE_MAIN.replace("n / 7", "n / 9"));
    let text = crate::utils::stdout(&p.run(&["status"]));
    assert!(text.contains("stale: the files it read (sources, manifests, Cargo.lock, cargo config) changed"), "{text}");
    let out = p.run(&["all", "--no-compare", "--out-dir", "dist"]);
    assert!(stderr(&out).contains("with -Cprofile-generate"), "{}", stderr(&out));
    assert_ne!(sha(&p.recorded_binary("instrument")), instrumented);
}

#[test]
fn an_interrupted_training_run_keeps_the_previous_profiles() {
    let p = TestProject::new();
    p.script("workloads/short.sh", "#!/bin/sh\nexec \"$PGO_BUILD_BIN\" 200000 > /dev/null\n");
    p.file(
        "pgo-build.toml",
        &crate::utils::FIXTURE_CONFIG
            .replace("run = \"$PGO_BUILD_BIN 200000 > /dev/null\"", "run = \"workloads/short.sh\""),
    );
    p.run(&["all", "--no-compare"]);
    let state_before = std::fs::read(p.pgo_dir().join("state.json")).expect("test I/O");
    let merged = p.state()["merge"]["profile"].as_str().expect("test I/O").to_string();
    let raw_dir = p.pgo_dir().join("profiles/raw/short");
    let raw_before: Vec<_> = std::fs::read_dir(&raw_dir).expect("test I/O").flatten().map(|e| e.file_name()).collect();

    // A slow run of the same workload, interrupted while it runs.
    p.script("workloads/short.sh", "#!/bin/sh\n\"$PGO_BUILD_BIN\" 1000 > /dev/null\nsleep 30\n");
    let child = p.std_cmd(&["train"]).spawn_with_output_files(&p.path().join("train.err"));
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("test I/O");
    assert!(status.success());
    let out = child.wait_with_output().expect("test I/O");
    assert!(started.elapsed() < Duration::from_secs(20), "the workload's process group was stopped");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        std::fs::read_to_string(p.path().join("train.err")).expect("test I/O")
    );
    let err = std::fs::read_to_string(p.path().join("train.err")).expect("test I/O");
    assert!(err.contains("the previous profiles (if any) are kept"), "{err}");
    assert_eq!(
        std::fs::read(p.pgo_dir().join("state.json")).expect("test I/O"),
        state_before,
        "the record is untouched"
    );
    assert!(Path::new(&merged).is_file(), "the merged profile is still there");
    let raw_after: Vec<_> = std::fs::read_dir(&raw_dir).expect("test I/O").flatten().map(|e| e.file_name()).collect();
    assert_eq!(raw_after, raw_before, "the previous raw profiles are still there");
}

#[test]
fn a_second_run_waits_for_the_first() {
    let p = TestProject::new();
    p.run(&["instrument"]);
    p.script("workloads/slow.sh", "#!/bin/sh\nsleep 2\nexec \"$PGO_BUILD_BIN\" 1000 > /dev/null\n");
    p.file("pgo-build.toml", "[[workload]]\nname = \"slow\"\nrun = \"workloads/slow.sh\"\nuse = [\"train\"]\n");
    let first = p.std_cmd(&["train"]).spawn_with_output_files(&p.path().join("first.err"));
    std::thread::sleep(Duration::from_millis(700));
    let second = p.cmd(&["train"]).output().expect("test I/O");
    let first_pid = first.id();
    let first_out = first.wait_with_output().expect("test I/O");
    assert!(first_out.status.success());
    let err = stderr(&second);
    assert!(second.status.success(), "{err}");
    assert!(err.contains(&format!("another pgo-build is working on this project (pid {first_pid}")), "{err}");
    // It went on only after the first had finished: the training was then current.
    assert!(err.contains("train up to date"), "{err}");
}

/// Spawning with stderr to a file (and stdout discarded), for runs the test
/// signals or overlaps.
trait SpawnLogged {
    fn spawn_with_output_files(&mut self, stderr: &Path) -> std::process::Child;
}

impl SpawnLogged for std::process::Command {
    fn spawn_with_output_files(&mut self, stderr: &Path) -> std::process::Child {
        let file = std::fs::File::create(stderr).expect("test I/O");
        self.stdout(std::process::Stdio::null()).stderr(file).spawn().expect("test I/O")
    }
}
