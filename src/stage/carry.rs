//! `optimize --profile-from`: a profile trained on another target, carried to
//! this one (see `carry` for how functions are matched).
//!
//! The stage reads the source profile as text, checks that it profiles this
//! project at all (before any build), builds the target once with a profile that
//! fits nothing so that rustc names every function with its CFG hash (with
//! `-vv`, which makes cargo show the dependencies' messages too, and `-Clto=off`
//! appended to the rustflags, which leaves the names alone and skips the long
//! link), renames what matches, and writes `profiles/carried/carried-<hash>.profdata`
//! with the coverage in its record. `--min-coverage` is a gate of the commands,
//! not an input: changing it does not redo the work.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::build::{BuildSpec, Flags, cargo_build_for, cargo_command_for};
use crate::cargo::profile_warnings;
use crate::carry::proftext::TextProfile;
use crate::carry::{Coverage, TargetFunction, carry, probe_profile_text};
use crate::context::Ctx;
use crate::functions::{crate_of, percent};
use crate::pipeline::fingerprint::{BuildInputs, Fingerprint, build_files, compiled_sources};
use crate::pipeline::{Stage, StageId};
use crate::project::{BuildKind, Layout};
use crate::state::{CarryRecord, Entry, State};
use crate::util::hashes::HashCache;
use crate::util::{human_duration, sha256_file, write_atomic};

/// Exit code of `--min-coverage` (docs/config.md).
pub const BELOW_MIN_COVERAGE: u8 = 7;

/// Where the profile to carry comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileFrom {
    File(PathBuf),
    /// The merged profile of this project's pipeline for that target.
    Target(String),
}

