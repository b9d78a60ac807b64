//! One module per stage of the pipeline, in the order they run.

pub mod all;
pub mod bolt;
pub mod check;
pub mod compare;
pub mod doctor;
pub mod instrument;
pub mod merge;
pub mod optimize;
pub mod overlap;
pub mod profiles;
pub mod show;
pub mod status;
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
    if let Command::Status = cli.command {
        return status::run(&ctx);
    }
    // Every stage below reads or writes the pipeline's files; one run at a time.
    let _lock = if ctx.dry_run { None } else { Some(crate::lock::acquire(&ctx.layout.root, &ctx.printer)?) };
    match &cli.command {
        Command::Doctor | Command::Profiles(_) | Command::Status => unreachable!("handled above"),
        Command::Instrument => instrument::run(&ctx).map(|()| 0),
        Command::Train(args) => train::run(&ctx, args).map(|()| 0),
        Command::Merge(args) => merge::run(&ctx, args).map(|()| 0),
        Command::Optimize(args) => {
            args.bolt.require_bolt_mode(ctx.bolt)?;
            optimize::run(&ctx, args)?;
            // `optimize --bolt` (or `bolt = true`) continues into BOLT.
            if ctx.bolt {
                bolt::run(&ctx, &args.bolt, &crate::measure::MeasureArgs::default(), false)?;
            }
            Ok(0)
        }
        Command::Bolt(args) => bolt::run(&ctx, &args.bolt, &args.measure, args.no_pgo).map(|()| 0),
        Command::Compare(args) => compare::run(&ctx, args, false).map(|c| c.code),
        Command::All(args) => all::run(&ctx, args),
        Command::Check(args) => check::run(&ctx, args),
        Command::Show(args) => show::run(&ctx, args),
        Command::Overlap(args) => overlap::run(&ctx, args),
    }
}
