//! Cargo's own configuration as it affects a build: which config files apply,
//! every place a Cargo profile setting can come from, and one resolver
//! ([`ProfileSources::resolve`]) that turns them into a profile's effective
//! settings the way cargo does. `strip` (BOLT strips its outputs as the profile
//! would have) and compare's same-build check both go through it.

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

/// What a Cargo profile's `strip` setting asks for (the strip tool's own levels).
pub use crate::toolchain::Strip;

/// How much debug info a profile asks for (`debug`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DebugInfo {
    /// `0`, `false`, `"none"`.
    None,
    LineDirectivesOnly,
    LineTablesOnly,
    /// `1`, `"limited"`.
    Limited,
    /// `2`, `true`, `"full"`.
    Full,
    /// A value cargo would refuse, kept as written so it compares as itself.
    Other(String),
}

/// The link-time optimization a profile asks for (`lto`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lto {
    /// `"off"`.
    Off,
    /// `false`, cargo's default: thin LTO within the crate's codegen units.
    ThinLocal,
    /// `"thin"`.
    Thin,
    /// `true`, `"fat"`.
    Fat,
    Other(String),
}

/// A Cargo profile's settings the way cargo resolves them for a build: every
/// source, `inherits`, then the built-in defaults, with the spellings cargo treats
/// alike made equal (`lto = true` is `"fat"`, `debug = 0` is `false` is
/// `"none"`, `strip = true` is `"symbols"`). Two builds
/// of the same package whose settings are equal (and whose rustflags are) compile
/// the same code; the profile's *name* only picks a target directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProfileSettings {
    /// `0`–`3`, `s`, `z`.
    pub opt_level: String,
    pub debug: DebugInfo,
    /// `off`, `packed`, `unpacked`; the platform's default when not set.
    pub split_debuginfo: String,
    pub strip: Strip,
    pub debug_assertions: bool,
    pub overflow_checks: bool,
    pub lto: Lto,
    /// `unwind` or `abort`.
    pub panic: String,
    pub incremental: bool,
    pub codegen_units: i64,
    pub rpath: bool,
    /// Every other key (`package` and `build-override` tables, unstable keys),
    /// as TOML text: not interpreted, only compared.
    pub other: std::collections::BTreeMap<String, String>,
}

/// The keys [`ProfileSettings`] interprets, besides `inherits`.
const KNOWN_KEYS: &[&str] = &[
    "opt-level",
    "debug",
    "split-debuginfo",
    "strip",
    "debug-assertions",
    "overflow-checks",
    "lto",
    "panic",
    "incremental",
    "codegen-units",
    "rpath",
];

/// Every place a Cargo profile setting can come from, read once, so several
/// profiles (compare's variants) resolve against the same files.
#[derive(Debug, Clone, Default)]
pub struct ProfileSources {
    /// Config files, most specific first, then the workspace manifest.
    files: Vec<toml::Table>,
    /// `CARGO_PROFILE_*` variables.
    env: std::collections::BTreeMap<String, String>,
}

impl ProfileSources {
    /// The config files and manifest of a build run in `project_dir`, and this
    /// process's `CARGO_PROFILE_*` variables.
    pub fn load(workspace_manifest: &Path, project_dir: &Path) -> Result<ProfileSources> {
        let files = profile_sources(workspace_manifest, project_dir)?.into_iter().map(|(_, t)| t).collect();
        let env = std::env::vars().filter(|(k, _)| k.starts_with("CARGO_PROFILE_")).collect();
        Ok(ProfileSources { files, env })
    }

    /// Sources given directly: `files` in precedence order (config files, then
    /// the manifest), `env` the `CARGO_PROFILE_*` variables.
    #[cfg(test)]
    pub fn new(files: Vec<toml::Table>, env: std::collections::BTreeMap<String, String>) -> ProfileSources {
        ProfileSources { files, env }
    }

