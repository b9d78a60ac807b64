//! `pgo-build bolt`: reorder the PGO binaries' code layout with LLVM BOLT.
//!
//! The input is the unstripped PGO build of a BOLT-mode pipeline (`--bolt` or
//! `bolt = true`: every build of the pipeline has `strip = false` and the PGO build
//! is linked with `--emit-relocs`), so one cargo build serves as both the PGO
//! result and the BOLT input, and BOLT's own steps rewrite it in seconds:
//! instrument it (`llvm-bolt -instrument`, one profile file per process), run the
//! training workloads, `merge-fdata`, then optimize the layout. The output is
//! stripped the way the Cargo profile asks, kept in `<root>/bolt/`, and checked:
//! it must run the benchmark workloads with the same exit statuses (and output,
//! where a workload sets `check-output`) as the PGO binary. The stage never
//! touches the PGO binaries or optimize's record; which of the two is delivered
//! is decided by `deliver.rs`, from a measurement (`compare` in `all --bolt`, the
//! stage's own check in `pgo-build bolt`). With `--no-pgo` the input is a plain
//! build of the profile instead (no instrumented build, training run or merged
//! profile needed), worked on apart from the pipeline.
//!
//! BOLT by default pads hot text to a 2 MiB huge-page boundary and keeps the old
//! code beside the new, which multiplies the size of a command-line binary; see
//! [`DEFAULT_FLAGS`] for the measured choice.

mod no_pgo;
mod profile;
mod verify;

use profile::{collect_instrumented, collect_sampled, instrument_command, merge_profiles};
use verify::{Verified, bolt_vs, verify};

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::cargo::Binary;
use crate::cargo::cargo_config::Strip;
use crate::cli::{BoltArgs, BoltCommandArgs};
use crate::config::{BoltProfiling, Config, Use, Workload};
use crate::context::Ctx;
use crate::pipeline::fingerprint::WorkloadInput;
use crate::pipeline::{Stage, StageId};
use crate::process::Cmd;
use crate::stage::deliver::Evidence;
use crate::state::{BinaryRecord, BoltRecord, Entry, State, binaries_id, binaries_intact};
use crate::toolchain::bolt::BoltTools;
use crate::util::hashes::HashCache;
use crate::util::{copy_atomic, human_duration, human_size};

/// llvm-bolt's optimization flags: the current recommended set (BOLT 22 deprecates
/// `-icf=1`), plus two for size. Measured on the demo (stripped, against the PGO
/// binary): BOLT's own defaults pad hot text to a huge page (+600% for a small
/// binary); `-no-huge-pages` leaves +23%, mostly a second copy of the code;
/// `-use-old-text` writes the new code into the old text's place: +10%, the rest
/// being the original `.rodata`/`.eh_frame` BOLT keeps when it splits functions.
pub const DEFAULT_FLAGS: &[&str] = &[
    "-reorder-blocks=ext-tsp",
    "-reorder-functions=cdsort",
    "-split-functions",
    "-split-all-cold",
    "-split-eh",
    "-icf=all",
    "-use-gnu-stack",
    "-dyno-stats",
    "-no-huge-pages",
    "-use-old-text",
];

/// The flags that split functions into hot and cold parts. Splitting needs new,
/// larger unwind tables, and BOLT keeps the old ones in the file: most of the
/// size BOLT adds with the default flags.
pub const SPLIT_FLAGS: &[&str] = &["-split-functions", "-split-all-cold", "-split-eh"];

impl BoltArgs {
    /// Refuses BOLT options on a pipeline that is not in BOLT mode, where they
    /// would silently do nothing.
    pub fn require_bolt_mode(&self, bolt_mode: bool) -> Result<()> {
        let given = [
            (self.keep_bolt, "--keep-bolt"),
            (!self.bolt_flags.is_empty(), "--bolt-flags"),
            (!self.bolt_args.is_empty(), "--bolt-arg"),
            (self.bolt_mode.is_some(), "--bolt-mode"),
            (self.bolt_no_split, "--bolt-no-split"),
        ];
        match given.iter().find(|(set, _)| *set) {
            Some((_, name)) if !bolt_mode => bail!(
                "{name} only applies to BOLT, and this pipeline is not in BOLT mode: add --bolt (or `bolt = true` \
                 in the config)"
            ),
            _ => Ok(()),
        }
    }
}

