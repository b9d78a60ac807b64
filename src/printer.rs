//! All terminal output goes through the [`Printer`].
//!
//! Results (a comparison table, the doctor's report, a dry run's commands) go to
//! standard output so they can be piped; progress, status lines and warnings go to
//! standard error. Progress bars are drawn only on a terminal and never with
//! `--quiet`; status lines are printed *around* the bars (`suspend`) so the two
//! never garble each other.
//!
//! A long step with a known number of steps (compare's rounds) reports through a
//! [`Progress`], which fits where standard error goes: a bar on a terminal, and in
//! a CI log, where a bar is not drawn, a plain status line now and then
//! ([`PLAIN_EVERY`]), so a log never sits silent for minutes.

use std::cell::Cell;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

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
    /// Standard error is a terminal: progress is drawn as bars, not printed as lines.
    tty: bool,
    multi: MultiProgress,
}

/// The least time between two plain progress lines.
pub const PLAIN_EVERY: Duration = Duration::from_secs(10);

impl Printer {
    /// `color` as resolved (`options::color`: `NO_COLOR` makes `auto` `never`);
    /// `auto` leaves the choice to the terminal.
    pub fn new(quiet: bool, verbose: bool, color: ColorChoice) -> Self {
        let enabled = match color {
            ColorChoice::Always => Some(true),
            ColorChoice::Never => Some(false),
            ColorChoice::Auto => None,
        };
        if let Some(on) = enabled {
            console::set_colors_enabled(on);
            console::set_colors_enabled_stderr(on);
        }
        let target = if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        Printer { quiet, verbose, tty: std::io::stderr().is_terminal(), multi: MultiProgress::with_draw_target(target) }
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

    /// Progress over `len` steps, shown as `stage`: see [`Progress`].
    pub fn progress(&self, stage: &str, len: u64) -> Progress<'_> {
        let bar = self.bar(len, "");
        bar.set_prefix(stage.to_string());
        Progress { printer: self, bar, stage: stage.to_string(), plain: !self.tty, last: Cell::new(None) }
    }
}

/// Progress of a long step: a bar on a terminal; elsewhere (a CI log) a status
/// line per [`Progress::update`], at most one every [`PLAIN_EVERY`]; nothing with
/// `--quiet`.
#[derive(Debug)]
pub struct Progress<'p> {
    printer: &'p Printer,
    bar: ProgressBar,
    stage: String,
    /// Print plain lines (standard error is not a terminal).
    plain: bool,
    /// When the last plain line was printed.
    last: Cell<Option<Instant>>,
}

impl Progress<'_> {
    /// The bar, for a finer message between updates (hidden off a terminal).
    pub fn bar(&self) -> &ProgressBar {
        &self.bar
    }

    /// Step `pos` of `len` done: moves the bar, or prints `message` as a status
    /// line unless one was printed less than [`PLAIN_EVERY`] ago.
    pub fn update(&self, pos: u64, len: u64, message: impl Into<String>) {
        let message = message.into();
        self.bar.set_length(len);
        self.bar.set_position(pos);
        if self.plain && self.last.get().is_none_or(|t| t.elapsed() >= PLAIN_EVERY) {
            self.last.set(Some(Instant::now()));
            self.printer.status(&self.stage, &message);
        }
        self.bar.set_message(message);
    }

    /// Takes the bar away.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