impl ProfileFrom {
    /// A file when one is there; else a target triple (`arch-vendor-os…`).
    pub fn parse(text: &str) -> Result<ProfileFrom> {
        let path = Path::new(text);
        if path.is_file() {
            return Ok(ProfileFrom::File(std::path::absolute(path)?));
        }
        if !text.contains(['/', '\\', '.']) && text.split('-').count() >= 2 {
            return Ok(ProfileFrom::Target(text.to_string()));
        }
        bail!(
            "--profile-from {text}: no such profile file, and not a target triple; name a profile written by \
             `pgo-build merge --output FILE`, or a target this project was trained for here"
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CarryOptions {
    pub from: Option<ProfileFrom>,
}

/// The carry stage.
#[derive(Debug)]
pub struct Carry;

#[derive(Debug, Serialize)]
pub struct CarryInputs {
    #[serde(flatten)]
    pub build: BuildInputs,
    pub source: PathBuf,
    pub source_sha256: String,
    pub source_target: Option<String>,
    pub keep_c: bool,
}

impl Stage for Carry {
    const ID: StageId = StageId::Carry;
    type Options = CarryOptions;
    type Inputs = CarryInputs;
    type Record = CarryRecord;

    fn slot(state: &State) -> Option<&Entry<CarryRecord>> {
        state.carry.as_ref()
    }

    fn slot_mut(state: &mut State) -> &mut Option<Entry<CarryRecord>> {
        &mut state.carry
    }

    fn upstream(_: &CarryOptions) -> Option<StageId> {
        None
    }

    fn resolve(ctx: &Ctx, options: &CarryOptions, _: &State) -> Result<CarryInputs> {
        let from = options.from.as_ref().context("no profile to carry; name one with --profile-from")?;
        let (source, source_target) = source_profile(ctx, from)?;
        Ok(CarryInputs {
            build: BuildInputs::of(ctx),
            source_sha256: sha256_file(&source).with_context(|| format!("could not read {}", source.display()))?,
            source,
            source_target,
            keep_c: ctx.settings.c_compiler.is_some(),
        })
    }

    fn watched(ctx: &Ctx, _: &CarryInputs, last: Option<&CarryRecord>) -> Vec<PathBuf> {
        build_files(ctx, last.map_or(&[][..], |r| &r.source_files))
    }

    fn intact(hashes: &HashCache, record: &CarryRecord) -> Result<(), String> {
        match hashes.sha256_hex(&record.profile) {
            Some(h) if h == record.sha256 => Ok(()),
            _ => Err(format!("the carried profile {} is missing or changed", record.profile.display())),
        }
    }

    fn stale_reason(ctx: &Ctx, old: &Fingerprint, new: &Fingerprint) -> String {
        BuildInputs::stale_reason::<Self>(ctx, old, new)
    }

    fn summary(e: &Entry<CarryRecord>) -> String {
        let r = &e.record;
        let from = r.source_target.as_deref().map_or_else(|| r.source.display().to_string(), str::to_string);
        format!(
            "carried {} from {from}: {} of the counts, {} of {} functions",
            crate::pipeline::fingerprint::ago(e.finished_at),
            percent(r.coverage.total.percent()),
            r.coverage.total.carried_functions,
            r.coverage.total.functions
        )
    }

    fn output_id(record: &CarryRecord) -> String {
        record.sha256.clone()
    }

    fn explain(field: &str) -> String {
        match field {
            "source" | "source_sha256" => "the profile carried".into(),
            "source_target" => "the target the profile was trained on".into(),
            "keep_c" => "C/C++ PGO".into(),
            "files" => "the files it read (sources, manifests, Cargo.lock, cargo config)".into(),
            other => crate::pipeline::explain_field(other),
        }
    }

    fn dry_run(ctx: &Ctx, _: &CarryOptions, _: &State) -> Result<()> {
        let probe = ctx.layout.carried().join("probe.profdata");
        ctx.printer.would_run(&cargo_command_for(ctx, &probe_spec(ctx), &probe_flags(ctx, &probe)));
        Ok(())
    }

    fn run(ctx: &Ctx, inputs: &CarryInputs) -> Result<CarryRecord> {
        let profdata = ctx.profdata()?;
        let dir = ctx.layout.carried();
        std::fs::create_dir_all(&dir)?;
        let source_text = dir.join("source.proftext");
        let cmd = profdata.to_text(&inputs.source, &source_text);
        ctx.printer.command(&cmd);
        cmd.read().with_context(|| format!("llvm-profdata could not read {}", inputs.source.display()))?;
        let source = TextProfile::parse(&std::fs::read_to_string(&source_text)?)?;
        profiles_this_project(ctx, &source, &inputs.source)?;

        // The probe: a build whose profile fits nothing, so rustc names every function.
        let probe = dir.join("probe.profdata");
        let probe_text = dir.join("probe.proftext");
        write_atomic(&probe_text, probe_profile_text().as_bytes())?;
        profdata.to_indexed(&probe_text, &probe).read()?;
        ctx.printer.status(
            "carry",
            format!("building {} for {} to list its functions", ctx.settings.package, ctx.target.triple),
        );
        let built = cargo_build_for(ctx, &probe_spec(ctx), &probe_flags(ctx, &probe))?;
        let warnings: Vec<_> = built.diagnostics.iter().filter_map(|d| profile_warnings::parse(&d.message)).collect();
        let functions = TargetFunction::from_warnings(&warnings);
        let carried = carry(&source, &functions, inputs.keep_c);
        let coverage = carried.coverage;
        describe(ctx, &coverage);
        if carried.records.is_empty() {
            bail!(
                "none of the {} functions of {} could be carried to {} ({}): the profile does not fit this \
                 project's code for that target; train on that target, or carry a profile of this project",
                coverage.total.functions,
                inputs.source.display(),
                ctx.target.triple,
                reasons(&coverage)
            );
        }

        let text = source.render(&carried.records);
        let carried_text = dir.join("carried.proftext");
        write_atomic(&carried_text, text.as_bytes())?;
        let staged = dir.join("carried.profdata.tmp");
        let cmd = profdata.to_indexed(&carried_text, &staged);
        ctx.printer.command(&cmd);
        cmd.read().context("llvm-profdata could not write the carried profile")?;
        let sha256 = sha256_file(&staged)?;
        let profile = dir.join(format!("carried-{}.profdata", &sha256[..16]));
        std::fs::rename(&staged, &profile)?;
        ctx.printer.status(
            "carry",
            format!(
                "wrote {} (the build listing the functions took {})",
                profile.display(),
                human_duration(built.elapsed)
            ),
        );
        Ok(CarryRecord {
            source_files: compiled_sources(&built.binaries.iter().map(|b| b.path.clone()).collect::<Vec<_>>()),
            source: inputs.source.clone(),
            source_sha256: inputs.source_sha256.clone(),
            source_target: inputs.source_target.clone(),
            profile,
            sha256,
            coverage,
        })
    }
}

/// The profile file `from` names, and the target it was trained on when known.
fn source_profile(ctx: &Ctx, from: &ProfileFrom) -> Result<(PathBuf, Option<String>)> {
    match from {
        ProfileFrom::File(path) => Ok((path.clone(), None)),
        ProfileFrom::Target(triple) if *triple == ctx.target.triple => bail!(
            "--profile-from {triple} names the target being built; build from its own profile instead \
             (`pgo-build --target {triple} all`)"
        ),
        ProfileFrom::Target(triple) => {
            let layout = Layout::of(&ctx.project.target_dir, triple, &ctx.rustc.host);
            let state = State::load(&layout.state_file()).ok();
            match state.and_then(|s| s.merge).map(|m| m.record.profile) {
                Some(profile) if profile.is_file() => Ok((profile, Some(triple.clone()))),
                _ => bail!(
                    "there is no merged profile of {triple} for this project in {}: train that target first \
                     (`pgo-build --target {triple} all --no-compare`), or name a profile file",
                    layout.root.display()
                ),
            }
        }
    }
}

/// Fails, before any build, when no function of the profile belongs to a crate
/// of this workspace: a profile of another project carries nothing.
fn profiles_this_project(ctx: &Ctx, source: &TextProfile, path: &Path) -> Result<()> {
    let crates: Vec<String> =
        ctx.project.members.iter().flat_map(|p| p.targets.iter().map(|t| t.name.replace('-', "_"))).collect();
    let ours = |name: &str| crate_of(name).is_some_and(|c| crates.contains(&c));
    if source.records.iter().any(|r| ours(&r.name)) {
        return Ok(());
    }
    bail!(
        "the profile {} has no function of this workspace's crates ({}), so nothing of it can be carried: it was \
         trained on another project; carry a profile of this one",
        path.display(),
        crates.join(", ")
    )
}

/// The probe build: the optimized build's settings (so the names are the
/// same), every crate's messages, its own target directory.
fn probe_spec(ctx: &Ctx) -> BuildSpec {
    BuildSpec {
        label: BuildKind::CarryProbe.dir_name().to_string(),
        target_dir: ctx.layout.cargo_target(BuildKind::CarryProbe),
        dependency_warnings: true,
        ..BuildSpec::pipeline(ctx, BuildKind::Optimized)
    }
}

fn probe_flags(ctx: &Ctx, probe: &Path) -> Flags {
    let mut rust = crate::cargo::flags::profile_use(ctx.bolt, probe);
    rust.push("-Clto=off".to_string());
    Flags { rust, c: None }
}

/// Why functions were not carried: `12 not on the target, 3 …`.
fn reasons(coverage: &Coverage) -> String {
    let parts: Vec<String> =
        coverage.reasons.iter().map(|(r, lost)| format!("{} {}", lost.functions, r.describe())).collect();
    if parts.is_empty() { "no reason recorded".into() } else { parts.join(", ") }
}

/// The coverage in the terminal: the total, each crate, the hottest misses.
pub fn describe(ctx: &Ctx, c: &Coverage) {
    ctx.printer.status(
        "carry",
        format!(
            "{} of the profile's counts carried to {} ({} of {} functions; {} of the target's {} functions \
             have data)",
            percent(c.total.percent()),
            ctx.target.triple,
            c.total.carried_functions,
            c.total.functions,
            c.target_functions_with_data,
            c.target_functions
        ),
    );
    let whole = c.total.counts.max(1) as f64;
    let lost: Vec<String> = c
        .reasons
        .iter()
        .filter(|(_, l)| l.counts > 0)
        .map(|(r, l)| {
            format!("{} {} ({} functions)", percent(100.0 * l.counts as f64 / whole), r.describe(), l.functions)
        })
        .collect();
    if !lost.is_empty() {
        ctx.printer.note(format!("not carried: {}", lost.join(", ")));
    }
    let legacy = 100.0 * c.ambiguous_legacy_counts as f64 / whole;
    if legacy >= 1.0 {
        ctx.printer.note(format!(
            "{} of the counts are in instances of generic functions that legacy symbol names do not tell apart; \
             train and build both targets with v0 names to carry them (RUSTFLAGS=-Csymbol-mangling-version=v0)",
            percent(legacy)
        ));
    }
    if c.averaged_copies > 0 {
        ctx.printer.note(format!(
            "{} copies of inline functions in other codegen units carried as their average",
            c.averaged_copies
        ));
    }
    for g in c.groups.iter().filter(|g| g.share.counts > 0).take(8) {
        ctx.printer.note(format!(
            "{:>8}  {} ({} of {} functions)",
            percent(g.share.percent()),
            g.name,
            g.share.carried_functions,
            g.share.functions
        ));
    }
    for u in c.hot_uncarried.iter().take(5) {
        ctx.printer.note(format!("  {} ({} counts; {})", u.name, u.count, u.reason.describe()));
    }
}
