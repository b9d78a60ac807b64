//! The commands: `run` dispatches the command line to a pipeline stage (in
//! `stage`), or to one of the commands here that only look at the project or
//! help with it (doctor, status, show, profiles, try).

pub mod doctor;
pub mod profiles;
pub mod show;
pub mod status;
pub mod try_run;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::context::Ctx;
use crate::pipeline;
use crate::printer::Printer;
use crate::stage::{all, bolt, check, compare, instrument, matrix, merge, optimize, overlap, train};

/// Runs the command line's stage and returns the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    crate::stage::register();
    let env = |name: &str| std::env::var_os(name);
    let g = &cli.global;
    let color = crate::options::color(g.color, &env);
    let printer = Printer::new(g.quiet, g.verbose, color);
    match &cli.command {
        Command::Doctor => return doctor::run(&cli, &env, &printer),
        Command::Init => return crate::init::run(g, &printer).map(|()| 0),
        Command::Profiles(args) => return profiles::run(g, &printer, args).map(|()| 0),
        _ => {}
    }
    if let Command::Status = cli.command {
        // `status` always exits 0: a broken config is something it reports.
        return match Ctx::new(&cli, Printer::new(g.quiet, g.verbose, color), &env) {
            Ok(ctx) => status::run(&ctx),
            Err(e) => {
                printer.out(format!("pgo-build cannot read this project: {e:#}"));
                Ok(0)
            }
        };
    }
    let ctx = Ctx::new(&cli, printer, &env)?;
    // `show` only reads; every other command reads and writes the pipeline's
    // files: one run at a time.
    let writes = !matches!(cli.command, Command::Show(_));
    let _lock = if ctx.dry_run || !writes { None } else { Some(crate::lock::acquire(&ctx.layout.root, &ctx.printer)?) };
    match &cli.command {
        Command::Doctor | Command::Init | Command::Profiles(_) | Command::Status => unreachable!("handled above"),
        Command::Instrument => pipeline::run::<instrument::Instrument>(&ctx, &()).map(|_| 0),
        Command::Train(args) => pipeline::run::<train::Train>(&ctx, &args.options()).map(|_| 0),
        Command::Merge(args) => merge::command(&ctx, args).map(|()| 0),
        Command::Optimize(args) => optimize::command(&ctx, args),
        Command::Bolt(args) => bolt::command(&ctx, args).map(|()| 0),
        Command::Compare(args) => compare::run(&ctx, args, false).map(|c| c.code),
        Command::All(args) => match matrix::targets(&cli, &ctx, args)? {
            targets if targets.is_empty() => all::run(&ctx, args),
            targets => matrix::run(&cli, &env, &ctx, args, &targets),
        },
        Command::Check(args) => check::run(&ctx, args),
        Command::Show(args) => show::run(&ctx, args),
        Command::Overlap(args) => overlap::run(&ctx, args),
        Command::Try(args) => try_run::run(&ctx, args),
    }
}
