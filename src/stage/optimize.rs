//! `pgo-build optimize`: rebuild with `-Cprofile-use` and deliver the binaries.
//!
//! rustc does not fail when a profile does not fit the code; it warns once per
//! function (with `-pgo-warn-missing-function`) and optimizes without it. A profile
//! that fits nothing (a different `strip`, `debug` or `panic` setting between the
//! two builds changes every symbol name) therefore yields a binary that is "PGO
//! optimized" in name only. So the warnings are counted, and above a threshold the
//! stage fails and says why, instead of delivering that binary.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::cargo::{Diagnostic, cargo_build, cargo_command};
use crate::context::Ctx;
use crate::project::BuildKind;
use crate::state::{BinaryRecord, OptimizeRecord, State, now};
use crate::toolchain::profdata::show::read_listing;
use crate::util::{copy_atomic, human_duration, human_size, sha256_file};

#[derive(Debug, Clone, Args)]
pub struct OptimizeArgs {
    /// Where to put the optimized binaries [default: <target>/pgo-build/out].
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Fail when more than this percentage of the profile's functions got no profile data.
    #[arg(long, value_name = "PCT", default_value_t = 50.0, value_parser = percentage)]
    pub max_unprofiled: f64,
    /// Build from this stored profile (e.g. one kept in the repository and
    /// written by `pgo-build merge --output`) instead of the pipeline's: no
    /// instrumented build or training needed.
    #[arg(long = "profile", value_name = "FILE")]
    pub profile_file: Option<PathBuf>,
    #[command(flatten)]
    pub bolt: super::bolt::BoltArgs,
}

/// Functions rustc reported about while applying the profile.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ProfileWarnings {
    /// "no profile data available for function …"
    pub unprofiled: BTreeSet<String>,
    /// "function control flow change detected (hash mismatch) …"
    pub mismatched: BTreeSet<String>,
}

impl ProfileWarnings {
    pub fn from_diagnostics(diagnostics: &[Diagnostic]) -> Self {
        let mut w = ProfileWarnings::default();
        for d in diagnostics {
            if let Some(name) = word_after(&d.message, "no profile data available for function ") {
                w.unprofiled.insert(name);
            } else if let Some(name) = word_after(&d.message, "(hash mismatch) ") {
                w.mismatched.insert(name);
            }
        }
        w
    }
}

fn word_after(text: &str, marker: &str) -> Option<String> {
    let rest = &text[text.find(marker)? + marker.len()..];
    rest.split_whitespace().next().map(str::to_string)
}

