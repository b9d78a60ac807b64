//! `pgo-build.toml`: what to build and which workloads train and measure it.
//!
//! The file is optional (a project with `workloads/train/` and `workloads/bench/`
//! scripts needs none), but what it says is checked strictly: an unknown key or a
//! wrong type is an error naming the file, line and key, because a misspelt
//! `weigth = 3` silently ignored would skew a profile nobody would think to question.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

mod discover;
mod parse;
pub mod serve;

pub use serve::Serve;

/// Default limit for one run of one workload.
pub const DEFAULT_TIMEOUT_SECS: f64 = 600.0;

/// What a workload is for: collecting the profile, measuring, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Use {
    Train,
    Bench,
}

impl Use {
    /// As in the config's `use` and the folder's name: `train`, `bench`.
    pub fn name(self) -> &'static str {
        match self {
            Use::Train => "train",
            Use::Bench => "bench",
        }
    }
}

/// How BOLT collects its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BoltProfiling {
    /// `llvm-bolt -instrument`: works everywhere, VMs included.
    #[default]
    Instrument,
    /// `perf record` with branch stacks and `perf2bolt`: needs hardware branch sampling.
    Perf,
}

/// How a workload is started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Run {
    /// An executable file, relative to the project directory in the config.
    Script(PathBuf),
    /// A command line for `sh -c`.
    Shell(String),
}

/// One workload, validated.
#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    pub name: String,
    pub run: Run,
    pub args: Vec<String>,
    pub uses: BTreeSet<Use>,
    pub weight: u32,
    pub timeout: Duration,
    pub env: BTreeMap<String, String>,
    /// A rewritten binary (BOLT) must print the same standard output as its input.
    pub check_output: bool,
    /// The server the workload's `run` drives, when it has one (`serve`).
    pub serve: Option<Serve>,
    /// Figures the workload promises to report through `PGO_BUILD_METRICS`.
    pub metrics: Vec<String>,
}

impl Workload {
    /// A workload with every optional setting at its default, as a discovered
    /// script has them.
    pub fn new(name: impl Into<String>, run: Run, uses: BTreeSet<Use>) -> Workload {
        Workload {
            name: name.into(),
            run,
            args: Vec::new(),
            uses,
            weight: 1,
            timeout: Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS),
            env: BTreeMap::new(),
            check_output: false,
            serve: None,
            metrics: Vec::new(),
        }
    }

    pub fn is(&self, purpose: Use) -> bool {
        self.uses.contains(&purpose)
    }
}

/// The project's configuration, validated, with defaults applied.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from, if there was one.
    pub path: Option<PathBuf>,
    /// The workloads were found in the workloads/ folders, since the config
    /// declares none (see [`Config::how_to_add`]).
    pub discovered: bool,
    pub package: Option<String>,
    pub bins: Option<Vec<String>>,
    pub profile: Option<String>,
    pub features: Vec<String>,
    pub default_features: bool,
    pub cargo_args: Vec<String>,
    /// Run the pipeline in BOLT mode (`bolt = true`), or not (`bolt = false`);
    /// unset: the mode the pipeline's record has.
    pub bolt: Option<bool>,
    /// How BOLT collects its profile, if the config says.
    pub bolt_mode: Option<BoltProfiling>,
    /// llvm-bolt optimization flags replacing the defaults (empty: the defaults).
    pub bolt_flags: Vec<String>,
    /// Flags appended to llvm-bolt's optimization flags.
    pub bolt_args: Vec<String>,
    /// `bolt-split = false` leaves out BOLT's function-splitting flags.
    pub bolt_split: Option<bool>,
    /// `compare`'s baseline: a Cargo profile of the project or a preset name
    /// (none: the `production` preset).
    pub baseline: Option<String>,
    /// `compare`'s variants, if the config chooses them.
    pub variants: Option<Vec<String>>,
    /// Arguments of `compare`'s startup run (none: `--version`; empty: no startup run).
    pub startup_args: Option<Vec<String>>,
    /// `compare` also counts instructions and the rest (`counts = true`).
    pub counts: bool,
    /// Which counter `compare` counts with.
    pub counter: CounterChoice,
    /// LLVM's continuous mode for training (`continuous-profiles`), if the config
    /// says; see [`Config::continuous_profiles`].
    pub continuous: Option<bool>,
    /// The target triple to build for (none: the host's).
    pub target: Option<String>,
    /// The release matrix `all` builds when no `--target` is given (`targets`).
    pub targets: Vec<String>,
    /// Build C/C++ code of build scripts with PGO too (`c-pgo`, default on).
    pub c_pgo: bool,
    /// Skip LTO in the instrumented build where that keeps every name
    /// (`lean-instrument`, default on; see `cargo::lean`).
    pub lean_instrument: bool,
    pub workloads: Vec<Workload>,
}

impl Config {
    /// Whether the instrumented build keeps its counters in the raw profile file
    /// as it runs (LLVM's continuous mode), so a training process killed by a
    /// signal, or aborting, still leaves its profile: `continuous-profiles`, else
    /// on when a training workload has a server (servers are stopped by a signal).
    pub fn continuous_profiles(&self) -> bool {
        self.continuous.unwrap_or_else(|| self.workloads.iter().any(|w| w.serve.is_some() && w.is(Use::Train)))
    }

    /// Loads `path` if it exists (or fails if it was named explicitly and is missing),
    /// then falls back to discovering scripts under `PROJECT/workloads/` when the file
    /// declares no workloads.
    pub fn load(project_dir: &Path, path: &Path, explicit: bool) -> Result<Config> {
        let mut config = if path.is_file() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read config file {}", path.display()))?;
            parse::parse(&text, path, project_dir)?
        } else if explicit {
            bail!("config file {} does not exist", path.display());
        } else {
            Config { default_features: true, c_pgo: true, lean_instrument: true, ..Config::default() }
        };
        if config.workloads.is_empty() {
            config.workloads = discover::discover(project_dir)?;
            config.discovered = true;
        }
        Ok(config)
    }

    /// How to add a workload for `purpose`, for messages. Where this project's
    /// workloads come from decides: declared in the config file, a table there
    /// (the folders are then not read); else a script in the folder.
    pub fn how_to_add(&self, purpose: Use, project_dir: &Path) -> String {
        let name = purpose.name();
        match &self.path {
            Some(path) if !self.discovered => format!(
                "add a `[[workload]]` table with `use = [\"{name}\"]` to {} (or \"{name}\" to the `use` of one there)",
                path.display()
            ),
            _ => format!("add an executable script to {}", project_dir.join("workloads").join(name).display()),
        }
    }

    pub fn workloads_for(&self, purpose: Use) -> impl Iterator<Item = &Workload> {
        self.workloads.iter().filter(move |w| w.is(purpose))
    }

    /// Where the config came from, for messages.
    pub fn source(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "the workloads/ folder (no pgo-build.toml)".to_string(),
        }
    }
}

/// Which counter to use, as asked (`--counter`, `counter` in the config).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum CounterChoice {
    /// `perf stat` where the hardware counters are readable, else cachegrind.
    #[default]
    Auto,
    /// `perf stat` with the hardware's counters (fails where they are not readable).
    Perf,
    /// valgrind's cachegrind, with cache and branch simulation.
    Cachegrind,
}

/// A config from its text, as if read from `pgo-build.toml` (workloads left as declared).
#[cfg(test)]
pub fn from_toml(text: &str) -> Result<Config> {
    parse::parse(text, Path::new("pgo-build.toml"), Path::new("."))
}

#[cfg(test)]
mod tests;
