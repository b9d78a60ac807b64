//! What goes into a stage's fingerprint, and why.
//!
//! A fingerprint is a map from a name to a SHA-256: one entry per top-level
//! field of the stage's serialized inputs (so a stale verdict can name what
//! changed: "the weights"), and one, `files`, over the paths and contents of the
//! files the stage watches. Inputs are hashed as serialized JSON, never as
//! `Debug` text, so the fingerprint does not move when a type's `Debug` does.
//!
//! What each stage puts there:
//! - builds (instrument, optimize): [`BuildInputs`] — the settings of the build
//!   (package, binaries, profile, features, every Cargo profile setting, BOLT
//!   mode), the user's rustflags and where they come from, the cargo variables of
//!   the environment, the toolchain and pgo-build's version; and as files, the
//!   sources the last build compiled (from cargo's dep-info, so `include_str!`
//!   files count and an output folder inside the project does not), the
//!   manifests, Cargo.lock and cargo's config files. A new source file is always
//!   seen: its `mod` line changed a file the build read.
//! - train: the instrumented build's output id, the shard, and each workload's
//!   definition with the files of its workloads folder (its input data).
//! - merge: the training run's output id, the weights, and as files every raw
//!   profile (so a truncated `.profraw` is noticed).
//! - optimize: the profile's hash, plus the build's inputs.
//! - bolt: the PGO build's output id, the flags, the mode and the workloads.
//!
//! A file's content is hashed once and remembered by its metadata
//! ([`super::hashes`]): a command that finds nothing changed reads no watched
//! file. The fingerprint is the same with or without that cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Stage;
use crate::cargo::Settings;
use crate::cargo::flags::UserFlags;
use crate::config::{Run, Workload};
use crate::context::Ctx;
use crate::util::hashes::HashCache;

/// A stage's fingerprint: input field (or `files`) → hash.
pub type Fingerprint = BTreeMap<String, String>;

/// The fingerprint of `inputs` plus the files stage `S` watches.
pub fn of<S: Stage>(ctx: &Ctx, inputs: &S::Inputs, last: Option<&S::Record>) -> Result<Fingerprint> {
    let serde_json::Value::Object(fields) = serde_json::to_value(inputs)? else {
        bail!("the inputs of stage {} are not a struct", S::ID);
    };
    let mut print: Fingerprint =
        fields.into_iter().map(|(name, value)| (name, sha256_hex(value.to_string().as_bytes()))).collect();
    print.insert("files".into(), files(&ctx.hashes, &S::watched(ctx, inputs, last)));
    Ok(print)
}

/// Names what differs between two fingerprints, in a person's words.
pub fn changed<S: Stage + ?Sized>(old: &Fingerprint, new: &Fingerprint) -> String {
    let mut names: Vec<String> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .chain(old.keys().filter(|k| !new.contains_key(*k)).cloned())
        .map(|k| S::explain(&k))
        .collect();
    names.dedup();
    match names.as_slice() {
        [] => "nothing it reads changed, but its record is from another pgo-build".into(),
        [one] => format!("{one} changed since it ran"),
        many => format!("{} changed since it ran", many.join(", ")),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Paths and contents of `paths`; a missing file hashes differently from any
/// content. Each content's hash comes from `hashes` when the file is unchanged
/// since it was last hashed ([`HashCache`]), the same hash either way.
pub fn files(hashes: &HashCache, paths: &[PathBuf]) -> String {
    let mut h = Sha256::new();
    for path in paths {
        h.update(path.to_string_lossy().as_bytes());
        h.update([0]);
        match hashes.digest(path) {
            Some(digest) => h.update(digest),
            None => h.update(b"missing"),
        }
        h.update([0]);
    }
    hashes.flush();
    format!("{:x}", h.finalize())
}

/// What a cargo build of the pipeline reads besides files.
#[derive(Debug, Clone, Serialize)]
pub struct BuildInputs {
    #[serde(flatten)]
    pub settings: Settings,
    pub rustflags: UserFlags,
    /// `CARGO_BUILD_*`, `CARGO_TARGET_*`, `CARGO_PROFILE_*`, `RUSTFLAGS`, `RUSTC`…
    pub cargo_env: BTreeMap<String, String>,
    pub pgo_build: String,
}

impl BuildInputs {
    /// The stale reason of a build whose BOLT mode changed: a change of mode
    /// changes much else (the profile overrides, …), so only the mode is named.
    /// The build stages' [`Stage::stale_reason`].
    pub fn stale_reason<S: Stage>(ctx: &Ctx, old: &Fingerprint, new: &Fingerprint) -> String {
        // `Settings::bolt`, flattened into the inputs.
        const MODE: &str = "bolt";
        if old.get(MODE) == new.get(MODE) {
            changed::<S>(old, new)
        } else if ctx.bolt {
            "it was built without BOLT mode, and this command runs in BOLT mode".into()
        } else {
            "it was built in BOLT mode, and this command runs without it (--no-bolt or `bolt = false`)".into()
        }
    }

    pub fn of(ctx: &Ctx) -> BuildInputs {
        let build_var = |k: &str| {
            ["CARGO_BUILD_", "CARGO_TARGET_", "CARGO_PROFILE_"].iter().any(|p| k.starts_with(p))
                || ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS", "RUSTC", "RUSTC_WRAPPER"].contains(&k)
        };
        BuildInputs {
            settings: ctx.settings.clone(),
            rustflags: ctx.user_flags.clone(),
            cargo_env: std::env::vars().filter(|(k, _)| build_var(k)).collect(),
            pgo_build: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// The files a build reads: `sources` (from the last build's dep-info), the
/// manifests, Cargo.lock and cargo's config files.
pub fn build_files(ctx: &Ctx, sources: &[PathBuf]) -> Vec<PathBuf> {
    let root = &ctx.project.workspace_root;
    let mut files = sources.to_vec();
    files.extend([root.join("Cargo.toml"), root.join("Cargo.lock"), ctx.project.package_manifest.clone()]);
    files.extend(crate::cargo::cargo_config::config_files(&ctx.project.dir));
    files
}

/// The source files a build compiled, from the dep-info files cargo writes
/// beside each binary (`<binary>.d`): exactly what rustc read, `include_str!`
/// files included, and nothing cargo did not compile (an output folder or a
/// stored profile inside the project is not a source).
pub fn compiled_sources(binaries: &[PathBuf]) -> Vec<PathBuf> {
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
                            files.insert(PathBuf::from(std::mem::take(&mut current)));
                        }
                    }
                    _ => current.push(c),
                }
            }
            if !current.is_empty() {
                files.insert(PathBuf::from(current));
            }
        }
    }
    files.into_iter().collect()
}

