//! `pgo-build bolt`: reorder the PGO binaries' code layout with LLVM BOLT.
//!
//! The input is the unstripped PGO build of a BOLT-mode pipeline (`--bolt` or
//! `bolt = true`: every build of the pipeline has `strip = false` and the PGO build
//! is linked with `--emit-relocs`), so one cargo build serves as both the PGO
//! result and the BOLT input, and BOLT's own steps rewrite it in seconds:
//! instrument it (`llvm-bolt -instrument`, one profile file per process), run the
//! training workloads, `merge-fdata`, then optimize the layout. The output is
//! stripped the way the Cargo profile asks and delivered only after it has run the
//! benchmark workloads with the same exit statuses as the PGO binary. With
//! `--no-pgo` the input is a plain build of the profile instead (no instrumented
//! build, training run or merged profile needed).
//!
//! BOLT by default pads hot text to a 2 MiB huge-page boundary and keeps the old
//! code beside the new, which multiplies the size of a command-line binary; see
//! [`DEFAULT_FLAGS`] for the measured choice.

mod check;
mod collect;

use check::{bolt_is_faster, shown, verify};
use collect::{collect_instrumented, collect_sampled, instrument_command, merge_profiles};

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::cargo::{Binary, cargo_build};
use crate::config::{BoltMode, Use, Workload};
use crate::context::Ctx;
use crate::measure::MeasureArgs;
use crate::process::Cmd;
use crate::project::BuildKind;
use crate::state::{BinaryRecord, BoltRecord, OptimizeRecord, State, now};
use crate::toolchain::bolt;
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

/// How the BOLT step runs (on `bolt`, `optimize` and `all`).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "BOLT options")]
pub struct BoltArgs {
    /// Keep the BOLT binaries even when they are not faster than the PGO ones.
    #[arg(long)]
    pub keep_bolt: bool,
    /// Replace llvm-bolt's default optimization flags (comma-separated).
    #[arg(long, value_name = "FLAGS", value_delimiter = ',', allow_hyphen_values = true)]
    pub bolt_flags: Vec<String>,
    /// A flag to add after llvm-bolt's optimization flags; repeat for several.
    #[arg(long = "bolt-arg", value_name = "FLAG", allow_hyphen_values = true)]
    pub bolt_args: Vec<String>,
    /// How BOLT collects its profile [default: from the config, else instrument].
    #[arg(long, value_enum, value_name = "MODE")]
    pub bolt_mode: Option<BoltMode>,
    /// Leave out the function-splitting flags (-split-functions -split-all-cold
    /// -split-eh): measured +3.4% size instead of +10% on the demo, since BOLT
    /// then rewrites the unwind tables in place (also `bolt-split = false`).
    #[arg(long)]
    pub bolt_no_split: bool,
}

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

/// `pgo-build bolt`'s own arguments.
#[derive(Debug, Clone, Args)]
pub struct BoltCommandArgs {
    #[command(flatten)]
    pub bolt: BoltArgs,
    /// BOLT a plain build (the profile as it is, linked with relocations) instead
    /// of the PGO one: no instrumented build, training or merged profile needed.
    /// Its results go to <out>/no-pgo/, apart from the PGO pipeline's.
    #[arg(long)]
    pub no_pgo: bool,
    /// How BOLT is measured against PGO before it is kept.
    #[command(flatten)]
    pub measure: MeasureArgs,
}

/// The optimization flags: the command line's or the config's replacement set,
/// else the defaults; then the config's and the command line's additions.
fn optimization_flags(ctx: &Ctx, args: &BoltArgs) -> Vec<String> {
    let base: Vec<String> = if !args.bolt_flags.is_empty() {
        args.bolt_flags.clone()
    } else if !ctx.config.bolt_flags.is_empty() {
        ctx.config.bolt_flags.clone()
    } else {
        DEFAULT_FLAGS.iter().map(|f| f.to_string()).collect()
    };
    let split = !(args.bolt_no_split || ctx.config.bolt_split == Some(false));
    let base = base.into_iter().filter(|f| split || !SPLIT_FLAGS.contains(&f.as_str()));
    base.chain(ctx.config.bolt_args.iter().cloned()).chain(args.bolt_args.iter().cloned()).collect()
}

