//! All terminal output goes through the [`Printer`].
//!
//! Results (a comparison table, the doctor's report, a dry run's commands) go to
//! standard output so they can be piped; progress, status lines and warnings go to
//! standard error. Progress bars are drawn only on a terminal and never with
//! `--quiet`; status lines are printed *around* the bars (`suspend`) so the two
//! never garble each other.

use std::time::Duration;

use console::style;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::process::Cmd;

/// `--color` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug)]
pub struct Printer {
    quiet: bool,
    verbose: bool,
    multi: MultiProgress,
}

impl Printer {
    pub fn new(quiet: bool, verbose: bool, color: ColorChoice) -> Self {
        let enabled = match color {
            ColorChoice::Always => Some(true),
            ColorChoice::Never => Some(false),
            ColorChoice::Auto if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => Some(false),
            ColorChoice::Auto => None,
        };
        if let Some(on) = enabled {
            console::set_colors_enabled(on);
            console::set_colors_enabled_stderr(on);
        }
        let target = if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        Printer { quiet, verbose, multi: MultiProgress::with_draw_target(target) }
    }

    fn err_line(&self, line: String) {
        self.multi.suspend(|| eprintln!("{line}"));
    }

    /// A cargo-style status line: `  instrument building pgo-demo`.
    pub fn status(&self, stage: &str, message: impl AsRef<str>) {
        if !self.quiet {
            self.err_line(format!("{:>12} {}", style(stage).green().bold(), message.as_ref()));
        }
    }

    /// A secondary detail, shown unless quiet.
    pub fn note(&self, message: impl AsRef<str>) {
        if !self.quiet {
            self.err_line(format!("{:>12} {}", "", style(message.as_ref()).dim()));
        }
    }

    /// A warning: always shown, even with `--quiet`.
    pub fn warn(&self, message: impl AsRef<str>) {
        self.err_line(format!("{} {}", style("warning:").yellow().bold(), message.as_ref()));
    }

    /// Shows a command about to run, with `-v`.
    pub fn command(&self, cmd: &Cmd) {
        if self.verbose {
            self.err_line(format!("{:>12} {}", style("running").cyan(), cmd.display()));
        }
    }

    /// Shows a command a dry run would have run (to standard output: it is the result).
    #[allow(clippy::print_stdout)]
    pub fn would_run(&self, cmd: &Cmd) {
        self.multi.suspend(|| println!("{}", cmd.display()));
    }

    /// Prints a result to standard output.
    #[allow(clippy::print_stdout)]
    pub fn out(&self, text: impl AsRef<str>) {
        // A reader that went away (`pgo-build status | head -1`) is not an error
        // of the stage; results are also in files.
        self.multi.suspend(|| {
            use std::io::Write;
            let _ = writeln!(std::io::stdout().lock(), "{}", text.as_ref());
        });
    }

    /// A spinner for a stage of unknown length (a cargo build).
    pub fn spinner(&self, message: impl Into<String>) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner:.green} {prefix:>10.bold} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// A bar over a known number of steps (workloads, runs).
    pub fn bar(&self, len: u64, message: impl Into<String>) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(len));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12.bold} [{bar:30.green/dim}] {pos}/{len} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(250));
        bar
    }
}
