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
    let instrumented = p.recorded_binary("instrument");
    assert!(instrumented.to_string_lossy().contains(MUSL), "{}", instrumented.display());
    assert_eq!(p.state()["instrument"]["settings"]["target"], MUSL);

    let delivered = p.pgo_dir().join("out/fixture");
    assert!(!has_interpreter(&delivered), "a musl binary is static: {}", delivered.display());
    assert!(has_interpreter(Path::new("/bin/sh")), "the ELF check sees a dynamic binary's loader");

    let report = std::fs::read_to_string(p.pgo_dir().join("report/report.md")).expect("report.md");
    assert!(report.contains(&format!("built for {MUSL}")), "{report}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.pgo_dir().join("report/report.json")).expect("report.json"))
            .expect("JSON");
    assert_eq!(json["environment"]["target"], MUSL);
}

#[test]
fn bolt_on_a_static_pie_target_is_refused_before_building() {
    let p = TestProject::new();
    let err = stderr(&p.fail(&["--target", MUSL, "--bolt", "all"]));
    assert!(err.contains("cannot instrument the static-pie binaries"), "{err}");
    assert!(err.contains("#201371"), "names LLVM's issue: {err}");
    assert!(!p.pgo_dir().join("build").exists(), "nothing was built");
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
    assert!(!p.pgo_dir().join("build").exists(), "nothing was built");
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
