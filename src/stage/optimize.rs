//! `pgo-build optimize`: rebuild with `-Cprofile-use` and deliver the binaries.
//!
//! rustc does not fail when a profile does not fit the code; it warns once per
//! function (with `-pgo-warn-missing-function`) and optimizes without it. A profile
//! that fits nothing (a different `strip`, `debug` or `panic` setting between the
//! two builds changes every symbol name) therefore yields a binary that is "PGO
//! optimized" in name only. So the warnings are counted, and above a threshold the
//! stage fails and says why, instead of delivering that binary.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use serde::{Deserialize, Serialize};

use super::carry::{Carry, CarryOptions, ProfileFrom};
use crate::build::{BuildSpec, Diagnostic, Flags, cargo_build_for, cargo_command};
use crate::cargo::c_code::{CCoverage, CPgo};
use crate::cargo::cargo_config::Strip;
use crate::cargo::profile_warnings::{self, ProfileWarnings};
use crate::cli::{DEFAULT_MAX_UNPROFILED, OptimizeArgs};
use crate::context::Ctx;
use crate::pipeline::fingerprint::{BuildInputs, Fingerprint, build_files, compiled_sources};
use crate::pipeline::{Stage, StageId};
use crate::project::BuildKind;
use crate::stage::deliver::Evidence;
use crate::state::{BinaryRecord, Entry, OptimizeRecord, State, binaries_id, binaries_intact};
use crate::toolchain::profdata::show::read_listing;
use crate::util::hashes::HashCache;
use crate::util::{copy_atomic, human_duration, human_size, plural, sha256_file};

impl OptimizeArgs {
    pub fn options(&self) -> OptimizeOptions {
        OptimizeOptions {
            profile: self.profile_file.clone(),
            max_unprofiled: self.max_unprofiled,
            carried: self.profile_from.is_some(),
        }
    }

    /// With `--profile-from`: carries the profile to this target, and says
    /// whether the build may go on (`Some(exit code)` when `--min-coverage`
    /// stops it).
    pub fn carry(&self, ctx: &Ctx) -> Result<Option<u8>> {
        let Some(from) = &self.profile_from else {
            if self.min_coverage.is_some() {
                bail!("--min-coverage only applies to a carried profile: add --profile-from FILE|TRIPLE");
            }
            return Ok(None);
        };
        let options = CarryOptions { from: Some(ProfileFrom::parse(from)?) };
        crate::pipeline::run::<Carry>(ctx, &options)?;
        let (Some(min), false) = (self.min_coverage, ctx.dry_run) else { return Ok(None) };
        let state = State::load(&ctx.layout.state_file())?;
        let carried = crate::pipeline::Walk::new(ctx, &state).current::<Carry>()?;
        let share = carried.coverage.total.percent();
        if share >= min {
            return Ok(None);
        }
        ctx.printer.warn(format!(
            "only {} of the profile's counts could be carried to {}, less than --min-coverage {min}% allows, so \
             the optimized build was not made; train on that target (natively or under an emulator) instead, or \
             carry a profile of the same code (`pgo-build status` shows the coverage)",
            crate::functions::percent(share),
            ctx.target.triple
        ));
        Ok(Some(super::carry::BELOW_MIN_COVERAGE))
    }
}

/// Runs `pgo-build optimize`: with `--profile-from` the carry stage first, the
/// optimize stage, in BOLT mode the BOLT stage after it (unmeasured: `pgo-build
/// bolt` or `compare` measure it), then the delivery.
pub fn command(ctx: &Ctx, args: &OptimizeArgs) -> Result<u8> {
    args.bolt.require_bolt_mode(ctx.bolt)?;
    let out_dir = crate::stage::deliver::out_dir(ctx, args.out_dir.as_deref())?;
    ctx.check_build_target()?;
    if let Some(code) = args.carry(ctx)? {
        return Ok(code);
    }
    crate::pipeline::run::<Optimize>(ctx, &args.options())?;
    if ctx.bolt {
        crate::pipeline::run::<super::bolt::Bolt>(ctx, &args.bolt.options())?;
    }
    let evidence = if args.bolt.keep_bolt { Evidence::KeepBolt } else { Evidence::NotMeasured };
    crate::stage::deliver::deliver(ctx, &out_dir, evidence)?;
    Ok(0)
}

/// The optimize stage.
#[derive(Debug)]
pub struct Optimize;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizeOptions {
    /// A stored profile to build from instead of the pipeline's merged one.
    pub profile: Option<PathBuf>,
    pub max_unprofiled: f64,
    /// Build from the carry stage's profile (`--profile-from`).
    #[serde(default)]
    pub carried: bool,
}

