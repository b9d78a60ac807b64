//! `pgo-build merge`: merge the training profiles into one indexed profile.
//!
//! The output is named after its content (`merged-<hash>.profdata`) because rustc
//! tracks `-Cprofile-use` by path: a new profile under the old name would not make
//! cargo rebuild, and the "optimized" binary would keep the old profile. Each
//! workload's raw files carry that workload's weight (`<weight>,<file>` lines in an
//! `--input-files` list, which also keeps the command line short however many
//! processes a workload started).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::train::{SET_FILE, raw_profile_paths};
use crate::config::Use;
use crate::context::Ctx;
use crate::process::Cmd;
use crate::state::{MergeRecord, State, TrainRecord, WorkloadRecord, now};
use crate::toolchain::Profdata;
use crate::toolchain::profdata::merge::FailureMode;
use crate::toolchain::profdata::show::Summary;
use crate::util::{human_duration, human_size, sha256_file, write_atomic};

/// `pgo-build merge`'s own arguments.
#[derive(Debug, Clone, Default, Args)]
pub struct MergeArgs {
    /// Also write the merged profile here (e.g. a file kept in the repository,
    /// for `pgo-build optimize --profile FILE` and `pgo-build check`).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Merge the profile sets in these folders (each a copy of a training run's
    /// `target/pgo-build/profiles/raw`, e.g. one per CI shard) instead of this
    /// machine's; repeat for several.
    #[arg(long, value_name = "DIR", num_args = 1..)]
    pub from: Vec<PathBuf>,
    /// What to do with a raw profile llvm-profdata cannot read (truncated by a
    /// process killed mid-write): fail, or warn and merge the rest.
    #[arg(long, value_enum, default_value_t = FailureMode::Fail, value_name = "MODE")]
    pub failure_mode: FailureMode,
}

