//! The placeholders `pgo-build init` writes into its example workload scripts,
//! and the check that stops a stage before it builds anything while one is
//! still there.
//!
//! An untouched example fails when it runs, with a message saying what to do; but
//! in `all` it would run only after an instrumented build, minutes in. So the
//! stages that run workloads look for the marker first: a line of a script
//! workload holding [`MARKER`], outside a comment. A commented-out placeholder
//! line is inert and does not count. Command lines are not scanned: init writes
//! none.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::config::{Run, Workload};

/// The marker on the placeholder line of init's example scripts.
pub const MARKER: &str = "PGO-BUILD-PLACEHOLDER";

/// Scripts larger than this are not read: init's examples are a few hundred bytes.
const MAX_SCAN_BYTES: u64 = 1 << 20;

/// A placeholder still in a workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub workload: String,
    /// The script, relative to the project directory.
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
}

impl std::fmt::Display for Placeholder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} (workload `{}`)", self.file.display(), self.line, self.workload)
    }
}

/// The first placeholder line in `text`, 1-based.
pub fn find_in(text: &str) -> Option<usize> {
    text.lines().position(|line| line.contains(MARKER) && !line.trim_start().starts_with('#')).map(|i| i + 1)
}

/// The placeholder left in `w`, if any.
pub fn find(project_dir: &Path, w: &Workload) -> Option<Placeholder> {
    let Run::Script(path) = &w.run else { return None };
    let full = project_dir.join(path);
    if !full.metadata().is_ok_and(|m| m.len() <= MAX_SCAN_BYTES) {
        return None;
    }
    let text = String::from_utf8_lossy(&std::fs::read(&full).ok()?).into_owned();
    Some(Placeholder { workload: w.name.clone(), file: path.clone(), line: find_in(&text)? })
}

/// Every placeholder left in `workloads`, in their order.
pub fn find_all<'w>(project_dir: &Path, workloads: impl IntoIterator<Item = &'w Workload>) -> Vec<Placeholder> {
    workloads.into_iter().filter_map(|w| find(project_dir, w)).collect()
}

/// Fails, naming each file and line, when any of `workloads` still has init's placeholder.
pub fn check<'w>(project_dir: &Path, workloads: impl IntoIterator<Item = &'w Workload>) -> Result<()> {
    let found = find_all(project_dir, workloads);
    if found.is_empty() {
        return Ok(());
    }
    bail!("{}", message(&found))
}

/// The error for placeholders found: where, and what to do.
pub fn message(found: &[Placeholder]) -> String {
    let list: Vec<String> = found.iter().map(|p| format!("  {p}")).collect();
    format!(
        "{} still {} the placeholder `pgo-build init` wrote, which fails when it runs:\n{}\n\
         Replace the line marked {MARKER} with real runs of \"$PGO_BUILD_BIN\" (see docs/workloads.md), or delete \
         the example; then `pgo-build try` runs every workload once against a plain build, in seconds",
        crate::util::plural(found.len(), "workload", "workloads"),
        if found.len() == 1 { "has" } else { "have" },
        list.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::config::Use;

    fn workload(name: &str, run: Run) -> Workload {
        Workload::new(name, run, BTreeSet::from([Use::Train]))
    }

    #[test]
    fn the_marker_line_is_found_but_not_in_a_comment() {
        let text = format!("#!/bin/sh\n# delete the line with {MARKER}\nset -eu\necho x >&2; exit 1 # {MARKER}\n");
        assert_eq!(find_in(&text), Some(4));
        let commented = format!("#!/bin/sh\n  # echo x; exit 1 # {MARKER}\n\"$PGO_BUILD_BIN\" --help\n");
        assert_eq!(find_in(&commented), None);
        assert_eq!(find_in("#!/bin/sh\n\"$PGO_BUILD_BIN\" --help\n"), None);
    }

    #[test]
    fn scripts_are_scanned_and_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("workloads/train")).unwrap();
        let example = format!("#!/bin/sh\nset -eu\n\nexit 1 # {MARKER}\n");
        std::fs::write(dir.path().join("workloads/train/example.sh"), example).unwrap();
        std::fs::write(dir.path().join("workloads/train/real.sh"), "#!/bin/sh\n\"$PGO_BUILD_BIN\"\n").unwrap();
        let workloads = [
            workload("example", Run::Script("workloads/train/example.sh".into())),
            workload("real", Run::Script("workloads/train/real.sh".into())),
            workload("line", Run::Shell(format!("exit 1 # {MARKER}"))),
            workload("second", Run::Script("workloads/train/example.sh".into())),
            workload("gone", Run::Script("workloads/train/missing.sh".into())),
        ];
        let found = find_all(dir.path(), &workloads);
        assert_eq!(
            found,
            [
                Placeholder { workload: "example".into(), file: "workloads/train/example.sh".into(), line: 4 },
                Placeholder { workload: "second".into(), file: "workloads/train/example.sh".into(), line: 4 },
            ]
        );
        let err = check(dir.path(), &workloads).unwrap_err().to_string();
        assert!(err.starts_with("2 workloads still have the placeholder"), "{err}");
        assert!(err.contains("  workloads/train/example.sh:4 (workload `example`)"), "{err}");
        assert!(err.contains("pgo-build try"), "{err}");
        assert!(check(dir.path(), &workloads[1..2]).is_ok());
    }
}
