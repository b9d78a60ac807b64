//! Skipping stages whose inputs have not changed since their last successful
//! run. Each record in the state keeps a fingerprint of what the stage read:
//! the sources rustc compiled (from cargo's dep-info), the manifests and
//! Cargo.lock, the toolchain, the build settings and rustflags, the workloads
//! (their definitions and the files of their workloads folder) and the previous
//! stage's output. `--force` reruns a stage anyway.

use std::path::Path;

use anyhow::Result;
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

/// The source files a build compiled, from the dep-info files cargo writes
/// beside each binary (`<binary>.d`): exactly what rustc read, `include_str!`
/// files included, and nothing cargo did not compile (an output folder or a
/// stored profile inside the project is not a source).
pub fn compiled_sources(binaries: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    let mut files = std::collections::BTreeSet::new();
    for bin in binaries {
        let Ok(text) = std::fs::read_to_string(bin.with_extension("d")) else { continue };
        for line in text.lines() {
            let Some((_, deps)) = line.split_once(": ") else { continue };
            // Paths are separated by spaces; a space inside one is escaped.
            let mut current = String::new();
            let mut chars = deps.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' if chars.peek() == Some(&' ') => current.push(chars.next().unwrap_or(' ')),
                    ' ' => {
                        if !current.is_empty() {
                            files.insert(std::path::PathBuf::from(std::mem::take(&mut current)));
                        }
                    }
                    _ => current.push(c),
                }
            }
            if !current.is_empty() {
                files.insert(std::path::PathBuf::from(current));
            }
        }
    }
    files.into_iter().collect()
}

/// What a build reads: the compiled sources (`files`, from the last build's
/// dep-info), the manifests and Cargo.lock, the toolchain, the settings and the
/// user's rustflags. A source file that was added is always seen: the file with
/// its `mod` line changed too.
pub fn build_inputs(ctx: &Ctx, files: &[std::path::PathBuf]) -> Result<String> {
    let mut h = Sha256::new();
    let root = &ctx.project.workspace_root;
    let manifests = [root.join("Cargo.toml"), root.join("Cargo.lock"), ctx.project.package_manifest.clone()];
    for path in files.iter().chain(&manifests) {
        h.update(path.to_string_lossy().as_bytes());
        h.update([0]);
        // A file that is gone hashes as empty, which differs from its content.
        h.update(std::fs::read(path).map(|b| Sha256::digest(&b).to_vec()).unwrap_or_default());
    }
    let sources = format!("{:x}", h.finalize());
    Ok(fingerprint(&[
        ("sources", &sources),
        ("rustc", &ctx.rustc.version),
        ("pgo-build", env!("CARGO_PKG_VERSION")),
        ("settings", &serde_json::to_string(&ctx.settings)?),
        ("rustflags", &format!("{:?}", ctx.user_flags)),
        ("cargo-config", &cargo_config(ctx)),
        ("bolt", if ctx.bolt { "on" } else { "off" }),
    ]))
}

/// Cargo's config files and the environment variables cargo reads for a build:
/// rustflags or a linker set there change the binaries as much as a source edit.
fn cargo_config(ctx: &Ctx) -> String {
    let mut h = Sha256::new();
    for file in crate::cargo::cargo_config::config_files(&ctx.project.dir) {
        h.update(file.to_string_lossy().as_bytes());
        h.update(std::fs::read(&file).map(|b| Sha256::digest(&b).to_vec()).unwrap_or_default());
    }
    let build_var = |k: &str| {
        ["CARGO_BUILD_", "CARGO_TARGET_", "CARGO_PROFILE_"].iter().any(|p| k.starts_with(p))
            || ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS", "RUSTC", "RUSTC_WRAPPER"].contains(&k)
    };
    let mut vars: Vec<(String, String)> = std::env::vars().filter(|(k, _)| build_var(k)).collect();
    vars.sort();
    for (k, v) in vars {
        h.update(format!("{k}={v}\0").as_bytes());
    }
    format!("{:x}", h.finalize())
}

/// A workload as far as it shapes a profile: its definition, and for a script
/// every file of its workloads folder (the nearest folder named `workloads`
/// above the script, else the script's own folder), where its input data lives.
pub fn workload(ctx: &Ctx, w: &Workload) -> String {
    let data = match &w.run {
        Run::Script(rel) => {
            let script = ctx.project.dir.join(rel);
            let folder = script
                .ancestors()
                .skip(1)
                .find(|a| a.file_name().is_some_and(|n| n == "workloads"))
                .or_else(|| script.parent())
                .map(Path::to_path_buf)
                .unwrap_or_default();
            tree(&folder)
        }
        Run::Shell(_) => String::new(),
    };
    fingerprint(&[("definition", &crate::state::workload_definition(w)), ("data", &data)])
}

/// Paths and contents of the files under `dir`, hidden ones left out.
fn tree(dir: &Path) -> String {
    let mut h = Sha256::new();
    let walk = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walk.flatten().filter(|e| e.file_type().is_file()) {
        h.update(entry.path().to_string_lossy().as_bytes());
        h.update([0]);
        h.update(std::fs::read(entry.path()).map(|b| Sha256::digest(&b).to_vec()).unwrap_or_default());
    }
    format!("{:x}", h.finalize())
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
