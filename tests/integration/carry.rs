//! `optimize --profile-from`: a profile trained on this machine's target,
//! carried to aarch64 (linked by the cross gcc, run under qemu) and to
//! x86_64-pc-windows-gnu (linked by mingw, run nowhere here); and the bad
//! inputs refused before any build.

use std::path::{Path, PathBuf};

use crate::utils::{TestProject, stderr, stdout};

const HOST: &str = "x86_64-unknown-linux-gnu";
const AARCH64: &str = "aarch64-unknown-linux-gnu";
const WINDOWS: &str = "x86_64-pc-windows-gnu";

/// The llvm-profdata pgo-build uses (rustup's llvm-tools, installed by the harness).
fn profdata() -> PathBuf {
    let sysroot = std::process::Command::new("rustc").args(["--print", "sysroot"]).output().expect("rustc runs");
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    Path::new(&sysroot).join(format!("lib/rustlib/{HOST}/bin/llvm-profdata"))
}

/// Writes the text profile `text` as the indexed profile `out`.
fn indexed(text: &str, out: &Path) {
    let src = out.with_extension("proftext");
    std::fs::write(&src, text).expect("write");
    let status = std::process::Command::new(profdata())
        .args(["merge", "--output"])
        .arg(out)
        .arg(&src)
        .status()
        .expect("llvm-profdata runs");
    assert!(status.success());
}

