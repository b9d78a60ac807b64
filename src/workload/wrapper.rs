//! Wrapper scripts that stand in for the binaries under test, so a workload that
//! runs `"$PGO_BUILD_BIN"` runs the real binary under something: a counter
//! (`compare --counts`), or the emulator of a target this machine cannot run
//! natively (training for another architecture).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::cargo::Binary;

/// One script per binary in `dir`, named as the binary, each running
/// `line(binary)` with the workload's arguments: the binaries to hand the
/// workload in place of the real ones. `why` is said in each script.
pub fn wrap(binaries: &[Binary], dir: &Path, why: &str, line: impl Fn(&Path) -> String) -> Result<Vec<Binary>> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let mut wrapped = Vec::new();
    for b in binaries {
        let name = b.path.file_name().context("a binary without a file name")?;
        let path = dir.join(name);
        let mut script = format!("#!/bin/sh\n# pgo-build: {why}\n");
        let _ = writeln!(script, "exec {} \"$@\"", line(&b.path));
        std::fs::write(&path, script).with_context(|| format!("could not write {}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        wrapped.push(Binary { path, ..b.clone() });
    }
    Ok(wrapped)
}

/// The words of `runner` and then `binary`, quoted for the shell.
pub fn under(runner: &[String], binary: &Path) -> String {
    let q = |w: &std::ffi::OsStr| crate::process::quote(w);
    runner.iter().map(|w| q(w.as_ref())).chain([q(binary.as_os_str())]).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapper_runs_its_binary_under_the_runner_with_the_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let real = Binary { name: "echo".into(), path: "/bin/echo".into() };
        let runner = vec!["env".to_string(), "GREETING=hi there".to_string()];
        let wrapped = wrap(&[real], &dir.path().join("bin"), "a test", |b| under(&runner, b)).unwrap();
        assert_eq!(wrapped[0].path, dir.path().join("bin/echo"));
        let out = std::process::Command::new(&wrapped[0].path).args(["one", "two words"]).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "one two words\n");
        let script = std::fs::read_to_string(&wrapped[0].path).unwrap();
        assert!(script.contains("exec env 'GREETING=hi there' /bin/echo \"$@\""), "{script}");
    }
}