pub fn run(ctx: &Ctx, args: &MergeArgs) -> Result<()> {
    let mut state = State::load(&ctx.layout.state_file())?;
    let profiles = ctx.layout.profiles();
    let list = profiles.join("merge-inputs.txt");
    let partial = profiles.join(".merged.partial.profdata");
    if ctx.dry_run {
        let tool = ctx.profdata().map_or_else(|_| PathBuf::from("llvm-profdata"), |p| p.path.clone());
        ctx.printer.would_run(&merge_command(&Cmd::new(tool), &list, &partial, args.failure_mode));
        return Ok(());
    }
    if !args.from.is_empty() {
        let joined = join_sets(ctx, &state, &args.from)?;
        state.train = Some(joined);
        state.merge = None;
        state.optimize = None;
        state.bolt = None;
        state.save(&ctx.layout.state_file())?;
    }
    let train = match state.require_train(ctx) {
        Err(e) => match state.train.as_ref().and_then(|t| t.shard) {
            Some(shard) => bail!(
                "this machine's profiles are shard {shard} only; merge every shard's set with \
                 `pgo-build merge --from DIR...` (see docs/lifecycle.md)"
            ),
            None => return Err(e),
        },
        Ok(t) => t.clone(),
    };
    let inputs = crate::cache::fingerprint(&[
        ("train", &train.id()),
        ("weights", &format!("{:?}", train_weights(ctx, &train))),
        ("failure-mode", &format!("{:?}", args.failure_mode)),
    ]);
    if let Some(rec) = state.merge.as_ref().filter(|r| !ctx.force && r.inputs == inputs)
        && state.require_merge(ctx).is_ok()
    {
        crate::cache::skipped(ctx, "merge", rec.finished_at);
        if let Some(stored) = &args.output {
            store(ctx, &rec.profile, stored)?;
        }
        return Ok(());
    }
    let profdata = ctx.profdata()?;

    let mut lines = String::new();
    let mut weights = Vec::new();
    for (w, weight) in train.workloads.iter().zip(train_weights(ctx, &train)) {
        weights.push((w.name.clone(), weight));
        for path in raw_profile_paths(&w.raw_dir)? {
            lines.push_str(&format!("{weight},{}\n", path.display()));
        }
    }
    write_atomic(&list, lines.as_bytes())?;

    ctx.printer.status(
        "merge",
        format!("merging the profiles of {} workload(s) with {}", weights.len(), profdata.path.display()),
    );
    let spinner = ctx.printer.spinner("llvm-profdata merge");
    spinner.set_prefix("merge");
    let start = Instant::now();
    let cmd = merge_command(&profdata.cmd(), &list, &partial, args.failure_mode);
    ctx.printer.command(&cmd);
    let result = cmd.capture();
    spinner.finish_and_clear();
    let out = match result {
        Ok(out) if out.outcome.success() && partial.is_file() => out,
        Ok(out) => {
            let _ = std::fs::remove_file(&partial);
            return Err(explain_merge_failure(
                anyhow::anyhow!("`{}` ended with {}:\n{}", cmd.display(), out.outcome, out.stderr.trim_end()),
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
    if let Some(stored) = &args.output {
        store(ctx, &profile, stored)?;
    }
    let summary = summarize(ctx, profdata, &profile)?;
    let elapsed = start.elapsed();

    let weights_text: Vec<String> = weights.iter().map(|(n, w)| format!("{n}×{w}")).collect();
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
    state.merge = Some(MergeRecord {
        inputs,
        train_id: train.id(),
        profile,
        sha256: sha,
        weights,
        functions: summary.functions,
        functions_with_counts: summary.functions_with_counts,
        total_count: summary.total_count,
        elapsed_s: elapsed.as_secs_f64(),
        finished_at: now(),
    });
    state.optimize = None;
    state.bolt = None;
    state.save(&ctx.layout.state_file())?;
    ctx.printer.status("merge", format!("done in {}; next: `pgo-build optimize`", human_duration(elapsed)));
    Ok(())
}

/// Each trained workload's weight: the config's, else the one its set recorded.
fn train_weights(ctx: &Ctx, train: &TrainRecord) -> Vec<u32> {
    train
        .workloads
        .iter()
        .map(|w| ctx.config.workloads_for(Use::Train).find(|c| c.name == w.name).map_or(w.weight, |c| c.weight))
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

pub fn merge_command(tool: &Cmd, list: &Path, output: &Path, mode: FailureMode) -> Cmd {
    crate::toolchain::profdata::merge::command(tool.clone(), list, output, mode)
}

/// Checks profile sets gathered elsewhere (`merge --from`) and copies them in as
/// this machine's training record: every set must come from this machine's
/// instrumented binaries and toolchain, no workload may appear twice, and
/// together they must cover the configured training workloads.
fn join_sets(ctx: &Ctx, state: &State, dirs: &[PathBuf]) -> Result<TrainRecord> {
    let instrument = state.require_instrument(ctx).context(
        "`merge --from` checks the sets against this machine's instrumented build: copy the instrument job's \
         target/pgo-build here first (see docs/lifecycle.md)",
    )?;
    let root = ctx.layout.raw_root();
    let mut workloads: Vec<WorkloadRecord> = Vec::new();
    let mut from: Vec<(String, PathBuf)> = Vec::new();
    let mut total_s = 0.0;
    for dir in dirs {
        let file = dir.join(SET_FILE);
        let text = std::fs::read_to_string(&file).with_context(|| {
            format!(
                "{} is not a profile set: it has no {SET_FILE} (a set is the folder target/pgo-build/profiles/raw \
                 that `pgo-build train` fills)",
                dir.display()
            )
        })?;
        let set: TrainRecord =
            serde_json::from_str(&text).with_context(|| format!("could not read {}", file.display()))?;
        if set.toolchain != ctx.rustc.version {
            bail!(
                "the profile set in {} was made with {} (LLVM {}), but this machine has {} (LLVM {}); every \
                 training job must use the same toolchain as the merge and optimize jobs",
                dir.display(),
                set.toolchain,
                set.llvm,
                ctx.rustc.version,
                ctx.rustc.llvm_version
            );
        }
        if set.instrument_id != instrument.id() {
            let theirs: Vec<String> =
                set.instrumented.iter().map(|(n, h)| format!("{n} {}", &h[..h.len().min(12)])).collect();
            let ours: Vec<String> =
                instrument.binaries.iter().map(|b| format!("{} {}", b.name, &b.sha256[..12])).collect();
            bail!(
                "the profile set in {} came from a different instrumented binary ({}) than this machine's ({}); \
                 its counts would not fit. Train every shard against the one instrumented build: copy the \
                 instrument job's target/pgo-build to each training job",
                dir.display(),
                theirs.join(", "),
                ours.join(", ")
            );
        }
        for w in set.workloads {
            if let Some((_, other)) = from.iter().find(|(n, _)| *n == w.name) {
                bail!(
                    "workload `{}` is in two sets ({} and {}); each must be merged once",
                    w.name,
                    other.display(),
                    dir.display()
                );
            }
            from.push((w.name.clone(), dir.clone()));
            workloads.push(WorkloadRecord { raw_dir: root.join(&w.name), ..w });
        }
        total_s += set.elapsed_s;
    }
    let configured: Vec<&str> = ctx.config.workloads_for(Use::Train).map(|w| w.name.as_str()).collect();
    let missing: Vec<&&str> = configured.iter().filter(|n| !workloads.iter().any(|w| w.name == **n)).collect();
    if !missing.is_empty() {
        bail!(
            "the sets given to --from have no profiles for training workload(s) {}: is a shard's set missing?",
            missing.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        );
    }
    // Every set checked: only now replace this machine's sets with them.
    for (name, dir) in &from {
        let (src, dest) = (dir.join(name), root.join(name));
        if dest != src {
            if dest.exists() {
                std::fs::remove_dir_all(&dest).with_context(|| format!("could not replace {}", dest.display()))?;
            }
            copy_dir(&src, &dest)?;
        }
    }
    ctx.printer.status("merge", format!("joined {} profile set(s) with {} workload(s)", dirs.len(), workloads.len()));
    Ok(TrainRecord {
        inputs: String::new(),
        instrument_id: instrument.id(),
        workloads,
        elapsed_s: total_s,
        finished_at: now(),
        shard: None,
        toolchain: ctx.rustc.version.clone(),
        llvm: ctx.rustc.llvm_version.clone(),
        instrumented: instrument.binaries.iter().map(|b| (b.name.clone(), b.sha256.clone())).collect(),
    })
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.with_context(|| format!("could not read the profile set {}", from.display()))?;
        let dest = to.join(entry.path().strip_prefix(from)?);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)
                .with_context(|| format!("could not copy {} to {}", entry.path().display(), dest.display()))?;
        }
    }
    Ok(())
}

pub fn summarize(ctx: &Ctx, profdata: &Profdata, profile: &Path) -> Result<Summary> {
    crate::toolchain::profdata::show::summarize(profdata, &ctx.printer, profile)
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
