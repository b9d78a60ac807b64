//! C code compiled by a build script (the real `cc` crate, the real clang of
//! rustc's LLVM) is profiled in the same run as the Rust code: one raw profile per
//! process, one merged profile, used by both compilers. The fixture is the bundled
//! `demo-c`, whose hot loop is the C function `hot_checksum`.

use std::path::Path;

use crate::utils::{TestProject, run_binary, stderr, stdout};

/// The `demo-c` project, with short workloads.
fn project() -> TestProject {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-c");
    let read = |rel: &str| std::fs::read_to_string(demo.join(rel)).unwrap_or_else(|e| panic!("demo-c/{rel}: {e}"));
    let p = TestProject::empty();
    for rel in ["Cargo.toml", "Cargo.lock", "build.rs", "src/main.rs", "csrc/hot.c", "workloads/texts/train-prose.txt"]
    {
        p.file(rel, &read(rel));
    }
    p.file("workloads/texts/bench-story.txt", &read("workloads/texts/bench-story.txt"));
    p.script(
        "workloads/train/prose.sh",
        "#!/bin/sh\nset -eu\nhere=$(cd \"$(dirname \"$0\")\" && pwd)\n\"$PGO_BUILD_BIN\" \"$here/../texts/train-prose.txt\" 20 >/dev/null\n",
    );
    p.script(
        "workloads/bench/story.sh",
        "#!/bin/sh\nset -eu\nhere=$(cd \"$(dirname \"$0\")\" && pwd)\n\"$PGO_BUILD_BIN\" \"$here/../texts/bench-story.txt\" 20 >/dev/null\n",
    );
    p
}

const TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// The bytes of the object file `cc` compiled from `csrc/hot.c` in the cargo
/// target directory `target_dir` (in the build script's `out` folder).
fn c_object(target_dir: &Path) -> Vec<u8> {
    let build = target_dir.join(TRIPLE).join("release/build");
    let objects: Vec<_> = std::fs::read_dir(&build)
        .unwrap_or_else(|e| panic!("{}: {e}", build.display()))
        .flatten()
        .filter_map(|e| std::fs::read_dir(e.path().join("out")).ok())
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with("-hot.o"))
        .collect();
    assert_eq!(objects.len(), 1, "one hot.o under {}: {objects:?}", build.display());
    std::fs::read(&objects[0]).expect("hot.o")
}

/// A number in `text` right before `marker`.
fn number_before(text: &str, marker: &str) -> u64 {
    let at = text.find(marker).unwrap_or_else(|| panic!("no {marker:?} in:\n{text}"));
    text[..at]
        .split_whitespace()
        .last()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no number before {marker:?}"))
}