    /// Resolves `profile` as cargo would for `cargo build --profile PROFILE` with
    /// `--config` values `config` (`profile.NAME.KEY=VALUE`, as pgo-build passes
    /// them). Precedence, per key: `--config` (the last given first), then
    /// `CARGO_PROFILE_<NAME>_<KEY>`, then the config files, then the manifest; a
    /// key no source sets for the profile comes from the profile it inherits
    /// (`test` inherits `dev`, `bench` inherits `release`), and the built-in
    /// `dev` or `release` defaults (the Cargo book's) last.
    pub fn resolve(&self, profile: &str, config: &[String]) -> Result<ProfileSettings> {
        let cli: Vec<toml::Table> = config
            .iter()
            .rev()
            .map(|c| toml::from_str(c).with_context(|| format!("could not read the cargo --config value `{c}`")))
            .collect::<Result<_>>()?;
        let lookup = |name: &str, key: &str| -> Option<toml::Value> {
            let in_table = |t: &toml::Table| t.get("profile")?.get(name)?.get(key).cloned();
            if let Some(v) = cli.iter().find_map(in_table) {
                return Some(v);
            }
            if let Some(v) = self.env.get(&env_key(name, key)) {
                return Some(env_value(v));
            }
            self.files.iter().find_map(in_table)
        };
        let (chain, root) = inheritance(profile, &lookup);
        let get = |key: &str| chain.iter().find_map(|name| lookup(name, key));
        let defaults = if root == "dev" { &DEV } else { &RELEASE };
        let bool_or = |key: &str, default: bool| match get(key) {
            Some(toml::Value::Boolean(b)) => b,
            _ => default,
        };
        let debug = match get("debug") {
            None => defaults.debug.clone(),
            Some(v) => debug_info(&v),
        };
        let strip = match get("strip") {
            Some(toml::Value::Boolean(true)) => Strip::Symbols,
            Some(toml::Value::String(s)) if s == "symbols" => Strip::Symbols,
            Some(toml::Value::String(s)) if s == "debuginfo" => Strip::Debuginfo,
            Some(_) => Strip::None,
            // Cargo strips debug info by default from a build that has none of its own.
            None if debug == DebugInfo::None => Strip::Debuginfo,
            None => Strip::None,
        };
        let split_debuginfo = match get("split-debuginfo") {
            Some(toml::Value::String(s)) => s,
            Some(v) => v.to_string(),
            None => default_split_debuginfo(debug != DebugInfo::None).to_string(),
        };
        let lto = match get("lto") {
            None | Some(toml::Value::Boolean(false)) => Lto::ThinLocal,
            Some(toml::Value::Boolean(true)) => Lto::Fat,
            Some(toml::Value::String(s)) => match s.as_str() {
                "fat" => Lto::Fat,
                "thin" => Lto::Thin,
                "off" => Lto::Off,
                _ => Lto::Other(s),
            },
            Some(v) => Lto::Other(v.to_string()),
        };
        Ok(ProfileSettings {
            opt_level: match get("opt-level") {
                Some(toml::Value::String(s)) => s,
                Some(v) => v.to_string(),
                None => defaults.opt_level.to_string(),
            },
            debug,
            split_debuginfo,
            strip,
            debug_assertions: bool_or("debug-assertions", defaults.checks),
            overflow_checks: bool_or("overflow-checks", defaults.checks),
            lto,
            panic: match get("panic") {
                Some(toml::Value::String(s)) => s,
                Some(v) => v.to_string(),
                None => "unwind".to_string(),
            },
            incremental: bool_or("incremental", defaults.incremental),
            codegen_units: match get("codegen-units") {
                Some(toml::Value::Integer(n)) => n,
                _ => defaults.codegen_units,
            },
            rpath: bool_or("rpath", false),
            other: self.other_keys(&chain, &cli, &lookup),
        })
    }

    /// The keys of the profiles in `chain` that [`ProfileSettings`] does not
    /// interpret, with their values as TOML text, the nearest profile's winning.
    fn other_keys(
        &self,
        chain: &[String],
        cli: &[toml::Table],
        lookup: &dyn Fn(&str, &str) -> Option<toml::Value>,
    ) -> std::collections::BTreeMap<String, String> {
        let mut other = std::collections::BTreeMap::new();
        for name in chain {
            let tables = self.files.iter().chain(cli).filter_map(|t| t.get("profile")?.get(name.as_str())?.as_table());
            for key in tables.flat_map(|t| t.keys()) {
                if key != "inherits" && !KNOWN_KEYS.contains(&key.as_str()) && !other.contains_key(key) {
                    other.insert(key.clone(), lookup(name, key).map(|v| v.to_string()).unwrap_or_default());
                }
            }
            // Variables for keys not interpreted here (`..._PACKAGE_<NAME>_OPT_LEVEL`).
            let prefix = env_key(name, "");
            for (var, value) in self.env.iter().filter(|(var, _)| var.starts_with(&prefix)) {
                let known = KNOWN_KEYS.iter().chain(&["inherits"]).any(|k| env_key(name, k) == *var);
                if !known {
                    other.entry(format!("env {var}")).or_insert_with(|| value.clone());
                }
            }
        }
        other
    }
}

