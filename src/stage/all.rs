//! `pgo-build all`: instrument, train, merge, optimize, (in BOLT mode) bolt, then compare.

use anyhow::Result;
use clap::Args;

use super::compare::CompareArgs;
use super::optimize::OptimizeArgs;
use crate::config::Use;
use crate::context::Ctx;
use crate::process::check_interrupted;

#[derive(Debug, Clone, Args)]
pub struct AllArgs {
    #[command(flatten)]
    pub optimize: OptimizeArgs,
    #[command(flatten)]
    pub compare: CompareArgs,
    /// Stop after `optimize`, without measuring.
    #[arg(long)]
    pub no_compare: bool,
}

/// Runs the pipeline; the exit code is compare's (its CI checks).
pub fn run(ctx: &Ctx, args: &AllArgs) -> Result<u8> {
    args.optimize.bolt.require_bolt_mode(ctx.bolt)?;
    // With a stored profile there is nothing to collect: straight to optimize.
    if args.optimize.profile_file.is_none() {
        super::instrument::run(ctx)?;
        check_interrupted()?;
        super::train::run(ctx, &super::train::TrainArgs::default())?;
        check_interrupted()?;
        super::merge::run(ctx, &super::merge::MergeArgs::default())?;
        check_interrupted()?;
    }
    super::optimize::run(ctx, &args.optimize)?;
    check_interrupted()?;
    if ctx.bolt {
        super::bolt::run(ctx, &args.optimize.bolt, &args.compare.measure, false)?;
        check_interrupted()?;
    }
    if args.no_compare {
        return Ok(0);
    }
    if ctx.config.workloads_for(Use::Bench).next().is_none() {
        ctx.printer.warn("no benchmark workloads, so nothing to compare; add some with `use = [\"bench\"]`");
        return Ok(0);
    }
    super::compare::run(ctx, &args.compare, args.optimize.bolt.keep_bolt).map(|c| c.code)
}