pub fn run(ctx: &Ctx, args: &BoltArgs, measure_args: &MeasureArgs, no_pgo: bool) -> Result<()> {
    let tools = bolt::discover(ctx.rustc.llvm_major, ctx.bolt_override.as_deref()).map_err(anyhow::Error::msg)?;
    if ctx.dry_run {
        let input = PathBuf::from(if no_pgo { "<plain build>" } else { "<PGO build>" });
        ctx.printer.would_run(&instrument_command(&tools, &input, &ctx.layout.root.join("bolt"), "<binary>"));
        return Ok(());
    }
    let mut state = State::load(&ctx.layout.state_file())?;
    let inputs = if no_pgo { String::new() } else { bolt_inputs(ctx, args, measure_args, &state)? };
    if let Some(rec) = state.bolt.as_ref().filter(|r| !no_pgo && !ctx.force && r.inputs == inputs)
        && rec.binaries.iter().all(BinaryRecord::unchanged)
        && state.require_optimize(ctx).is_ok()
    {
        crate::cache::skipped(ctx, "bolt", rec.finished_at);
        return Ok(());
    }
    if !no_pgo {
        // Whatever happens below, the PGO binaries are the result until a new BOLT
        // binary is delivered: undo an earlier delivery first.
        restore_pgo(ctx, &mut state)?;
    }
    let reference = if no_pgo { Reference::plain(ctx)? } else { Reference::pgo(state.require_optimize(ctx)?)? };
    let train: Vec<&Workload> = ctx.config.workloads_for(Use::Train).collect();
    // `--no-pgo` works apart, so it never empties the PGO pipeline's BOLT files.
    let dir = ctx.layout.root.join(if no_pgo { "bolt-no-pgo" } else { "bolt" });
    let fdata_dir = dir.join("profiles");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("could not empty {}", dir.display()))?;
    }
    std::fs::create_dir_all(&fdata_dir)?;
    let start = Instant::now();

    // 1. and 2.: per-process profiles, `<binary>.fdata.*` in fdata_dir.
    match args.bolt_mode.or(ctx.config.bolt_mode).unwrap_or_default() {
        BoltMode::Instrument => collect_instrumented(ctx, &tools, &reference.inputs, &train, &dir)?,
        BoltMode::Perf => collect_sampled(ctx, &tools, &reference.inputs, &train, &dir, &fdata_dir)?,
    }

    // 3. Merge and 4. optimize, per binary.
    let strip = ctx.profile_strip()?;
    let flags = optimization_flags(ctx, args);
    let mut results = Vec::new();
    for input in &reference.inputs {
        let fdata = merge_profiles(&tools, &fdata_dir, &input.name, &dir)?;
        let out = dir.join(&input.name);
        let cmd = Cmd::new(&tools.llvm_bolt)
            .arg(&input.path)
            .arg("-o")
            .arg(&out)
            .arg(format!("-data={}", fdata.display()))
            .args(&flags);
        let report = run_bolt(ctx, &cmd, &input.path)?;
        crate::toolchain::strip(&ctx.rustc, &out, strip)?;
        let before = reference.binaries.iter().find(|b| b.name == input.name).context("reference binary missing")?;
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
        results.push(Binary { name: input.name.clone(), path: out });
    }

    // What BOLT adds to a build: instrument, train, merge, optimize (the checks
    // below are not part of it).
    let rewrite_s = start.elapsed().as_secs_f64();
    ctx.printer.status("bolt", format!("rewritten in {}", human_duration(start.elapsed())));

    // 5. Verify before delivering.
    let before: Vec<Binary> = reference.binaries.iter().map(BinaryRecord::binary).collect();
    verify(ctx, reference.label, &before, &results)?;
    let faster = args.keep_bolt || bolt_is_faster(ctx, &reference, &results, measure_args)?;
    if !faster {
        // Not delivered, but kept for `compare`'s pgo+bolt variant. A `--no-pgo`
        // run is no part of the PGO pipeline and leaves its record alone.
        if !no_pgo {
            state.bolt = Some(BoltRecord {
                inputs,
                optimize_profile_sha256: reference.profile_sha256.clone(),
                binaries: results.iter().map(BinaryRecord::of).collect::<Result<_>>()?,
                delivered: false,
                flags,
                rewrite_s,
                elapsed_s: start.elapsed().as_secs_f64(),
                finished_at: now(),
            });
            state.save(&ctx.layout.state_file())?;
        }
        return Ok(());
    }

    // 6. Deliver: the BOLT binary takes the binary's name; the one it was made
    // from is kept in <out>/<label>/ (for PGO, moved there and recorded).
    let kept_dir = reference.out_dir.join(reference.label);
    let mut delivered = Vec::new();
    let mut optimize_record = state.optimize.clone();
    for b in &results {
        if let Some(rec) = optimize_record.as_mut().filter(|_| !no_pgo)
            && let Some(pgo) = rec.binaries.iter_mut().find(|p| p.name == b.name)
        {
            let kept = kept_dir.join(&pgo.name);
            if pgo.path != kept {
                std::fs::create_dir_all(&kept_dir)?;
                std::fs::rename(&pgo.path, &kept).with_context(|| format!("could not move {}", pgo.path.display()))?;
                pgo.path = kept;
            }
        }
        let dest = reference.out_dir.join(&b.name);
        copy_atomic(&b.path, &dest)?;
        delivered.push(BinaryRecord::of(&Binary { name: b.name.clone(), path: dest })?);
    }
    if !no_pgo {
        state.optimize = optimize_record;
        state.bolt = Some(BoltRecord {
            inputs,
            optimize_profile_sha256: reference.profile_sha256.clone(),
            binaries: delivered,
            delivered: true,
            flags,
            rewrite_s,
            elapsed_s: start.elapsed().as_secs_f64(),
            finished_at: now(),
        });
        state.save(&ctx.layout.state_file())?;
    }
    ctx.printer.status(
        "bolt",
        format!(
            "done in {}; the BOLT binaries are in {} (the {} ones in {})",
            human_duration(start.elapsed()),
            reference.out_dir.display(),
            shown(reference.label),
            kept_dir.display()
        ),
    );
    Ok(())
}