impl BoltArgs {
    pub fn options(&self) -> BoltOptions {
        BoltOptions {
            flags: self.bolt_flags.clone(),
            args: self.bolt_args.clone(),
            mode: self.bolt_mode,
            no_split: self.bolt_no_split,
        }
    }
}

/// The BOLT stage's own choices (the command line's; the config's are merged in
/// `resolve`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BoltOptions {
    /// A replacement for the default optimization flags.
    pub flags: Vec<String>,
    /// Flags added after them.
    pub args: Vec<String>,
    pub mode: Option<BoltProfiling>,
    pub no_split: bool,
}

/// The optimization flags: the command line's or the config's replacement set,
/// else the defaults; then the config's and the command line's additions.
pub fn optimization_flags(config: &Config, options: &BoltOptions) -> Vec<String> {
    let base: Vec<String> = if !options.flags.is_empty() {
        options.flags.clone()
    } else if !config.bolt_flags.is_empty() {
        config.bolt_flags.clone()
    } else {
        DEFAULT_FLAGS.iter().map(|f| f.to_string()).collect()
    };
    let split = !(options.no_split || config.bolt_split == Some(false));
    let base = base.into_iter().filter(|f| split || !SPLIT_FLAGS.contains(&f.as_str()));
    base.chain(config.bolt_args.iter().cloned()).chain(options.args.iter().cloned()).collect()
}

/// The BOLT stage: rewrite the PGO build (see the module documentation).
#[derive(Debug)]
pub struct Bolt;

#[derive(Debug, Serialize)]
pub struct BoltInputs {
    /// The PGO build's output id.
    pub optimized: String,
    /// The unstripped PGO binaries BOLT rewrites, and the delivered ones it must
    /// behave like (both covered by `optimized`).
    #[serde(skip)]
    pub inputs: Vec<BinaryRecord>,
    #[serde(skip)]
    pub reference: Vec<BinaryRecord>,
    pub tools: BoltTools,
    pub flags: Vec<String>,
    pub mode: BoltProfiling,
    pub strip: Strip,
    /// BOLT trains on the training workloads and is checked on the benchmark ones.
    pub training: Vec<WorkloadInput>,
    pub checks: Vec<WorkloadInput>,
    /// The check workloads whose standard output must match too.
    pub check_output: Vec<String>,
}

impl Stage for Bolt {
    const ID: StageId = StageId::Bolt;
    type Options = BoltOptions;
    type Inputs = BoltInputs;
    type Record = BoltRecord;

    fn slot(state: &State) -> Option<&Entry<BoltRecord>> {
        state.bolt.as_ref()
    }

    fn slot_mut(state: &mut State) -> &mut Option<Entry<BoltRecord>> {
        &mut state.bolt
    }

    fn resolve(ctx: &Ctx, options: &BoltOptions, state: &State) -> Result<BoltInputs> {
        let tools = ctx.bolt_tools(ctx.options.bolt_mode_of(options.mode))?;
        let optimized = state.optimize.as_ref().context("no optimized build; run `pgo-build optimize` first")?;
        if optimized.record.bolt_inputs.is_empty() {
            bail!(
                "the optimized build was made without BOLT mode; run `pgo-build all --bolt` to build the \
                 pipeline for BOLT"
            );
        }
        let workloads = |purpose| ctx.config.workloads_for(purpose).map(|w| WorkloadInput::of(ctx, w)).collect();
        Ok(BoltInputs {
            optimized: optimized.output.clone(),
            inputs: optimized.record.bolt_inputs.clone(),
            reference: optimized.record.binaries.clone(),
            tools,
            flags: optimization_flags(&ctx.config, options),
            mode: ctx.options.bolt_mode_of(options.mode),
            strip: ctx.profile_strip()?,
            training: workloads(Use::Train),
            checks: workloads(Use::Bench),
            check_output: ctx.config.workloads.iter().filter(|w| w.check_output).map(|w| w.name.clone()).collect(),
        })
    }

    fn intact(hashes: &HashCache, record: &BoltRecord) -> Result<(), String> {
        binaries_intact(hashes, &record.binaries)
    }

    fn summary(e: &Entry<BoltRecord>) -> String {
        let check = match &e.record.verification_failure {
            None => "checked".to_string(),
            Some(why) => format!("failed its check: {why}"),
        };
        format!(
            "rewritten {} in {}, {check}",
            crate::pipeline::fingerprint::ago(e.finished_at),
            crate::util::human_seconds(e.record.rewrite_s)
        )
    }

