//! Running one workload: the environment contract, the scratch directory, the log,
//! the timeout, and the error a failed run becomes.
//!
//! The contract (docs/workloads.md): working directory the project root;
//! `PGO_BUILD_BIN` the binary under test (the first selected binary),
//! `PGO_BUILD_BIN_<NAME>` one per binary, `PGO_BUILD_STAGE` the stage,
//! `PGO_BUILD_WORKLOAD` its name, `PGO_BUILD_WORKDIR` an empty scratch directory,
//! plus the workload's own `env`. A script gets `args` as its arguments; a command
//! line runs as `sh -c LINE NAME ARGS…`, so `$0` is the workload's name and `args`
//! are "$@" ($1, $2, …), for the line to place itself.

pub mod collect;
pub mod metrics;
pub mod placeholder;
pub mod serve;
pub mod wrapper;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cargo::Binary;
use crate::config::{Run, Workload};
use crate::context::Ctx;
use crate::process::{Cmd, Finished, TAIL_LINES, tail_of_file};

/// Where a workload runs: what it sees as `PGO_BUILD_STAGE`, and where its log goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Collecting the PGO profile (`train`).
    Train,
    /// Profiling the benchmark workloads for `overlap`.
    Overlap,
    /// Collecting BOLT's profile (`bolt`).
    BoltTrain,
    /// Checking a BOLT binary against the one it was made from (`bolt-verify`).
    BoltVerify,
    /// Measuring (`bench`).
    Bench,
    /// Counting instructions and the rest under a counter (`count`): `compare --counts`.
    Count,
    /// One run against a plain build, to see that the workload works (`pgo-build try`).
    Try,
}

impl Phase {
    /// The value of `PGO_BUILD_STAGE`, and the name of the logs folder.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Train => "train",
            Phase::Overlap => "overlap",
            Phase::BoltTrain => "bolt",
            Phase::BoltVerify => "bolt-verify",
            Phase::Bench => "bench",
            Phase::Count => "count",
            Phase::Try => "try",
        }
    }

    /// What the workload was doing, for "workload `x` failed during …".
    pub fn doing(self) -> &'static str {
        match self {
            Phase::Train => "training",
            Phase::Overlap => "overlap profiling",
            Phase::BoltTrain => "BOLT training",
            Phase::BoltVerify => "BOLT's check",
            Phase::Bench => "benchmarking",
            Phase::Count => "counting",
            Phase::Try => "a trial run",
        }
    }
}

/// The environment variable naming one binary: `PGO_BUILD_BIN_MY_TOOL` for `my-tool`.
pub fn bin_var(name: &str) -> String {
    let upper: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("PGO_BUILD_BIN_{upper}")
}

/// The command that runs `w` against `binaries` in `stage`, with `extra` variables.
pub fn command(ctx: &Ctx, w: &Workload, phase: Phase, binaries: &[Binary], extra: &[(String, String)]) -> Result<Cmd> {
    let mut cmd = match &w.run {
        Run::Script(path) => {
            let full = ctx.project.dir.join(path);
            if !is_executable(&full) {
                bail!(
                    "the script of workload `{}` ({}) is not executable; run `chmod +x {}`",
                    w.name,
                    full.display(),
                    full.display()
                );
            }
            Cmd::new(full).args(&w.args)
        }
        // `sh -c LINE NAME ARGS…`: `$0` is the workload's name and `args` are the
        // positional parameters ("$@", $1, …), which the line places itself. Pasting
        // them after the line broke any line that does not end in a simple command
        // (`…; done "$@"` is a syntax error).
        Run::Shell(line) => Cmd::new("sh").arg("-c").arg(line).arg(&w.name).args(&w.args),
    };
    // A target this machine runs only under an emulator: the workload runs
    // wrappers that start each binary under it.
    let emulated;
    let binaries = match ctx.runner() {
        Some(r) if !ctx.dry_run => {
            let parent = binaries.first().and_then(|b| b.path.parent()).unwrap_or(&ctx.layout.root);
            let why = format!("runs this {} binary under its emulator", ctx.target.triple);
            emulated = wrapper::wrap(binaries, &ctx.layout.emulated(parent), &why, |b| wrapper::under(&r.words, b))?;
            &emulated[..]
        }
        _ => binaries,
    };
    let main = binaries.first().context("no binary to run the workload against")?;
    cmd = cmd
        .dir(&ctx.project.dir)
        .env("PGO_BUILD_BIN", &main.path)
        .env("PGO_BUILD_STAGE", phase.name())
        .env("PGO_BUILD_WORKLOAD", &w.name)
        .env("PGO_BUILD_WORKDIR", ctx.layout.workdir(&w.name))
        .env("PGO_BUILD_METRICS", metrics::path(ctx, w));
    for b in binaries {
        cmd = cmd.env(bin_var(&b.name), &b.path);
    }
    if w.serve.is_some() {
        let port = serve::free_port().context("could not find a free loopback port for the workload's server")?;
        cmd = cmd.env("PGO_BUILD_PORT", port.to_string()).env("PGO_BUILD_ADDR", format!("127.0.0.1:{port}"));
    }
    for (k, v) in w.env.iter().chain(extra.iter().map(|(k, v)| (k, v))) {
        cmd = cmd.env(k, v);
    }
    Ok(cmd)
}

/// Runs `w` once with a fresh scratch directory; its output goes to `log`.
pub fn run(ctx: &Ctx, w: &Workload, cmd: &Cmd, log: &Path) -> Result<Finished> {
    run_split(ctx, w, cmd, log, None)
}

/// As [`run`], with standard error in `stderr_log` when given.
pub fn run_split(ctx: &Ctx, w: &Workload, cmd: &Cmd, log: &Path, stderr_log: Option<&Path>) -> Result<Finished> {
    let workdir = ctx.layout.workdir(&w.name);
    if workdir.exists() {
        std::fs::remove_dir_all(&workdir).with_context(|| format!("could not empty {}", workdir.display()))?;
    }
    std::fs::create_dir_all(&workdir).with_context(|| format!("could not create {}", workdir.display()))?;
    // A fresh metrics file: the figures read after the run are this run's.
    let figures = metrics::path(ctx, w);
    if let Some(dir) = figures.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    }
    let _ = std::fs::remove_file(&figures);
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    ctx.printer.command(cmd);
    match &w.serve {
        Some(s) => serve::run(w, s, cmd, log, stderr_log),
        None => cmd.run_logged(log, stderr_log, Some(w.timeout)),
    }
}

/// The error for a workload run that did not succeed.
pub fn failed(w: &Workload, stage: &str, finished: &Finished, log: &Path) -> anyhow::Error {
    let tail = tail_of_file(log, TAIL_LINES);
    let output = if tail.trim().is_empty() {
        "It printed nothing.".to_string()
    } else {
        format!("--- last lines of its output (full log: {}) ---\n{}", log.display(), tail.trim_end())
    };
    let when = match finished.outcome {
        crate::process::Outcome::TimedOut(_) => String::new(),
        _ => format!(" after {}", crate::util::human_duration(finished.elapsed)),
    };
    anyhow::anyhow!("workload `{}` failed during {stage}: {}{when}.\n{output}", w.name, finished.outcome)
}

/// Where a phase keeps the log of one workload.
pub fn log_path(ctx: &Ctx, phase: Phase, w: &Workload) -> PathBuf {
    ctx.layout.logs(phase.name()).join(format!("{}.log", w.name))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn bin_vars_are_shell_safe() {
        assert_eq!(super::bin_var("my-tool.v2"), "PGO_BUILD_BIN_MY_TOOL_V2");
    }
}
