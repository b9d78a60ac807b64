//! `pgo-build train`: run every training workload against the instrumented
//! binaries, one raw profile set per workload (`collect.rs` says how a set is
//! collected and kept apart from failed runs and leftover processes).
//!
//! Training can also be split across machines: `train --shard K/N` runs every
//! Nth workload, and `merge --from DIR...` joins the sets, after checking each
//! against this machine's instrumented build, into this stage's record: joining
//! is training done elsewhere.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::cargo::Binary;
use crate::cli::TrainArgs;
use crate::config::{Use, Workload};
use crate::context::Ctx;
use crate::pipeline::fingerprint::WorkloadInput;
use crate::pipeline::{Stage, StageId};
use crate::state::{BinaryRecord, Entry, Shard, State, TrainRecord, WorkloadRecord};
use crate::util::hashes::HashCache;
use crate::util::{human_duration, plural};
use crate::workload::collect::{Files, clear_other_sets, collect, placeholder_binaries, profile_env};
use crate::workload::{self, Phase};

impl TrainArgs {
    pub fn options(&self) -> TrainOptions {
        TrainOptions { shard: self.shard, from: Vec::new() }
    }
}

/// The description of a profile set, beside its workloads' folders.
pub const SET_FILE: &str = "profile-set.json";

/// The train stage.
#[derive(Debug)]
pub struct Train;

/// What training was asked to do: run (a shard of) the workloads here, or join
/// sets trained elsewhere (`merge --from`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub shard: Option<Shard>,
    /// Profile sets to join instead of running the workloads.
    pub from: Vec<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct TrainInputs {
    /// The instrumented build's output id.
    pub instrumented: String,
    #[serde(skip)]
    pub binaries: Vec<BinaryRecord>,
    pub shard: Option<Shard>,
    /// The workloads to train, by name: how each runs and its data.
    pub workloads: Vec<WorkloadInput>,
    pub from: Vec<PathBuf>,
}

impl Stage for Train {
    const ID: StageId = StageId::Train;
    type Options = TrainOptions;
    type Inputs = TrainInputs;
    type Record = TrainRecord;

    fn slot(state: &State) -> Option<&Entry<TrainRecord>> {
        state.train.as_ref()
    }

    fn slot_mut(state: &mut State) -> &mut Option<Entry<TrainRecord>> {
        &mut state.train
    }

    fn resolve(ctx: &Ctx, options: &TrainOptions, state: &State) -> Result<TrainInputs> {
        let instrument =
            state.instrument.as_ref().context("no instrumented build; run `pgo-build instrument` first")?;
        let mut chosen = choose(ctx, options.shard)?;
        // Order does not matter: reordering [[workload]] tables changes no profile.
        chosen.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(TrainInputs {
            instrumented: instrument.output.clone(),
            binaries: instrument.record.binaries.clone(),
            shard: options.shard,
            workloads: chosen.iter().map(|w| WorkloadInput::of(ctx, w)).collect(),
            from: options.from.clone(),
        })
    }

    fn intact(_: &HashCache, record: &TrainRecord) -> Result<(), String> {
        match record.workloads.iter().find(|w| !w.raw_dir.is_dir()) {
            Some(w) => Err(format!("the raw profiles of workload `{}` are gone ({})", w.name, w.raw_dir.display())),
            None => Ok(()),
        }
    }

    fn summary(e: &Entry<TrainRecord>) -> String {
        let r = &e.record;
        let shard = r.shard.map(|s| format!(", shard {s}")).unwrap_or_default();
        let joined = if r.joined_from.is_empty() { "" } else { ", joined from other machines" };
        let bytes: u64 = r.workloads.iter().map(|w| w.raw_bytes).sum();
        let emulated = r.emulated_by.as_ref().map(|e| format!(", emulated under `{e}`")).unwrap_or_default();
        format!(
            "trained {} in {} ({}{shard}{joined}{emulated}, {} of raw profiles)",
            crate::pipeline::fingerprint::ago(e.finished_at),
            crate::util::human_seconds(e.elapsed_s),
            plural(r.workloads.len(), "workload", "workloads"),
            crate::util::human_size(bytes)
        )
    }

    fn output_id(record: &TrainRecord) -> String {
        let parts: Vec<String> = record
            .workloads
            .iter()
            .map(|w| format!("{}:{}:{}:{}", w.name, w.definition, w.raw_files, w.raw_bytes))
            .collect();
        crate::util::id_of(parts.iter().map(String::as_str))
    }

    fn explain(field: &str) -> String {
        match field {
            "instrumented" => "the instrumented build".into(),
            "workloads" => "the training workloads (their definitions or data)".into(),
            "from" => "the joined profile sets".into(),
            other => crate::pipeline::explain_field(other),
        }
    }

    fn dry_run(ctx: &Ctx, options: &TrainOptions, state: &State) -> Result<()> {
        let binaries = match &state.instrument {
            Some(rec) => rec.record.binaries.iter().map(BinaryRecord::binary).collect(),
            None => placeholder_binaries(ctx),
        };
        let root = ctx.layout.raw_root();
        for w in choose(ctx, options.shard)? {
            let cmd = workload::command(
                ctx,
                w,
                Phase::Train,
                &binaries,
                &profile_env(&root.join(&w.name), ctx.config.continuous_profiles(), Files::Pooled),
            )?;
            ctx.printer.would_run(&cmd);
        }
        Ok(())
    }