    fn output_id(record: &BoltRecord) -> String {
        binaries_id(&record.binaries)
    }

    fn explain(field: &str) -> String {
        match field {
            "optimized" => "the PGO build".into(),
            "tools" => "llvm-bolt".into(),
            "flags" => "llvm-bolt's flags".into(),
            "mode" => "--bolt-mode".into(),
            "training" => "the training workloads".into(),
            "checks" => "the benchmark workloads it is checked on".into(),
            "check_output" => "which workloads set check-output".into(),
            other => crate::pipeline::explain_field(other),
        }
    }

    fn dry_run(ctx: &Ctx, options: &BoltOptions, _: &State) -> Result<()> {
        let tools = ctx.bolt_tools(ctx.options.bolt_mode_of(options.mode))?;
        let input = PathBuf::from("<PGO build>");
        ctx.printer.would_run(&instrument_command(&tools, &input, &ctx.layout.bolt().join("work"), "<binary>"));
        Ok(())
    }

    fn run(ctx: &Ctx, inputs: &BoltInputs) -> Result<BoltRecord> {
        // BOLT works in `bolt/work/`; only a finished run replaces the binaries
        // in `bolt/`, so a failed one leaves the last good ones (and their record).
        let dir = ctx.layout.bolt();
        let rewritten = rewrite(
            ctx,
            &inputs.tools,
            &inputs.inputs,
            &inputs.reference,
            &inputs.flags,
            inputs.mode,
            inputs.strip,
            &dir.join("work"),
        )?;
        let before: Vec<Binary> = inputs.reference.iter().map(BinaryRecord::binary).collect();
        let verification_failure = match verify(ctx, "pgo", &before, &rewritten.binaries)? {
            Verified::Same => None,
            Verified::Differs(why) => {
                ctx.printer.warn(format!("{why}; the PGO binaries stay the result"));
                Some(why)
            }
        };
        let mut binaries = Vec::new();
        for b in &rewritten.binaries {
            let dest = dir.join(&b.name);
            copy_atomic(&b.path, &dest)?;
            binaries.push(BinaryRecord::of(&Binary { name: b.name.clone(), path: dest })?);
        }
        Ok(BoltRecord { binaries, flags: inputs.flags.clone(), rewrite_s: rewritten.seconds, verification_failure })
    }
}

/// What BOLT made.
struct Rewritten {
    binaries: Vec<Binary>,
    /// Instrument, train, merge and optimize: what BOLT adds to a build.
    seconds: f64,
}

/// BOLT's own pipeline, in `dir`: collect a profile of `inputs` (unstripped,
/// linked with relocations) on the training workloads, merge it, rewrite each
/// binary, strip it as the profile asks. `reference` are the binaries it
/// replaces, for the size comparison.
#[allow(clippy::too_many_arguments)]
fn rewrite(
    ctx: &Ctx,
    tools: &BoltTools,
    inputs: &[BinaryRecord],
    reference: &[BinaryRecord],
    flags: &[String],
    mode: BoltProfiling,
    strip: Strip,
    dir: &Path,
) -> Result<Rewritten> {
    let train: Vec<&Workload> = ctx.config.workloads_for(Use::Train).collect();
    let fdata_dir = dir.join("profiles");
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("could not empty {}", dir.display()))?;
    }
    std::fs::create_dir_all(&fdata_dir)?;
    let start = Instant::now();

    // 1. and 2.: per-process profiles, `<binary>.fdata.*` in fdata_dir.
    match mode {
        BoltProfiling::Instrument => collect_instrumented(ctx, tools, inputs, &train, dir)?,
        BoltProfiling::Perf => collect_sampled(ctx, tools, inputs, &train, dir, &fdata_dir)?,
    }

    // 3. Merge and 4. optimize, per binary.
    let mut binaries = Vec::new();
    for input in inputs {
        let fdata = merge_profiles(tools, &fdata_dir, &input.name, dir)?;
        let out = dir.join(&input.name);
        let cmd = Cmd::new(&tools.llvm_bolt)
            .arg(&input.path)
            .arg("-o")
            .arg(&out)
            .arg(format!("-data={}", fdata.display()))
            .args(flags);
        let report = run_bolt(ctx, &cmd, &input.path)?;
        crate::toolchain::strip(&ctx.rustc, &out, strip)?;
        let before = reference.iter().find(|b| b.name == input.name).context("reference binary missing")?;
        let size = std::fs::metadata(&out)?.len();
        ctx.printer.status(
            "bolt",
            format!(
                "{}: {} → {} ({:+.1}%); {}",
                input.name,
                human_size(before.size),
                human_size(size),
                (size as f64 / before.size.max(1) as f64 - 1.0) * 100.0,
                dyno_summary(&report)
            ),
        );
        binaries.push(Binary { name: input.name.clone(), path: out });
    }
    ctx.printer.status("bolt", format!("rewritten in {}", human_duration(start.elapsed())));
    Ok(Rewritten { binaries, seconds: start.elapsed().as_secs_f64() })
}

