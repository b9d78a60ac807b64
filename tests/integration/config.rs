//! Configuration errors and the selection of what to build.

use crate::utils::{TestProject, stderr};

#[test]
fn unknown_key_names_file_line_and_key_before_building() {
    let p = TestProject::new();
    p.file(
        "pgo-build.toml",
        "profile = \"release\"\n\n[[workload]]\nname = \"w\"\nrun = \"true\"\nuse = [\"train\"]\ntimout = 5\n",
    );
    let out = p.fail(&["all"]);
    let err = stderr(&out);
    assert!(err.contains(&p.path().join("pgo-build.toml").display().to_string()), "{err}");
    assert!(err.contains("line 7"), "{err}");
    assert!(err.contains("timout"), "{err}");
    assert!(!p.pgo_dir().exists(), "nothing may be built from a broken config");
}

#[test]
fn wrong_type_is_an_error() {
    let p = TestProject::new();
    p.file("pgo-build.toml", "[[workload]]\nname = \"w\"\nrun = \"true\"\nuse = \"train\"\n");
    let out = p.fail(&["train"]);
    assert!(stderr(&out).contains("line 4"), "{}", stderr(&out));
}

#[test]
fn explicit_missing_config_is_an_error() {
    let p = TestProject::new();
    let out = p.fail(&["--config", "nope.toml", "instrument"]);
    assert!(stderr(&out).contains("nope.toml does not exist"), "{}", stderr(&out));
}

#[test]
fn no_training_workloads_says_how_to_add_them() {
    let p = TestProject::new();
    std::fs::remove_file(p.path().join("pgo-build.toml")).unwrap();
    std::fs::remove_dir_all(p.path().join("workloads")).unwrap();
    p.run(&["instrument"]);
    let out = p.fail(&["train"]);
    assert!(stderr(&out).contains("there are no training workloads"), "{}", stderr(&out));
}

#[test]
fn workloads_are_discovered_without_a_config() {
    let p = TestProject::new();
    std::fs::remove_file(p.path().join("pgo-build.toml")).unwrap();
    p.script("workloads/train/basic.sh", "#!/bin/sh\nexec \"$PGO_BUILD_BIN\" 5000\n");
    p.script("workloads/bench/bigger.sh", "#!/bin/sh\nexec \"$PGO_BUILD_BIN\" 50000\n");
    let out = p.run(&["all", "--rounds", "1", "--warmup", "0"]);
    assert!(stderr(&out).contains("basic: 1 raw profile,"), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("bigger"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn unknown_binary_is_refused() {
    let p = TestProject::new();
    let out = p.fail(&["--bin", "nope", "instrument"]);
    assert!(stderr(&out).contains("has no binary `nope` (it has: fixture)"), "{}", stderr(&out));
}
