//! Workloads found in the project's `workloads/train/` and `workloads/bench/`
//! folders, when `pgo-build.toml` declares none.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::parse::valid_name;
use super::{Run, Use, Workload};

/// Scripts in `workloads/train/` and `workloads/bench/` are workloads for that use,
/// named after the file (without extension). The same name in both folders is an
/// error: names must be unique, and one script serving both uses belongs in the config.
pub(super) fn discover(project_dir: &Path) -> Result<Vec<Workload>> {
    let mut found: BTreeMap<String, Workload> = BTreeMap::new();
    for (folder, purpose) in [("train", Use::Train), ("bench", Use::Bench)] {
        let dir = project_dir.join("workloads").join(folder);
        if !dir.is_dir() {
            continue;
        }
        let mut entries: Vec<_> = walkdir::WalkDir::new(&dir)
            .min_depth(1)
            .max_depth(1)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .collect::<Result<_, _>>()
            .with_context(|| format!("could not list {}", dir.display()))?;
        // Hidden files and editor backups (`run.sh~`) are not workloads.
        entries.retain(|e| {
            let name = e.file_name().to_string_lossy();
            !name.starts_with('.') && !name.ends_with('~') && e.file_type().is_file() && is_executable(e.path())
        });
        for entry in entries {
            let name = entry.path().file_stem().unwrap_or_default().to_string_lossy().into_owned();
            if !valid_name(&name) {
                bail!(
                    "workload script {} has a name that cannot name files; use only letters, digits, '-', '_' and '.'",
                    entry.path().display()
                );
            }
            let rel = entry.path().strip_prefix(project_dir).unwrap_or(entry.path()).to_path_buf();
            if let Some(existing) = found.get_mut(&name) {
                bail!(
                    "two workload scripts are both named {name:?} ({} and {}); rename one, or declare them in pgo-build.toml",
                    match &existing.run {
                        Run::Script(p) => p.display().to_string(),
                        Run::Shell(s) => s.clone(),
                    },
                    rel.display()
                );
            }
            found.insert(name.clone(), Workload::new(name, Run::Script(rel), BTreeSet::from([purpose])));
        }
    }
    Ok(found.into_values().collect())
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}
