//! Cargo's own configuration as it affects a build: which config files apply, and
//! every place a Cargo profile setting can come from.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Cargo's config files for a build run in `project_dir`, most specific first
/// (`.cargo/config.toml` in the directory and its ancestors, then `$CARGO_HOME`).
pub fn config_files(project_dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = project_dir.ancestors().map(|d| d.join(".cargo")).collect();
    if let Some(home) =
        std::env::var_os("CARGO_HOME").map(PathBuf::from).or_else(|| std::env::home_dir().map(|h| h.join(".cargo")))
    {
        if !dirs.contains(&home) {
            dirs.push(home);
        }
    }
    dirs.into_iter()
        // When both exist, cargo reads `config` (the older name) and warns.
        .filter_map(|d| ["config", "config.toml"].into_iter().map(|f| d.join(f)).find(|p| p.is_file()))
        .collect()
}

/// Parses a cargo config file.
pub fn read_config(path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("could not parse cargo config {}", path.display()))
}

/// Every Cargo profile setting that applies to a build in `project_dir`: the
/// `[profile.*]` tables of the workspace manifest and of the cargo config files,
/// and the `CARGO_PROFILE_*` environment variables. Cargo hashes a profile's
/// settings into every symbol name, so when any of this differs between the
/// instrumented and the optimized build, the profile matches no function.
pub fn profile_settings(workspace_manifest: &Path, project_dir: &Path) -> Result<String> {
    let mut parts = Vec::new();
    let manifest: toml::Table = {
        let text = std::fs::read_to_string(workspace_manifest)
            .with_context(|| format!("could not read {}", workspace_manifest.display()))?;
        toml::from_str(&text).with_context(|| format!("could not parse {}", workspace_manifest.display()))?
    };
    if let Some(p) = manifest.get("profile") {
        parts.push(format!("{}: {p}", workspace_manifest.display()));
    }
    for file in config_files(project_dir) {
        if let Some(p) = read_config(&file)?.get("profile") {
            parts.push(format!("{}: {p}", file.display()));
        }
    }
    let mut env: Vec<String> =
        std::env::vars().filter(|(k, _)| k.starts_with("CARGO_PROFILE_")).map(|(k, v)| format!("{k}={v}")).collect();
    env.sort();
    parts.extend(env);
    Ok(parts.join("\n"))
}
