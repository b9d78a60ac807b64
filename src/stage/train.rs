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
use clap::Args;
use serde::{Deserialize, Serialize};

use crate::cargo::Binary;
use crate::config::{Use, Workload};
use crate::context::Ctx;
use crate::state::{State, TrainRecord, WorkloadRecord, now, workload_definition};
use crate::util::{human_duration, human_size};
use crate::workload;

/// `pgo-build train`'s own arguments.
#[derive(Debug, Clone, Default, Args)]
pub struct TrainArgs {
    /// Run only shard K of N (1-based): every Nth training workload in name order,
    /// for training on several machines; `pgo-build merge --from` joins the sets.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
}

/// One Nth of the training workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The workloads of this shard: the `index`-th of every `count`, by name.
    pub fn select<'w>(&self, workloads: &[&'w Workload]) -> Vec<&'w Workload> {
        let mut sorted = workloads.to_vec();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        sorted.into_iter().enumerate().filter(|(i, _)| i % self.count == self.index - 1).map(|(_, w)| w).collect()
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let bad = || format!("{text:?} is not a shard K/N with 1 <= K <= N (e.g. 2/4)");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (index, count) = (k.trim().parse::<usize>().map_err(|_| bad())?, n.trim().parse::<usize>().map_err(|_| bad())?);
    if index == 0 || count == 0 || index > count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

