//! Collecting raw profiles: running workloads against instrumented binaries, each
//! workload writing into a folder of its own. Used by `train` (the training
//! profiles) and `overlap` (the benchmark workloads' profiles).
//!
//! Each workload writes through `LLVM_PROFILE_FILE=<dir>/%4m.profraw`: LLVM's
//! online merging, where every process adds its counts into one of four files
//! per binary (under a file lock), so a workload that runs the binary thousands
//! of times leaves four files, not thousands (measured: 500 runs of ripgrep, 4 MB
//! instead of 487 MB; the same counts). It works in continuous mode too (`%c`),
//! where the counters are updated in the shared file as the process runs.
//!
//! A pool cannot give back one process's counts, so when a workload leaves
//! processes behind (below), its pool is dropped and the workload runs again with
//! one file per process (`%m_%p.profraw`), whose files name their pids.
//!
//! Every run stages its sets in a folder of its own (`.run-<pid>-<time>`), and
//! swaps them in only when every workload has succeeded: a failed or interrupted
//! run leaves the previous sets as they were, and a process left over from an
//! earlier run (a workload's background child, or a run whose pgo-build was
//! killed) can only ever write into that earlier run's folder, never into a set
//! that gets merged. When a workload ends while processes it started (found by
//! their environment) or of the binary under test are still running, they are
//! named, stopped, and the profiles they wrote are dropped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::cargo::Binary;
use crate::config::Workload;
use crate::context::Ctx;
use crate::pipeline::fingerprint::definition;
use crate::state::WorkloadRecord;
use crate::util::{human_duration, human_size, plural};
use crate::workload::{self, Phase};

/// How long leftover processes get to exit after SIGTERM.
const LEFTOVER_GRACE: Duration = Duration::from_secs(2);
/// How many times leftovers are looked for again after stopping the ones found.
const LEFTOVER_ROUNDS: usize = 5;

/// Runs `workloads` against instrumented `binaries`, each writing its raw
/// profiles into `<root>/<workload>/` (see the module documentation).
pub fn collect(
    ctx: &Ctx,
    workloads: &[&Workload],
    binaries: &[Binary],
    phase: Phase,
    root: &Path,
) -> Result<Vec<WorkloadRecord>> {
    remove_old_runs(root)?;
    let run_dir = root.join(format!(".run-{}-{}", std::process::id(), crate::state::now()));
    let bar = ctx.printer.bar(workloads.len() as u64, "");
    bar.set_prefix(phase.name());
    let mut done: Vec<(WorkloadRecord, PathBuf)> = Vec::new();
    let result = (|| -> Result<()> {
        for w in workloads {
            bar.set_message(w.name.clone());
            let staging = run_dir.join(&w.name);
            std::fs::create_dir_all(&staging).with_context(|| format!("could not create {}", staging.display()))?;
            let log = workload::log_path(ctx, phase, w);
            let env = profile_env(&staging, ctx.config.continuous_profiles(), Files::Pooled);
            let cmd = workload::command(ctx, w, phase, binaries, &env)?;
            let mut finished = workload::run(ctx, w, &cmd, &log)?;
            let stopped = stop_leftovers(binaries, &env);
            if !stopped.is_empty() {
                ctx.printer.warn(format!(
                    "workload `{}` ended while {} it started still ran (pid {}): a background child or an \
                     unfinished server. pgo-build stopped them and runs the workload again, with one profile per \
                     process, so that theirs are not counted; have the workload wait for every process it starts",
                    w.name,
                    plural(stopped.len(), "process", "processes"),
                    pid_list(&stopped)
                ));
                finished = run_per_process(ctx, w, phase, binaries, &staging, &log)?;
            }
            if !finished.outcome.success() {
                return Err(workload::failed(w, phase.doing(), &finished, &log));
            }
            let (files, bytes) = raw_profiles(&staging)?;
            if files == 0 {
                bail!(no_profile_message(w, &log));
            }
            ctx.printer.status(
                phase.name(),
                format!(
                    "{}: {}, {} in {}",
                    w.name,
                    plural(files, "raw profile", "raw profiles"),
                    human_size(bytes),
                    human_duration(finished.elapsed)
                ),
            );
            let record = WorkloadRecord {
                name: w.name.clone(),
                definition: definition(w),
                raw_dir: root.join(&w.name),
                raw_files: files,
                raw_bytes: bytes,
                elapsed_s: finished.elapsed.as_secs_f64(),
                weight: w.weight,
            };
            done.push((record, staging));
            bar.inc(1);
        }
        Ok(())
    })();
    bar.finish_and_clear();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&run_dir);
        return Err(e);
    }
    // Every workload succeeded: swap the new profile sets in.
    for (record, staging) in &done {
        if record.raw_dir.exists() {
            std::fs::remove_dir_all(&record.raw_dir)
                .with_context(|| format!("could not replace {}", record.raw_dir.display()))?;
        }
        std::fs::rename(staging, &record.raw_dir)
            .with_context(|| format!("could not move {} to {}", staging.display(), record.raw_dir.display()))?;
    }
    let _ = std::fs::remove_dir_all(&run_dir);
    Ok(done.into_iter().map(|(r, _)| r).collect())
}

