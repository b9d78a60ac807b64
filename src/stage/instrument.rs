//! `pgo-build instrument`: build the binaries with `-Cprofile-generate`.
//!
//! The build goes to a target directory of pgo-build's own (the user's
//! `target/release` cache is left alone) with an explicit `--target <host>`, so
//! cargo applies the rustflags to the project's crates only, not to build scripts
//! and proc-macros, which would otherwise write profiles of the *build* into the
//! training data and slow every build down.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::build::{Flags, cargo_build, cargo_command};
use crate::cargo::c_code::{self, CPgo};
use crate::cargo::cargo_config::resolve_profile;
use crate::cargo::lean::{self, LEAN_FLAG};
use crate::context::Ctx;
use crate::pipeline::fingerprint::{BuildInputs, Fingerprint, build_files, compiled_sources};
use crate::pipeline::{Stage, StageId};
use crate::project::BuildKind;
use crate::state::{BinaryRecord, Entry, InstrumentRecord, State, binaries_id, binaries_intact};
use crate::util::hashes::HashCache;
use crate::util::{human_duration, human_size, plural};

/// The instrument stage.
#[derive(Debug)]
pub struct Instrument;

#[derive(Debug, Serialize)]
pub struct InstrumentInputs {
    #[serde(flatten)]
    pub build: BuildInputs,
    /// pgo-build's rustflags: where the raw profiles go.
    pub flags: Vec<String>,
    /// clang's flags for the C/C++ code, when it is profiled too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_flags: Option<Vec<String>>,
}

impl Stage for Instrument {
    const ID: StageId = StageId::Instrument;
    type Options = ();
    type Inputs = InstrumentInputs;
    type Record = InstrumentRecord;

    fn slot(state: &State) -> Option<&Entry<InstrumentRecord>> {
        state.instrument.as_ref()
    }

    fn slot_mut(state: &mut State) -> &mut Option<Entry<InstrumentRecord>> {
        &mut state.instrument
    }

    fn resolve(ctx: &Ctx, _: &(), _: &State) -> Result<InstrumentInputs> {
        let f = flags(ctx)?;
        Ok(InstrumentInputs { build: BuildInputs::of(ctx), flags: f.rust, c_flags: f.c })
    }

    fn watched(ctx: &Ctx, _: &InstrumentInputs, last: Option<&InstrumentRecord>) -> Vec<PathBuf> {
        build_files(ctx, last.map_or(&[][..], |r| &r.source_files))
    }

    fn explain(field: &str) -> String {
        match field {
            "files" => "the files it read (sources, manifests, Cargo.lock, cargo config)".into(),
            other => crate::pipeline::explain_field(other),
        }
    }

    fn intact(hashes: &HashCache, record: &InstrumentRecord) -> Result<(), String> {
        binaries_intact(hashes, &record.binaries)
    }

    fn stale_reason(ctx: &Ctx, old: &Fingerprint, new: &Fingerprint) -> String {
        BuildInputs::stale_reason::<Self>(ctx, old, new)
    }

    fn summary(e: &Entry<InstrumentRecord>) -> String {
        let names: Vec<&str> = e.record.binaries.iter().map(|b| b.name.as_str()).collect();
        format!(
            "built {} in {} ({})",
            crate::pipeline::fingerprint::ago(e.finished_at),
            crate::util::human_seconds(e.elapsed_s),
            names.join(", ")
        )
    }

    fn output_id(record: &InstrumentRecord) -> String {
        binaries_id(&record.binaries)
    }

    fn dry_run(ctx: &Ctx, _: &(), _: &State) -> Result<()> {
        // Refused as the run would be: a dry run installs no missing standard library.
        ctx.check_target()?;
        if let Err(e) = ctx.profdata() {
            ctx.printer.warn(format!("{e:#}"));
        }
        ctx.printer.would_run(&cargo_command(ctx, BuildKind::Instrumented, &flags(ctx)?));
        Ok(())
    }

