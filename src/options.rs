//! Every choice the command line, the environment and `pgo-build.toml` can make
//! between them, worked out once, before any work: [`Options::resolve`] is a pure
//! function of the parsed arguments, the environment (passed in, never read here)
//! and the config, so its precedence is tested as a table (`options_tests.rs`),
//! as just's `Config::from_arguments` is. The rule is the one docs/config.md
//! ("Precedence") states: the command line, then the environment, then the
//! config, then the default. Command code reads the resolved values.
//!
//! Two choices cannot be finished before I/O, and are finished by a method here:
//! whether the pipeline is in BOLT mode falls back to the mode the pipeline's
//! record has ([`Options::bolt`]), and the BOLT stage's profile collection can come
//! from the options a record was made with ([`Options::bolt_mode_of`]).

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::{BoltArgs, Cli, Command, CompareArgs, GateOn, GlobalArgs};
use crate::config::CounterChoice;
use crate::config::{BoltProfiling, Config};
use crate::printer::ColorChoice;
use crate::toolchain::{Origin, Override};

/// The environment, as a lookup: `std::env::var_os` in the program, a table in tests.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The variable naming the `llvm-profdata` to use (`--llvm-profdata` wins).
pub const PROFDATA_VAR: &str = "PGO_BUILD_LLVM_PROFDATA";
/// The variable naming the `llvm-bolt` to use (`--llvm-bolt` wins).
pub const BOLT_VAR: &str = "PGO_BUILD_LLVM_BOLT";

/// The resolved options of one command.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub selection: Selection,
    /// `--features`, else the config's `features`.
    pub features: Vec<String>,
    /// The Cargo profile: `--cargo-profile`, else `profile`, else `release`.
    pub profile: String,
    /// `--target`, else `target`; `None`: the host's.
    pub target: Option<String>,
    /// Whether C/C++ PGO is wanted (`--no-c-pgo` or `c-pgo = false` turn it off);
    /// whether it happens depends on the project and the clang found too.
    pub c_pgo: bool,
    pub tools: Tools,
    /// BOLT mode as far as the command and the config decide; `None`: the record's.
    bolt: Option<bool>,
    /// `bolt-mode` from the config.
    config_bolt_mode: Option<BoltProfiling>,
    /// How BOLT collects its profile in this command: its `--bolt-mode`, else
    /// `bolt-mode`, else instrumentation.
    pub bolt_mode: BoltProfiling,
    pub compare: CompareOptions,
    /// `--color`, with `NO_COLOR` turning `auto` off.
    pub color: ColorChoice,
}

/// Which package and binaries to build: `None` leaves the choice to the project
/// (the package pgo-build was pointed at, every binary of it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// `--package`, else `package`.
    pub package: Option<String>,
    /// `--bin` (repeated), else `bins`.
    pub bins: Option<Vec<String>>,
}

/// Tools the user named, each the only candidate when named.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tools {
    /// `--llvm-profdata`, else `PGO_BUILD_LLVM_PROFDATA`; empty is not given.
    pub llvm_profdata: Option<Override>,
    /// `--llvm-bolt`, else `PGO_BUILD_LLVM_BOLT`; empty is not given.
    pub llvm_bolt: Option<PathBuf>,
}

/// `compare`'s choices (also `all`'s; the config's for other commands).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompareOptions {
    /// `--variants`, else `variants`; `None`: the default set, which depends on
    /// the pipeline's records.
    pub variants: Option<Vec<String>>,
    /// `--baseline`, else `baseline`; `None`: the `production` preset.
    pub baseline: Option<String>,
    /// The startup run's arguments: `--startup-args` (shell-quoted), else
    /// `startup-args`, else `--version`; `None` when either sets them to nothing.
    pub startup_args: Option<Vec<String>>,
    /// The counter when something is counted (`--counts`, `counts = true`, or a
    /// check on a count): `--counter`, else `counter`; `None`: nothing counted.
    pub counter: Option<CounterChoice>,
}

