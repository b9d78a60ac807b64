//! The command line: clap's derive structs. They are only the front:
//! `options::Options::resolve` turns them, with the environment and
//! `pgo-build.toml`, into the options the stages read.
//! Every command's arguments are here, grouped by kind (`pipeline.rs`,
//! `compare.rs`, `insight.rs`), so the command line sits below the code that
//! reads it; what an argument means in code (`TrainArgs::options`…) is beside
//! its stage.

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};

use crate::printer::ColorChoice;

mod compare;
mod insight;
mod pipeline;

pub use compare::{CompareArgs, GateOn, MeasureArgs};
pub use insight::{CheckArgs, OverlapArgs, ProfilesArgs, ProfilesCommand, ShowArgs, TryArgs, WriteArgs};
pub use pipeline::{AllArgs, BoltArgs, BoltCommandArgs, DEFAULT_MAX_UNPROFILED, MergeArgs, OptimizeArgs, TrainArgs};

/// Profile-guided optimization for Cargo projects: instrument a build, train it on
/// your own workloads, merge the profiles, rebuild with PGO, and compare the result
/// with your plain LTO build.
#[derive(Debug, Clone, Parser)]
#[command(name = "pgo-build", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Write a commented pgo-build.toml and an example training and benchmark workload
    /// script for this project; existing files are kept unless --force replaces them.
    Init,
    /// Run every training and benchmark workload once against a plain build: times and failures, in seconds.
    Try(TryArgs),
    /// Check rustc, its LLVM version and a matching llvm-profdata; say how to fix what is missing.
    Doctor,
    /// Build the binaries with -Cprofile-generate into pgo-build's own target directory.
    Instrument,
    /// Run the training workloads against the instrumented binaries, one raw profile set each.
    Train(TrainArgs),
    /// Merge the training profiles (weights honoured) into one content-hashed .profdata.
    Merge(MergeArgs),
    /// Rebuild with -Cprofile-use and put the optimized binaries in the output directory.
    Optimize(OptimizeArgs),
    /// Reorder the PGO binaries' code with LLVM BOLT, trained on the training workloads.
    Bolt(BoltCommandArgs),
    /// Measure the PGO binaries against the plain build on the benchmark workloads.
    Compare(CompareArgs),
    /// Run instrument, train, merge, optimize, bolt (in BOLT mode) and compare in order.
    All(AllArgs),
    /// Build with a (stored) profile and report, per crate, how much of it has gone stale.
    Check(CheckArgs),
    /// Summarize a merged profile: functions, the hottest ones, each training workload's share.
    Show(ShowArgs),
    /// Profile the benchmark workloads too and report how well the training profile covers them.
    Overlap(OverlapArgs),
    /// Where the pipeline stands: what each stage made, when, and whether it is still current.
    Status,
    /// List, show or write the Cargo profile presets (develop, fast, fastest, small, smallest, production).
    Profiles(ProfilesArgs),
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The Cargo project (the folder with Cargo.toml).
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,
    /// The pgo-build config file [default: DIR/pgo-build.toml].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The Cargo profile to optimize [default: from the config, else `release`].
    #[arg(long, global = true, value_name = "NAME")]
    pub cargo_profile: Option<String>,
    /// The package whose binaries to optimize (in a workspace).
    #[arg(short = 'p', long, global = true, value_name = "NAME")]
    pub package: Option<String>,
    /// A binary to optimize; repeat for several [default: every binary of the package].
    #[arg(long = "bin", global = true, value_name = "NAME")]
    pub bins: Vec<String>,
    /// Features to enable, comma-separated (replaces `features` from the config).
    #[arg(long, global = true, value_name = "FEATURES", value_delimiter = ',')]
    pub features: Vec<String>,
    /// The target triple to build for, e.g. x86_64-unknown-linux-musl [default:
    /// `target` from the config, else the host's]. Training runs its binaries here.
    #[arg(long, global = true, value_name = "TRIPLE")]
    pub target: Option<String>,
    /// Build the C/C++ code of build scripts (the `cc` crate) without PGO (also `c-pgo = false`).
    #[arg(long, global = true)]
    pub no_c_pgo: bool,
    /// The llvm-profdata to use (empty: search as usual) [env: PGO_BUILD_LLVM_PROFDATA].
    #[arg(long, global = true, value_name = "PATH", value_parser = path_or_empty())]
    pub llvm_profdata: Option<PathBuf>,
    /// The llvm-bolt to use, with merge-fdata beside it (empty: search as usual)
    /// [env: PGO_BUILD_LLVM_BOLT].
    #[arg(long, global = true, value_name = "PATH", value_parser = path_or_empty())]
    pub llvm_bolt: Option<PathBuf>,
    /// BOLT mode: build every stage unstripped (and the PGO build linked with
    /// relocations), so `pgo-build bolt` can follow `optimize` (also `bolt = true`).
    /// Later commands keep the mode the pipeline was built in.
    #[arg(long, global = true, conflicts_with = "no_bolt")]
    pub bolt: bool,
    /// Leave BOLT mode: rebuild the pipeline without it, though its record (or
    /// the config) says BOLT.
    #[arg(long, global = true)]
    pub no_bolt: bool,
    /// Never install the rustup llvm-tools component, even when nothing else fits.
    #[arg(long, global = true)]
    pub no_install: bool,
    /// Run stages even when their inputs are unchanged since their last run.
    #[arg(long, global = true)]
    pub force: bool,
    /// Print the commands a stage would run, without running them.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Show every external command as it runs.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Print only results and errors: no progress, no status lines.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// A path where an empty value is allowed and means "not given" (as an empty
