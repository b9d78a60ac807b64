//! One `cargo metadata` per command: the project, its workspace packages and the
//! dependency graph that says which crates build C come from one run, kept on
//! `Project` (it used to be two for every command, three for `check`).

use std::path::PathBuf;

use crate::utils::TestProject;

/// Runs pgo-build with `args`, with a `cargo` first on PATH that logs each
/// `cargo metadata` and hands every call on to the real cargo; returns the
/// logged `metadata` command lines.
fn metadata_runs(p: &TestProject, args: &[&str]) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let real = which::which("cargo").expect("cargo on PATH");
    let bin = tempfile::tempdir().expect("temp dir");
    let log = bin.path().join("metadata.log");
    let wrapper = bin.path().join("cargo");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = metadata ]; then echo \"$*\" >> '{}'; fi\nexec '{}' \"$@\"\n",
        log.display(),
        real.display()
    );
    std::fs::write(&wrapper, script).expect("write the cargo wrapper");
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(bin.path().to_path_buf()).chain(std::env::split_paths(&path));
    let path: Vec<PathBuf> = dirs.collect();
    let mut cmd = p.cmd(args);
    cmd.env("PATH", std::env::join_paths(path).expect("PATH"));
    p.check(cmd, args, true);
    std::fs::read_to_string(&log).unwrap_or_default().lines().map(str::to_string).collect()
}

#[test]
fn each_command_reads_cargo_metadata_once() {
    let p = TestProject::new();
    for args in [&["status"][..], &["instrument"], &["check", "--dry-run"], &["status"]] {
        let runs = metadata_runs(&p, args);
        assert_eq!(runs.len(), 1, "pgo-build {}: {runs:#?}", args.join(" "));
        assert!(runs[0].contains("--filter-platform"), "with the dependency graph for the target: {runs:#?}");
    }
}