/// A profile in text form.
fn text_of(profile: &Path) -> String {
    let out = std::process::Command::new(profdata())
        .args(["merge", "--text", "--output", "-"])
        .arg(profile)
        .output()
        .expect("llvm-profdata runs");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run_aarch64(path: &Path, arg: &str) -> String {
    let out = std::process::Command::new("qemu-aarch64")
        .args(["-L", "/usr/aarch64-linux-gnu"])
        .arg(path)
        .arg(arg)
        .output()
        .expect("qemu-aarch64 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_host_profile_is_carried_to_aarch64_and_windows_with_its_coverage() {
    let p = TestProject::new();
    p.run(&["all", "--no-compare"]);
    let host_profile = PathBuf::from(p.state()["merge"]["profile"].as_str().expect("merged profile"));

    // aarch64: carried by name and hash, checked by rustc, runs under qemu.
    let out = p.run(&["--target", AARCH64, "optimize", "--profile-from", HOST, "--min-coverage", "90"]);
    let err = stderr(&out);
    assert!(err.contains(&format!("of the profile's counts carried to {AARCH64}")), "{err}");
    assert!(err.contains("0 with a hash mismatch"), "{err}");
    assert!(!err.contains("rustc used no data for"), "every carried function was used: {err}");
    let state = p.state_of(AARCH64);
    let coverage = &state["carry"]["coverage"];
    let (counts, carried) = (coverage["counts"].as_u64().unwrap(), coverage["carried_counts"].as_u64().unwrap());
    assert!(carried * 100 >= counts * 90 && carried > 0, "{coverage}");
    assert_eq!(state["carry"]["source_target"], HOST);
    let fixture = coverage["groups"].as_array().unwrap().iter().find(|g| g["name"] == "fixture");
    assert!(fixture.is_some_and(|g| g["carried_functions"].as_u64() > Some(0)), "per crate: {coverage}");
    assert!(state["optimize"]["carried_profile"].as_bool().unwrap());
    assert!(!p.pgo_dir_of(AARCH64).join("profiles/raw").exists(), "nothing was trained for aarch64");
    let carried_text = text_of(Path::new(state["carry"]["profile"].as_str().unwrap()));
    assert!(carried_text.contains("7fixture4main"), "the hot function is carried: {carried_text}");
    let status = stdout(&p.run(&["--target", AARCH64, "status"]));
    assert!(status.contains("carry      carried") && status.contains(&format!("from {HOST}")), "{status}");
    let delivered = p.pgo_dir_of(AARCH64).join("out/fixture");
    assert_eq!(run_aarch64(&delivered, "1000"), crate::utils::run_binary(&p.pgo_dir().join("out/fixture"), &["1000"]));

    // Below --min-coverage: exit 7, before the optimized build. The profile is
    // the host's with one function the target does not have, hotter than the rest.
    let mut text = text_of(&host_profile);
    text.push_str(
        "\n_RNvCs1aB2_7fixture8x86_only\n# Func Hash:\n5\n# Num Counters:\n1\n# Counter Values:\n999999999999\n\n",
    );
    let diluted = p.path().join("diluted.profdata");
    indexed(&text, &diluted);
    let optimized = p.pgo_dir_of(AARCH64).join("optimized/fixture");
    std::fs::remove_file(&optimized).expect("the optimized binary");
    let args = ["--target", AARCH64, "optimize", "--profile-from", diluted.to_str().unwrap(), "--min-coverage", "50"];
    let out = p.cmd(&args).output().expect("runs");
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stderr(&out).contains("less than --min-coverage 50% allows"), "{}", stderr(&out));
    assert!(stderr(&out).contains("fixture::x86_only"), "the hot function not carried is named: {}", stderr(&out));
    assert!(!optimized.exists(), "no optimized build below the gate");

    // Windows (gnu): linked by mingw; rustup ships it no profiler runtime and it
    // cannot run here, so it cannot be trained (said before any build), and
    // `all` does not compare it.
    let err = stderr(&p.fail(&["--target", WINDOWS, "instrument"]));
    assert!(err.contains("has no profiler runtime") && err.contains("--profile-from"), "{err}");
    assert!(!p.pgo_dir_of(WINDOWS).join("build").exists(), "nothing was built");
    let err = stderr(&p.run(&["--target", WINDOWS, "all", "--profile-from", HOST]));
    assert!(err.contains(&format!("of the profile's counts carried to {WINDOWS}")), "{err}");
    assert!(err.contains(&format!("compare skipped: {WINDOWS} binaries do not run here")), "{err}");
    let exe = std::fs::read(p.pgo_dir_of(WINDOWS).join("out/fixture.exe")).expect("fixture.exe delivered");
    assert_eq!(&exe[..2], b"MZ", "a Windows executable");
    let coverage = &p.state_of(WINDOWS)["carry"]["coverage"];
    assert!(coverage["carried_functions"].as_u64() > Some(0), "{coverage}");
}

#[test]
fn a_profile_that_cannot_be_carried_is_refused_before_any_build() {
    let p = TestProject::new();
    let aarch64_build = p.pgo_dir_of(AARCH64).join("build");

    // Of another project: no function of this workspace's crates.
    let other = p.path().join("other.profdata");
    indexed(":ir\n_RNvCs1aB2_5other4main\n# Func Hash:\n1\n# Num Counters:\n1\n# Counter Values:\n5\n", &other);
    let err = stderr(&p.fail(&["--target", AARCH64, "optimize", "--profile-from", other.to_str().unwrap()]));
    assert!(err.contains("has no function of this workspace's crates (fixture)"), "{err}");
    assert!(!aarch64_build.exists(), "nothing was built");

    // A missing file, a target never trained here, the target itself.
    let err = stderr(&p.fail(&["--target", AARCH64, "optimize", "--profile-from", "missing/x.profdata"]));
    assert!(err.contains("no such profile file, and not a target triple"), "{err}");
    let err = stderr(&p.fail(&["--target", AARCH64, "optimize", "--profile-from", HOST]));
    assert!(err.contains(&format!("there is no merged profile of {HOST} for this project")), "{err}");
    let err = stderr(&p.fail(&["--target", AARCH64, "optimize", "--profile-from", AARCH64]));
    assert!(err.contains("names the target being built"), "{err}");
    assert!(!aarch64_build.exists(), "nothing was built");

    // No linker for the target: said before any build, by the build and by doctor.
    let host_profile = p.path().join("host.profdata");
    indexed(
        ":ir\n_RNvCs1aB2_7fixture4main\n# Func Hash:\n1\n# Num Counters:\n1\n# Counter Values:\n5\n",
        &host_profile,
    );
    let args = ["--target", WINDOWS, "optimize", "--profile-from", host_profile.to_str().unwrap()];
    let mut cmd = p.cmd(&args);
    cmd.env("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER", "/nonexistent/ld");
    let err = stderr(&p.check(cmd, &args, false));
    assert!(err.contains(&format!("could not build and link a program for {WINDOWS} here")), "{err}");
    assert!(err.contains("gcc-mingw-w64-x86-64"), "{err}");
    assert!(!p.pgo_dir_of(WINDOWS).join("build").exists(), "nothing was built");
    let doctor = stdout(&p.run(&["--target", WINDOWS, "doctor"]));
    let line = doctor.lines().find(|l| l.starts_with("target ")).unwrap_or_else(|| panic!("{doctor}"));
    assert!(line.contains("carry") && line.contains("can be built from a carried profile"), "{line}");

    // --min-coverage is only for a carried profile.
    let err = stderr(&p.fail(&["optimize", "--min-coverage", "90"]));
    assert!(err.contains("--profile-from"), "{err}");
}

#[test]
fn a_release_matrix_trains_what_runs_here_and_carries_to_the_rest() {
    let p = TestProject::new();
    let config = std::fs::read_to_string(p.path().join("pgo-build.toml")).expect("config");
    p.file("pgo-build.toml", &format!("targets = [\"{WINDOWS}\", \"{AARCH64}\", \"{HOST}\"]\n{config}"));
    let out = p.run(&["all", "--no-compare"]);
    let table = stdout(&out);
    let line =
        |t: &str| table.lines().find(|l| l.starts_with(&format!("| {t} |"))).unwrap_or_else(|| panic!("{table}"));
    assert!(line(HOST).contains("| trained | (its own) |"), "{table}");
    assert!(
        line(AARCH64).contains("trained under an emulator (`") && line(AARCH64).contains("qemu-aarch64"),
        "{table}"
    );
    assert!(line(WINDOWS).contains(&format!("| carried from {HOST} |")), "{table}");
    // The host is trained first, whatever the order of the list.
    let err = stderr(&out);
    assert!(err.find(&format!("matrix {HOST}")) < err.find(&format!("matrix {WINDOWS}")), "{err}");
    let out_dir = p.pgo_dir().join("out");
    assert!(out_dir.join(HOST).join("fixture").is_file());
    assert!(out_dir.join(AARCH64).join("fixture").is_file());
    assert!(out_dir.join(WINDOWS).join("fixture.exe").is_file());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.pgo_dir().join("matrix.json")).expect("matrix.json"))
            .expect("JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(3), "{json}");
    assert_eq!(std::fs::read_to_string(p.pgo_dir().join("matrix.md")).expect("matrix.md").trim(), table.trim());

    let err = stderr(&p.fail(&["--target", HOST, "all", "--targets", AARCH64]));
    assert!(err.contains("give one of the two"), "{err}");
}
