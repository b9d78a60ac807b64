//! Where a `compare` writes its report. Each run gets a folder of its own,
//! `<root>/reports/<UTC time>/` (`2026-05-03T142205Z`), so a run never
//! replaces an earlier report, and `<root>/report` is a symbolic link to the
//! latest run's folder, the one place to look. The link is made under a
//! temporary name and renamed over the old one, so `report` always names one
//! whole folder, never a half-made link. The folder's files are rewritten
//! during the run (each by a rename too), so `report/` shows a run in progress
//! as it goes, as before. A `report` left as a plain folder by an earlier
//! pgo-build is moved into `reports/` first, so it is kept too.
//! `--report-dir` names the folder itself: the report is written there, and
//! nothing else is made.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result};

/// Where this run's report goes.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The folder the files are written to.
    pub dir: PathBuf,
    /// The link to it, when it is one of pgo-build's own (`<root>/report`).
    pub latest: Option<PathBuf>,
}

impl Destination {
    /// `… in DIR`, for the last line of `compare`: where the files are, and
    /// where the latest and the earlier ones are.
    pub fn describe(&self) -> String {
        let files = format!("{} (report.md, report.json, report.html)", self.dir.display());
        match (&self.latest, self.dir.parent()) {
            (Some(latest), Some(all)) => {
                format!("{files}; {} is the latest, earlier ones stay in {}", latest.display(), all.display())
            }
            _ => files,
        }
    }
}

/// The folder for this run's report: `explicit` (`--report-dir`) as it is,
/// else a new `reports/<UTC time>/` under `root` with `root/report` linked to it.
pub fn open(explicit: Option<&Path>, root: &Path, now: SystemTime) -> Result<Destination> {
    if let Some(dir) = explicit {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create the report directory {}", dir.display()))?;
        return Ok(Destination { dir: dir.to_path_buf(), latest: None });
    }
    let all = root.join("reports");
    let latest = root.join("report");
    keep_plain_folder(&latest, &all)?;
    let dir = claim(&all, &stamp(now))?;
    link(&latest, &dir)?;
    Ok(Destination { dir, latest: Some(latest) })
}

/// `2026-05-03T142205Z`: UTC, sortable, without the colons some file systems
/// and tools refuse.
fn stamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string().replace(':', "")
}

/// Makes `<all>/<name>`, or `<name>-2`, `-3`… when a run in the same second has it.
fn claim(all: &Path, name: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(all).with_context(|| format!("could not create {}", all.display()))?;
    for n in 1.. {
        let dir = if n == 1 { all.join(name) } else { all.join(format!("{name}-{n}")) };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("could not create {}", dir.display())),
        }
    }
    unreachable!("some suffix is free")
}

/// Points `latest` at `dir` (relatively, so the tree can move): a new link
/// under a temporary name, renamed over the old one.
fn link(latest: &Path, dir: &Path) -> Result<()> {
    let parent = latest.parent().context("the report link has a parent")?;
    let target = dir.strip_prefix(parent).unwrap_or(dir);
    let tmp = parent.join(format!(".report.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)
        .with_context(|| format!("could not make a link {} to {}", tmp.display(), target.display()))?;
    std::fs::rename(&tmp, latest).with_context(|| format!("could not point {} at {}", latest.display(), dir.display()))
}

/// Moves a `report` folder an earlier pgo-build wrote (a plain folder, not a
/// link) into `all`, named by when it was last written.
fn keep_plain_folder(latest: &Path, all: &Path) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(latest) else { return Ok(()) };
    if !meta.is_dir() {
        return Ok(());
    }
    let when = meta.modified().unwrap_or_else(|_| SystemTime::now());
    let dir = claim(all, &stamp(when))?;
    std::fs::remove_dir(&dir).with_context(|| format!("could not replace {}", dir.display()))?;
    std::fs::rename(latest, &dir)
        .with_context(|| format!("could not keep the earlier report {} as {}", latest.display(), dir.display()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// Issue 18: every `compare` silently replaced the previous report.
    #[test]
    fn each_run_keeps_its_report_and_report_is_the_latest() {
        let root = tempfile::tempdir().unwrap();
        let first = open(None, root.path(), at(1_780_000_000)).unwrap();
        std::fs::write(first.dir.join("report.md"), "first").unwrap();
        let second = open(None, root.path(), at(1_780_000_000)).unwrap();
        std::fs::write(second.dir.join("report.md"), "second").unwrap();
        let third = open(None, root.path(), at(1_780_000_060)).unwrap();
        std::fs::write(third.dir.join("report.md"), "third").unwrap();

        let name = |d: &Destination| d.dir.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            [name(&first), name(&second), name(&third)],
            ["2026-05-28T202640Z", "2026-05-28T202640Z-2", "2026-05-28T202740Z"]
        );
        let report = root.path().join("report");
        assert_eq!(std::fs::read_to_string(report.join("report.md")).unwrap(), "third");
        assert_eq!(std::fs::read_link(&report).unwrap(), Path::new("reports/2026-05-28T202740Z"));
        assert_eq!(std::fs::read_to_string(first.dir.join("report.md")).unwrap(), "first");
        assert!(third.describe().contains("report is the latest, earlier ones stay in"), "{}", third.describe());
        let leftovers: Vec<_> = std::fs::read_dir(root.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 2, "report and reports only: {leftovers:?}");
    }

    #[test]
    fn a_plain_report_folder_of_an_earlier_version_is_kept() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("report")).unwrap();
        std::fs::write(root.path().join("report/report.md"), "old").unwrap();
        let new = open(None, root.path(), SystemTime::now()).unwrap();
        let kept: Vec<PathBuf> = std::fs::read_dir(root.path().join("reports"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| *p != new.dir)
            .collect();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(std::fs::read_to_string(kept[0].join("report.md")).unwrap(), "old");
        assert!(std::fs::symlink_metadata(root.path().join("report")).unwrap().file_type().is_symlink());
    }

    #[test]
    fn an_explicit_directory_is_written_as_it_is() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("ci/out");
        let d = open(Some(&dir), root.path(), SystemTime::now()).unwrap();
        assert_eq!((d.dir.as_path(), d.latest.as_deref()), (dir.as_path(), None));
        assert!(dir.is_dir() && !root.path().join("reports").exists() && !root.path().join("report").exists());
    }
}
