//! The arguments of the pipeline's stages: train, merge, optimize, bolt, and
//! all of them at once. What they mean in code (`options()`, checks) is beside
//! each stage; here is only what the command line takes.

use std::path::PathBuf;

use clap::Args;

use super::{CompareArgs, MeasureArgs};
use crate::config::BoltProfiling;
use crate::state::Shard;
use crate::toolchain::profdata::merge::FailureMode;

/// The share of the profile's functions that may go without profile data.
pub const DEFAULT_MAX_UNPROFILED: f64 = 50.0;

/// `pgo-build train`'s own arguments.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Training options")]
pub struct TrainArgs {
    /// Run only shard K of N (1-based): every Nth training workload in name order,
    /// for training on several machines; `pgo-build merge --from` joins the sets.
    #[arg(long, value_name = "K/N", value_parser = crate::state::Shard::parse)]
    pub shard: Option<Shard>,
}

/// `pgo-build merge`'s own arguments.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Merge options")]
pub struct MergeArgs {
    /// Also write the merged profile here (e.g. a file kept in the repository,
    /// for `pgo-build optimize --profile FILE` and `pgo-build check`).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Merge the profile sets in these folders (each a copy of a training run's
    /// `target/pgo-build/profiles/raw`, e.g. one per CI shard) instead of this
    /// machine's; repeat for several.
    #[arg(long, value_name = "DIR", num_args = 1..)]
    pub from: Vec<PathBuf>,
    /// What to do with a raw profile llvm-profdata cannot read (truncated by a
    /// process killed mid-write): fail, or warn and merge the rest.
    #[arg(long, value_enum, default_value_t = FailureMode::Fail, value_name = "MODE")]
    pub failure_mode: FailureMode,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Build options")]
pub struct OptimizeArgs {
    /// Where to put the optimized binaries [default: <target>/pgo-build/out].
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Fail when more than this percentage of the profile's functions got no profile data.
    #[arg(long, value_name = "PCT", default_value_t = DEFAULT_MAX_UNPROFILED, value_parser = crate::util::percent::share)]
    pub max_unprofiled: f64,
    /// Build from this stored profile (e.g. one kept in the repository and
    /// written by `pgo-build merge --output`) instead of the pipeline's: no
    /// instrumented build or training needed.
    #[arg(long = "profile", value_name = "FILE")]
    pub profile_file: Option<PathBuf>,
    /// Build from a profile trained on another target, carried to this one by
    /// function name where the control flow is the same: a profile file (from
    /// `merge --output`), or a target whose pipeline ran here
    /// (`x86_64-unknown-linux-gnu`). No training on this target.
    #[arg(long, value_name = "FILE|TRIPLE", conflicts_with = "profile_file")]
    pub profile_from: Option<String>,
    /// With --profile-from (or --targets): fail with exit code 7, before the
    /// optimized build, when less than PCT percent of the profile's counts could
    /// be carried.
    #[arg(long, value_name = "PCT", value_parser = crate::util::percent::share)]
    pub min_coverage: Option<f64>,
    #[command(flatten)]
    pub bolt: BoltArgs,
}

/// How the BOLT step runs (on `bolt`, `optimize` and `all`).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "BOLT options")]
pub struct BoltArgs {
    /// Keep the BOLT binaries even when they are not faster than the PGO ones.
    #[arg(long)]
    pub keep_bolt: bool,
    /// Replace llvm-bolt's default optimization flags (comma-separated).
    #[arg(long, value_name = "FLAGS", value_delimiter = ',', allow_hyphen_values = true)]
    pub bolt_flags: Vec<String>,
    /// A flag to add after llvm-bolt's optimization flags; repeat for several.
    #[arg(long = "bolt-arg", value_name = "FLAG", allow_hyphen_values = true)]
    pub bolt_args: Vec<String>,
    /// How BOLT collects its profile [default: from the config, else instrument].
    #[arg(long, value_enum, value_name = "MODE")]
    pub bolt_mode: Option<BoltProfiling>,
    /// Leave out the function-splitting flags (-split-functions -split-all-cold
    /// -split-eh): measured +3.4% size instead of +10% on the demo, since BOLT
    /// then rewrites the unwind tables in place (also `bolt-split = false`).
    #[arg(long)]
    pub bolt_no_split: bool,
}

/// `pgo-build bolt`'s own arguments.
#[derive(Debug, Clone, Args)]
pub struct BoltCommandArgs {
    #[command(flatten)]
    pub bolt: BoltArgs,
    /// BOLT a plain build (the profile as it is, linked with relocations) instead
    /// of the PGO one: no instrumented build, training or merged profile needed.
    /// Its results go to <out>/no-pgo/, apart from the PGO pipeline's.
    #[arg(long)]
    pub no_pgo: bool,
    /// Where to put the delivered binaries [default: <target>/pgo-build/out].
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// How BOLT is measured against PGO before it is delivered.
    #[command(flatten)]
    pub measure: MeasureArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AllArgs {
    /// A release matrix: run the pipeline for each of these targets (comma-separated
    /// or repeated; also `targets = [...]` in the config). Each target that runs here,
    /// natively or under an emulator, is trained; the others get the profile of the
    /// first one that runs natively, carried. Binaries go to <out>/<triple>/.
    #[arg(long, value_name = "TRIPLE", value_delimiter = ',', num_args = 1.., help_heading = "Release matrix")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub optimize: OptimizeArgs,
    /// Stop after the builds: measure nothing, deliver the PGO (or checked BOLT) binaries.
    #[arg(long, help_heading = "Comparison options")]
    pub no_compare: bool,
    #[command(flatten)]
    pub compare: CompareArgs,
}
