//! `pgo-build try`: every training and benchmark workload once, against a plain
//! build, in seconds: the check of new workloads before the first instrumented
//! build, which takes minutes on a real crate.
//!
//! The build is the pipeline's profile as it is, without `-Cprofile-*` flags,
//! in a target directory of its own (`build/try/`) that stays between runs, so a
//! second `try` after an edit rebuilds only what changed. Nothing is recorded
//! in `state.json`: `try` is no stage of the pipeline.
//!
//! Every workload runs even after one failed, so one run shows every failure,
//! each with the end of its output. A workload that finishes in under
//! [`TOO_SHORT`] is flagged: a benchmark that short is mostly process start-up
//! and noise, and a training run that short collects little.

use std::time::Duration;

use anyhow::{Result, bail};

use crate::build::{Flags, cargo_build, cargo_command};
use crate::cargo::Binary;
use crate::cli::TryArgs;
use crate::config::{Use, Workload};
use crate::context::Ctx;
use crate::process::check_interrupted;
use crate::project::BuildKind;
use crate::util::{aligned, human_duration, plural};
use crate::workload::placeholder::{self, Placeholder};
use crate::workload::{self, Phase};

/// Runs shorter than this are flagged.
pub const TOO_SHORT: Duration = Duration::from_millis(50);

/// How one workload's trial ended.
#[derive(Debug)]
enum Trial {
    Ok(Duration),
    /// The run's outcome (`exit status 101`), its time, and the full message with the output's tail.
    Failed {
        outcome: String,
        elapsed: Duration,
        message: String,
    },
    /// Not run: init's example, placeholder and all.
    Placeholder(Placeholder),
}

/// Builds, runs each chosen workload once, prints the table; fails when any did.
pub fn run(ctx: &Ctx, args: &TryArgs) -> Result<u8> {
    let chosen = choose(ctx, &args.workloads)?;
    let placeholders = placeholder::find_all(&ctx.project.dir, chosen.iter().copied());
    if placeholders.len() == chosen.len() {
        bail!(placeholder::message(&placeholders));
    }
    ctx.check_target()?;
    if ctx.dry_run {
        ctx.printer.would_run(&cargo_command(ctx, BuildKind::Try, &Flags::default()));
        let binaries: Vec<Binary> = ctx
            .settings
            .bins
            .iter()
            .map(|name| Binary { name: name.clone(), path: format!("<plain build of {name}>").into() })
            .collect();
        for w in chosen.iter().filter(|w| !placeholders.iter().any(|p| p.workload == w.name)) {
            ctx.printer.would_run(&workload::command(ctx, w, Phase::Try, &binaries, &[])?);
        }
        return Ok(0);
    }
    ctx.printer.status(
        "try",
        format!(
            "building {} ({}), profile `{}` as it is, without PGO",
            ctx.settings.package,
            ctx.settings.bins.join(", "),
            ctx.settings.profile
        ),
    );
    let built = cargo_build(ctx, BuildKind::Try, &Flags::default())?;
    ctx.printer.status(
        "try",
        format!(
            "built in {}; running {} once",
            human_duration(built.elapsed),
            plural(chosen.len() - placeholders.len(), "workload", "workloads")
        ),
    );
    let mut trials = Vec::new();
    for w in &chosen {
        let trial = match placeholders.iter().find(|p| p.workload == w.name) {
            Some(p) => Trial::Placeholder(p.clone()),
            None => run_one(ctx, w, &built.binaries)?,
        };
        check_interrupted()?;
        trials.push((*w, trial));
    }
    report(ctx, &trials)
}

/// The workloads to try, training ones first: all, or those named.
fn choose<'c>(ctx: &'c Ctx, names: &[String]) -> Result<Vec<&'c Workload>> {
    let all = &ctx.config.workloads;
    if all.is_empty() {
        bail!(
            "there are no workloads to try: add executable scripts to {} and {}, or `[[workload]]` tables to {} \
             (`pgo-build init` writes examples of both)",
            ctx.project.dir.join("workloads/train").display(),
            ctx.project.dir.join("workloads/bench").display(),
            ctx.config.path.clone().unwrap_or_else(|| ctx.project.dir.join("pgo-build.toml")).display()
        );
    }
    if let Some(unknown) = names.iter().find(|n| !all.iter().any(|w| &w.name == *n)) {
        let known: Vec<&str> = all.iter().map(|w| w.name.as_str()).collect();
        bail!("there is no workload `{unknown}` (there are: {})", known.join(", "));
    }
    let wanted = |w: &&Workload| names.is_empty() || names.contains(&w.name);
    let train = all.iter().filter(|w| w.is(Use::Train));
    Ok(train.chain(all.iter().filter(|w| !w.is(Use::Train))).filter(wanted).collect())
}

/// Runs `w` once against `binaries`, with a spinner and a status line.
fn run_one(ctx: &Ctx, w: &Workload, binaries: &[Binary]) -> Result<Trial> {
    let cmd = workload::command(ctx, w, Phase::Try, binaries, &[])?;
    let log = workload::log_path(ctx, Phase::Try, w);
    let spinner = ctx.printer.spinner(w.name.clone());
    spinner.set_prefix("running");
    let finished = workload::run(ctx, w, &cmd, &log);
    spinner.finish_and_clear();
    let finished = finished?;
    let time = human_duration(finished.elapsed);
    Ok(if finished.outcome.success() {
        ctx.printer.status("try", format!("{}: ok in {time}", w.name));
        Trial::Ok(finished.elapsed)
    } else {
        ctx.printer.status("try", format!("{}: {} after {time}", w.name, finished.outcome));
        Trial::Failed {
            outcome: finished.outcome.to_string(),
            elapsed: finished.elapsed,
            message: format!("{:#}", workload::failed(w, Phase::Try.doing(), &finished, &log)),
        }
    })
}