impl Default for OptimizeOptions {
    fn default() -> Self {
        OptimizeOptions { profile: None, max_unprofiled: DEFAULT_MAX_UNPROFILED, carried: false }
    }
}

#[derive(Debug, Serialize)]
pub struct OptimizeInputs {
    #[serde(flatten)]
    pub build: BuildInputs,
    pub profile: ProfileSource,
    /// pgo-build's rustflags for the build.
    pub flags: Vec<String>,
    /// clang's flags for the C/C++ code, when it is profiled too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_flags: Option<Vec<String>>,
    pub max_unprofiled: f64,
    /// How the delivered binaries are stripped (BOLT mode strips them itself).
    pub strip: Option<Strip>,
    /// The merged profile came from a lean instrumented build (`cargo::lean`);
    /// said when functions are left without data. Not an input of its own.
    #[serde(skip)]
    pub lean_profile: bool,
}

impl Stage for Optimize {
    const ID: StageId = StageId::Optimize;
    type Options = OptimizeOptions;
    type Inputs = OptimizeInputs;
    type Record = OptimizeRecord;

    fn slot(state: &State) -> Option<&Entry<OptimizeRecord>> {
        state.optimize.as_ref()
    }

    fn slot_mut(state: &mut State) -> &mut Option<Entry<OptimizeRecord>> {
        &mut state.optimize
    }

    fn upstream(options: &OptimizeOptions) -> Option<StageId> {
        // A stored profile needs no instrumented build, training or merge.
        match (&options.profile, options.carried) {
            (Some(_), _) => None,
            (None, true) => Some(StageId::Carry),
            (None, false) => Some(StageId::Merge),
        }
    }

    fn resolve(ctx: &Ctx, options: &OptimizeOptions, state: &State) -> Result<OptimizeInputs> {
        let profile = match &options.profile {
            Some(file) => ProfileSource::stored(ctx, file)?,
            None if options.carried => {
                let carry = &state.carry.as_ref().context("no carried profile; run with --profile-from")?.record;
                ProfileSource {
                    path: carry.profile.clone(),
                    sha256: carry.sha256.clone(),
                    functions: carry.coverage.total.carried_functions,
                    stored: false,
                    carried: true,
                }
            }
            None => {
                let merge = &state.merge.as_ref().context("no merged profile; run `pgo-build merge` first")?.record;
                ProfileSource {
                    path: merge.profile.clone(),
                    sha256: merge.sha256.clone(),
                    functions: merge.functions,
                    stored: false,
                    carried: false,
                }
            }
        };
        let flags = Flags::profile_use(ctx, &profile.path);
        Ok(OptimizeInputs {
            build: BuildInputs::of(ctx),
            flags: flags.rust,
            c_flags: flags.c,
            max_unprofiled: options.max_unprofiled,
            strip: if ctx.bolt { Some(ctx.profile_strip()?) } else { None },
            lean_profile: !profile.stored
                && !profile.carried
                && state.instrument.as_ref().is_some_and(|e| e.record.lean),
            profile,
        })
    }

    fn watched(ctx: &Ctx, _: &OptimizeInputs, last: Option<&OptimizeRecord>) -> Vec<PathBuf> {
        build_files(ctx, last.map_or(&[][..], |r| &r.source_files))
    }

    fn intact(hashes: &HashCache, record: &OptimizeRecord) -> Result<(), String> {
        binaries_intact(hashes, &record.binaries).and_then(|()| binaries_intact(hashes, &record.bolt_inputs))
    }

    fn stale_reason(ctx: &Ctx, old: &Fingerprint, new: &Fingerprint) -> String {
        BuildInputs::stale_reason::<Self>(ctx, old, new)
    }

    fn summary(e: &Entry<OptimizeRecord>) -> String {
        let r = &e.record;
        if r.carried_profile {
            return format!(
                "built {} from the carried profile {} ({} functions of the target without data, {} mismatched)",
                crate::pipeline::fingerprint::ago(e.finished_at),
                r.profile.display(),
                r.unprofiled_functions,
                r.mismatched_functions
            );
        }
        let from = if r.stored_profile {
            format!("the stored profile {}", r.profile.display())
        } else {
            "the merged profile".to_string()
        };
        format!(
            "built {} from {from} ({} of the profile's functions without data, {} mismatched)",
            crate::pipeline::fingerprint::ago(e.finished_at),
            r.unprofiled_functions,
            r.mismatched_functions
        )
    }