/// What the BOLT stage reads: the PGO build it rewrites, the training workloads,
/// the flags and how the result is judged.
fn bolt_inputs(ctx: &Ctx, args: &BoltArgs, measure: &MeasureArgs, state: &State) -> Result<String> {
    let Some(opt) = &state.optimize else { return Ok(String::new()) };
    let mut parts: Vec<(String, String)> = vec![
        ("optimized".into(), opt.bolt_inputs.iter().map(|b| b.sha256.as_str()).collect::<Vec<_>>().join(",")),
        ("flags".into(), optimization_flags(ctx, args).join(" ")),
        ("mode".into(), format!("{:?}", args.bolt_mode.or(ctx.config.bolt_mode).unwrap_or_default())),
        ("keep".into(), format!("{} {measure:?}", args.keep_bolt)),
    ];
    parts.extend(ctx.config.workloads_for(Use::Train).map(|w| (w.name.clone(), crate::cache::workload(ctx, w))));
    parts.extend(ctx.config.workloads_for(Use::Bench).map(|w| (w.name.clone(), crate::cache::workload(ctx, w))));
    Ok(crate::cache::fingerprint(&parts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect::<Vec<_>>()))
}

/// What BOLT rewrites and must beat: the PGO build, or with `--no-pgo` a plain one.
struct Reference {
    /// `pgo` or `plain`: the variant's name in messages and the folder it is kept in.
    label: &'static str,
    /// Unstripped, linked with relocations: BOLT's input.
    inputs: Vec<BinaryRecord>,
    /// The same binaries as delivered (stripped as the profile asks).
    binaries: Vec<BinaryRecord>,
    out_dir: PathBuf,
    /// The PGO profile they were built with (empty for a plain build).
    profile_sha256: String,
}

impl Reference {
    fn pgo(optimized: &OptimizeRecord) -> Result<Reference> {
        if optimized.bolt_inputs.is_empty() {
            bail!("the optimized build was not made for BOLT; run `pgo-build all --bolt`");
        }
        Ok(Reference {
            label: "pgo",
            inputs: optimized.bolt_inputs.clone(),
            binaries: optimized.binaries.clone(),
            out_dir: optimized.out_dir.clone(),
            profile_sha256: optimized.profile_sha256.clone(),
        })
    }

    /// Builds the profile as it is, linked with relocations, and keeps a copy
    /// stripped as the profile asks in `<out>/plain/`.
    fn plain(ctx: &Ctx) -> Result<Reference> {
        ctx.printer.status("bolt", format!("building {} without PGO, linked with relocations", ctx.settings.package));
        let built = cargo_build(ctx, BuildKind::BoltInput, &["-Clink-arg=-Wl,--emit-relocs".to_string()])?;
        let strip = ctx.profile_strip()?;
        let out_dir = ctx.layout.default_out_dir().join("no-pgo");
        let mut inputs = Vec::new();
        let mut binaries = Vec::new();
        for b in &built.binaries {
            inputs.push(BinaryRecord::of(b)?);
            let dest = out_dir.join("plain").join(&b.name);
            copy_atomic(&b.path, &dest)?;
            crate::toolchain::strip(&ctx.rustc, &dest, strip)?;
            binaries.push(BinaryRecord::of(&Binary { name: b.name.clone(), path: dest })?);
        }
        Ok(Reference { label: "plain", inputs, binaries, out_dir, profile_sha256: String::new() })
    }
}

/// Undoes an earlier BOLT delivery: the PGO binaries go back to `<out>/<name>`.
fn restore_pgo(ctx: &Ctx, state: &mut State) -> Result<()> {
    let Some(rec) = state.optimize.as_mut() else { return Ok(()) };
    let mut changed = state.bolt.take().is_some();
    for b in &mut rec.binaries {
        let home = rec.out_dir.join(&b.name);
        if b.path != home && b.path.is_file() {
            std::fs::rename(&b.path, &home).with_context(|| format!("could not move {}", b.path.display()))?;
            b.path = home;
            changed = true;
        }
    }
    if changed {
        state.save(&ctx.layout.state_file())?;
    }
    Ok(())
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
mod tests {
    use super::*;

    #[test]
    fn reads_dyno_stats() {
        let report = "  3400047 : taken branches (-26.1%)\n  51002059 : executed instructions (-0.0%)\n";
        assert_eq!(dyno_summary(report), "taken branches -26.1%, executed instructions -0.0%");
    }
}
