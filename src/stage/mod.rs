//! One module per stage of the pipeline, in the order they run.

pub mod all;
pub mod bolt;
pub mod compare;
pub mod doctor;
pub mod instrument;
pub mod merge;
pub mod optimize;
pub mod profiles;
pub mod train;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::context::Ctx;
use crate::printer::Printer;

/// Runs the command line's stage and returns the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    let g = &cli.global;
    let printer = Printer::new(g.quiet, g.verbose, g.color);
    match &cli.command {
        Command::Doctor => return doctor::run(g, &printer),
        Command::Profiles(args) => return profiles::run(g, &printer, args).map(|()| 0),
        _ => {}
    }
    let ctx = Ctx::new(g, printer, matches!(cli.command, Command::Bolt(_)))?;
    match &cli.command {
        Command::Doctor | Command::Profiles(_) => unreachable!("handled above"),
        Command::Instrument => instrument::run(&ctx).map(|()| 0),
        Command::Train => train::run(&ctx).map(|()| 0),
        Command::Merge => merge::run(&ctx).map(|()| 0),
        Command::Optimize(args) => {
            args.bolt.require_bolt_mode(ctx.bolt)?;
            optimize::run(&ctx, args)?;
            // `optimize --bolt` (or `bolt = true`) continues into BOLT.
            if ctx.bolt {
                bolt::run(&ctx, &args.bolt, &compare::MeasureArgs::default(), false)?;
            }
            Ok(0)
        }
        Command::Bolt(args) => bolt::run(&ctx, &args.bolt, &args.measure, args.no_pgo).map(|()| 0),
        Command::Compare(args) => compare::run(&ctx, args),
        Command::All(args) => all::run(&ctx, args),
    }
}
