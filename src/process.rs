//! The one door for external programs.
//!
//! Every program pgo-build starts — cargo, rustc, rustup, llvm-profdata, workload
//! scripts — is described by a [`Cmd`] and run from here, through `duct`. That gives
//! one place that shows a command shell-quoted (for `-v` and `--dry-run`), that kills a
//! whole process group on timeout or Ctrl-C (a workload script's children included),
//! and that turns a failure into an error naming the command, its exit status or
//! signal, and the tail of its output (cut to a readable size: [`tail`]). Processes
//! left running by a workload are found and ended by [`instances`].

mod background;
mod instances;
mod tail;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
pub use instances::{running_instances, stop_until_gone, with_env};
pub use tail::{TAIL_LINES, last_lines, tail_of_file};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler: running workloads are killed (whole process groups)
/// and the stage stops without recording a partial result.
pub fn install_interrupt_handler() {
    // A second installation (in tests) fails harmlessly.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
}

/// True once the user pressed Ctrl-C.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Fails once the user pressed Ctrl-C, so a pipeline stops between stages.
pub fn check_interrupted() -> anyhow::Result<()> {
    if interrupted() {
        anyhow::bail!("interrupted (Ctrl-C or a termination signal); finished stages keep their results");
    }
    Ok(())
}

/// An external command: program, arguments, environment changes and directory.
#[derive(Debug, Clone)]
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    dir: Option<PathBuf>,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Signalled(i32),
    TimedOut(Duration),
    Interrupted,
    /// Ended by pgo-build because something it depends on failed (a workload's
    /// client, when its server died).
    Abandoned,
}

impl Outcome {
    pub(crate) fn from_status(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Outcome::Exited(code),
            (None, Some(signal)) => Outcome::Signalled(signal),
            (None, None) => Outcome::Exited(-1),
        }
    }

    pub fn success(self) -> bool {
        self == Outcome::Exited(0)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Outcome::Exited(code) => write!(f, "exit status {code}"),
            Outcome::Signalled(signal) => match nix::sys::signal::Signal::try_from(signal) {
                Ok(name) => write!(f, "killed by signal {signal} ({name})"),
                Err(_) => write!(f, "killed by signal {signal}"),
            },
            Outcome::TimedOut(limit) => {
                write!(f, "timed out after {}", crate::util::human_duration(limit))
            }
            Outcome::Interrupted => write!(f, "interrupted (Ctrl-C or a termination signal)"),
            Outcome::Abandoned => write!(f, "stopped by pgo-build"),
        }
    }
}

/// A command that did not succeed: what ran, how it ended, and the end of its output.
#[derive(Debug, thiserror::Error)]
#[error("`{command}` failed: {outcome}{}", format_tail(.tail))]
pub struct ProcessError {
    pub command: String,
    pub outcome: Outcome,
    pub tail: String,
}

fn format_tail(tail: &str) -> String {
    if tail.trim().is_empty() {
        " (it printed nothing)".to_string()
    } else {
        format!("\n--- last lines of its output ---\n{}", tail.trim_end())
    }
}

