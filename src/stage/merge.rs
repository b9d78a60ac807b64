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

use anyhow::{Context, Result};

use super::train::raw_profile_paths;
use crate::config::Use;
use crate::context::Ctx;
use crate::process::Cmd;
use crate::state::{MergeRecord, State, now};
use crate::toolchain::Profdata;
use crate::util::{human_duration, human_size, sha256_file, write_atomic};

pub fn run(ctx: &Ctx) -> Result<()> {
    let mut state = State::load(&ctx.layout.state_file())?;
    let profiles = ctx.layout.profiles();
    let list = profiles.join("merge-inputs.txt");
    let partial = profiles.join(".merged.partial.profdata");
    if ctx.dry_run {
        let tool = ctx.profdata().map_or_else(|_| PathBuf::from("llvm-profdata"), |p| p.path.clone());
        ctx.printer.would_run(&merge_command(&Cmd::new(tool), &list, &partial));
        return Ok(());
    }
    let train = state.require_train(ctx)?.clone();
    let profdata = ctx.profdata()?;

    let mut lines = String::new();
    let mut weights = Vec::new();
    for w in &train.workloads {
        let weight = ctx.config.workloads_for(Use::Train).find(|c| c.name == w.name).map_or(1, |c| c.weight);
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
    let cmd = merge_command(&profdata.cmd(), &list, &partial);
    ctx.printer.command(&cmd);
    let result = cmd.read();
    spinner.finish_and_clear();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(explain_merge_failure(e, profdata, ctx));
    }

    let sha = sha256_file(&partial)?;
    let profile = profiles.join(format!("merged-{}.profdata", &sha[..16]));
    std::fs::rename(&partial, &profile).with_context(|| format!("could not write {}", profile.display()))?;
    remove_other_merged(&profiles, &profile);
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

fn merge_command(tool: &Cmd, list: &Path, output: &Path) -> Cmd {
    tool.clone().arg("merge").arg("--output").arg(output).arg(format!("--input-files={}", list.display()))
}

/// The figures `llvm-profdata show` gives about a merged profile.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub functions: u64,
    pub functions_with_counts: u64,
    pub total_count: u64,
}

pub fn summarize(ctx: &Ctx, profdata: &Profdata, profile: &Path) -> Result<Summary> {
    let show = profdata.cmd().arg("show").arg(profile);
    let show_covered = profdata.cmd().args(["show", "--covered"]).arg(profile);
    ctx.printer.command(&show);
    let text = show.read()?;
    ctx.printer.command(&show_covered);
    let covered = show_covered.read()?;
    let mut summary = parse_show(&text);
    summary.functions_with_counts = covered.lines().filter(|l| !l.trim().is_empty()).count() as u64;
    Ok(summary)
}

fn parse_show(text: &str) -> Summary {
    let field = |name: &str| {
        text.lines().find_map(|l| l.trim().strip_prefix(name)).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0)
    };
    Summary { functions: field("Total functions:"), functions_with_counts: 0, total_count: field("Total count:") }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_show_output() {
        let text = "Instrumentation level: IR  entry_first = 0\nTotal functions: 9\nMaximum function count: 1\nTotal count: 100024\n";
        assert_eq!(parse_show(text), Summary { functions: 9, functions_with_counts: 0, total_count: 100_024 });
    }
}
