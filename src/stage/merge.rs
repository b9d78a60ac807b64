//! `pgo-build merge`: merge the training profiles into one indexed profile.
//!
//! The output is named after its content (`merged-<hash>.profdata`) because rustc
//! tracks `-Cprofile-use` by path: a new profile under the old name would not make
//! cargo rebuild, and the "optimized" binary would keep the old profile. Each
//! workload's raw files carry that workload's weight (`<weight>,<file>` lines in an
//! `--input-files` list, which also keeps the command line short however many
//! processes a workload started).
//!
//! Its fingerprint covers every raw profile's content, so a raw file truncated or
//! replaced since the last merge is merged again (and a truncated one named).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use serde::{Deserialize, Serialize};

use super::train::{Train, TrainOptions};
use crate::cli::MergeArgs;
use crate::config::Use;
use crate::context::Ctx;
use crate::pipeline::{self, Stage, StageId};
use crate::process::Cmd;
use crate::state::{Entry, MergeRecord, State, TrainRecord};
use crate::toolchain::Profdata;
use crate::toolchain::profdata::merge::FailureMode;
use crate::util::hashes::HashCache;
use crate::util::{human_duration, human_size, plural, sha256_file, write_atomic};
use crate::workload::collect::raw_profile_paths;

impl MergeArgs {
    pub fn options(&self) -> MergeOptions {
        MergeOptions { failure_mode: self.failure_mode }
    }
}

/// Runs `pgo-build merge`: joins the sets of `--from` first (as training done
/// elsewhere), merges, and stores a copy where `--output` asks.
pub fn command(ctx: &Ctx, args: &MergeArgs) -> Result<()> {
    if !args.from.is_empty() {
        let join = TrainOptions { shard: None, from: args.from.clone() };
        pipeline::run::<Train>(ctx, &join)?;
    }
    pipeline::run::<Merge>(ctx, &args.options())?;
    if let Some(stored) = &args.output
        && !ctx.dry_run
    {
        let state = State::load(&ctx.layout.state_file())?;
        let merged = pipeline::Walk::new(ctx, &state).current::<Merge>()?;
        store(ctx, &merged.profile, stored)?;
    }
    Ok(())
}

/// The merge stage.
#[derive(Debug)]
pub struct Merge;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MergeOptions {
    pub failure_mode: FailureMode,
}

#[derive(Debug, Serialize)]
pub struct MergeInputs {
    /// The training run's output id.
    pub trained: String,
    /// Each trained workload's weight: the config's, else the one its set recorded.
    pub weights: Vec<(String, u32)>,
    /// Every raw profile, by workload.
    pub raw_files: Vec<(String, Vec<PathBuf>)>,
    pub failure_mode: FailureMode,
}

impl Stage for Merge {
    const ID: StageId = StageId::Merge;
    type Options = MergeOptions;
    type Inputs = MergeInputs;
    type Record = MergeRecord;

    fn slot(state: &State) -> Option<&Entry<MergeRecord>> {
        state.merge.as_ref()
    }

    fn slot_mut(state: &mut State) -> &mut Option<Entry<MergeRecord>> {
        &mut state.merge
    }

    fn resolve(ctx: &Ctx, options: &MergeOptions, state: &State) -> Result<MergeInputs> {
        let train = state.train.as_ref().context("no training profiles; run `pgo-build train` first")?;
        if let Some(shard) = train.record.shard {
            bail!(
                "this machine's profiles are shard {shard} only; merge every shard's set with \
                 `pgo-build merge --from DIR...` (see docs/lifecycle.md)"
            );
        }
        let mut raw_files = Vec::new();
        for w in &train.record.workloads {
            raw_files.push((w.name.clone(), raw_profile_paths(&w.raw_dir)?));
        }
        Ok(MergeInputs {
            trained: train.output.clone(),
            weights: weights(ctx, &train.record),
            raw_files,
            failure_mode: options.failure_mode,
        })
    }

    fn watched(_: &Ctx, inputs: &MergeInputs, _: Option<&MergeRecord>) -> Vec<PathBuf> {
        inputs.raw_files.iter().flat_map(|(_, files)| files.iter().cloned()).collect()
    }

    fn intact(hashes: &HashCache, record: &MergeRecord) -> Result<(), String> {
        match hashes.sha256_hex(&record.profile) {
            Some(h) if h == record.sha256 => Ok(()),
            _ => Err(format!("the merged profile {} is missing or changed", record.profile.display())),
        }
    }

    fn summary(e: &Entry<MergeRecord>) -> String {
        format!(
            "merged {} into {} ({} functions, {} with counts)",
            crate::pipeline::fingerprint::ago(e.finished_at),
            e.record.profile.display(),
            e.record.functions,
            e.record.functions_with_counts
        )
    }

    fn output_id(record: &MergeRecord) -> String {
        record.sha256.clone()
    }

    fn explain(field: &str) -> String {
        match field {
            "trained" => "the training profiles".into(),
            "weights" => "the training workloads' weights".into(),
            "files" => "the raw profiles".into(),
            "raw_files" => "the raw profiles".into(),
            "failure_mode" => "--failure-mode".into(),
            other => pipeline::explain_field(other),
        }
    }

    fn dry_run(ctx: &Ctx, options: &MergeOptions, _: &State) -> Result<()> {
        let profiles = ctx.layout.profiles();
        let tool = ctx.profdata().map_or_else(|_| PathBuf::from("llvm-profdata"), |p| p.path.clone());
        ctx.printer.would_run(&crate::toolchain::profdata::merge::command(
            Cmd::new(tool),
            &profiles.join("merge-inputs.txt"),
            &profiles.join(".merged.partial.profdata"),
            options.failure_mode,
        ));
        Ok(())
    }