impl Options {
    /// Resolves the options of `cli`'s command (see the module documentation).
    /// Fails only on a value that cannot be read (`--startup-args` quoting).
    pub fn resolve(cli: &Cli, env: Env, config: &Config) -> Result<Options> {
        let g = &cli.global;
        let bolt_args = bolt_args(&cli.command);
        let given_mode = bolt_args.and_then(|b| b.bolt_mode);
        let default_compare = CompareArgs::default();
        let compare = match &cli.command {
            Command::Compare(args) => args,
            Command::All(args) => &args.compare,
            _ => &default_compare,
        };
        let needed = matches!(cli.command, Command::Bolt(_));
        Ok(Options {
            selection: Selection::resolve(g, config),
            features: if g.features.is_empty() { config.features.clone() } else { g.features.clone() },
            profile: g.cargo_profile.clone().or_else(|| config.profile.clone()).unwrap_or_else(|| "release".into()),
            target: g.target.clone().or_else(|| config.target.clone()),
            c_pgo: !g.no_c_pgo && config.c_pgo,
            tools: Tools::resolve(g, env),
            bolt: if needed || g.bolt {
                Some(true)
            } else if g.no_bolt {
                Some(false)
            } else {
                config.bolt
            },
            config_bolt_mode: config.bolt_mode,
            bolt_mode: given_mode.or(config.bolt_mode).unwrap_or_default(),
            compare: CompareOptions::resolve(compare, config)?,
            color: color(g.color, env),
        })
    }

    /// Whether the pipeline runs in BOLT mode: a command that needs it (`bolt`),
    /// then `--bolt`/`--no-bolt`, then the config's `bolt`, then `recorded`, the
    /// mode the pipeline's record was made in (so that after `all --bolt` every
    /// later command works on the same builds without `--bolt` again), else off.
    pub fn bolt(&self, recorded: Option<bool>) -> bool {
        self.bolt.or(recorded).unwrap_or(false)
    }

    /// How a BOLT run whose options (maybe recorded ones) say `given` collects
    /// its profile: `given`, else the config's `bolt-mode`, else instrumentation.
    pub fn bolt_mode_of(&self, given: Option<BoltProfiling>) -> BoltProfiling {
        given.or(self.config_bolt_mode).unwrap_or_default()
    }
}

/// The BOLT options of the command, if it has them.
fn bolt_args(command: &Command) -> Option<&BoltArgs> {
    match command {
        Command::Bolt(args) => Some(&args.bolt),
        Command::Optimize(args) => Some(&args.bolt),
        Command::All(args) => Some(&args.optimize.bolt),
        _ => None,
    }
}

impl Selection {
    /// The command line's choice replaces the config's (`--bin a` is exactly `a`).
    pub fn resolve(g: &GlobalArgs, config: &Config) -> Selection {
        Selection {
            package: g.package.clone().or_else(|| config.package.clone()),
            bins: if g.bins.is_empty() { config.bins.clone() } else { Some(g.bins.clone()) },
        }
    }
}

impl Tools {
    /// The flag wins over the variable, even when empty (`--llvm-profdata ""`:
    /// search as usual, whatever the environment says).
    pub fn resolve(g: &GlobalArgs, env: Env) -> Tools {
        let named = |flag: &Option<PathBuf>, var: &str| -> Option<(PathBuf, Origin)> {
            let (path, origin) = match flag {
                Some(p) => (p.clone(), Origin::Flag),
                None => (PathBuf::from(env(var)?), Origin::Env),
            };
            (!path.as_os_str().is_empty()).then_some((path, origin))
        };
        Tools {
            llvm_profdata: named(&g.llvm_profdata, PROFDATA_VAR).map(|(path, origin)| Override { path, origin }),
            llvm_bolt: named(&g.llvm_bolt, BOLT_VAR).map(|(path, _)| path),
        }
    }
}

impl CompareOptions {
    pub fn resolve(args: &CompareArgs, config: &Config) -> Result<CompareOptions> {
        let startup_args = match &args.startup_args {
            Some(text) => {
                shlex::split(text).with_context(|| format!("--startup-args {text:?} is not valid shell quoting"))?
            }
            None => config.startup_args.clone().unwrap_or_else(|| vec!["--version".to_string()]),
        };
        let no_startup = startup_args.is_empty() && (args.startup_args.is_some() || config.startup_args.is_some());
        let counts = args.counts || config.counts || args.gate_on != GateOn::Time;
        Ok(CompareOptions {
            variants: if args.variants.is_empty() { config.variants.clone() } else { Some(args.variants.clone()) },
            baseline: args.baseline.clone().or_else(|| config.baseline.clone()),
            startup_args: (!no_startup).then_some(startup_args),
            counter: counts.then(|| args.counter.unwrap_or(config.counter)),
        })
    }
}

/// `--color`, except that `auto` is `never` when `NO_COLOR` is set and not empty.
pub fn color(choice: ColorChoice, env: Env) -> ColorChoice {
    match choice {
        ColorChoice::Auto if env("NO_COLOR").is_some_and(|v| !v.is_empty()) => ColorChoice::Never,
        other => other,
    }
}

#[cfg(test)]
#[path = "options_tests.rs"]
mod tests;