/// Runs `pgo-build bolt`: the BOLT stage, then (unless `--keep-bolt`) BOLT
/// measured against PGO on the benchmark workloads, then the delivery that
/// measurement decides.
pub fn command(ctx: &Ctx, args: &BoltCommandArgs) -> Result<()> {
    if args.no_pgo {
        return no_pgo::run(ctx, args);
    }
    let out_dir = crate::stage::deliver::out_dir(ctx, args.out_dir.as_deref())?;
    if crate::pipeline::run::<Bolt>(ctx, &args.bolt.options())? == crate::pipeline::Ran::DryRun {
        return Ok(());
    }
    let state = State::load(&ctx.layout.state_file())?;
    let walk = crate::pipeline::Walk::new(ctx, &state);
    let record = walk.current::<Bolt>()?;
    let evidence = if record.verification_failure.is_some() {
        Evidence::NotMeasured
    } else if args.bolt.keep_bolt {
        Evidence::KeepBolt
    } else {
        let pgo: Vec<Binary> =
            walk.current::<super::optimize::Optimize>()?.binaries.iter().map(BinaryRecord::binary).collect();
        let bolted: Vec<Binary> = record.binaries.iter().map(BinaryRecord::binary).collect();
        bolt_vs(ctx, "pgo", &pgo, &bolted, &args.measure)?
    };
    crate::stage::deliver::deliver(ctx, &out_dir, evidence)
}

/// Runs llvm-bolt, turning a failure into BOLT's own message plus a hint.
pub(super) fn run_bolt(ctx: &Ctx, cmd: &Cmd, input: &Path) -> Result<String> {
    ctx.printer.command(cmd);
    let out = cmd.capture()?;
    let text = format!("{}{}", out.stdout, out.stderr);
    if !out.outcome.success() {
        let errors: Vec<&str> =
            text.lines().filter(|l| l.contains("BOLT-ERROR") || l.contains("error")).take(8).collect();
        let shown = if errors.is_empty() { crate::process::last_lines(&text, 12) } else { errors.join("\n") };
        bail!("llvm-bolt failed on {} ({}):\n{shown}\n{}", input.display(), out.outcome, hint(&shown));
    }
    Ok(text)
}

fn hint(text: &str) -> &'static str {
    if text.contains("Unknown command line argument") {
        "Hint: this llvm-bolt does not know one of the flags; replace the flag set with `bolt-flags` in the config \
         or --bolt-flags (see docs/bolt.md for the defaults)."
    } else if text.contains("relocation") || text.contains("relocs") {
        "Hint: BOLT needs a binary linked with -Wl,--emit-relocs; run `pgo-build all --bolt` so every build is made for BOLT."
    } else if text.contains("static") || text.contains("musl") {
        "Hint: BOLT does not support this kind of binary (static or musl builds); use PGO alone."
    } else {
        "Hint: BOLT rejected the binary; PGO alone (`pgo-build all`) still works."
    }
}

/// The headline of BOLT's dyno-stats: how taken branches and executed
/// instructions changed.
fn dyno_summary(report: &str) -> String {
    let pick = |what: &str| {
        report
            .lines()
            .rev()
            .find(|l| l.contains(&format!(": {what} (")))
            .and_then(|l| l.split_once('(').map(|(_, r)| r.trim_end_matches(')').to_string()))
    };
    match (pick("taken branches"), pick("executed instructions")) {
        (Some(t), Some(i)) => format!("taken branches {t}, executed instructions {i}"),
        _ => "no dyno-stats reported".to_string(),
    }
}

#[cfg(test)]
mod tests;