/// A command that finished, successfully or not, with its output in a log file.
#[derive(Debug)]
pub struct Finished {
    pub outcome: Outcome,
    pub elapsed: Duration,
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Cmd { program: program.as_ref().to_owned(), args: Vec::new(), env: Vec::new(), dir: None }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env.push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.env.push((key.as_ref().to_owned(), None));
        self
    }

    /// This command run under `program args… --` (e.g. `perf record … --`),
    /// keeping its environment and directory.
    pub fn wrapped_by<I, S>(self, program: impl AsRef<OsStr>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut wrapped = Cmd::new(program).args(args).arg("--").arg(&self.program).args(&self.args);
        wrapped.env = self.env;
        wrapped.dir = self.dir;
        wrapped
    }

    /// The value this command sets for `key`, if it sets one.
    pub fn env_value(&self, key: &str) -> Option<String> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_ref())
            .map(|v| v.to_string_lossy().into_owned())
    }

    /// Another command with this one's environment and directory (a workload's
    /// server, started beside its client).
    pub fn sibling<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut other = Cmd::new(program).args(args);
        other.env = self.env.clone();
        other.dir = self.dir.clone();
        other
    }

    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// The command as a user could paste it into a shell: environment changes first,
    /// then the program and its arguments, each quoted where needed.
    pub fn display(&self) -> String {
        let mut words = Vec::new();
        if let Some(dir) = &self.dir {
            words.push(format!("cd {} &&", quote(dir.as_os_str())));
        }
        let unsets: Vec<String> =
            self.env.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| format!("-u {}", k.to_string_lossy())).collect();
        if !unsets.is_empty() {
            words.push("env".to_string());
            words.extend(unsets);
        }
        for (key, value) in &self.env {
            if let Some(v) = value {
                words.push(format!("{}={}", key.to_string_lossy(), quote(v)));
            }
        }
        words.push(quote(&self.program));
        words.extend(self.args.iter().map(|a| quote(a)));
        words.join(" ")
    }

    pub(crate) fn expression(&self) -> duct::Expression {
        let mut expr = duct::cmd(&self.program, &self.args);
        for (key, value) in &self.env {
            expr = match value {
                Some(v) => expr.env(key, v),
                None => expr.env_remove(key),
            };
        }
        if let Some(dir) = &self.dir {
            expr = expr.dir(dir);
        }
        expr
    }

    /// Starts `expr` (this command, redirected) in a process group of its own,
    /// so a timeout, Ctrl-C or a stop reaches every process it starts.
    pub(crate) fn start_in_group(&self, expr: duct::Expression) -> Result<duct::Handle> {
        expr.unchecked()
            .before_spawn(|command| {
                command.process_group(0);
                Ok(())
            })
            .start()
            .map_err(|e| self.spawn_error(e))
    }

    pub(crate) fn spawn_error(&self, err: std::io::Error) -> anyhow::Error {
        if err.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!(
                "could not run `{}`: program not found (is it installed and on PATH?)",
                self.program.to_string_lossy()
            )
        } else {
            anyhow::Error::new(err).context(format!("could not run `{}`", self.display()))
        }
    }

    /// Runs the command, capturing its output; fails unless it exits 0.
    /// Returns standard output.
    pub fn read(&self) -> Result<String> {
        let captured = self.capture()?;
        if !captured.outcome.success() {
            let tail = if captured.stderr.trim().is_empty() { &captured.stdout } else { &captured.stderr };
            return Err(ProcessError {
                command: self.display(),
                outcome: captured.outcome,
                tail: last_lines(tail, TAIL_LINES),
            }
            .into());
        }
        Ok(captured.stdout)
    }

    /// Runs the command, capturing standard output and error, whatever its exit status.
    pub fn capture(&self) -> Result<Captured> {
        let output = self
            .expression()
            .stdin_null()
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .map_err(|e| self.spawn_error(e))?;
        Ok(Captured {
            outcome: Outcome::from_status(output.status),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Runs the command in a process group of its own, its standard output and error
    /// going to `log`. When `timeout` passes, or on Ctrl-C, the whole group is killed.
    /// Standard error goes to `stderr_log` when given (so standard output can be
    /// compared on its own), else to `log` too.
    pub fn run_logged(&self, log: &Path, stderr_log: Option<&Path>, timeout: Option<Duration>) -> Result<Finished> {
        self.run_logged_until(log, stderr_log, timeout, || false)
    }

    /// As [`Cmd::run_logged`], also asking `abandon` every few milliseconds whether
    /// to go on: when it says true, the whole group is killed and the outcome is
    /// [`Outcome::Abandoned`] (a client whose server died is not waited for).
    pub fn run_logged_until(
        &self,
        log: &Path,
        stderr_log: Option<&Path>,
        timeout: Option<Duration>,
        mut abandon: impl FnMut() -> bool,
    ) -> Result<Finished> {
        let create = |p: &Path| File::create(p).with_context(|| format!("could not create log file {}", p.display()));
        let log_file = create(log)?;
        let start = Instant::now();
        let expr = self.expression().stdin_null();
        let expr = match stderr_log {
            Some(err) => expr.stderr_file(create(err)?).stdout_file(log_file),
            // duct applies the outer redirection first: stdout to the log, then
            // stderr to that same stdout.
            None => expr.stderr_to_stdout().stdout_file(log_file),
        };
        let handle = self.start_in_group(expr)?;
        let deadline = timeout.map(|t| start + t);
        let poll = Duration::from_millis(20);
        loop {
            if let Some(output) = handle.wait_timeout(poll)? {
                return Ok(Finished { outcome: Outcome::from_status(output.status), elapsed: start.elapsed() });
            }
            let timed_out = deadline.is_some_and(|d| Instant::now() >= d);
            let abandoned = !timed_out && !interrupted() && abandon();
            if timed_out || abandoned || interrupted() {
                kill_groups(&handle.pids());
                handle.wait()?;
                let outcome = match timeout {
                    Some(limit) if timed_out => Outcome::TimedOut(limit),
                    _ if abandoned => Outcome::Abandoned,
                    _ => Outcome::Interrupted,
                };
                return Ok(Finished { outcome, elapsed: start.elapsed() });
            }
        }
    }

    /// Runs the command, handing each line of standard output to `on_line` as it
    /// arrives, with standard error going to `stderr_log`. Returns how it ended.
    pub fn stream(&self, stderr_log: &Path, mut on_line: impl FnMut(&str)) -> Result<Outcome> {
        let reader = self
            .expression()
            .stdin_null()
            .stderr_path(stderr_log)
            .unchecked()
            .reader()
            .map_err(|e| self.spawn_error(e))?;
        let mut lines = BufReader::new(&reader);
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line)? == 0 {
                break;
            }
            on_line(line.trim_end_matches(['\r', '\n']));
        }
        let output = reader.try_wait()?.context("process output ended but the process did not")?;
        Ok(Outcome::from_status(output.status))
    }
}

/// A finished command's captured output.
#[derive(Debug)]
pub struct Captured {
    pub outcome: Outcome,
    pub stdout: String,
    pub stderr: String,
}

fn kill_groups(pids: &[u32]) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    for &pid in pids {
        let Ok(raw) = i32::try_from(pid) else { continue };
        // The group may already be gone; nothing to do then.
        let _ = killpg(Pid::from_raw(raw), Signal::SIGKILL);
    }
}

/// Quotes a word for a POSIX shell, leaving plain words as they are.
pub fn quote(word: &OsStr) -> String {
    let text = word.to_string_lossy();
    if text.contains('\x1f') {
        // CARGO_ENCODED_RUSTFLAGS separates flags with 0x1f: bash's $'…' keeps it pasteable.
        let escaped = text.replace('\\', "\\\\").replace('\'', "\\'").replace('\x1f', "\\x1f");
        return format!("$'{escaped}'");
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        return text.into_owned();
    }
    shlex::try_quote(&text).map_or_else(|_| format!("{text:?}"), |q| q.into_owned())
}

#[cfg(test)]
mod tests;
