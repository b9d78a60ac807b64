//! Adding pgo-build's rustflags to the user's, never replacing them.
//!
//! Cargo takes rustflags from exactly one source, the first present of:
//! `CARGO_ENCODED_RUSTFLAGS`, `RUSTFLAGS`, every matching `[target.<triple>]` /
//! `[target.'cfg(..)']` `rustflags`, and `[build] rustflags`. Setting `RUSTFLAGS`
//! ourselves (what hand-written PGO scripts do) would silently drop flags from the
//! config files. So the flags are added to the source in force:
//!
//! * an environment variable: the user's flags plus ours, as `CARGO_ENCODED_RUSTFLAGS`
//!   (which also keeps paths with spaces intact);
//! * config files: `--config target.<triple>.rustflags=[..]` or
//!   `--config build.rustflags=[..]`, which cargo *joins* with the arrays from the
//!   files. The target key is used only when a target table applies, because any
//!   target rustflags make cargo ignore `[build] rustflags` altogether.

use std::path::Path;

use anyhow::Result;

use super::cargo_config::{config_files, read_config};

use crate::process::Cmd;

/// pgo-build's rustflags for a build with the profile at `profile`: the profile,
/// warnings for functions without profile data (rustc is otherwise silent about
/// them), and in BOLT mode relocations, which let BOLT move code and leave the
/// generated code unchanged.
pub fn profile_use(bolt: bool, profile: &Path) -> Vec<String> {
    let mut flags =
        vec![format!("-Cprofile-use={}", profile.display()), "-Cllvm-args=-pgo-warn-missing-function".to_string()];
    if bolt {
        flags.push("-Clink-arg=-Wl,--emit-relocs".to_string());
    }
    flags
}

/// Where the user's rustflags come from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Source {
    EncodedEnv(String),
    Env(String),
    /// `[target.<triple>]`/`[target.'cfg(..)']` rustflags, in a file or the environment.
    Target(String),
    /// `[build] rustflags` or nothing at all.
    Build,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct UserFlags {
    pub source: Source,
}

impl UserFlags {
    /// Works out which source cargo will read for a build of `target` run in
    /// `project_dir`. `target_cfg` is `rustc --print cfg` for the target.
    pub fn detect(project_dir: &Path, target: &str, target_cfg: &[String]) -> Result<UserFlags> {
        let var = |k: &str| std::env::var(k).ok();
        let source = if let Some(v) = var("CARGO_ENCODED_RUSTFLAGS") {
            Source::EncodedEnv(v)
        } else if let Some(v) = var("RUSTFLAGS") {
            Source::Env(v)
        } else if let Some(origin) = target_flags_origin(project_dir, target, target_cfg)? {
            Source::Target(origin)
        } else {
            Source::Build
        };
        Ok(UserFlags { source })
    }

    /// Adds `ours` to the user's flags on `cmd` (a cargo command).
    pub fn apply(&self, cmd: Cmd, ours: &[String], target: &str) -> Cmd {
        match &self.source {
            Source::EncodedEnv(user) => {
                let mut all: Vec<&str> = if user.is_empty() { Vec::new() } else { user.split('\x1f').collect() };
                all.extend(ours.iter().map(String::as_str));
                cmd.env("CARGO_ENCODED_RUSTFLAGS", all.join("\x1f"))
            }
            Source::Env(user) => {
                // Cargo splits RUSTFLAGS on whitespace; do the same, then pass all
                // of it encoded (it takes precedence over RUSTFLAGS).
                let mut all: Vec<&str> = user.split_whitespace().collect();
                all.extend(ours.iter().map(String::as_str));
                cmd.env("CARGO_ENCODED_RUSTFLAGS", all.join("\x1f")).env_remove("RUSTFLAGS")
            }
            Source::Target(_) => cmd.arg("--config").arg(format!("target.{target}.rustflags={}", toml_array(ours))),
            Source::Build => cmd.arg("--config").arg(format!("build.rustflags={}", toml_array(ours))),
        }
    }

    /// Where the user's flags come from, for `doctor` and `-v`.
    pub fn describe(&self) -> String {
        match &self.source {
            Source::EncodedEnv(v) => format!("CARGO_ENCODED_RUSTFLAGS ({:?})", v.replace('\x1f', " ")),
            Source::Env(v) => format!("RUSTFLAGS ({v:?})"),
            Source::Target(origin) => format!("target rustflags in {origin}"),
            Source::Build => "[build] rustflags from cargo config, if any".to_string(),
        }
    }

