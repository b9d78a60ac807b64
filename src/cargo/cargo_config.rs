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
        && !dirs.contains(&home)
    {
        dirs.push(home);
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

/// The files cargo reads profile settings from, parsed, in cargo's precedence
/// order: the config files (most specific first), then the workspace manifest.
fn profile_sources(workspace_manifest: &Path, project_dir: &Path) -> Result<Vec<(PathBuf, toml::Table)>> {
    let mut sources = Vec::new();
    for file in config_files(project_dir) {
        let table = read_config(&file)?;
        sources.push((file, table));
    }
    let text = std::fs::read_to_string(workspace_manifest)
        .with_context(|| format!("could not read {}", workspace_manifest.display()))?;
    let manifest =
        toml::from_str(&text).with_context(|| format!("could not parse {}", workspace_manifest.display()))?;
    sources.push((workspace_manifest.to_path_buf(), manifest));
    Ok(sources)
}

/// Every Cargo profile setting that applies to a build in `project_dir`: the
/// `[profile.*]` tables of the workspace manifest and of the cargo config files,
/// and the `CARGO_PROFILE_*` environment variables. Cargo hashes a profile's
/// settings into every symbol name, so when any of this differs between the
/// instrumented and the optimized build, the profile matches no function.
pub fn profile_settings(workspace_manifest: &Path, project_dir: &Path) -> Result<String> {
    let mut parts = Vec::new();
    // The manifest first, then the config files: the order the record has always had.
    let mut sources = profile_sources(workspace_manifest, project_dir)?;
    sources.rotate_right(1);
    for (file, table) in &sources {
        if let Some(p) = table.get("profile") {
            parts.push(format!("{}: {p}", file.display()));
        }
    }
    let mut env: Vec<String> =
        std::env::vars().filter(|(k, _)| k.starts_with("CARGO_PROFILE_")).map(|(k, v)| format!("{k}={v}")).collect();
    env.sort();
    parts.extend(env);
    Ok(parts.join("\n"))
}

/// What a Cargo profile's `strip` setting asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strip {
    None,
    Debuginfo,
    Symbols,
}

/// Resolves the `strip` a build of `profile` gets, the way cargo does: the
/// `CARGO_PROFILE_<NAME>_STRIP` variable, then cargo config files, then the
/// workspace manifest, following `inherits`; and when nothing sets it, cargo's
/// default of `debuginfo` for a profile without debug info, else `none`.
///
/// BOLT needs an unstripped input, so a BOLT pipeline builds with `strip = false`
/// and strips its outputs itself with what this returns.
pub fn resolve_strip(workspace_manifest: &Path, project_dir: &Path, profile: &str) -> Result<Strip> {
    let tables: Vec<toml::Table> =
        profile_sources(workspace_manifest, project_dir)?.into_iter().map(|(_, t)| t).collect();
    let lookup = |name: &str, key: &str| -> Option<toml::Value> {
        let var = format!("CARGO_PROFILE_{}_{}", name.to_uppercase().replace('-', "_"), key.to_uppercase());
        if let Ok(v) = std::env::var(var) {
            return Some(match (v.parse::<bool>(), v.parse::<i64>()) {
                (Ok(b), _) => toml::Value::Boolean(b),
                (_, Ok(i)) => toml::Value::Integer(i),
                _ => toml::Value::String(v),
            });
        }
        tables.iter().find_map(|t| t.get("profile")?.get(name)?.get(key).cloned())
    };
    let resolve = |key: &str| -> Option<toml::Value> {
        let mut name = profile.to_string();
        for _ in 0..16 {
            if let Some(v) = lookup(&name, key) {
                return Some(v);
            }
            name = match lookup(&name, "inherits").and_then(|v| v.as_str().map(str::to_string)) {
                Some(parent) => parent,
                None => match name.as_str() {
                    "bench" => "release".to_string(),
                    "test" => "dev".to_string(),
                    _ => return None,
                },
            };
        }
        None
    };
    if let Some(v) = resolve("strip") {
        return Ok(match v {
            toml::Value::Boolean(true) => Strip::Symbols,
            toml::Value::Boolean(false) => Strip::None,
            toml::Value::String(s) if s == "symbols" => Strip::Symbols,
            toml::Value::String(s) if s == "debuginfo" => Strip::Debuginfo,
            _ => Strip::None,
        });
    }
    let debug_on = match resolve("debug") {
        Some(toml::Value::Boolean(b)) => b,
        Some(toml::Value::Integer(i)) => i != 0,
        Some(toml::Value::String(s)) => s != "none",
        _ => base_of(profile, &lookup) == "dev",
    };
    Ok(if debug_on { Strip::None } else { Strip::Debuginfo })
}

/// The built-in profile (`dev` or `release`) a profile descends from.
fn base_of(profile: &str, lookup: &dyn Fn(&str, &str) -> Option<toml::Value>) -> String {
    let mut name = profile.to_string();
    for _ in 0..16 {
        match name.as_str() {
            "dev" | "test" => return "dev".to_string(),
            "release" | "bench" => return "release".to_string(),
            _ => {}
        }
        match lookup(&name, "inherits").and_then(|v| v.as_str().map(str::to_string)) {
            Some(parent) => name = parent,
            None => break,
        }
    }
    "release".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_of(manifest: &str, profile: &str) -> Strip {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        std::fs::write(&path, manifest).unwrap();
        resolve_strip(&path, dir.path(), profile).unwrap()
    }

    #[test]
    fn defaults_follow_debug_info() {
        assert_eq!(strip_of("", "release"), Strip::Debuginfo);
        assert_eq!(strip_of("", "dev"), Strip::None);
        assert_eq!(strip_of("[profile.release]\ndebug = true\n", "release"), Strip::None);
    }

    #[test]
    fn explicit_values_and_inheritance() {
        assert_eq!(strip_of("[profile.release]\nstrip = true\n", "release"), Strip::Symbols);
        assert_eq!(strip_of("[profile.release]\nstrip = \"symbols\"\n", "release"), Strip::Symbols);
        assert_eq!(strip_of("[profile.release]\nstrip = false\n", "release"), Strip::None);
        let m = "[profile.release]\nstrip = \"symbols\"\n[profile.dist]\ninherits = \"release\"\nlto = true\n";
        assert_eq!(strip_of(m, "dist"), Strip::Symbols);
        let m = "[profile.dist]\ninherits = \"dev\"\nopt-level = 3\n";
        assert_eq!(strip_of(m, "dist"), Strip::None);
    }
}