/// `PGO_BUILD_LLVM_BOLT=` in a CI file does); clap's path parser would refuse it.
/// The variables are read by `options::Tools::resolve`.
fn path_or_empty() -> impl TypedValueParser<Value = PathBuf> {
    clap::builder::OsStringValueParser::new().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    /// Regression: an empty `PGO_BUILD_LLVM_BOLT=` (or flag) failed every command.
    /// (That it then means "not given" is in `options_tests.rs`.)
    #[test]
    fn an_empty_tool_path_parses() {
        use clap::Parser;
        super::Cli::try_parse_from(["pgo-build", "--llvm-bolt", "", "--llvm-profdata", "", "status"])
            .expect("empty paths parse");
    }

    /// `all --no-compare` refuses only comparison options that were given: the
    /// defaults clap fills in are not "given".
    #[test]
    fn comparison_defaults_are_not_given_options() {
        use clap::Parser;
        let parse = |args: &[&str]| match super::Cli::try_parse_from(args).expect("parses").command {
            super::Command::All(all) => all.compare.require_compare(all.no_compare).map_err(|e| e.to_string()),
            _ => unreachable!("all"),
        };
        assert!(parse(&["pgo-build", "all", "--no-compare"]).is_ok());
        assert!(parse(&["pgo-build", "all", "--no-compare", "--keep-bolt"]).is_ok());
        assert!(parse(&["pgo-build", "all", "--rounds", "3"]).is_ok());
        let err = parse(&["pgo-build", "all", "--no-compare", "--budget", "90s", "--gate-on", "instructions"]);
        assert!(err.unwrap_err().starts_with("--gate-on, --budget only apply to the comparison"));
    }

    /// Regression: `all --help` listed compare's options under "BOLT options" and
    /// `--no-compare` under "Measurement options".
    #[test]
    fn all_help_puts_each_option_under_its_own_heading() {
        let mut cli = super::Cli::command();
        cli.build();
        let all = cli.find_subcommand("all").expect("all");
        let heading = |long: &str| {
            all.get_arguments().find(|a| a.get_long() == Some(long)).and_then(|a| a.get_help_heading()).unwrap_or("")
        };
        for (long, want) in [
            ("no-compare", "Comparison options"),
            ("variants", "Comparison options"),
            ("fail-if-slower", "Comparison options"),
            ("keep-bolt", "BOLT options"),
            ("out-dir", "Build options"),
            ("rounds", "Measurement options"),
        ] {
            assert_eq!(heading(long), want, "--{long}");
        }
    }
}
