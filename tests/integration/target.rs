//! `--target TRIPLE` (and `target = "…"`): every stage builds for that target,
//! here the static `x86_64-unknown-linux-musl` end to end; what cannot work (BOLT
//! on a static-pie binary with LLVM 22, a target without its standard library)
//! is refused before the first build.

use std::path::Path;

use crate::utils::{FIXTURE_CONFIG, TestProject, stderr, stdout};

const MUSL: &str = "x86_64-unknown-linux-musl";

/// Whether the ELF file at `path` asks for a program interpreter (a dynamic
/// loader): the program headers' `PT_INTERP`.
fn has_interpreter(path: &Path) -> bool {
    let elf = std::fs::read(path).expect("the binary is readable");
    assert_eq!(&elf[..4], b"\x7fELF", "{} is not ELF", path.display());
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().expect("an ELF field")) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| u32::from_le_bytes(elf[phoff + i * size..][..4].try_into().expect("an ELF field")) == 3)
}

#[test]
fn the_musl_target_runs_end_to_end_and_delivers_a_static_binary() {
    let p = TestProject::new();
    let out = p.run(&["--target", MUSL, "all", "--rounds", "2", "--warmup", "0", "--startup-args", ""]);
    let err = stderr(&out);
    assert!(err.contains(&format!("target {MUSL}")), "{err}");
    let state = p.state_of(MUSL);
    let instrumented = state["instrument"]["binaries"][0]["path"].as_str().expect("recorded binary");
    assert!(instrumented.contains(MUSL), "{instrumented}");
    assert_eq!(state["instrument"]["settings"]["target"], MUSL);
    assert!(!p.pgo_dir().join("state.json").exists(), "the host's pipeline folder is the host target's own");

    let delivered = p.pgo_dir_of(MUSL).join("out/fixture");
    assert!(!has_interpreter(&delivered), "a musl binary is static: {}", delivered.display());
    assert!(has_interpreter(Path::new("/bin/sh")), "the ELF check sees a dynamic binary's loader");

    let report = std::fs::read_to_string(p.pgo_dir_of(MUSL).join("report/report.md")).expect("report.md");
    assert!(report.contains(&format!("built for {MUSL}")), "{report}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.pgo_dir_of(MUSL).join("report/report.json")).expect("JSON"))
            .expect("JSON");
    assert_eq!(json["environment"]["target"], MUSL);
}

#[test]
fn bolt_on_a_static_pie_target_is_refused_before_building() {
    let p = TestProject::new();
    let err = stderr(&p.fail(&["--target", MUSL, "--bolt", "all"]));
    assert!(err.contains("cannot instrument the static-pie binaries"), "{err}");
    assert!(err.contains("#201371"), "names LLVM's issue: {err}");
    assert!(!p.pgo_dir_of(MUSL).join("build").exists(), "nothing was built");
    let dry = p.fail(&["--target", MUSL, "--bolt", "all", "--dry-run"]);
    assert!(stderr(&dry).contains("cannot instrument the static-pie binaries"), "{}", stderr(&dry));
    assert!(!stdout(&dry).contains("cargo build"), "a dry run refuses before printing the plan: {}", stdout(&dry));
}

#[test]
fn the_config_chooses_the_target_and_doctor_checks_it() {
    let p = TestProject::new();
    p.file("pgo-build.toml", &format!("target = \"{MUSL}\"\n{FIXTURE_CONFIG}"));
    let doctor = stdout(&p.run(&["doctor"]));
    let line = doctor.lines().find(|l| l.starts_with("target ")).unwrap_or_else(|| panic!("{doctor}"));
    assert!(line.contains("ok") && line.contains("profiler runtime") && line.contains("static-pie"), "{line}");

    // A target whose standard library is not installed: named, with the fix,
    // and nothing installed or built with --no-install.
    let other = "aarch64-unknown-linux-musl";
    let err = stderr(&p.fail(&["--target", other, "--no-install", "instrument"]));
    assert!(err.contains(&format!("the standard library for {other} is not installed")), "{err}");
    assert!(err.contains(&format!("rustup target add {other}")) && err.contains("--no-install is set"), "{err}");
    assert!(!p.pgo_dir_of(other).join("build").exists(), "nothing was built");
    let doctor = stdout(&p.run(&["--target", other, "doctor"]));
    assert!(doctor.contains(&format!("{other}: its standard library is not installed")), "{doctor}");

    let err = stderr(&p.fail(&["--target", "no-such-triple", "instrument"]));
    assert!(err.contains("rustc does not know the target \"no-such-triple\""), "{err}");
    let doctor = stdout(&p.fail(&["--target", "no-such-triple", "doctor"]));
    assert!(doctor.contains("PGO cannot work here"), "a target that cannot work fails doctor: {doctor}");
}

/// The targets rustup has installed for the toolchain in use.
fn installed_targets() -> String {
    let out = std::process::Command::new("rustup").args(["target", "list", "--installed"]).output().expect("rustup");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_dry_run_for_a_target_without_its_standard_library_is_refused_and_installs_nothing() {
    // It once exited 0, though a dry run is refused like --no-install.
    let triple = "riscv64gc-unknown-linux-gnu";
    assert!(!installed_targets().lines().any(|l| l == triple), "the test needs {triple} not installed");
    let p = TestProject::new();
    for command in ["instrument", "all", "compare", "try"] {
        let out = p.fail(&["--dry-run", command, "--target", triple]);
        let err = stderr(&out);
        assert!(err.contains(&format!("the standard library for {triple} is not installed")), "{command}: {err}");
        assert!(err.contains(&format!("install it with `rustup target add {triple}`")), "{command}: {err}");
        assert!(err.contains("(pgo-build did not: a dry run installs nothing)"), "{command}: {err}");
        assert!(!stdout(&out).contains("cargo build"), "{command}: refused before the plan: {}", stdout(&out));
    }
    assert!(!installed_targets().lines().any(|l| l == triple), "{triple} was installed");
    assert!(!p.pgo_dir().exists(), "nothing was written");
}

const AARCH64: &str = "aarch64-unknown-linux-gnu";

/// The ELF machine of the binary at `path` (`e_machine`: 62 x86-64, 183 AArch64).
fn elf_machine(path: &Path) -> u16 {
    let elf = std::fs::read(path).expect("the binary is readable");
    u16::from_le_bytes([elf[0x12], elf[0x13]])
}

/// Runs an aarch64 binary here, under Debian's qemu-user.
fn run_aarch64(path: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("qemu-aarch64")
        .args(["-L", "/usr/aarch64-linux-gnu"])
        .arg(path)
        .args(args)
        .output()
        .expect("qemu-aarch64 runs (`.ci/install-test-deps` installs qemu-user)");
    assert!(out.status.success(), "{} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn aarch64_trains_under_qemu_and_its_optimized_binary_gives_the_plain_builds_output() {
    let p = TestProject::new();
    let out = p.run(&["--target", AARCH64, "all"]);
    let err = stderr(&out);
    assert!(err.contains("against the instrumented build, under `") && err.contains("qemu-aarch64 -L"), "{err}");
    assert!(err.contains("0 of") && err.contains("without profile data, 0 with a hash mismatch"), "{err}");
    assert!(err.contains(&format!("compare skipped: {AARCH64} binaries run here only under")), "{err}");
    let emulated = p.state_of(AARCH64)["train"]["emulated_by"].as_str().unwrap_or_default().to_string();
    assert!(emulated.contains("qemu-aarch64"), "the record says training was emulated: {}", p.state_of(AARCH64));
    let status = stdout(&p.run(&["--target", AARCH64, "status"]));
    assert!(status.contains("emulated under `") && !status.contains("stale"), "{status}");

    // The delivered binary is aarch64, runs under qemu, and prints what a plain
    // release build prints.
    let delivered = p.pgo_dir_of(AARCH64).join("out/fixture");
    assert_eq!(elf_machine(&delivered), 183, "an AArch64 binary");
    assert_eq!(elf_machine(Path::new("/bin/sh")), 62, "the check reads the machine field");
    let plain_dir = p.path().join("target/plain");
    let built = std::process::Command::new("cargo")
        .args(["build", "--release", "--quiet", "--target", AARCH64, "--manifest-path"])
        .arg(p.path().join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&plain_dir)
        .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER", "aarch64-linux-gnu-gcc")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .expect("cargo runs");
    assert!(built.success());
    let plain = plain_dir.join(AARCH64).join("release/fixture");
    for input in ["1000", "123457"] {
        assert_eq!(run_aarch64(&delivered, &[input]), run_aarch64(&plain, &[input]), "input {input}");
    }

    // try runs each workload under the emulator too, and says its times are the emulator's.
    let tried = stdout(&p.run(&["--target", AARCH64, "try"]));
    assert!(tried.contains("(times under `") && tried.contains("emulated, not the target machine's"), "{tried}");

    // Timing under an emulator, and BOLT on it, are refused.
    let err = stderr(&p.fail(&["--target", AARCH64, "compare"]));
    assert!(err.contains("times under an emulator say nothing of the real machine"), "{err}");
    let err = stderr(&p.fail(&["--target", AARCH64, "--bolt", "instrument"]));
    assert!(err.contains("BOLT mode is on, but aarch64-unknown-linux-gnu binaries run here only under"), "{err}");
}

#[test]
fn the_users_runner_is_used_and_a_broken_one_is_named_before_building() {
    let p = TestProject::new();
    let mut cmd = p.cmd(&["--target", AARCH64, "instrument"]);
    cmd.env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER", "/nonexistent/emulator --fast");
    let err = stderr(&p.check(cmd, &["instrument"], false));
    assert!(err.contains(&format!("this machine cannot run {AARCH64} binaries")), "{err}");
    assert!(err.contains("/nonexistent/emulator"), "{err}");
    assert!(!p.pgo_dir_of(AARCH64).join("build").exists(), "nothing was built");

    // doctor names how the target is linked and run.
    let doctor = stdout(&p.run(&["--target", AARCH64, "doctor"]));
    let line = doctor.lines().find(|l| l.starts_with("target ")).unwrap_or_else(|| panic!("{doctor}"));
    assert!(
        line.contains("under `") && line.contains("qemu-aarch64") && line.contains("training is emulated"),
        "{line}"
    );
    assert!(line.contains("linked by") && line.contains("aarch64-linux-gnu-gcc"), "{line}");
}
