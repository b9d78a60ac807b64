//! What pgo-build knows of Cargo's side of a build: the [`Settings`] that make
//! two builds comparable, Cargo's config files and profiles, the user's
//! rustflags, the C/C++ code build scripts compile, and the warnings rustc and
//! clang print about profiles. Running a build is the `build` module's.

pub mod c_code;
pub mod cargo_config;
pub mod cross;
pub mod flags;
pub mod lean;
pub mod profile_warnings;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What makes two builds of the project comparable. Recorded by `instrument` and
/// checked by every later stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub package: String,
    pub bins: Vec<String>,
    pub profile: String,
    pub features: Vec<String>,
    pub default_features: bool,
    pub cargo_args: Vec<String>,
    pub host: String,
    /// The target triple every build is for (`--target`; the host's by default).
    #[serde(default)]
    pub target: String,
    pub rustc: String,
    /// Every Cargo profile setting in force: `[profile.*]` in the workspace manifest
    /// and in cargo config files, and `CARGO_PROFILE_*` variables.
    pub cargo_profiles: String,
    /// RUSTFLAGS / CARGO_ENCODED_RUSTFLAGS from the environment, if that is where
    /// the user's flags come from.
    pub env_rustflags: Option<String>,
    /// `profile.<NAME>.<KEY>=<VALUE>` overrides pgo-build applies to every build of
    /// the pipeline alike: `strip=false` in BOLT mode, whose input must keep its
    /// symbols (and must match the instrumented build's symbol names).
    pub profile_overrides: Vec<(String, String)>,
    /// BOLT mode: every build unstripped, the PGO build linked with relocations.
    pub bolt: bool,
    /// The clang that compiles the C/C++ code of build scripts with PGO, if it
    /// does: a profile from one clang's build only fits another's of the same LLVM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_compiler: Option<crate::toolchain::clang::Clang>,
}

/// The cargo arguments of `cargo_args` that keep a cargo command off the network
/// (`--offline`, `--frozen`, `--locked`), for the commands besides `build`.
pub fn offline_args(cargo_args: &[String]) -> impl Iterator<Item = &String> {
    cargo_args.iter().filter(|a| ["--offline", "--frozen", "--locked"].contains(&a.as_str()))
}

/// One binary a build produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Binary {
    pub name: String,
    pub path: PathBuf,
}