pub fn run(ctx: &Ctx, args: &TrainArgs) -> Result<()> {
    let all: Vec<&Workload> = ctx.config.workloads_for(Use::Train).collect();
    if all.is_empty() {
        bail!(
            "there are no training workloads: add `[[workload]]` tables with `use = [\"train\"]` to {}, \
             or executable scripts to {} (see docs/workloads.md)",
            ctx.config.path.clone().unwrap_or_else(|| ctx.project.dir.join("pgo-build.toml")).display(),
            ctx.project.dir.join("workloads/train").display()
        );
    }
    let workloads = match args.shard {
        Some(shard) => {
            let chosen = shard.select(&all);
            if chosen.is_empty() {
                bail!("shard {shard} has no training workloads: there are only {} of them", all.len());
            }
            ctx.printer.status(
                "train",
                format!(
                    "shard {shard}: {} of {} training workloads ({})",
                    chosen.len(),
                    all.len(),
                    chosen.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            );
            chosen
        }
        None => all,
    };
    let state = State::load(&ctx.layout.state_file())?;
    if ctx.dry_run {
        let binaries = match &state.instrument {
            Some(rec) => rec.binaries.iter().map(|b| b.binary()).collect(),
            None => placeholder_binaries(ctx),
        };
        let root = ctx.layout.raw_root();
        for w in &workloads {
            let cmd = workload::command(ctx, w, "train", &binaries, &profile_env(&staging_dir(&root, w)))?;
            ctx.printer.would_run(&cmd);
        }
        return Ok(());
    }
    let instrument = state.require_instrument(ctx)?.clone();
    let instrument_id = instrument.id();
    let inputs = inputs_of(ctx, &instrument_id, args.shard, &workloads);
    if let Some(rec) = state.train.as_ref().filter(|r| !ctx.force && r.inputs == inputs)
        && (state.require_train(ctx).is_ok() || args.shard.is_some())
    {
        crate::cache::skipped(ctx, "train", rec.finished_at);
        return Ok(());
    }
    let binaries: Vec<Binary> = instrument.binaries.iter().map(|b| b.binary()).collect();

    ctx.printer
        .status("train", format!("running {} training workload(s) against the instrumented build", workloads.len()));
    let start = Instant::now();
    let root = ctx.layout.raw_root();
    // Sets of an earlier run (or another shard) would be merged with the new ones.
    clear_other_sets(&root, &workloads)?;
    let records = collect(ctx, &workloads, &binaries, "train", &root)
        .map_err(|e| e.context("training stopped; the previous profiles (if any) are kept"))?;
    let elapsed = start.elapsed();
    let mut state = state;
    let record = TrainRecord {
        inputs,
        instrument_id,
        workloads: records,
        elapsed_s: elapsed.as_secs_f64(),
        finished_at: now(),
        shard: args.shard,
        toolchain: ctx.rustc.version.clone(),
        llvm: ctx.rustc.llvm_version.clone(),
        instrumented: instrument.binaries.iter().map(|b| (b.name.clone(), b.sha256.clone())).collect(),
    };
    // The set travels with its description, so `merge --from` can check it.
    crate::util::write_atomic(&root.join(SET_FILE), serde_json::to_string_pretty(&record)?.as_bytes())?;
    state.train = Some(record);
    state.merge = None;
    state.optimize = None;
    state.bolt = None;
    state.save(&ctx.layout.state_file())?;
    ctx.printer.status("train", format!("done in {}; next: `pgo-build merge`", human_duration(elapsed)));
    Ok(())
}

/// The fingerprint of what training reads: the instrumented build, the shard,
/// and each workload with its data.
pub fn inputs_of(ctx: &Ctx, instrument_id: &str, shard: Option<Shard>, workloads: &[&Workload]) -> String {
    let mut parts: Vec<(String, String)> = vec![
        ("instrumented".into(), instrument_id.to_string()),
        ("shard".into(), shard.map(|s| s.to_string()).unwrap_or_default()),
    ];
    parts.extend(workloads.iter().map(|w| (w.name.clone(), crate::cache::workload(ctx, w))));
    crate::cache::fingerprint(&parts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect::<Vec<_>>())
}

/// The description of a profile set, beside its workloads' folders.
pub const SET_FILE: &str = "profile-set.json";

/// Removes workload folders under `root` that are not among `workloads`.
pub fn clear_other_sets(root: &Path, workloads: &[&Workload]) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(root) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !name.starts_with('.') && !workloads.iter().any(|w| w.name == name) {
            std::fs::remove_dir_all(entry.path())
                .with_context(|| format!("could not remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Runs `workloads` against instrumented `binaries`, each writing its raw
/// profiles into `<root>/<workload>/`. The new sets are collected beside the old
/// ones and swapped in only when every workload has succeeded: a failed or
/// interrupted run leaves the previous sets as they were. `stage` is what the
/// workloads see as `PGO_BUILD_STAGE` and how logs are filed.
pub fn collect(
    ctx: &Ctx,
    workloads: &[&Workload],
    binaries: &[Binary],
    stage: &str,
    root: &Path,
) -> Result<Vec<WorkloadRecord>> {
    let bar = ctx.printer.bar(workloads.len() as u64, "");
    bar.set_prefix(stage.to_string());
    let mut done: Vec<(WorkloadRecord, PathBuf)> = Vec::new();
    let result = (|| -> Result<()> {
        for w in workloads {
            bar.set_message(w.name.clone());
            let staging = staging_dir(root, w);
            reset_dir(&staging)?;
            let cmd = workload::command(ctx, w, stage, binaries, &profile_env(&staging))?;
            let log = workload::log_path(ctx, stage, w);
            let finished = workload::run(ctx, w, &cmd, &log)?;
            if !finished.outcome.success() {
                let doing = if stage == "train" { "training" } else { stage };
                return Err(workload::failed(w, doing, &finished, &log));
            }
            let (files, bytes) = raw_profiles(&staging)?;
            if files == 0 {
                bail!(no_profile_message(w, &log));
            }
            ctx.printer.status(
                stage,
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
        for w in workloads {
            let _ = std::fs::remove_dir_all(staging_dir(root, w));
        }
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
    Ok(done.into_iter().map(|(r, _)| r).collect())
}

fn profile_env(dir: &Path) -> Vec<(String, String)> {
    vec![("LLVM_PROFILE_FILE".to_string(), dir.join("%m_%p.profraw").display().to_string())]
}

fn staging_dir(root: &Path, w: &Workload) -> PathBuf {
    root.join(format!(".{}.partial", w.name))
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