/// Runs workload `w` again into an emptied `staging`, with one raw profile per
/// process, and drops the profiles of the processes it leaves behind this time.
fn run_per_process(
    ctx: &Ctx,
    w: &Workload,
    phase: Phase,
    binaries: &[Binary],
    staging: &Path,
    log: &Path,
) -> Result<crate::process::Finished> {
    std::fs::remove_dir_all(staging)?;
    std::fs::create_dir_all(staging)?;
    let env = profile_env(staging, ctx.config.continuous_profiles(), Files::PerProcess);
    let cmd = workload::command(ctx, w, phase, binaries, &env)?;
    let finished = workload::run(ctx, w, &cmd, log)?;
    let stopped = stop_leftovers(binaries, &env);
    if !stopped.is_empty() {
        ctx.printer.warn(format!(
            "workload `{}` left {} behind again (pid {}); their profiles are dropped",
            w.name,
            plural(stopped.len(), "process", "processes"),
            pid_list(&stopped)
        ));
        drop_profiles_of(staging, &stopped)?;
    }
    Ok(finished)
}

/// `123, 456`.
fn pid_list(pids: &[u32]) -> String {
    pids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// Stops the processes that outlived a workload — any process that carries its
/// profile destination in its environment (a background child, even one that
/// has forked and not yet started the binary), or that runs a binary under test —
/// and returns their pids. Found, stopped, looked for again: a child may start
/// another before it ends.
fn stop_leftovers(binaries: &[Binary], env: &[(String, String)]) -> Vec<u32> {
    let find = || {
        let mut pids: Vec<u32> = env.iter().flat_map(|(k, v)| crate::process::with_env(k, v)).collect();
        pids.extend(binaries.iter().flat_map(|b| crate::process::running_instances(&b.path)));
        pids.sort_unstable();
        pids.dedup();
        pids
    };
    crate::process::stop_until_gone(find, LEFTOVER_GRACE, LEFTOVER_ROUNDS)
}

/// Removes the per-process profiles (`<binary>_<pid>.profraw`) the `stopped`
/// processes wrote.
fn drop_profiles_of(staging: &Path, stopped: &[u32]) -> Result<()> {
    for path in raw_profile_paths(staging)? {
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let pid = name.rsplit('_').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| stopped.contains(&p)) {
            std::fs::remove_file(&path).with_context(|| format!("could not remove {}", path.display()))?;
        }
    }
    Ok(())
}

/// Removes the staging folders of earlier runs (a killed pgo-build leaves them).
fn remove_old_runs(root: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(root) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && (name.starts_with(".run-") || name.ends_with(".partial")) {
            std::fs::remove_dir_all(entry.path())
                .with_context(|| format!("could not remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Removes workload folders under `root` that are not among `keep`.
pub fn clear_other_sets(root: &Path, keep: &[&str]) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(root) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !name.starts_with('.') && !keep.contains(&name.as_str()) {
            std::fs::remove_dir_all(entry.path())
                .with_context(|| format!("could not remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// How the processes of a workload write their raw profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Files {
    /// Merged online into a pool of four files per binary.
    Pooled,
    /// One file per process, named after its pid.
    PerProcess,
}

/// `LLVM_PROFILE_FILE` for a workload whose profiles go to `dir`; `%c` turns on
/// continuous mode, for a binary built for it (`Config::continuous_profiles`).
pub fn profile_env(dir: &Path, continuous: bool, files: Files) -> Vec<(String, String)> {
    let pattern = match files {
        Files::Pooled => "%4m.profraw",
        Files::PerProcess => "%m_%p.profraw",
    };
    let pattern = if continuous { format!("%c{pattern}") } else { pattern.to_string() };
    vec![("LLVM_PROFILE_FILE".to_string(), dir.join(pattern).display().to_string())]
}

/// Counts the non-empty `.profraw` files under `dir` and their total size.
pub fn raw_profiles(dir: &Path) -> Result<(usize, u64)> {
    let mut files = 0;
    let mut bytes = 0;
    for path in raw_profile_paths(dir)? {
        files += 1;
        bytes += std::fs::metadata(&path)?.len();
    }
    Ok((files, bytes))
}

/// The non-empty `.profraw` files under `dir`, sorted.
pub fn raw_profile_paths(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("could not list {}", dir.display()))?;
        let is_raw = entry.path().extension().is_some_and(|e| e == "profraw");
        if entry.file_type().is_file() && is_raw && entry.metadata().is_ok_and(|m| m.len() > 0) {
            paths.push(entry.into_path());
        }
    }
    Ok(paths)
}

fn no_profile_message(w: &Workload, log: &Path) -> String {
    format!(
        "workload `{}` succeeded but no raw profile was written. Likely causes:\n\
         \x20 - it did not run the instrumented binary: it must run \"$PGO_BUILD_BIN\" (or $PGO_BUILD_BIN_<NAME>), \
         not a binary from PATH or target/release;\n\
         \x20 - the binary did not exit normally: profiles are written at exit, so a process killed by a signal, \
         or ended by abort() or a panic with panic = \"abort\", writes none;\n\
         \x20 - it changed LLVM_PROFILE_FILE, so the profile went elsewhere.\n\
         Its output is in {}",
        w.name,
        log.display()
    )
}

/// Stand-ins for the instrumented binaries in a dry run before anything was built.
pub fn placeholder_binaries(ctx: &Ctx) -> Vec<Binary> {
    ctx.settings
        .bins
        .iter()
        .map(|name| Binary { name: name.clone(), path: PathBuf::from(format!("<instrumented {name}>")) })
        .collect()
}
