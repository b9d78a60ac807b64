//! pgo-build: profile-guided optimization for Cargo projects.
//!
//! `main` only parses the command line, runs the command, prints the error chain
//! once and picks the exit code; the work is in `stage/`.

mod build;
mod cargo;
mod cli;
mod command;

mod carry;
mod config;
mod context;
mod functions;
mod init;
mod lock;
mod measure;
mod options;
mod pipeline;
mod presets;
mod printer;
mod process;
mod project;
mod report;
mod stage;
mod state;
#[cfg(test)]
mod test_tools;
mod toolchain;
mod util;
mod workload;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes, documented in docs/config.md.
pub mod exit {
    /// A stage failed, its inputs were missing or stale, or `doctor` found PGO
    /// impossible on this machine as it is.
    pub const FAILURE: u8 = 1;
    /// The user pressed Ctrl-C.
    pub const INTERRUPTED: u8 = 130;
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    process::install_interrupt_handler();
    match command::run(cli) {
        // A stage can finish a build after a SIGTERM (cargo runs on); still exit 130.
        Ok(_) if process::interrupted() => ExitCode::from(exit::INTERRUPTED),
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("{} {err:#}", console::style("error:").red().bold());
            if process::interrupted() { ExitCode::from(exit::INTERRUPTED) } else { ExitCode::from(exit::FAILURE) }
        }
    }
}