/// Cargo's built-in `dev` and `release` settings where they differ (the Cargo
/// book's "Default profiles"); both have `lto = false`, `panic = "unwind"`,
/// `rpath = false`, and `strip` and `split-debuginfo` follow `debug`.
#[derive(Debug)]
struct Defaults {
    opt_level: &'static str,
    debug: DebugInfo,
    /// `debug-assertions` and `overflow-checks`.
    checks: bool,
    incremental: bool,
    codegen_units: i64,
}

const DEV: Defaults =
    Defaults { opt_level: "0", debug: DebugInfo::Full, checks: true, incremental: true, codegen_units: 256 };
const RELEASE: Defaults =
    Defaults { opt_level: "3", debug: DebugInfo::None, checks: false, incremental: false, codegen_units: 16 };

/// `CARGO_PROFILE_<NAME>_<KEY>`, as cargo spells it: upper case, `-` as `_`
/// (`CARGO_PROFILE_<NAME>_` for no key).
fn env_key(profile: &str, key: &str) -> String {
    format!("CARGO_PROFILE_{profile}_{key}").to_uppercase().replace('-', "_")
}

/// An environment variable's value as the TOML value cargo would read it as.
fn env_value(v: &str) -> toml::Value {
    match (v.parse::<bool>(), v.parse::<i64>()) {
        (Ok(b), _) => toml::Value::Boolean(b),
        (_, Ok(i)) => toml::Value::Integer(i),
        _ => toml::Value::String(v.to_string()),
    }
}

fn debug_info(v: &toml::Value) -> DebugInfo {
    match v {
        toml::Value::Boolean(false) | toml::Value::Integer(0) => DebugInfo::None,
        toml::Value::Boolean(true) | toml::Value::Integer(2) => DebugInfo::Full,
        toml::Value::Integer(1) => DebugInfo::Limited,
        toml::Value::String(s) => match s.as_str() {
            "none" => DebugInfo::None,
            "line-directives-only" => DebugInfo::LineDirectivesOnly,
            "line-tables-only" => DebugInfo::LineTablesOnly,
            "limited" => DebugInfo::Limited,
            "full" => DebugInfo::Full,
            _ => DebugInfo::Other(s.clone()),
        },
        v => DebugInfo::Other(v.to_string()),
    }
}

/// Cargo's `split-debuginfo` when a profile does not set it: `unpacked` on macOS
/// for a build with debug info, else rustc's default for the platform (`packed`
/// on macOS and Windows, `off` elsewhere).
fn default_split_debuginfo(debug_on: bool) -> &'static str {
    if cfg!(target_os = "macos") {
        if debug_on { "unpacked" } else { "packed" }
    } else if cfg!(windows) {
        "packed"
    } else {
        "off"
    }
}

/// The profiles `profile` inherits from, itself first, and the built-in profile
/// (`dev` or `release`) whose defaults apply last. A custom profile without
/// `inherits` (which cargo refuses) is taken as inheriting `release`.
fn inheritance(profile: &str, lookup: &dyn Fn(&str, &str) -> Option<toml::Value>) -> (Vec<String>, &'static str) {
    let mut chain = vec![profile.to_string()];
    let mut name = profile.to_string();
    for _ in 0..16 {
        let parent = match name.as_str() {
            "dev" => return (chain, "dev"),
            "release" => return (chain, "release"),
            "test" => "dev".to_string(),
            "bench" => "release".to_string(),
            _ => match lookup(&name, "inherits").and_then(|v| v.as_str().map(str::to_string)) {
                Some(parent) => parent,
                None => return (chain, "release"),
            },
        };
        if chain.contains(&parent) {
            break;
        }
        chain.push(parent.clone());
        name = parent;
    }
    (chain, "release")
}

/// Resolves the profile `profile` of a build run in `project_dir`, with the
/// `--config` values `config`: see [`ProfileSources::resolve`].
pub fn resolve_profile(
    workspace_manifest: &Path,
    project_dir: &Path,
    profile: &str,
    config: &[String],
) -> Result<ProfileSettings> {
    ProfileSources::load(workspace_manifest, project_dir)?.resolve(profile, config)
}

/// Resolves the `strip` a build of `profile` gets, the way cargo does (see
/// [`ProfileSources::resolve`]); when nothing sets it, cargo's default of
/// `debuginfo` for a profile without debug info, else `none`.
///
/// BOLT needs an unstripped input, so a BOLT pipeline builds with `strip = false`
/// and strips its outputs itself with what this returns.
pub fn resolve_strip(workspace_manifest: &Path, project_dir: &Path, profile: &str) -> Result<Strip> {
    Ok(resolve_profile(workspace_manifest, project_dir, profile, &[])?.strip)
}

#[cfg(test)]
#[path = "cargo_config_tests.rs"]
mod tests;
