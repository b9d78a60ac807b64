//! `pgo-build show`: what a merged profile holds, in a person's terms.
//!
//! Everything comes from `llvm-profdata show --all-functions --counts
//! --value-cutoff=1`: its summary (functions, total count) and, per function that
//! ran, its block counts. A function's heat is the sum of its block counts — the
//! same measure as the profile's "Total count", so each function gets a share of
//! it. (`--topn` ranks by a function's single largest block count instead, which
//! has no share to give; and its "Maximum function count" is the first counter,
//! which with IR-level instrumentation is not the entry count.)
//!
//! Symbols are demangled with `rustc-demangle` and the hash dropped. Local
//! symbols carry their object file as a prefix (`fixture.50de…-cgu.0;_ZN…`),
//! which is cut off. Instances of one generic function demangle to the same name
//! and are added up into one line.
//!
//! A workload's contribution is measured by merging its raw profiles alone:
//! nothing in the merged profile says which workload a count came from. Running
//! and reading llvm-profdata is `toolchain::profdata`'s; demangling, grouping and
//! percentages are `functions.rs`'s.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cli::ShowArgs;
use crate::context::Ctx;
use crate::functions::{function_line, hottest, percent};
use crate::pipeline::Walk;
use crate::stage::merge::Merge;
use crate::state::{MergeRecord, State, TrainRecord};
use crate::toolchain::Profdata;
use crate::toolchain::profdata::merge::merge_raw;
use crate::toolchain::profdata::show::{ProfileCounts, read_counts, read_totals};
use crate::util::sha256_file;
use crate::workload::collect::raw_profile_paths;

pub fn run(ctx: &Ctx, args: &ShowArgs) -> Result<u8> {
    let state = State::load(&ctx.layout.state_file())?;
    let (file, record) = choose_profile(ctx, &state, args.file.as_deref())?;
    if ctx.dry_run {
        ctx.printer.would_run(&Profdata::for_dry_run(ctx.profdata()).show_counts(&file));
        return Ok(0);
    }
    let profdata = ctx.profdata()?;
    let counts = read_counts(profdata, &ctx.printer, &file)?;
    let contributions = match record {
        Some(merge) => match recorded_sets(&state, merge) {
            Ok(train) => Ok(contributions(ctx, profdata, train, &merge.weights)?),
            Err(why) => Err(why),
        },
        None => Err(format!(
            "{} is not the pipeline's merged profile, so which workloads made it is not recorded",
            file.display()
        )),
    };
    ctx.printer.out(render(&file, &counts, args.top, &contributions));
    Ok(0)
}

/// The profile to show and, when it is the pipeline's merged profile, its record.
fn choose_profile<'s>(ctx: &Ctx, state: &'s State, file: Option<&Path>) -> Result<(PathBuf, Option<&'s MergeRecord>)> {
    let Some(file) = file else {
        let merge = Walk::new(ctx, state).intact::<Merge>(", or name a profile: `pgo-build show FILE`")?;
        return Ok((merge.profile.clone(), Some(merge)));
    };
    if !file.is_file() {
        bail!("{} does not exist (or is not a file); name an indexed profile (.profdata)", file.display());
    }
    // A copy of the pipeline's profile is the pipeline's profile: compare content.
    let sha = sha256_file(file)?;
    let record = crate::pipeline::entry::<Merge>(state).map(|m| &m.record).filter(|m| m.sha256 == sha);
    Ok((file.to_path_buf(), record))
}

/// The training run whose raw sets made `merge`, or why there is none to measure.
fn recorded_sets<'s>(state: &'s State, merge: &MergeRecord) -> Result<&'s TrainRecord, String> {
    let train = crate::pipeline::entry::<crate::stage::train::Train>(state);
    let Some(train) = train.filter(|t| t.output == merge.trained).map(|t| &t.record) else {
        return Err("the training profiles that made it have been replaced since (`pgo-build train` ran again)".into());
    };
    if let Some(w) = train.workloads.iter().find(|w| !w.raw_dir.is_dir()) {
        return Err(format!("the raw profiles of workload `{}` are gone ({})", w.name, w.raw_dir.display()));
    }
    Ok(train)
}

