//! `pgo-build train`: run every training workload against the instrumented binaries.
//!
//! Each workload writes its raw profiles into a directory of its own, through
//! `LLVM_PROFILE_FILE=<dir>/%m_%p.profraw`: `%p` gives every process its own file,
//! so workloads that start the binary many times, or in parallel, never overwrite
//! or interleave each other's data; `%m` keeps different binaries apart.
//!
//! The new profile sets are collected beside the old ones and swapped in only when
//! every workload has succeeded: a failed or interrupted run leaves the previous
//! good profiles (and their record) as they were, and the failed workload's
//! profile is never merged.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::build::Binary;
use crate::config::{Use, Workload};
use crate::context::Ctx;
use crate::state::{State, TrainRecord, WorkloadRecord, now, workload_definition};
use crate::util::{human_duration, human_size};
use crate::workload;

pub fn run(ctx: &Ctx) -> Result<()> {
    let workloads: Vec<&Workload> = ctx.config.workloads_for(Use::Train).collect();
    if workloads.is_empty() {
        bail!(
            "there are no training workloads: add `[[workload]]` tables with `use = [\"train\"]` to {}, \
             or executable scripts to {} (see docs/workloads.md)",
            ctx.config.path.clone().unwrap_or_else(|| ctx.project.dir.join("pgo-build.toml")).display(),
            ctx.project.dir.join("workloads/train").display()
        );
    }
    let state = State::load(&ctx.layout.state_file())?;
    if ctx.dry_run {
        let binaries = match &state.instrument {
            Some(rec) => rec.binaries.iter().map(|b| b.binary()).collect(),
            None => placeholder_binaries(ctx),
        };
        for w in &workloads {
            let staging = staging_dir(ctx, w);
            let cmd = workload::command(ctx, w, "train", &binaries, &profile_env(&staging))?;
            ctx.printer.would_run(&cmd);
        }
        return Ok(());
    }
    let instrument = state.require_instrument(ctx)?;
    let instrument_id = instrument.id();
    let binaries: Vec<Binary> = instrument.binaries.iter().map(|b| b.binary()).collect();

    ctx.printer
        .status("train", format!("running {} training workload(s) against the instrumented build", workloads.len()));
    let bar = ctx.printer.bar(workloads.len() as u64, "");
    bar.set_prefix("train");
    let start = Instant::now();
    let mut done: Vec<(WorkloadRecord, PathBuf)> = Vec::new();
    let result = (|| -> Result<()> {
        for w in &workloads {
            bar.set_message(w.name.clone());
            let staging = staging_dir(ctx, w);
            reset_dir(&staging)?;
            let cmd = workload::command(ctx, w, "train", &binaries, &profile_env(&staging))?;
            let log = workload::log_path(ctx, "train", w);
            let finished = workload::run(ctx, w, &cmd, &log)?;
            if !finished.outcome.success() {
                return Err(workload::failed(w, "training", &finished, &log));
            }
            let (files, bytes) = raw_profiles(&staging)?;
            if files == 0 {
                bail!(no_profile_message(w, &log));
            }
            ctx.printer.status(
                "train",
                format!(
                    "{}: {files} raw profile(s), {} in {}",
                    w.name,
                    human_size(bytes),
                    human_duration(finished.elapsed)
                ),
            );
            let record = WorkloadRecord {
                name: w.name.clone(),
                definition: workload_definition(w),
                raw_dir: final_dir(ctx, w),
                raw_files: files,
                raw_bytes: bytes,
                elapsed_s: finished.elapsed.as_secs_f64(),
            };
            done.push((record, staging));
            bar.inc(1);
        }
        Ok(())
    })();
    bar.finish_and_clear();
    if let Err(e) = result {
        for w in &workloads {
            let _ = std::fs::remove_dir_all(staging_dir(ctx, w));
        }
        return Err(e.context("training stopped; the previous profiles (if any) are kept"));
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
    let elapsed = start.elapsed();
    let mut state = state;
    state.train = Some(TrainRecord {
        instrument_id,
        workloads: done.into_iter().map(|(r, _)| r).collect(),
        elapsed_s: elapsed.as_secs_f64(),
        finished_at: now(),
    });
    state.merge = None;
    state.optimize = None;
    state.bolt = None;
    state.save(&ctx.layout.state_file())?;
    ctx.printer.status("train", format!("done in {}; next: `pgo-build merge`", human_duration(elapsed)));
    Ok(())
}

fn profile_env(dir: &Path) -> Vec<(String, String)> {
    vec![("LLVM_PROFILE_FILE".to_string(), dir.join("%m_%p.profraw").display().to_string())]
}

fn staging_dir(ctx: &Ctx, w: &Workload) -> PathBuf {
    ctx.layout.raw_root().join(format!(".{}.partial", w.name))
}

fn final_dir(ctx: &Ctx, w: &Workload) -> PathBuf {
    ctx.layout.raw_root().join(&w.name)
}

fn reset_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("could not empty {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))
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