/// `train`, `bench` or `train+bench`.
fn uses(w: &Workload) -> String {
    w.uses
        .iter()
        .map(|u| match u {
            Use::Train => "train",
            Use::Bench => "bench",
        })
        .collect::<Vec<_>>()
        .join("+")
}

/// The table's rows: workload, use, time, result.
fn rows(trials: &[(&Workload, Trial)]) -> Vec<[String; 4]> {
    trials
        .iter()
        .map(|(w, t)| {
            let (time, result) = match t {
                Trial::Ok(d) if *d < TOO_SHORT => (human_duration(*d), "ok, too short".to_string()),
                Trial::Ok(d) => (human_duration(*d), "ok".to_string()),
                Trial::Failed { outcome, elapsed, .. } => (human_duration(*elapsed), format!("failed: {outcome}")),
                Trial::Placeholder(p) => {
                    ("-".into(), format!("not run: init's placeholder at {}:{}", p.file.display(), p.line))
                }
            };
            [w.name.clone(), uses(w), time, result]
        })
        .collect()
}

/// Prints the table, each failure in full and the short runs; fails when a workload did.
fn report(ctx: &Ctx, trials: &[(&Workload, Trial)]) -> Result<u8> {
    let mut table = vec![["workload".to_string(), "use".into(), "time".into(), "result".into()]];
    table.extend(rows(trials));
    for line in aligned(&table) {
        ctx.printer.out(line);
    }
    if let Some(r) = ctx.runner() {
        ctx.printer.out(format!("(times under `{}`: emulated, not the target machine's)", r.display()));
    }
    for (_, t) in trials {
        if let Trial::Failed { message, .. } = t {
            ctx.printer.out(format!("\n{message}"));
        }
    }
    for (w, t) in trials {
        if let Trial::Ok(d) = t
            && *d < TOO_SHORT
        {
            ctx.printer.warn(short_warning(w, *d));
        }
    }
    let bad: Vec<String> = trials
        .iter()
        .filter_map(|(w, t)| match t {
            Trial::Ok(_) => None,
            Trial::Failed { outcome, .. } => Some(format!("`{}` ({outcome})", w.name)),
            Trial::Placeholder(_) => Some(format!("`{}` (init's placeholder)", w.name)),
        })
        .collect();
    if !bad.is_empty() {
        bail!(
            "{} of {} did not succeed: {}; fix {}, then run `pgo-build try` again (`pgo-build try NAME` runs one)",
            bad.len(),
            plural(trials.len(), "workload", "workloads"),
            bad.join(", "),
            if bad.len() == 1 { "it" } else { "them" }
        );
    }
    ctx.printer.status(
        "try",
        format!("{} ran without failing; next: `pgo-build all`", plural(trials.len(), "workload", "workloads")),
    );
    Ok(0)
}

/// What a run under [`TOO_SHORT`] means for its uses.
fn short_warning(w: &Workload, d: Duration) -> String {
    let mut why = Vec::new();
    if w.is(Use::Bench) {
        why.push("too short to measure reliably (start-up and noise dominate)");
    }
    if w.is(Use::Train) {
        why.push("it trains little");
    }
    format!(
        "workload `{}` ran for {}: {}; run the program on more (or larger) input, aiming for a few hundred \
         milliseconds a run (see docs/workloads.md)",
        w.name,
        human_duration(d),
        why.join(", and ")
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::config::Run;

    fn workload(name: &str, uses: &[Use]) -> Workload {
        Workload::new(name, Run::Shell("true".into()), uses.iter().copied().collect::<BTreeSet<_>>())
    }

    #[test]
    fn rows_say_how_each_run_ended() {
        let (a, b, c, d) = (
            workload("slow", &[Use::Train]),
            workload("quick", &[Use::Train, Use::Bench]),
            workload("crash", &[Use::Bench]),
            workload("example", &[Use::Bench]),
        );
        let trials = [
            (&a, Trial::Ok(Duration::from_millis(420))),
            (&b, Trial::Ok(Duration::from_millis(3))),
            (
                &c,
                Trial::Failed {
                    outcome: "exit status 101".into(),
                    elapsed: Duration::from_millis(7),
                    message: String::new(),
                },
            ),
            (&d, Trial::Placeholder(Placeholder { workload: "example".into(), file: "w/e.sh".into(), line: 22 })),
        ];
        assert_eq!(
            rows(&trials),
            [
                ["slow", "train", "420ms", "ok"],
                ["quick", "train+bench", "3ms", "ok, too short"],
                ["crash", "bench", "7ms", "failed: exit status 101"],
                ["example", "bench", "-", "not run: init's placeholder at w/e.sh:22"],
            ]
            .map(|r| r.map(String::from))
        );
    }

    #[test]
    fn a_short_run_is_explained_for_each_of_its_uses() {
        let both = short_warning(&workload("quick", &[Use::Train, Use::Bench]), Duration::from_millis(4));
        assert!(both.starts_with("workload `quick` ran for 4ms: too short to measure reliably"), "{both}");
        assert!(both.contains("and it trains little"), "{both}");
        let train = short_warning(&workload("t", &[Use::Train]), Duration::from_millis(4));
        assert!(!train.contains("measure"), "{train}");
    }
}
