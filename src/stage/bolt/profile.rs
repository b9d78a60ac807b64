//! How BOLT's profile is collected: instrumentation mode (`llvm-bolt -instrument`,
//! then the training workloads) or sampling mode (`perf record` with branch stacks,
//! then `perf2bolt`); either way one `<binary>.fdata.*` file per process or
//! workload, merged with `merge-fdata`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::run_bolt;
use crate::cargo::Binary;
use crate::config::Workload;
use crate::context::Ctx;
use crate::process::Cmd;
use crate::state::BinaryRecord;
use crate::toolchain::bolt::{self, BoltTools};
use crate::util::human_duration;
use crate::workload::{self, Phase};

/// Instrumentation mode: `llvm-bolt -instrument` every binary (each process
/// appends its pid to its profile file), then run the training workloads.
pub(super) fn collect_instrumented(
    ctx: &Ctx,
    tools: &BoltTools,
    inputs: &[BinaryRecord],
    train: &[&Workload],
    dir: &Path,
) -> Result<()> {
    let mut instrumented = Vec::new();
    for input in inputs {
        let cmd = instrument_command(tools, &input.path, dir, &input.name);
        run_bolt(ctx, &cmd, &input.path)?;
        instrumented.push(Binary { name: input.name.clone(), path: dir.join(format!("{}.instrumented", input.name)) });
    }
    ctx.printer.status(
        "bolt",
        format!("instrumented {} with llvm-bolt", crate::util::plural(instrumented.len(), "binary", "binaries")),
    );
    for w in train {
        let cmd = workload::command(ctx, w, Phase::BoltTrain, &instrumented, &[])?;
        train_once(ctx, w, &cmd)?;
    }
    Ok(())
}

/// `llvm-bolt -instrument` for one binary: each process appends its pid to its
/// profile file, `<dir>/profiles/<name>.fdata.<pid>.fdata`.
pub(super) fn instrument_command(tools: &BoltTools, input: &Path, dir: &Path, name: &str) -> Cmd {
    Cmd::new(&tools.llvm_bolt)
        .arg(input)
        .arg("-instrument")
        .arg("-o")
        .arg(dir.join(format!("{name}.instrumented")))
        .arg(format!("--instrumentation-file={}", dir.join("profiles").join(format!("{name}.fdata")).display()))
        .arg("--instrumentation-file-append-pid")
}

/// Sampling mode: run the training workloads under `perf record` with branch
/// stacks against the BOLT inputs themselves, then convert with `perf2bolt`.
/// Refuses, with the reason, on a machine whose CPU (or VM) cannot sample
/// branches, instead of producing a profile without branch data.
pub(super) fn collect_sampled(
    ctx: &Ctx,
    tools: &BoltTools,
    inputs: &[BinaryRecord],
    train: &[&Workload],
    dir: &Path,
    fdata_dir: &Path,
) -> Result<()> {
    bolt::branch_sampling().map_err(|why| {
        anyhow::anyhow!(
            "--bolt-mode perf needs `perf` to sample branch stacks, and it cannot on this machine: {}. \
             Use BOLT's instrumentation mode instead (--bolt-mode instrument, or no bolt-mode in the config), \
             which needs no hardware support",
            why.trim_end_matches('.')
        )
    })?;
    let perf2bolt = tools.perf2bolt.as_ref().with_context(|| {
        format!(
            "--bolt-mode perf needs perf2bolt beside {}; it is part of the same BOLT package",
            tools.llvm_bolt.display()
        )
    })?;
    let binaries: Vec<Binary> = inputs.iter().map(BinaryRecord::binary).collect();
    for w in train {
        let data = dir.join(format!("{}.perf.data", w.name));
        let record = ["record", "-e", "cycles:u", "-j", "any,u", "-o"];
        let cmd = workload::command(ctx, w, Phase::BoltTrain, &binaries, &[])?
            .wrapped_by("perf", record.iter().map(std::ffi::OsStr::new).chain([data.as_os_str()]));
        train_once(ctx, w, &cmd)?;
        for input in inputs {
            let out = fdata_dir.join(format!("{}.fdata.{}.fdata", input.name, w.name));
            let convert = Cmd::new(perf2bolt).arg("-p").arg(&data).arg("-o").arg(&out).arg(&input.path);
            run_bolt(ctx, &convert, &input.path)?;
        }
    }
    Ok(())
}

/// Runs one BOLT training workload; a failure stops the stage.
fn train_once(ctx: &Ctx, w: &Workload, cmd: &Cmd) -> Result<()> {
    let log = workload::log_path(ctx, Phase::BoltTrain, w);
    let finished = workload::run(ctx, w, cmd, &log)?;
    if !finished.outcome.success() {
        return Err(workload::failed(w, Phase::BoltTrain.doing(), &finished, &log));
    }
    ctx.printer.status("bolt", format!("{}: trained in {}", w.name, human_duration(finished.elapsed)));
    Ok(())
}

/// Merges one binary's per-process BOLT profiles with merge-fdata.
pub(super) fn merge_profiles(tools: &BoltTools, fdata_dir: &Path, name: &str, dir: &Path) -> Result<PathBuf> {
    let prefix = format!("{name}.fdata.");
    let mut files: Vec<PathBuf> = std::fs::read_dir(fdata_dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix)))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "the training workloads wrote no BOLT profile for `{name}`. BOLT's instrumented binary writes its \
             profile when it exits normally; check that the training workloads run \"$PGO_BUILD_BIN\" (or \
             $PGO_BUILD_BIN_<NAME>) and that it exits by itself"
        );
    }
    let merged = Cmd::new(&tools.merge_fdata).args(&files).read().context("merge-fdata failed")?;
    let path = dir.join(format!("{name}.fdata"));
    std::fs::write(&path, merged)?;
    Ok(path)
}
