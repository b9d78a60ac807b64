//! `pgo-build instrument`: build the binaries with `-Cprofile-generate`.
//!
//! The build goes to a target directory of pgo-build's own (the user's
//! `target/release` cache is left alone) with an explicit `--target <host>`, so
//! cargo applies the rustflags to the project's crates only, not to build scripts
//! and proc-macros, which would otherwise write profiles of the *build* into the
//! training data and slow every build down.

use anyhow::Result;

use crate::cargo::{cargo_build, cargo_command};
use crate::context::Ctx;
use crate::project::BuildKind;
use crate::state::{BinaryRecord, InstrumentRecord, State, now};
use crate::util::{human_duration, human_size};

pub fn run(ctx: &Ctx) -> Result<()> {
    let flags = vec![format!("-Cprofile-generate={}", ctx.layout.raw_root().join("default").display())];
    if ctx.dry_run {
        if let Err(e) = ctx.profdata() {
            ctx.printer.warn(format!("{e:#}"));
        }
        ctx.printer.would_run(&cargo_command(ctx, BuildKind::Instrumented, &flags));
        return Ok(());
    }
    let mut state = State::load(&ctx.layout.state_file())?;
    let previous = state.instrument.as_ref().map(|r| r.source_files.clone()).unwrap_or_default();
    let inputs = crate::cache::build_inputs(ctx, &previous)?;
    if let Some(rec) = state.instrument.as_ref().filter(|r| !ctx.force && r.inputs == inputs)
        && state.require_instrument(ctx).is_ok()
    {
        crate::cache::skipped(ctx, "instrument", rec.finished_at);
        return Ok(());
    }
    // Fail before a long build, not after it, when no llvm-profdata can merge (or,
    // in BOLT mode, there is no llvm-bolt).
    ctx.profdata()?;
    if ctx.bolt {
        crate::toolchain::bolt::discover(ctx.rustc.llvm_major, ctx.bolt_override.as_deref())
            .map_err(|why| anyhow::anyhow!("BOLT mode is on, but {why}"))?;
    }
    ctx.printer.status(
        "instrument",
        format!(
            "building {} ({}) with -Cprofile-generate, profile `{}`, target {}",
            ctx.settings.package,
            ctx.settings.bins.join(", "),
            ctx.settings.profile,
            ctx.settings.host
        ),
    );
    let built = cargo_build(ctx, BuildKind::Instrumented, &flags)?;
    let binaries = built.binaries.iter().map(BinaryRecord::of).collect::<Result<Vec<_>>>()?;
    for b in &binaries {
        ctx.printer.note(format!("{} ({})", b.path.display(), human_size(b.size)));
    }
    // What this build compiled, and Cargo.lock as cargo may have just written it.
    let source_files =
        crate::cache::compiled_sources(&built.binaries.iter().map(|b| b.path.clone()).collect::<Vec<_>>());
    let inputs = crate::cache::build_inputs(ctx, &source_files).unwrap_or(inputs);
    state.instrument = Some(InstrumentRecord {
        inputs,
        source_files,
        settings: ctx.settings.clone(),
        binaries,
        elapsed_s: built.elapsed.as_secs_f64(),
        finished_at: now(),
    });
    state.train = None;
    state.merge = None;
    state.optimize = None;
    state.bolt = None;
    state.save(&ctx.layout.state_file())?;
    ctx.printer.status("instrument", format!("done in {}; next: `pgo-build train`", human_duration(built.elapsed)));
    Ok(())
}