    /// The user's flags when they come from the environment (they are part of what
    /// a build's settings must keep equal between stages).
    pub fn env_flags(&self) -> Option<&str> {
        match &self.source {
            Source::EncodedEnv(v) | Source::Env(v) => Some(v),
            _ => None,
        }
    }
}

fn toml_array(items: &[String]) -> String {
    let array: toml::value::Array = items.iter().cloned().map(toml::Value::String).collect();
    toml::Value::Array(array).to_string()
}

/// Returns where target rustflags that apply to `target` are set, if anywhere.
fn target_flags_origin(project_dir: &Path, target: &str, target_cfg: &[String]) -> Result<Option<String>> {
    let env_key = format!("CARGO_TARGET_{}_RUSTFLAGS", target.to_uppercase().replace(['-', '.'], "_"));
    if std::env::var_os(&env_key).is_some() {
        return Ok(Some(env_key));
    }
    for file in config_files(project_dir) {
        let table = read_config(&file)?;
        let Some(targets) = table.get("target").and_then(|t| t.as_table()) else { continue };
        for (key, value) in targets {
            if value.get("rustflags").is_none() {
                continue;
            }
            if key == target || (key.starts_with("cfg(") && cfg_matches(key, target, target_cfg)) {
                return Ok(Some(format!("{} ([target.{key}])", file.display())));
            }
        }
    }
    Ok(None)
}

/// Evaluates a `cfg(..)` target key the way cargo does, against the target's cfg.
fn cfg_matches(key: &str, target: &str, target_cfg: &[String]) -> bool {
    use cfg_expr::{Expression, Predicate};
    let Ok(expr) = Expression::parse(key) else { return false };
    let builtin = cfg_expr::targets::get_builtin_target_by_triple(target);
    let has = |name: &str, value: Option<&str>| {
        target_cfg.iter().any(|line| match value {
            None => line == name,
            Some(v) => *line == format!("{name}=\"{v}\""),
        })
    };
    expr.eval(|pred| match pred {
        Predicate::Target(tp) => builtin.is_some_and(|b| tp.matches(b)),
        Predicate::TargetFeature(f) => has("target_feature", Some(f)),
        Predicate::Flag(f) => has(f, None),
        Predicate::KeyValue { key, val } => has(key, Some(val)),
        Predicate::DebugAssertions | Predicate::Test | Predicate::ProcMacro | Predicate::Feature(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(source: Source) -> UserFlags {
        UserFlags { source }
    }

    #[test]
    fn env_flags_are_kept_and_extended() {
        let cmd = flags(Source::Env("-Ctarget-cpu=native  --cfg x".into())).apply(
            Cmd::new("cargo"),
            &["-Cprofile-use=/a b".into()],
            "h",
        );
        assert_eq!(
            cmd.display(),
            r"env -u RUSTFLAGS CARGO_ENCODED_RUSTFLAGS=$'-Ctarget-cpu=native\x1f--cfg\x1fx\x1f-Cprofile-use=/a b' cargo"
        );
    }

    #[test]
    fn config_flags_are_joined_through_the_right_key() {
        let ours = ["-Cprofile-generate=/p".to_string()];
        let build = flags(Source::Build).apply(Cmd::new("cargo"), &ours, "x86_64-unknown-linux-gnu");
        assert_eq!(build.display(), r#"cargo --config 'build.rustflags=["-Cprofile-generate=/p"]'"#);
        let target = flags(Source::Target("f".into())).apply(Cmd::new("cargo"), &ours, "x86_64-unknown-linux-gnu");
        assert!(target.display().contains("target.x86_64-unknown-linux-gnu.rustflags="));
    }

    #[test]
    fn cfg_keys_are_evaluated() {
        let cfg: Vec<String> = ["unix", "target_os=\"linux\"", "target_feature=\"sse2\""].map(String::from).to_vec();
        let target = "x86_64-unknown-linux-gnu";
        assert!(cfg_matches("cfg(target_os = \"linux\")", target, &cfg));
        assert!(cfg_matches("cfg(all(unix, target_feature = \"sse2\"))", target, &cfg));
        assert!(!cfg_matches("cfg(windows)", target, &cfg));
    }
}