    fn output_id(record: &OptimizeRecord) -> String {
        let all: Vec<BinaryRecord> = record.binaries.iter().chain(&record.bolt_inputs).cloned().collect();
        binaries_id(&all)
    }

    fn explain(field: &str) -> String {
        match field {
            "profile" => "the profile".into(),
            "flags" => "pgo-build's rustflags for the build".into(),
            "max_unprofiled" => "--max-unprofiled".into(),
            "strip" => "the profile's strip setting".into(),
            "files" => "the files it read (sources, manifests, Cargo.lock, cargo config)".into(),
            other => crate::pipeline::explain_field(other),
        }
    }

    fn dry_run(ctx: &Ctx, options: &OptimizeOptions, state: &State) -> Result<()> {
        let profile = match (&options.profile, &state.merge) {
            (Some(file), _) => file.clone(),
            (None, Some(m)) => m.record.profile.clone(),
            (None, None) => PathBuf::from("<merged profile>"),
        };
        ctx.printer.would_run(&cargo_command(ctx, BuildKind::Optimized, &Flags::profile_use(ctx, &profile)));
        Ok(())
    }

    fn run(ctx: &Ctx, inputs: &OptimizeInputs) -> Result<OptimizeRecord> {
        let source = &inputs.profile;
        ctx.printer.status(
            "optimize",
            format!("building {} with -Cprofile-use={}", ctx.settings.package, source.path.display()),
        );
        let flags = Flags { rust: inputs.flags.clone(), c: inputs.c_flags.clone() };
        // A carried profile is checked in every crate: dependencies' messages too.
        let spec = BuildSpec { dependency_warnings: source.carried, ..BuildSpec::pipeline(ctx, BuildKind::Optimized) };
        let built = cargo_build_for(ctx, &spec, &flags)?;
        let c = c_coverage(ctx, &source.path)?;
        // The share is of the Rust functions: clang's warnings are C's own.
        let rust_functions = source.functions - c.as_ref().map_or(0, |c| c.in_profile);

        let warnings = ProfileWarnings::from_messages(built.diagnostics.iter().map(|d| d.message.as_str()));
        let profiled = rust_functions.max(1) as f64;
        let share = (100.0 * warnings.unprofiled.len() as f64 / profiled).min(100.0);
        // A carried profile's gate is its coverage (carry's --min-coverage): the
        // target's functions without data are those not carried, plus the
        // dependencies' that `-vv` lists, a different set from the profile's.
        if share > inputs.max_unprofiled && !source.carried {
            let examples: Vec<&String> = warnings.unprofiled.iter().take(3).collect();
            bail!(
                "rustc found no profile data for {} functions ({share:.0}% of the {} in the profile; the limit is {}%), \
                 so this build would not be profile-guided at all: the profile does not fit these functions. Likely \
                 causes: the sources changed a lot since training; a flag that changes symbol names (such as \
                 `-Cmetadata`, or rustflags in a cargo config file or CARGO_TARGET_<TRIPLE>_RUSTFLAGS) differs \
                 between the builds, since cargo hashes such settings into every symbol name; or the profile came \
                 from another project. Run `pgo-build all` to rebuild everything from one set of settings. \
                 Examples: {}",
                warnings.unprofiled.len(),
                rust_functions,
                inputs.max_unprofiled,
                examples.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            );
        }

        // The stage's own folder: the PGO binaries as delivered. In BOLT mode the
        // build is unstripped (BOLT needs the symbols), so they are stripped here
        // the way the profile asks, and the unstripped ones are BOLT's input.
        let dir = ctx.layout.optimized();
        let mut binaries = Vec::new();
        let mut bolt_inputs = Vec::new();
        for b in &built.binaries {
            // The file's own name: `.exe` stays on a Windows binary.
            let dest = dir.join(b.path.file_name().unwrap_or(b.name.as_ref()));
            copy_atomic(&b.path, &dest)?;
            if let Some(mode) = inputs.strip {
                crate::toolchain::strip(&ctx.rustc, &dest, mode)?;
                bolt_inputs.push(BinaryRecord::of(b)?);
            }
            let record = BinaryRecord::of(&crate::cargo::Binary { name: b.name.clone(), path: dest })?;
            ctx.printer.note(format!("{} ({})", record.path.display(), human_size(record.size)));
            binaries.push(record);
        }
        let language = if c.is_some() { "Rust: " } else { "" };
        let line = if source.carried {
            format!(
                "{language}{} carried functions; {} functions of the target (dependencies included) without \
                 profile data, {} with a hash mismatch",
                rust_functions,
                warnings.unprofiled.len(),
                warnings.mismatched.len()
            )
        } else {
            format!(
                "{language}{} of {} profiled functions without profile data, {} with a hash mismatch",
                warnings.unprofiled.len(),
                rust_functions,
                warnings.mismatched.len()
            )
        };
        ctx.printer.status("optimize", line);
        match (&c, &ctx.c_pgo) {
            (Some(c), _) => ctx.printer.status("optimize", c.describe()),
            (None, off @ CPgo::Off { .. }) => ctx.printer.warn(off.describe()),
            _ => {}
        }
        let carried_unused = if source.carried { carried_unused(ctx, &source.path, &built.diagnostics)? } else { 0 };
        if carried_unused > 0 {
            ctx.printer.warn(format!(
                "rustc used no data for {} of the carried profile; they were optimized without it",
                plural(carried_unused, "function", "functions")
            ));
        }
        if inputs.lean_profile && !warnings.unprofiled.is_empty() {
            ctx.printer.note(format!(
                "the profile comes from a lean instrumented build (LTO skipped, which keeps every name); if a full \
                 one leaves fewer than these {} functions without data, set `lean-instrument = false`",
                warnings.unprofiled.len()
            ));
        }
        if !warnings.mismatched.is_empty() {
            ctx.printer.warn(format!(
                "{} changed since the profile was collected and were optimized without it; \
                 run `pgo-build all` (or instrument, train and merge) to refresh the profile",
                plural(warnings.mismatched.len(), "function", "functions")
            ));
        }
        ctx.printer.status("optimize", format!("built in {}", human_duration(built.elapsed)));
        Ok(OptimizeRecord {
            source_files: compiled_sources(&built.binaries.iter().map(|b| b.path.clone()).collect::<Vec<_>>()),
            settings: ctx.settings.clone(),
            profile: source.path.clone(),
            profile_sha256: source.sha256.clone(),
            stored_profile: source.stored,
            carried_profile: source.carried,
            carried_unused,
            binaries,
            unprofiled_functions: warnings.unprofiled.len(),
            mismatched_functions: warnings.mismatched.len(),
            bolt_inputs,
            c_coverage: c,
        })
    }
}