/// A workload as far as it shapes a profile: how it runs (not its weight), and
/// for a script every file of its workloads folder (the nearest folder named
/// `workloads` above the script, else the script's own folder), where its input
/// data lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkloadInput {
    pub name: String,
    pub definition: String,
    pub data: String,
}

impl WorkloadInput {
    pub fn of(ctx: &Ctx, w: &Workload) -> WorkloadInput {
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
                tree(&ctx.hashes, &folder)
            }
            Run::Shell(_) => String::new(),
        };
        WorkloadInput { name: w.name.clone(), definition: definition(w), data }
    }
}

/// The hash of a workload's definition as far as it shapes a profile.
pub fn definition(w: &Workload) -> String {
    let mut json = serde_json::json!({ "run": w.run, "args": w.args, "env": w.env });
    // The server's command shapes the profile too; absent, the hash is what it
    // was before servers existed, so no pipeline goes stale for it.
    if let Some(s) = &w.serve {
        json["serve"] = serde_json::json!(s.command);
    }
    sha256_hex(json.to_string().as_bytes())
}

/// Paths and contents of the files under `dir`, hidden ones left out.
fn tree(hashes: &HashCache, dir: &Path) -> String {
    let walk = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    let paths: Vec<PathBuf> =
        walk.flatten().filter(|e| e.file_type().is_file()).map(|e| e.path().to_path_buf()).collect();
    files(hashes, &paths)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_hash_paths_and_contents_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let files = |paths: &[PathBuf]| files(&HashCache::in_memory(), paths);
        std::fs::write(&a, "one").unwrap();
        let first = files(std::slice::from_ref(&a));
        std::fs::write(&a, "two").unwrap();
        let second = files(std::slice::from_ref(&a));
        assert_ne!(first, second);
        std::fs::remove_file(&a).unwrap();
        assert_ne!(files(std::slice::from_ref(&a)), second);
        assert_ne!(files(std::slice::from_ref(&a)), files(&[]));
    }

    /// The fingerprints in existing records stay current: the value is what it
    /// was before the cache, whether each hash is read now or taken from it.
    #[test]
    fn the_cache_changes_no_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = ["a", "b", "gone"].iter().map(|n| dir.path().join(n)).collect();
        std::fs::write(&paths[0], "one").unwrap();
        std::fs::write(&paths[1], vec![7u8; 1 << 20]).unwrap();
        // How files were hashed before there was a cache.
        let mut h = Sha256::new();
        for path in &paths {
            h.update(path.to_string_lossy().as_bytes());
            h.update([0]);
            match std::fs::read(path) {
                Ok(bytes) => h.update(Sha256::digest(&bytes)),
                Err(_) => h.update(b"missing"),
            }
            h.update([0]);
        }
        let before = format!("{:x}", h.finalize());
        let cache = HashCache::new(dir.path().join("hash-cache.json"), true);
        assert_eq!(files(&cache, &paths), before, "read now");
        cache.as_if_hashed_later(std::time::Duration::from_secs(3600));
        assert_eq!(files(&cache, &paths), before, "from the cache");
        assert_eq!(cache.hashed(), 2, "the second time, from the cache");
    }
}
