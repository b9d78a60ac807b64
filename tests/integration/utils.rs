//! The test harness: real temporary Cargo projects, the real pgo-build binary, real
//! cargo and llvm-profdata. A failing command prints what ran, its stdout and
//! stderr, and the project directory is kept for inspection.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Once;

use assert_cmd::Command;

/// A small branchy program: enough for PGO to have something to count, and it
/// prints whether the `user_flag` cfg reached it, so tests can see rustflags survive.
pub const FIXTURE_MAIN: &str = r#"
fn classify(n: u64) -> u64 {
    match n % 7 {
        0 => n / 7,
        1 | 2 => n * 3 + 1,
        3 => n ^ 0x55,
        _ => n.rotate_left(3),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--flags") {
        println!("user_flag={}", if cfg!(user_flag) { "on" } else { "off" });
        return;
    }
    let n: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(classify(i));
    }
    println!("{acc}");
}
"#;

pub const FIXTURE_MANIFEST: &str = r#"[package]
name = "fixture"
version = "0.1.0"
edition = "2021"

[workspace]

[lints.rust]
unexpected_cfgs = { level = "warn", check-cfg = ["cfg(user_flag)"] }
"#;

pub const FIXTURE_CONFIG: &str = r#"[[workload]]
name = "short"
run = "$PGO_BUILD_BIN 200000 > /dev/null"
use = ["train"]

[[workload]]
name = "long"
run = "workloads/long.sh"
use = ["bench"]
"#;

/// What [`TestProject::cmd`] and [`TestProject::std_cmd`] remove from the
/// developer's environment: each would change what cargo builds, where, or with
/// which llvm-profdata.
pub const CLEARED_ENV: [&str; 7] = [
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "PGO_BUILD_LLVM_PROFDATA",
    "LLVM_PROFILE_FILE",
];

static TOOLS: Once = Once::new();

/// Installs what the tests need beyond Rust, once per test run, before tests race
/// to use it: `.ci/install-test-deps` (llvm-14, bolt-22, chromium, valgrind, clang-22,
/// the rustup llvm-tools component and musl target; nothing when all is there). So `cargo test` works on a
/// fresh machine.
pub fn ensure_llvm_tools() {
    TOOLS.call_once(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/install-test-deps");
        let status = std::process::Command::new("bash").arg(&script).status().expect("bash runs");
        assert!(status.success(), "{} failed: the tests need what it installs", script.display());
    });
}

pub struct TestProject {
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
}

impl TestProject {
    /// The default fixture: one binary, one training and one benchmark workload.
    pub fn new() -> TestProject {
        let p = TestProject::empty();
        p.file("Cargo.toml", FIXTURE_MANIFEST);
        p.file("src/main.rs", FIXTURE_MAIN);
        p.file("pgo-build.toml", FIXTURE_CONFIG);
        p.script("workloads/long.sh", "#!/bin/sh\nexec \"$PGO_BUILD_BIN\" 2000000 > /dev/null\n");
        p
    }

    /// A project directory with nothing in it.
    pub fn empty() -> TestProject {
        ensure_llvm_tools();
        let dir = tempfile::Builder::new().prefix("pgo-build-test-").tempdir().expect("temp dir");
        let root = dir.path().canonicalize().expect("canonical temp dir");
        TestProject { dir: Some(dir), root }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn file(&self, rel: &str, content: &str) -> &Self {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, content).expect("write file");
        self
    }

    pub fn script(&self, rel: &str, content: &str) -> &Self {
        use std::os::unix::fs::PermissionsExt;
        self.file(rel, content);
        std::fs::set_permissions(self.root.join(rel), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        self
    }

    /// `<target>/pgo-build`.
    pub fn pgo_dir(&self) -> PathBuf {
        self.root.join("target/pgo-build")
    }

    /// The pgo-build command for this project, with an environment cleaned of
    /// anything from the developer's shell that would change the result.
    pub fn cmd(&self, args: &[&str]) -> Command {
        Command::from_std(self.std_cmd(args))
    }

    /// The same command as a std one, for runs a test spawns and signals.
    pub fn std_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("pgo-build"));
        cmd.arg("--project").arg(&self.root).args(args).current_dir(&self.root);
        for var in CLEARED_ENV {
            cmd.env_remove(var);
        }
        cmd.env("NO_COLOR", "1");
        cmd
    }

    /// Runs pgo-build and requires success.
    pub fn run(&self, args: &[&str]) -> Output {
        self.check(self.cmd(args), args, true)
    }

    /// Runs pgo-build and requires failure; returns its output.
    pub fn fail(&self, args: &[&str]) -> Output {
        self.check(self.cmd(args), args, false)
    }

    pub fn check(&self, mut cmd: Command, args: &[&str], want_success: bool) -> Output {
        let output = cmd.output().expect("pgo-build runs");
        if output.status.success() != want_success {
            panic!(
                "pgo-build {} {} (expected {}), in {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                args.join(" "),
                output.status,
                if want_success { "success" } else { "failure" },
                self.root.display(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        output
    }

    /// `<target>/pgo-build/<triple>`: the pipeline of a target other than the host's.
    pub fn pgo_dir_of(&self, triple: &str) -> PathBuf {
        self.pgo_dir().join(triple)
    }

    /// The pipeline's state record.
    pub fn state(&self) -> serde_json::Value {
        read_state(&self.pgo_dir())
    }

    /// The state record of the pipeline of a target other than the host's.
    pub fn state_of(&self, triple: &str) -> serde_json::Value {
        read_state(&self.pgo_dir_of(triple))
    }

    /// Path of the first binary a stage recorded.
    pub fn recorded_binary(&self, stage: &str) -> PathBuf {
        PathBuf::from(self.state()[stage]["binaries"][0]["path"].as_str().expect("recorded binary"))
    }
}

fn read_state(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("state.json")).expect("state.json exists");
    serde_json::from_str(&text).expect("state.json parses")
}

impl Drop for TestProject {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            eprintln!("keeping the test project for inspection: {}", dir.keep().display());
        }
    }
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs a built binary and returns its trimmed standard output.
pub fn run_binary(path: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(path).args(args).output().expect("binary runs");
    assert!(out.status.success(), "{} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