/// One training workload's part in a merged profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    pub workload: String,
    pub weight: u32,
    /// The total count of its profile merged alone, before its weight.
    pub count: u64,
    /// Its weighted count's share of all workloads' weighted counts, in percent.
    pub share: f64,
}

/// Merges each workload's raw profiles alone and measures its total count.
fn contributions(
    ctx: &Ctx,
    profdata: &Profdata,
    train: &TrainRecord,
    weights: &[(String, u32)],
) -> Result<Vec<Contribution>> {
    let scratch = tempfile::tempdir().context("could not create a temporary folder")?;
    let mut measured = Vec::new();
    for (i, w) in train.workloads.iter().enumerate() {
        ctx.printer.status("show", format!("merging the profiles of workload `{}` alone", w.name));
        let paths = raw_profile_paths(&w.raw_dir)?;
        let alone = scratch.path().join(format!("{i}.profdata"));
        merge_raw(profdata, &ctx.printer, &paths, &scratch.path().join(format!("{i}.txt")), &alone)
            .with_context(|| format!("could not merge the raw profiles of workload `{}`", w.name))?;
        let count = read_totals(profdata, &ctx.printer, &alone)?.total_count;
        let weight = weights.iter().find(|(n, _)| *n == w.name).map_or(w.weight, |(_, weight)| *weight);
        measured.push((w.name.clone(), weight, count));
    }
    Ok(shares(measured))
}

/// Each workload's weighted count as a share of the weighted sum.
fn shares(measured: Vec<(String, u32, u64)>) -> Vec<Contribution> {
    let sum: f64 = measured.iter().map(|(_, w, c)| f64::from(*w) * *c as f64).sum();
    measured
        .into_iter()
        .map(|(workload, weight, count)| {
            let share = if sum > 0.0 { 100.0 * f64::from(weight) * count as f64 / sum } else { 0.0 };
            Contribution { workload, weight, count, share }
        })
        .collect()
}

fn render(
    file: &Path,
    counts: &ProfileCounts,
    top: usize,
    contributions: &Result<Vec<Contribution>, String>,
) -> String {
    let mut out = vec![
        format!("profile: {}", file.display()),
        format!("functions: {} ({} ran: they have counts)", counts.functions, counts.ran.len()),
        format!("total count: {} (all counters summed: roughly, basic blocks executed)", counts.total_count),
    ];
    let hot = hottest(&counts.ran);
    if top > 0 && !hot.is_empty() {
        out.push(String::new());
        out.push(format!(
            "hottest functions ({} of {}), by their share of the total count:",
            top.min(hot.len()),
            hot.len()
        ));
        let share = |count: u64| 100.0 * count as f64 / counts.total_count.max(1) as f64;
        out.extend(hot.iter().take(top).map(|h| function_line(share(h.count), h.count, &h.name, h.instances)));
    }
    out.push(String::new());
    match contributions {
        Ok(list) => {
            out.push("training workloads (each one's profile merged alone; weights applied to the share):".into());
            let width = list.iter().map(|c| c.workload.len()).max().unwrap_or(0).max("workload".len());
            out.push(format!("  {:<width$}  {:>6}  {:>14}  {:>7}", "workload", "weight", "count", "share"));
            for c in list {
                out.push(format!(
                    "  {:<width$}  {:>6}  {:>14}  {:>7}",
                    c.workload,
                    format!("×{}", c.weight),
                    c.count,
                    percent(c.share)
                ));
            }
        }
        Err(why) => out.push(format!("training workloads' contributions: unknown: {why}")),
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_apply_weights() {
        let s = shares(vec![("a".into(), 3, 100), ("b".into(), 1, 100)]);
        assert_eq!((s[0].share, s[1].share), (75.0, 25.0));
        assert_eq!(shares(vec![("a".into(), 1, 0)])[0].share, 0.0);
    }
}