    fn run(ctx: &Ctx, inputs: &InstrumentInputs) -> Result<InstrumentRecord> {
        // Fail before a long build, not after it, when no llvm-profdata can merge, (in
        // BOLT mode) no llvm-bolt can work, or the target's binaries cannot run here.
        ctx.profdata()?;
        if ctx.bolt {
            ctx.bolt_tools(ctx.options.bolt_mode)?;
        }
        ctx.check_target()?;
        ctx.printer.status(
            "instrument",
            format!(
                "building {} ({}) with -Cprofile-generate, profile `{}`, target {}",
                ctx.settings.package,
                ctx.settings.bins.join(", "),
                ctx.settings.profile,
                ctx.settings.target
            ),
        );
        if let c @ (CPgo::On { .. } | CPgo::Off { .. }) = &ctx.c_pgo {
            ctx.printer.status("instrument", c.describe());
        }
        let lean = inputs.flags.iter().any(|f| f == LEAN_FLAG);
        match lean_or_why(ctx)? {
            Ok(()) => ctx.printer.status(
                "instrument",
                "lean: LTO skipped (-Clto=off), which leaves every function's name as the optimized build has it",
            ),
            Err(why) => ctx.printer.note(format!("LTO kept in the instrumented build: {why}")),
        }
        let flags = Flags { rust: inputs.flags.clone(), c: inputs.c_flags.clone() };
        let built = cargo_build(ctx, BuildKind::Instrumented, &flags)?;
        let binaries = built.binaries.iter().map(BinaryRecord::of).collect::<Result<Vec<_>>>()?;
        for b in &binaries {
            ctx.printer.note(format!("{} ({})", b.path.display(), human_size(b.size)));
        }
        ctx.printer.status(
            "instrument",
            format!(
                "built {} in {}; next: `pgo-build train`",
                plural(binaries.len(), "instrumented binary", "instrumented binaries"),
                human_duration(built.elapsed)
            ),
        );
        Ok(InstrumentRecord {
            source_files: compiled_sources(&built.binaries.iter().map(|b| b.path.clone()).collect::<Vec<_>>()),
            settings: ctx.settings.clone(),
            binaries,
            lean,
        })
    }
}

/// `-Cprofile-generate` into the raw profiles' folder (training points each
/// workload elsewhere with `LLVM_PROFILE_FILE`).
/// In continuous mode the counters live in the profile file, reached through a
/// bias the runtime sets (`-runtime-counter-relocation`, which Linux needs), and
/// value profiling, which continuous mode cannot write, is off (`-disable-vp`).
/// The C/C++ code, when profiled, is instrumented the same way by clang, so each
/// process writes one raw profile for both languages.
fn flags(ctx: &Ctx) -> Result<Flags> {
    let raw = ctx.layout.raw_root().join("default");
    let mut flags = vec![format!("-Cprofile-generate={}", raw.display())];
    if lean_or_why(ctx)?.is_ok() {
        flags.push(LEAN_FLAG.to_string());
    }
    if ctx.config.continuous_profiles() {
        flags.extend(CONTINUOUS_LLVM_ARGS.iter().map(|a| format!("-Cllvm-args={a}")));
    }
    let c = ctx.settings.c_compiler.as_ref().map(|_| {
        let mut c = c_code::generate_flags(&raw);
        if ctx.config.continuous_profiles() {
            c.extend(CONTINUOUS_LLVM_ARGS.iter().flat_map(|a| ["-mllvm".to_string(), a.to_string()]));
        }
        c
    });
    Ok(Flags { rust: flags, c })
}

/// Whether the instrumented build is lean ([`crate::cargo::lean`]), or why not.
fn lean_or_why(ctx: &Ctx) -> Result<Result<(), String>> {
    let spec = crate::build::BuildSpec::pipeline(ctx, BuildKind::Instrumented);
    let profile =
        resolve_profile(&ctx.project.workspace_manifest(), &ctx.project.dir, &ctx.settings.profile, &spec.config)?;
    let user = lean::user_sets_lto(&ctx.project.dir, ctx.user_flags.env_flags());
    Ok(lean::lean(ctx.config.lean_instrument, &profile.lto, user))
}

/// The LLVM options of continuous mode, given to rustc (`-Cllvm-args=`) and
/// clang (`-mllvm`) alike.
const CONTINUOUS_LLVM_ARGS: [&str; 2] = ["-runtime-counter-relocation", "-disable-vp"];