#[test]
fn c_code_is_profiled_with_the_rust_code_and_the_optimized_build_uses_the_profile() {
    let p = project();
    let doctor = stdout(&p.run(&["doctor"]));
    assert!(doctor.contains("C/C++ of pgo-demo-c profiled too, compiled by"), "{doctor}");

    let out = p.run(&["all", "--no-compare"]);
    let err = stderr(&out);
    assert!(err.contains("instrument C/C++ of pgo-demo-c profiled too"), "{err}");
    let c_line = err.lines().find(|l| l.contains("C/C++ (pgo-demo-c):")).unwrap_or_else(|| panic!("{err}"));
    assert!(c_line.contains("C/C++ (pgo-demo-c): 0 of"), "{c_line}");
    assert!(number_before(c_line, "profiled functions") >= 3, "hot_checksum, pick, weight… in the profile: {c_line}");
    assert!(err.contains("Rust: 0 of"), "{err}");

    // The merged profile holds the C function, with counts from the training run.
    let show = stdout(&p.run(&["show", "--top", "40"]));
    assert!(show.contains("hot_checksum"), "{show}");
    let state = p.state();
    let coverage = &state["optimize"]["c_coverage"];
    assert_eq!(coverage["packages"][0], "pgo-demo-c", "{coverage}");
    assert_eq!(coverage["unprofiled"].as_array().map(Vec::len), Some(0), "{coverage}");

    // The optimized binary computes what the plain one does.
    let out_dir = p.pgo_dir().join("out");
    let text = p.path().join("workloads/texts/bench-story.txt");
    let text = text.to_str().expect("a UTF-8 path");
    let optimized = run_binary(&out_dir.join("pgo-demo-c"), &[text, "3"]);
    assert_eq!(optimized.len(), 16, "{optimized}");

    // Rust-only PGO is built and measured beside it, not taken for another build.
    p.run(&["compare", "--variants", "pgo,pgo-rust-only", "--rounds", "1", "--warmup", "0", "--startup-args", ""]);
    let report = std::fs::read_to_string(p.pgo_dir().join("report/report.md")).expect("report.md");
    let row = report.lines().find(|l| l.starts_with("| **pgo-rust-only**")).unwrap_or_else(|| panic!("{report}"));
    assert!(!row.contains("same build"), "{row}");
    assert!(report.contains("C/C++ compiled by") && report.contains("without the profile"), "{report}");
    // The demo locks a cc (1.2.x) that turns rustc's `-Cprofile-use` into clang's
    // `-fprofile-use` by itself: the variant's C object must still be built
    // without the profile, so it differs from pgo's, and so does the binary.
    let build = p.pgo_dir().join("build");
    let pgo_c = c_object(&build.join("optimized"));
    let rust_only_c = c_object(&build.join("variant-pgo-rust-only"));
    assert!(pgo_c != rust_only_c, "pgo-rust-only's C object is pgo's: the C code got the profile");
    let binary = |dir: &str| {
        let path = build.join(dir).join(TRIPLE).join("release/pgo-demo-c");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    assert!(binary("optimized") != binary("variant-pgo-rust-only"), "pgo-rust-only is byte-identical to pgo");

    // clang read the profile: after the C code changes, building with the same
    // profile reports the changed function as a mismatch and the new one as
    // without data, which it can only know from the profile.
    let hot = p.path().join("csrc/hot.c");
    let source = std::fs::read_to_string(&hot).expect("hot.c");
    let changed = source.replace(
        "    for (size_t i = 0; i < n; i++) {",
        "    if (n == 12345) return 7;\n    for (size_t i = 0; i < n; i++) {",
    ) + "\nuint64_t added_later(uint64_t x) { return x > 7 ? x * 3 : x + 1; }\n";
    assert_ne!(changed, source);
    std::fs::write(&hot, changed).expect("hot.c written");
    let out = p.std_cmd(&["check"]).output().expect("check runs");
    let check = stdout(&out);
    let c_line = check.lines().find(|l| l.starts_with("C/C++ (pgo-demo-c):")).unwrap_or_else(|| panic!("{check}"));
    assert!(c_line.contains(": 1 of"), "added_later has no data: {c_line}");
    assert!(c_line.ends_with("1 with a hash mismatch"), "hot_checksum changed: {c_line}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.pgo_dir().join("check.json")).expect("check.json"))
            .expect("JSON");
    assert_eq!(json["c"]["mismatched"][0], "hot_checksum", "{}", json["c"]);
    assert_eq!(json["c"]["unprofiled"][0], "added_later", "{}", json["c"]);
}

#[test]
fn c_pgo_can_be_turned_off_and_a_compiler_the_user_chose_is_not_replaced() {
    let p = project();
    let off = stdout(&p.run(&["--no-c-pgo", "doctor"]));
    assert!(off.contains("C/C++ of pgo-demo-c built without a profile: turned off"), "{off}");

    let mut cmd = p.std_cmd(&["doctor"]);
    cmd.env("CC_x86_64_unknown_linux_gnu", "gcc");
    let chosen = stdout(&cmd.output().expect("doctor runs"));
    assert!(chosen.contains("CC_x86_64_unknown_linux_gnu=gcc is not a clang of rustc's LLVM"), "{chosen}");

    // Off from the config: the instrumented build leaves the C code alone, so the
    // profile has no C function, and optimize says why.
    p.file("pgo-build.toml", "c-pgo = false\n");
    let out = p.run(&["all", "--no-compare"]);
    let err = stderr(&out);
    assert!(err.contains("C/C++ of pgo-demo-c built without a profile: turned off"), "{err}");
    assert!(!err.contains("Rust: "), "no per-language split without C PGO: {err}");
    let show = stdout(&p.run(&["show", "--top", "40"]));
    assert!(!show.contains("hot_checksum"), "{show}");
}

#[test]
fn rust_only_pgo_is_refused_where_no_c_code_is_profiled() {
    let p = TestProject::new();
    let err = stderr(&p.fail(&["compare", "--variants", "pgo-rust-only", "--dry-run"]));
    assert!(err.contains("this pipeline profiles no C/C++ code (no dependency builds C or C++)"), "{err}");
}

/// A package with a `links` key and a build script, and no C (as `rayon-core`),
/// is not claimed as C code; one with `cc` as a build dependency that compiles
/// nothing (a `-sys` crate linking the system's library) is named as such after
/// the build, not as profiled.
#[test]
fn only_packages_that_compile_c_are_said_to_be_profiled() {
    let p = project();
    let manifest = std::fs::read_to_string(p.path().join("Cargo.toml")).expect("Cargo.toml");
    p.file(
        "Cargo.toml",
        &manifest.replace(
            "[build-dependencies]",
            "[dependencies]\nlinks-only = { path = \"links-only\" }\nsys-linked = { path = \"sys-linked\" }\n\n\
             [build-dependencies]",
        ),
    );
    p.file(
        "links-only/Cargo.toml",
        "[package]\nname = \"links-only\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlinks = \"links-only\"\n",
    );
    p.file("links-only/build.rs", "fn main() { println!(\"cargo:rustc-cfg=has_links\"); }\n");
    p.file("links-only/src/lib.rs", "");
    p.file(
        "sys-linked/Cargo.toml",
        "[package]\nname = \"sys-linked\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[build-dependencies]\ncc = \"1\"\n",
    );
    p.file("sys-linked/build.rs", "fn main() { println!(\"cargo:rustc-link-lib=m\"); }\n");
    p.file("sys-linked/src/lib.rs", "");

    let doctor = stdout(&p.run(&["doctor"]));
    let line = doctor.lines().find(|l| l.starts_with("C/C++ code")).unwrap_or_else(|| panic!("{doctor}"));
    assert!(line.contains("C/C++ of pgo-demo-c, sys-linked profiled too"), "{line}");
    assert!(!line.contains("links-only"), "{line}");

    let err = stderr(&p.run(&["all", "--no-compare"]));
    let c_line = err.lines().find(|l| l.contains("C/C++ (")).unwrap_or_else(|| panic!("{err}"));
    assert!(c_line.contains("C/C++ (pgo-demo-c): 0 of"), "{c_line}");
    assert!(c_line.ends_with("; sys-linked compiled no C/C++"), "{c_line}");
    assert_eq!(p.state()["optimize"]["c_coverage"]["compiled_none"][0], "sys-linked");
}

/// C that gcc accepts and clang rejects (a nested function) fails the build only
/// under C/C++ PGO, which puts clang-22 in place of the default compiler: the
/// error says so and names `--no-c-pgo`, which then builds it.
#[test]
fn a_build_that_fails_under_clang_names_c_pgo_and_the_way_out() {
    let p = project();
    let hot = std::fs::read_to_string(p.path().join("csrc/hot.c")).expect("hot.c");
    p.file("csrc/hot.c", &format!("{hot}\nint gcc_only(void) {{ int g(void) {{ return 1; }} return g(); }}\n"));
    let err = stderr(&p.fail(&["instrument"]));
    assert!(err.contains("its C/C++ code was compiled by /usr/bin/clang-22 (LLVM 22."), "{err}");
    assert!(err.contains("`--no-c-pgo` (or `c-pgo = false` in pgo-build.toml)"), "{err}");
    p.run(&["--no-c-pgo", "instrument"]);
}

/// Issue 18: a BOLT pipeline builds everything with `strip = false` (BOLT needs
/// the symbols) and strips what it delivers; `pgo-rust-only` was measured as
/// cargo left it and reported several times the size of the stripped `pgo`.
#[test]
fn pgo_rust_only_in_bolt_mode_is_sized_as_it_ships() {
    let p = project();
    p.run(&["all", "--bolt", "--no-compare"]);
    p.run(&[
        "--bolt",
        "compare",
        "--variants",
        "pgo,pgo-rust-only",
        "--rounds",
        "1",
        "--warmup",
        "0",
        "--startup-args",
        "",
    ]);
    let text = std::fs::read_to_string(p.pgo_dir().join("report/report.json")).expect("report.json");
    let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let variant =
        |name: &str| report["variants"].as_array().unwrap().iter().find(|v| v["name"] == name).cloned().expect(name);
    let (pgo, rust_only) = (variant("pgo"), variant("pgo-rust-only"));
    let ratio = rust_only["size_bytes"].as_f64().unwrap() / pgo["size_bytes"].as_f64().unwrap();
    assert!((0.8..1.25).contains(&ratio), "pgo-rust-only is {ratio:.2}× pgo's size: {rust_only}");
    assert!(rust_only["build"]["post"].to_string().contains("stripped as the profile asks"), "{rust_only}");
}
