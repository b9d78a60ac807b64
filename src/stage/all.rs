//! `pgo-build all`: instrument, train, merge, optimize, (in BOLT mode) bolt, then
//! compare, then deliver what the measurement chose.
//!
//! Everything that can make the pipeline fail without building is checked
//! first (the workloads, the options, the tools, the output directory), so a
//! mistake costs seconds rather than a build. In BOLT mode, BOLT is measured
//! against PGO once, by `compare` (pgo and pgo+bolt side by side with the
//! baseline), and that measurement decides what is delivered; with
//! `--no-compare` nothing is measured and the checked BOLT binary is delivered.

use anyhow::{Result, bail};

use super::bolt::Bolt;
use super::instrument::Instrument;
use super::merge::{Merge, MergeOptions};
use super::optimize::Optimize;
use super::train::{Train, TrainOptions};
use crate::cli::AllArgs;
use crate::config::Use;
use crate::context::Ctx;
use crate::pipeline;
use crate::process::check_interrupted;
use crate::stage::deliver::{self, Evidence};

/// Runs the pipeline; the exit code is compare's (its CI checks).
pub fn run(ctx: &Ctx, args: &AllArgs) -> Result<u8> {
    preflight(ctx, args)?;
    let out_dir = deliver::out_dir(ctx, args.optimize.out_dir.as_deref())?;
    // With a stored or carried profile there is nothing to collect here.
    if let Some(code) = args.optimize.carry(ctx)? {
        return Ok(code);
    }
    if trains(args) {
        pipeline::run::<Instrument>(ctx, &())?;
        check_interrupted()?;
        pipeline::run::<Train>(ctx, &TrainOptions::default())?;
        check_interrupted()?;
        pipeline::run::<Merge>(ctx, &MergeOptions::default())?;
        check_interrupted()?;
    }
    pipeline::run::<Optimize>(ctx, &args.optimize.options())?;
    check_interrupted()?;
    if ctx.bolt {
        pipeline::run::<Bolt>(ctx, &args.optimize.bolt.options())?;
        check_interrupted()?;
    }
    let keep_bolt = args.optimize.bolt.keep_bolt;
    if !args.no_compare && !ctx.runs_natively() {
        let how = match ctx.runner() {
            Some(r) => format!("run here only under `{}`, whose times say nothing of the real machine", r.display()),
            None => "do not run here".to_string(),
        };
        ctx.printer.status(
            "compare",
            format!("skipped: {} binaries {how} (compare on a machine that runs them)", ctx.target.triple),
        );
    }
    if !compares(ctx, args) {
        let evidence = if keep_bolt { Evidence::KeepBolt } else { Evidence::NotMeasured };
        deliver::deliver(ctx, &out_dir, evidence)?;
        return Ok(0);
    }
    let compared = super::compare::run(ctx, &args.compare, keep_bolt)?;
    // BOLT against PGO was measured once, in compare's rounds; that decides.
    let evidence = match (&compared.bolt_vs_pgo, keep_bolt) {
        (_, true) => Evidence::KeepBolt,
        (Some(b), false) => {
            Evidence::Measured { keep: b.keep_bolt, summary: format!("measured by compare, {}", b.reason) }
        }
        (None, false) => Evidence::NotMeasured,
    };
    deliver::deliver(ctx, &out_dir, evidence)?;
    Ok(compared.code)
}

/// Whether `all` ends with a comparison: not with `--no-compare`, nor for a
/// target that does not run here natively (under an emulator its times would
/// be the emulator's).
fn compares(ctx: &Ctx, args: &AllArgs) -> bool {
    !args.no_compare && ctx.runs_natively()
}

/// Whether `all` trains here: not when it builds from a stored or carried profile.
fn trains(args: &AllArgs) -> bool {
    args.optimize.profile_file.is_none() && args.optimize.profile_from.is_none()
}

/// Fails before the first build when the pipeline cannot succeed (compare's
/// counter included, when it counts).
fn preflight(ctx: &Ctx, args: &AllArgs) -> Result<()> {
    args.optimize.bolt.require_bolt_mode(ctx.bolt)?;
    let compares = compares(ctx, args);
    args.compare.require_compare(!compares)?;
    if trains(args) && ctx.config.workloads_for(Use::Train).next().is_none() {
        bail!(super::train::no_training_workloads(ctx));
    }
    if compares && ctx.config.workloads_for(Use::Bench).next().is_none() {
        bail!(
            "there are no benchmark workloads for compare to measure: {}; or build without measuring: \
             `pgo-build all --no-compare`",
            ctx.config.how_to_add(Use::Bench, &ctx.project.dir)
        );
    }
    crate::workload::placeholder::check(
        &ctx.project.dir,
        ctx.config.workloads.iter().filter(|w| (w.is(Use::Train) && trains(args)) || (w.is(Use::Bench) && compares)),
    )?;
    // Finding BOLT changes nothing, so a dry run is refused where the run would be;
    // so is a target whose standard library is missing (a dry run installs nothing).
    if ctx.bolt {
        ctx.bolt_tools(ctx.options.bolt_mode)?;
    }
    if trains(args) || compares {
        ctx.check_target()?
    } else {
        ctx.check_build_target()?
    }
    if ctx.dry_run {
        return Ok(());
    }
    ctx.profdata()?;
    if compares {
        super::compare::check_gate_metric(ctx, &args.compare)?;
        super::compare::choose_counter(ctx, &args.compare)?;
    }
    Ok(())
}
