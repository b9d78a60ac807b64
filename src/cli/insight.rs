//! The arguments of the commands that check and look: check, overlap, show,
//! profiles and try.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::presets::{self, Preset};

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The profile to check, e.g. one kept in the repository [default: the
    /// pipeline's merged profile].
    #[arg(long = "profile", value_name = "FILE")]
    pub profile_file: Option<PathBuf>,
    /// Exit with code 5 when more than this percentage of the profiled functions is stale.
    #[arg(long, value_name = "PCT", value_parser = crate::util::percent::share)]
    pub max_stale: Option<f64>,
}

/// `pgo-build overlap`'s own arguments.
#[derive(Debug, Clone, Args)]
pub struct OverlapArgs {
    /// How many of the functions the training never ran to name.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Exit with code 6 when the overlap is below PCT percent (for CI).
    #[arg(long, value_name = "PCT", value_parser = crate::util::percent::share)]
    pub min_overlap: Option<f64>,
}

/// `pgo-build show`'s own arguments.
#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// The profile to summarize (default: the pipeline's merged profile).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// How many of the hottest functions to list.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
}

#[derive(Debug, Clone, Args)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub command: ProfilesCommand,
}

#[derive(Debug, Clone, Args)]
pub struct WriteArgs {
    /// The preset (`pgo-build profiles list` shows them).
    #[arg(value_name = "PRESET", value_parser = parse_preset)]
    pub preset: &'static Preset,
    /// The profile name to write it as [default: the preset's name]. As `dev`,
    /// `release`, `test` or `bench` the keys are written without `inherits`.
    #[arg(long = "as", value_name = "PROFILE", value_parser = parse_profile_name)]
    pub as_profile: Option<String>,
    /// Replace the profile's settings when Cargo.toml already has it (its `package`
    /// and `build-override` tables stay).
    #[arg(long)]
    pub force: bool,
}

/// `pgo-build try`'s own arguments.
#[derive(Debug, Clone, Default, Args)]
pub struct TryArgs {
    /// Run only these workloads [default: every training and benchmark workload].
    #[arg(value_name = "WORKLOAD")]
    pub workloads: Vec<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ProfilesCommand {
    /// List the presets: name, the profile each builds on, what it is for.
    List,
    /// Print a preset as the `[profile.NAME]` table `write` adds to Cargo.toml.
    Show {
        /// The preset (`pgo-build profiles list` shows them).
        #[arg(value_name = "PRESET", value_parser = parse_preset)]
        preset: &'static Preset,
    },
    /// Add a preset to the workspace's Cargo.toml as `[profile.NAME]`, keeping the
    /// file's comments and layout.
    Write(WriteArgs),
}

/// Validates `--as` the way cargo validates profile names (cargo's
/// `restricted_names::validate_profile_name`, plus `doc`, which cargo reserves).
fn parse_profile_name(name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("a profile name cannot be empty".into());
    }
    if let Some(ch) = name.chars().find(|c| !c.is_alphanumeric() && *c != '_' && *c != '-') {
        return Err(format!("`{ch}` is not allowed in a cargo profile name: use letters, digits, `_` and `-`"));
    }
    let lower = name.to_lowercase();
    let reserved = [
        "doc",
        "debug",
        "build-override",
        "build",
        "check",
        "clean",
        "config",
        "fetch",
        "fix",
        "install",
        "metadata",
        "package",
        "publish",
        "report",
        "root",
        "run",
        "rust",
        "rustc",
        "rustdoc",
        "target",
        "tmp",
        "uninstall",
    ];
    if reserved.contains(&lower.as_str()) || lower.starts_with("cargo") {
        let hint = if lower == "debug" { " (the debug build is `dev`)" } else { "" };
        return Err(format!("cargo reserves the profile name `{name}`{hint}; choose another"));
    }
    Ok(name.to_string())
}

fn parse_preset(name: &str) -> Result<&'static Preset, String> {
    presets::find(name).ok_or_else(|| {
        format!(
            "there is no preset `{name}`; the presets are {} (`pgo-build profiles list` describes them)",
            presets::names().join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_follow_cargo() {
        for ok in ["small", "my_profile", "ci-2", "2fast", "Größe"] {
            assert_eq!(parse_profile_name(ok).as_deref(), Ok(ok));
        }
        for bad in ["", "a.b", "a b", "doc", "debug", "Debug", "build-override", "package", "cargo-x", "tmp"] {
            assert!(parse_profile_name(bad).is_err(), "{bad}");
        }
        assert!(parse_profile_name("debug").unwrap_err().contains("`dev`"));
    }

    #[test]
    fn unknown_preset_lists_the_presets() {
        let err = parse_preset("tiny").unwrap_err();
        assert!(err.contains("develop, fast, fastest, small, smallest, production"), "{err}");
    }
}