    fn run(ctx: &Ctx, inputs: &TrainInputs) -> Result<TrainRecord> {
        if !inputs.from.is_empty() {
            return join_sets(ctx, inputs);
        }
        let workloads = choose(ctx, inputs.shard)?;
        if let Some(shard) = inputs.shard {
            ctx.printer.status(
                "train",
                format!(
                    "shard {shard}: {} of {} training workloads ({})",
                    workloads.len(),
                    ctx.config.workloads_for(Use::Train).count(),
                    workloads.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        let binaries: Vec<Binary> = inputs.binaries.iter().map(BinaryRecord::binary).collect();
        ctx.printer.status(
            "train",
            format!(
                "running {} against the instrumented build{}",
                plural(workloads.len(), "training workload", "training workloads"),
                ctx.runner()
                    .map(|r| format!(", under `{}` (emulated: the counts are exact, only slower)", r.display()))
                    .unwrap_or_default()
            ),
        );
        let start = Instant::now();
        let root = ctx.layout.raw_root();
        let records = collect(ctx, &workloads, &binaries, Phase::Train, &root)
            .map_err(|e| e.context("training stopped; the previous profiles (if any) are kept"))?;
        // Sets of an earlier run (or another shard) would be merged with the new ones.
        let names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
        clear_other_sets(&root, &names)?;
        let record = TrainRecord {
            instrument_id: inputs.instrumented.clone(),
            workloads: records,
            shard: inputs.shard,
            joined_from: Vec::new(),
            toolchain: ctx.rustc.version.clone(),
            llvm: ctx.rustc.llvm_version.clone(),
            instrumented: inputs.binaries.iter().map(|b| (b.name.clone(), b.sha256.clone())).collect(),
            training_s: start.elapsed().as_secs_f64(),
            emulated_by: ctx.runner().map(|r| r.display()),
        };
        // The set travels with its description, so `merge --from` can check it.
        crate::util::write_atomic(&root.join(SET_FILE), serde_json::to_string_pretty(&record)?.as_bytes())?;
        ctx.printer.status("train", format!("done in {}; next: `pgo-build merge`", human_duration(start.elapsed())));
        Ok(record)
    }
}

/// The training workloads, or a shard's share of them; none is an error.
fn choose(ctx: &Ctx, shard: Option<Shard>) -> Result<Vec<&Workload>> {
    let all: Vec<&Workload> = ctx.config.workloads_for(Use::Train).collect();
    if all.is_empty() {
        bail!(no_training_workloads(ctx));
    }
    let Some(shard) = shard else { return Ok(all) };
    let chosen = shard.select(&all);
    if chosen.is_empty() {
        bail!("shard {shard} has no training workloads: there are only {} of them", all.len());
    }
    Ok(chosen)
}

/// The error for a pipeline without training workloads.
pub fn no_training_workloads(ctx: &Ctx) -> String {
    format!(
        "there are no training workloads: {} (see docs/workloads.md)",
        ctx.config.how_to_add(Use::Train, &ctx.project.dir)
    )
}

/// Checks profile sets gathered elsewhere (`merge --from`) and copies them in as
/// this machine's training profiles: every set must come from this machine's
/// instrumented binaries and toolchain, no workload may appear twice, and
/// together they must cover the configured training workloads.
fn join_sets(ctx: &Ctx, inputs: &TrainInputs) -> Result<TrainRecord> {
    let root = ctx.layout.raw_root();
    let mut workloads: Vec<WorkloadRecord> = Vec::new();
    let mut from: Vec<(String, PathBuf)> = Vec::new();
    let mut total_s = 0.0;
    let ours: Vec<(String, String)> = inputs.binaries.iter().map(|b| (b.name.clone(), b.sha256.clone())).collect();
    for dir in &inputs.from {
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
        if set.instrumented != ours {
            let show = |list: &[(String, String)]| {
                list.iter().map(|(n, h)| format!("{n} {}", &h[..h.len().min(12)])).collect::<Vec<_>>().join(", ")
            };
            bail!(
                "the profile set in {} came from a different instrumented binary ({}) than this machine's ({}); \
                 its counts would not fit. Train every shard against the one instrumented build: copy the \
                 instrument job's target/pgo-build to each training job",
                dir.display(),
                show(&set.instrumented),
                show(&ours)
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
        total_s += set.training_s;
    }
    let missing: Vec<&str> =
        inputs.workloads.iter().map(|w| w.name.as_str()).filter(|n| !workloads.iter().any(|w| w.name == *n)).collect();
    if !missing.is_empty() {
        bail!(
            "the sets given to --from have no profiles for {} {}: is a shard's set missing?",
            if missing.len() == 1 { "training workload" } else { "training workloads" },
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
    let names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
    clear_other_sets(&root, &names)?;
    ctx.printer.status(
        "merge",
        format!(
            "joined {} with {}",
            plural(inputs.from.len(), "profile set", "profile sets"),
            plural(workloads.len(), "workload", "workloads")
        ),
    );
    Ok(TrainRecord {
        instrument_id: inputs.instrumented.clone(),
        workloads,
        shard: None,
        joined_from: inputs.from.clone(),
        toolchain: ctx.rustc.version.clone(),
        llvm: ctx.rustc.llvm_version.clone(),
        instrumented: ours,
        training_s: total_s,
        emulated_by: ctx.runner().map(|r| r.display()),
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