    fn run(ctx: &Ctx, inputs: &MergeInputs) -> Result<MergeRecord> {
        let profiles = ctx.layout.profiles();
        let list = profiles.join("merge-inputs.txt");
        let partial = profiles.join(".merged.partial.profdata");
        let profdata = ctx.profdata()?;
        let mut lines = String::new();
        for ((_, weight), (_, files)) in inputs.weights.iter().zip(&inputs.raw_files) {
            for path in files {
                lines.push_str(&format!("{weight},{}\n", path.display()));
            }
        }
        write_atomic(&list, lines.as_bytes())?;

        ctx.printer.status(
            "merge",
            format!(
                "merging the profiles of {} with {}",
                plural(inputs.weights.len(), "workload", "workloads"),
                profdata.path.display()
            ),
        );
        let spinner = ctx.printer.spinner("llvm-profdata merge");
        spinner.set_prefix("merge");
        let start = Instant::now();
        let cmd = profdata.merge(&list, &partial, inputs.failure_mode);
        ctx.printer.command(&cmd);
        let result = cmd.capture();
        spinner.finish_and_clear();
        let out = match result {
            Ok(out) if out.outcome.success() && partial.is_file() => out,
            Ok(out) => {
                let _ = std::fs::remove_file(&partial);
                return Err(explain_merge_failure(
                    anyhow::anyhow!(
                        "`{}` ended with {}:\n{}",
                        cmd.display(),
                        out.outcome,
                        crate::process::last_lines(out.stderr.trim_end(), crate::process::TAIL_LINES)
                    ),
                    profdata,
                    ctx,
                ));
            }
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(explain_merge_failure(e, profdata, ctx));
            }
        };
        for line in out.stderr.lines().filter(|l| l.contains("warning")) {
            ctx.printer.warn(format!("skipped by --failure-mode warn: {}", line.trim_start_matches("warning: ")));
        }

        let sha = sha256_file(&partial)?;
        let profile = profiles.join(format!("merged-{}.profdata", &sha[..16]));
        std::fs::rename(&partial, &profile).with_context(|| format!("could not write {}", profile.display()))?;
        remove_other_merged(&profiles, &profile);
        let summary = crate::toolchain::profdata::show::summarize(profdata, &ctx.printer, &profile)?;
        let weights_text: Vec<String> = inputs.weights.iter().map(|(n, w)| format!("{n}×{w}")).collect();
        ctx.printer.status(
            "merge",
            format!(
                "{} ({}): {} functions, {} with counts, total count {}; weights {}",
                profile.display(),
                human_size(std::fs::metadata(&profile)?.len()),
                summary.functions,
                summary.functions_with_counts,
                summary.total_count,
                weights_text.join(", ")
            ),
        );
        ctx.printer.status("merge", format!("done in {}; next: `pgo-build optimize`", human_duration(start.elapsed())));
        Ok(MergeRecord {
            trained: inputs.trained.clone(),
            profile,
            sha256: sha,
            weights: inputs.weights.clone(),
            functions: summary.functions,
            functions_with_counts: summary.functions_with_counts,
            total_count: summary.total_count,
        })
    }
}

/// Each trained workload's weight: the config's, else the one its set recorded.
fn weights(ctx: &Ctx, train: &TrainRecord) -> Vec<(String, u32)> {
    train
        .workloads
        .iter()
        .map(|w| {
            let weight = ctx.config.workloads_for(Use::Train).find(|c| c.name == w.name).map_or(w.weight, |c| c.weight);
            (w.name.clone(), weight)
        })
        .collect()
}

/// Writes a copy of the merged profile where the user keeps it.
fn store(ctx: &Ctx, profile: &Path, stored: &Path) -> Result<()> {
    crate::util::copy_atomic(profile, stored)
        .with_context(|| format!("could not write the merged profile to {}", stored.display()))?;
    ctx.printer.status(
        "merge",
        format!(
            "stored a copy in {}: build from it with `pgo-build optimize --profile {}`",
            stored.display(),
            stored.display()
        ),
    );
    Ok(())
}

/// Turns llvm-profdata's terse failures into what the user should do.
fn explain_merge_failure(err: anyhow::Error, profdata: &Profdata, ctx: &Ctx) -> anyhow::Error {
    let text = format!("{err:#}");
    if text.contains("unsupported instrumentation profile format version") {
        return anyhow::anyhow!(
            "llvm-profdata could not merge the training profiles: {text}\n\
             {} (LLVM {}) cannot read these raw profiles, which rustc (LLVM {}) wrote.\n{}",
            profdata.path.display(),
            profdata.llvm_version,
            ctx.rustc.llvm_version,
            crate::toolchain::profdata::install_hint(&ctx.rustc)
        );
    }
    if text.contains(".profraw") {
        return err.context(
            "llvm-profdata could not merge the training profiles: a raw profile is unreadable (a process killed \
             while writing it leaves it truncated). Run the workload again with `pgo-build train`, or skip \
             unreadable files with `pgo-build merge --failure-mode warn`",
        );
    }
    err.context("llvm-profdata could not merge the training profiles")
}

/// Older merged profiles are superseded; the newest is the one the record names.
fn remove_other_merged(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if path != keep && name.starts_with("merged-") && name.ends_with(".profdata") {
            let _ = std::fs::remove_file(&path);
        }
    }
}
