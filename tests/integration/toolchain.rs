//! Finding a usable llvm-profdata, and refusing an incompatible one.

use crate::utils::{TestProject, stderr, stdout};

/// Debian's LLVM 14 llvm-profdata: the trap this tool must explain. `.ci/run`
/// installs it; the test fails (not skips) without it.
const LLVM14: &str = "/usr/bin/llvm-profdata-14";

fn require_llvm14() {
    assert!(std::path::Path::new(LLVM14).is_file(), "{LLVM14} is missing: `apt-get install llvm-14` (.ci/run does)");
}

#[test]
fn doctor_proves_the_toolchain_works() {
    let p = TestProject::new();
    let out = p.run(&["doctor"]);
    let text = stdout(&out);
    assert!(text.contains("LLVM 22"), "{text}");
    assert!(text.contains("compiled, ran and merged an instrumented probe program"), "{text}");
    assert!(text.contains("PGO is ready"), "{text}");
    assert!(text.contains("package fixture"), "{text}");
}

#[test]
fn incompatible_llvm_profdata_is_refused_with_both_versions_and_a_fix() {
    require_llvm14();
    let p = TestProject::new();
    let out = p.fail(&["--llvm-profdata", LLVM14, "instrument"]);
    let err = stderr(&out);
    assert!(err.contains("it is LLVM 14.0"), "{err}");
    assert!(err.contains("rustc uses LLVM 22"), "{err}");
    assert!(err.contains("rustup component add llvm-tools-preview"), "{err}");
    assert!(!p.pgo_dir().join("build").exists(), "refused before building");

    // The same through the environment variable, and in doctor (exit status 1).
    let mut cmd = p.cmd(&["doctor"]);
    cmd.env("PGO_BUILD_LLVM_PROFDATA", LLVM14);
    let out = p.check(cmd, &["doctor"], false);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("given with PGO_BUILD_LLVM_PROFDATA") && text.contains("LLVM 14.0"), "{text}");
}

#[test]
fn llvm14_cannot_merge_rustc_profiles_and_the_error_explains_it() {
    // What happens to a user who bypasses the version check: the real tool's real
    // message, explained. (Train with the good tool, then merge with LLVM 14 via a
    // wrapper that claims to be LLVM 22.)
    require_llvm14();
    let p = TestProject::new();
    p.run(&["instrument"]);
    p.run(&["train"]);
    let liar = p.path().join("fake-profdata");
    p.script(
        "fake-profdata",
        &format!(
            "#!/bin/sh\nif [ \"$2\" = --version ]; then echo 'LLVM version 22.1.0'; exit 0; fi\nexec {LLVM14} \"$@\"\n"
        ),
    );
    let out = p.fail(&["--llvm-profdata", liar.to_str().unwrap(), "merge"]);
    let err = stderr(&out);
    assert!(err.contains("unsupported instrumentation profile format version"), "{err}");
    assert!(err.contains("cannot read these raw profiles"), "{err}");
    assert!(err.contains("rustup component add llvm-tools-preview"), "{err}");
    assert!(!p.pgo_dir().join("profiles/.merged.partial.profdata").exists());
}

#[test]
fn override_pointing_nowhere_is_an_error() {
    let p = TestProject::new();
    let out = p.fail(&["--llvm-profdata", "/nonexistent/llvm-profdata", "instrument"]);
    assert!(
        stderr(&out).contains("/nonexistent/llvm-profdata (given with --llvm-profdata): no such file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn doctor_finds_bolt_and_tells_about_branch_sampling() {
    // `.ci/run` installs Debian's bolt-22; this test needs the real tools.
    let p = TestProject::new();
    let out = p.run(&["doctor"]);
    let text = stdout(&out);
    let bolt = text.lines().find(|l| l.starts_with("llvm-bolt")).unwrap_or_default();
    assert!(bolt.contains(" ok ") && bolt.contains("llvm-bolt-22") && bolt.contains("merge-fdata-22 "), "{text}");
    assert!(text.lines().any(|l| l.starts_with("perf branches")), "{text}");
    // Which counter `compare --counts` would use: perf where it can count, else
    // cachegrind (installed by `.ci/install-test-deps`).
    let perf = text.lines().find(|l| l.starts_with("perf counters")).unwrap_or_default();
    assert!(perf.contains(" ok ") || perf.contains("`compare --counts` uses cachegrind"), "{text}");
    let cachegrind = text.lines().find(|l| l.starts_with("cachegrind")).unwrap_or_default();
    assert!(cachegrind.contains(" ok ") && cachegrind.contains("valgrind-3."), "{text}");
}

#[test]
fn bolt_override_is_checked_and_bolt_stays_optional() {
    let p = TestProject::new();
    let out = p.run(&["--llvm-bolt", "/nonexistent/llvm-bolt", "doctor"]);
    let text = stdout(&out);
    assert!(
        text.contains("/nonexistent/llvm-bolt (given with --llvm-bolt or PGO_BUILD_LLVM_BOLT): no such file"),
        "{text}"
    );
    assert!(text.contains("apt-get install bolt-22"), "{text}");
    assert!(text.contains("PGO is ready"), "BOLT is optional for PGO: {text}");

    // An llvm-bolt without its merge-fdata is not a usable installation.
    let lone = p.path().join("lone/llvm-bolt");
    std::fs::create_dir_all(lone.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("/usr/bin/llvm-bolt-22", &lone).unwrap();
    let mut cmd = p.cmd(&["doctor"]);
    cmd.env("PGO_BUILD_LLVM_BOLT", &lone);
    let out = p.check(cmd, &["doctor"], true);
    assert!(stdout(&out).contains("merge-fdata is not beside it"), "{}", stdout(&out));
}

/// Tests running in parallel on a fresh machine each call `.ci/install-test-deps`;
/// two apt-gets at once fail on dpkg's lock, so a second run must wait for the
/// first (and then find its installs) instead of starting its own.
#[test]
fn install_test_deps_waits_for_a_run_in_progress() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    // Installs first, under the real lock, so the run below (under a lock of its
    // own) has nothing to install beside another test's run.
    crate::utils::ensure_llvm_tools();
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("deps.lock");
    // Another run in progress: a process holding the script's lock.
    let mut holder = Command::new("bash")
        .args(["-c", "exec 9>\"$1\" && flock 9 && exec sleep 60", "holder"])
        .arg(&lock)
        .spawn()
        .expect("bash runs");
    let held = Instant::now();
    while Command::new("flock").args(["-n"]).arg(&lock).arg("true").status().unwrap().success() {
        assert!(held.elapsed() < Duration::from_secs(10), "the holder never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }

    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/install-test-deps");
    let mut run = Command::new("bash")
        .arg(&script)
        .env("PGO_BUILD_TEST_DEPS_LOCK", &lock)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let early = run.try_wait().unwrap();
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(early.is_none(), "install-test-deps ran beside another run ({early:?}) instead of waiting for it");
    let status = run.wait().unwrap();
    assert!(status.success(), "after the other run it finds everything installed: {status}");
}
