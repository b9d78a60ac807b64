//! `bolt --no-pgo`: BOLT without PGO, worked on apart from the pipeline (its own
//! folders, no record), for projects that want BOLT's layout alone.

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::profile::instrument_command;
use super::verify::{Verified, bolt_vs, verify};
use super::{optimization_flags, rewrite};
use crate::build::{Flags, cargo_build};
use crate::cargo::Binary;
use crate::cli::BoltCommandArgs;
use crate::context::Ctx;
use crate::project::BuildKind;
use crate::stage::deliver::Evidence;
use crate::state::BinaryRecord;
use crate::util::copy_atomic;

/// `bolt --no-pgo`: BOLT a plain build of the profile, apart from the PGO
/// pipeline (its own folders, no record): build it linked with relocations,
/// rewrite, check, measure against the plain build, and put the result in
/// `<out>/no-pgo/` (the plain build in `<out>/no-pgo/plain/`).
pub(super) fn run(ctx: &Ctx, args: &BoltCommandArgs) -> Result<()> {
    let tools = ctx.bolt_tools(ctx.options.bolt_mode)?;
    if ctx.dry_run {
        let input = PathBuf::from("<plain build>");
        ctx.printer.would_run(&instrument_command(&tools, &input, &ctx.layout.bolt_no_pgo(), "<binary>"));
        return Ok(());
    }
    let out_dir = crate::stage::deliver::out_dir(ctx, args.out_dir.as_deref())?.join("no-pgo");
    crate::stage::deliver::check_out_dir(&out_dir)?;
    ctx.printer.status("bolt", format!("building {} without PGO, linked with relocations", ctx.settings.package));
    let built = cargo_build(ctx, BuildKind::BoltInput, &Flags::rust(vec!["-Clink-arg=-Wl,--emit-relocs".to_string()]))?;
    let strip = ctx.profile_strip()?;
    let mut inputs = Vec::new();
    let mut plain = Vec::new();
    for b in &built.binaries {
        inputs.push(BinaryRecord::of(b)?);
        let dest = out_dir.join("plain").join(&b.name);
        copy_atomic(&b.path, &dest)?;
        crate::toolchain::strip(&ctx.rustc, &dest, strip)?;
        plain.push(BinaryRecord::of(&Binary { name: b.name.clone(), path: dest })?);
    }
    let options = args.bolt.options();
    let flags = optimization_flags(&ctx.config, &options);
    let mode = ctx.options.bolt_mode;
    let dir = ctx.layout.bolt_no_pgo();
    let rewritten = rewrite(ctx, &tools, &inputs, &plain, &flags, mode, strip, &dir)?;
    let before: Vec<Binary> = plain.iter().map(BinaryRecord::binary).collect();
    if let Verified::Differs(why) = verify(ctx, "plain", &before, &rewritten.binaries)? {
        bail!("{why}; the plain binaries in {} stay the result", out_dir.join("plain").display());
    }
    let keep = args.bolt.keep_bolt
        || matches!(
            bolt_vs(ctx, "plain", &before, &rewritten.binaries, &args.measure)?,
            Evidence::Measured { keep: true, .. }
        );
    if !keep {
        ctx.printer.note(format!("the BOLT binaries are in {}", dir.display()));
        return Ok(());
    }
    for b in &rewritten.binaries {
        copy_atomic(&b.path, &out_dir.join(&b.name))?;
    }
    ctx.printer.status(
        "bolt",
        format!(
            "the BOLT binaries are in {} (the plain ones in {})",
            out_dir.display(),
            out_dir.join("plain").display()
        ),
    );
    Ok(())
}