pub fn run(ctx: &Ctx, args: &OptimizeArgs) -> Result<()> {
    let mut state = State::load(&ctx.layout.state_file())?;
    let out_dir = args.out_dir.clone().unwrap_or_else(|| ctx.layout.default_out_dir());
    if ctx.dry_run {
        let profile = state.merge.as_ref().map_or_else(|| PathBuf::from("<merged profile>"), |m| m.profile.clone());
        ctx.printer.would_run(&cargo_command(ctx, BuildKind::Optimized, &flags(ctx, &profile)));
        return Ok(());
    }
    let source = match &args.profile_file {
        Some(file) => ProfileSource::stored(ctx, file)?,
        None => {
            let merge = state.require_merge(ctx)?;
            ProfileSource {
                path: merge.profile.clone(),
                sha256: merge.sha256.clone(),
                functions: merge.functions,
                stored: false,
            }
        }
    };
    let previous = state.optimize.as_ref().map(|r| r.source_files.clone()).unwrap_or_default();
    let inputs = inputs_of(ctx, &source.sha256, &previous, &out_dir)?;
    if let Some(rec) = state.optimize.as_ref().filter(|r| !ctx.force && r.inputs == inputs)
        && state.require_optimize(ctx).is_ok()
    {
        crate::cache::skipped(ctx, "optimize", rec.finished_at);
        return Ok(());
    }
    ctx.printer
        .status("optimize", format!("building {} with -Cprofile-use={}", ctx.settings.package, source.path.display()));
    let built = cargo_build(ctx, BuildKind::Optimized, &flags(ctx, &source.path))?;

    let warnings = ProfileWarnings::from_diagnostics(&built.diagnostics);
    let profiled = source.functions.max(1) as f64;
    let share = (100.0 * warnings.unprofiled.len() as f64 / profiled).min(100.0);
    if share > args.max_unprofiled {
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
            source.functions,
            args.max_unprofiled,
            examples.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        );
    }

    // In BOLT mode the build is unstripped (BOLT needs the symbols); the delivered
    // PGO binary is stripped the way the profile asks, as a plain build would be.
    let strip = if ctx.bolt { Some(ctx.profile_strip()?) } else { None };
    let mut binaries = Vec::new();
    let mut bolt_inputs = Vec::new();
    for b in &built.binaries {
        let dest = out_dir.join(&b.name);
        copy_atomic(&b.path, &dest)?;
        if let Some(mode) = strip {
            crate::toolchain::strip(&ctx.rustc, &dest, mode)?;
            bolt_inputs.push(BinaryRecord::of(b)?);
        }
        let record = BinaryRecord::of(&crate::cargo::Binary { name: b.name.clone(), path: dest })?;
        ctx.printer.note(format!("{} ({})", record.path.display(), human_size(record.size)));
        binaries.push(record);
    }
    ctx.printer.status(
        "optimize",
        format!(
            "{} of {} profiled functions without profile data, {} with a hash mismatch",
            warnings.unprofiled.len(),
            source.functions,
            warnings.mismatched.len()
        ),
    );
    if !warnings.mismatched.is_empty() {
        ctx.printer.warn(format!(
            "{} functions changed since the profile was collected and were optimized without it; \
             run `pgo-build all` (or instrument, train and merge) to refresh the profile",
            warnings.mismatched.len()
        ));
    }
    // What this build compiled, and Cargo.lock as cargo may have just written it.
    let source_files =
        crate::cache::compiled_sources(&built.binaries.iter().map(|b| b.path.clone()).collect::<Vec<_>>());
    let inputs = inputs_of(ctx, &source.sha256, &source_files, &out_dir).unwrap_or(inputs);
    let record = OptimizeRecord {
        inputs,
        source_files,
        settings: ctx.settings.clone(),
        profile_sha256: source.sha256.clone(),
        stored_profile: source.stored.then(|| source.path.clone()),
        binaries,
        out_dir: out_dir.clone(),
        unprofiled_functions: warnings.unprofiled.len(),
        mismatched_functions: warnings.mismatched.len(),
        bolt_inputs,
        elapsed_s: built.elapsed.as_secs_f64(),
        finished_at: now(),
    };
    state.optimize = Some(record);
    state.bolt = None;
    state.save(&ctx.layout.state_file())?;
    ctx.printer.status(
        "optimize",
        format!("done in {}; the PGO binaries are in {}", human_duration(built.elapsed), out_dir.display()),
    );
    Ok(())
}

/// The fingerprint of what the optimized build reads.
pub fn inputs_of(ctx: &Ctx, profile_sha256: &str, files: &[PathBuf], out_dir: &std::path::Path) -> Result<String> {
    Ok(crate::cache::fingerprint(&[
        ("profile", profile_sha256),
        ("build", &crate::cache::build_inputs(ctx, files)?),
        ("out", &out_dir.display().to_string()),
    ]))
}

/// The profile a build uses: the pipeline's merged one, or a stored file.
struct ProfileSource {
    path: PathBuf,
    sha256: String,
    functions: u64,
    stored: bool,
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
        Ok(ProfileSource { sha256: sha256_file(&path)?, functions: listing.functions, path, stored: true })
    }
}

/// A percentage from 0 to 100, for clap.
pub fn percentage(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("{text:?} is not a percentage from 0 to 100")),
    }
}

/// The rustflags of the PGO build: the profile, missing-function warnings, and
/// in BOLT mode relocations.
pub fn flags(ctx: &Ctx, profile: &std::path::Path) -> Vec<String> {
    let mut flags =
        vec![format!("-Cprofile-use={}", profile.display()), "-Cllvm-args=-pgo-warn-missing-function".to_string()];
    if ctx.bolt {
        // Relocations let BOLT move code; they leave the generated code unchanged.
        flags.push("-Clink-arg=-Wl,--emit-relocs".to_string());
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warning(message: &str) -> Diagnostic {
        Diagnostic { level: "warning".into(), message: message.into(), rendered: String::new(), target: "exp".into() }
    }

    #[test]
    fn counts_unprofiled_and_mismatched_functions_once() {
        let d = [
            warning(
                "exp.cgu.0: no profile data available for function _ZN3exp4main17hE Hash = 44 up to 0 count discarded",
            ),
            warning(
                "exp.cgu.1: no profile data available for function _ZN3exp4main17hE Hash = 44 up to 0 count discarded",
            ),
            warning("exp.cgu.0: function control flow change detected (hash mismatch) _ZN3exp4work17hE Hash = 9"),
            warning("unused variable: `x`"),
        ];
        let w = ProfileWarnings::from_diagnostics(&d);
        assert_eq!(w.unprofiled.len(), 1);
        assert_eq!(w.mismatched.iter().next().map(String::as_str), Some("_ZN3exp4work17hE"));
    }
}