/// What clang said about the profile while building the C/C++ code, when it
/// built it with the profile.
fn c_coverage(ctx: &Ctx, profile: &std::path::Path) -> Result<Option<CCoverage>> {
    let CPgo::On { packages, .. } = &ctx.c_pgo else { return Ok(None) };
    let listing = read_listing(ctx.profdata()?, &ctx.rustc, &ctx.printer, profile)?;
    let spec = crate::build::BuildSpec::pipeline(ctx, BuildKind::Optimized);
    Ok(Some(CCoverage::read(&spec.target_dir, &ctx.settings.target, &spec.profile, packages, &listing.names)))
}

/// How many functions of the carried profile rustc still found no data for
/// (expected: 0).
fn carried_unused(ctx: &Ctx, profile: &std::path::Path, diagnostics: &[Diagnostic]) -> Result<usize> {
    let listing = read_listing(ctx.profdata()?, &ctx.rustc, &ctx.printer, profile)?;
    Ok(crate::carry::unused(&listing.names, diagnostics.iter().filter_map(|d| profile_warnings::parse(&d.message))))
}

/// The profile a build uses: the pipeline's merged one, or a stored file.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileSource {
    pub path: PathBuf,
    pub sha256: String,
    pub functions: u64,
    pub stored: bool,
    /// Carried from another target (`--profile-from`).
    pub carried: bool,
}

impl ProfileSource {
    /// A stored profile, checked before the build: rustc silently ignores a
    /// profile its LLVM cannot read (one written by a newer LLVM, say), which
    /// would make the "optimized" build a plain one.
    fn stored(ctx: &Ctx, file: &std::path::Path) -> Result<ProfileSource> {
        let path = std::path::absolute(file).with_context(|| format!("bad path {}", file.display()))?;
        if !path.is_file() {
            bail!(
                "the stored profile {} does not exist; write one with `pgo-build merge --output FILE`",
                path.display()
            );
        }
        // The same check as `pgo-build check`: names both LLVM versions and the
        // profile's format version when they do not fit.
        let listing = read_listing(ctx.profdata()?, &ctx.rustc, &ctx.printer, &path)?;
        Ok(ProfileSource {
            sha256: sha256_file(&path)?,
            functions: listing.functions,
            path,
            stored: true,
            carried: false,
        })
    }
}
