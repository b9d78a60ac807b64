//! Skipping stages whose inputs have not changed since their last successful
//! run. Each record in the state keeps a fingerprint of what the stage read:
//! the sources (every file of the workspace but the target directory, hidden
//! files, the workloads folder and the config), Cargo.lock, the toolchain, the
//! build settings and rustflags, the workloads (their definitions and script
//! contents) and the previous stage's output. `--force` reruns a stage anyway.

use std::path::Path;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::config::{Run, Workload};
use crate::context::Ctx;

/// A fingerprint of some named parts.
pub fn fingerprint(parts: &[(&str, &str)]) -> String {
    let mut h = Sha256::new();
    for (name, value) in parts {
        h.update(name.as_bytes());
        h.update([0]);
        h.update(value.as_bytes());
        h.update([0]);
    }
    format!("{:x}", h.finalize())
}

/// The fingerprint of the workspace's sources: every file's path and content,
/// except the target directory, hidden files and folders, and the project's
/// `workloads/` folder and config (which shape the training, not the build).
pub fn sources(ctx: &Ctx) -> Result<String> {
    let root = &ctx.project.workspace_root;
    let target = &ctx.project.target_dir;
    let skip_workloads = ctx.project.dir.join("workloads");
    let skip_config = ctx.config.path.clone().unwrap_or_else(|| ctx.project.dir.join("pgo-build.toml"));
    let mut h = Sha256::new();
    let walk = walkdir::WalkDir::new(root).sort_by_file_name().into_iter().filter_entry(|e| {
        let p = e.path();
        let hidden = e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
        !(hidden || p.starts_with(target) || p == skip_workloads || p == skip_config)
    });
    for entry in walk {
        let entry = entry.with_context(|| format!("could not list {}", root.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0]);
        let bytes =
            std::fs::read(entry.path()).with_context(|| format!("could not read {}", entry.path().display()))?;
        h.update(Sha256::digest(&bytes));
    }
    Ok(format!("{:x}", h.finalize()))
}

/// What a build reads besides the sources: toolchain, settings, the user's rustflags.
pub fn build_inputs(ctx: &Ctx) -> Result<String> {
    Ok(fingerprint(&[
        ("sources", &sources(ctx)?),
        ("rustc", &ctx.rustc.version),
        ("settings", &serde_json::to_string(&ctx.settings)?),
        ("rustflags", &format!("{:?}", ctx.user_flags)),
        ("bolt", if ctx.bolt { "on" } else { "off" }),
    ]))
}

/// A workload as far as it shapes a profile, script content included.
pub fn workload(ctx: &Ctx, w: &Workload) -> String {
    let script = match &w.run {
        Run::Script(rel) => file(&ctx.project.dir.join(rel)),
        Run::Shell(_) => String::new(),
    };
    fingerprint(&[("definition", &crate::state::workload_definition(w)), ("script", &script)])
}

fn file(path: &Path) -> String {
    crate::util::sha256_file(path).unwrap_or_default()
}

/// Says a stage is skipped, and how to run it anyway.
pub fn skipped(ctx: &Ctx, stage: &str, since: u64) {
    ctx.printer.status(
        stage,
        format!("up to date: its inputs are unchanged since its run {}; --force runs it again", ago(since)),
    );
}

/// `3 min ago`, `2 h ago`.
pub fn ago(unix: u64) -> String {
    let secs = crate::state::now().saturating_sub(unix);
    match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=172_799 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}
