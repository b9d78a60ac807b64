//! `compare --build-times`: a cold build and a warm rebuild of each variant,
//! timed, for the report's build-time columns.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use super::variants::{Ready, Source, bolt_record, rust_only_flags};
use crate::build::{BuildSpec, Flags, cargo_build_for};
use crate::context::Ctx;
use crate::pipeline::Walk;
use crate::report::record::BuildTimes;
use crate::stage::optimize::Optimize;

/// Times a cold build (into an empty target directory) and a warm rebuild (after
/// touching the package's root source file) of the variant. `pgo+bolt` adds the
/// BOLT stage's recorded time to its PGO build's.
pub fn build_times(ctx: &Ctx, ready: &Ready, walk: &Walk) -> Result<BuildTimes> {
    let (spec, rustflags, extra) = match &ready.spec.source {
        Source::Profile(_) | Source::Preset(_) => {
            (ready.spec.build_spec(ctx).context("a built variant has a build")?, Flags::default(), 0.0)
        }
        Source::PgoRustOnly => {
            (ready.spec.build_spec(ctx).context("a built variant has a build")?, rust_only_flags(ctx, walk)?, 0.0)
        }
        Source::Pgo | Source::PgoBolt => {
            let profile = walk.current::<Optimize>()?.profile.clone();
            let extra = match ready.spec.source {
                Source::PgoBolt => bolt_record(walk)?.rewrite_s,
                _ => 0.0,
            };
            let spec = BuildSpec::pipeline(ctx, crate::project::BuildKind::Optimized);
            (spec, Flags::profile_use(ctx, &profile), extra)
        }
    };
    let dir = ctx.layout.build_times(&ready.spec.name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("could not empty {}", dir.display()))?;
    }
    let spec = BuildSpec { label: format!("{}-cold", spec.label), target_dir: dir.clone(), ..spec };
    ctx.printer.status("compare", format!("timing a cold build of `{}`", ready.spec.name));
    let cold = timed(|| cargo_build_for(ctx, &spec, &rustflags).map(|_| ()))?;
    ctx.printer.status("compare", format!("cold build of `{}`: {}", ready.spec.name, timed_text(cold, extra)));
    touch(&ctx.project.root_source)?;
    ctx.printer.status("compare", format!("timing a warm rebuild of `{}`", ready.spec.name));
    let warm_spec = BuildSpec { label: spec.label.replace("-cold", "-warm"), ..spec };
    let warm = timed(|| cargo_build_for(ctx, &warm_spec, &rustflags).map(|_| ()))?;
    ctx.printer.status("compare", format!("warm rebuild of `{}`: {}", ready.spec.name, timed_text(warm, extra)));
    // The cold build's target directory is as big as any other: do not keep it.
    let _ = std::fs::remove_dir_all(&dir);
    Ok(BuildTimes { cold_s: cold + extra, warm_s: warm + extra })
}

/// `41.2 s`, or `41.2 s (+ BOLT's 3.1 s)` for `pgo+bolt`.
fn timed_text(cargo_s: f64, extra_s: f64) -> String {
    let cargo = crate::measure::text::time(cargo_s);
    if extra_s > 0.0 { format!("{cargo} (+ BOLT's {})", crate::measure::text::time(extra_s)) } else { cargo }
}

fn timed(f: impl FnOnce() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64())
}

/// Sets a file's modification time to now, as `touch` does.
fn touch(path: &Path) -> Result<()> {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("could not open {} to touch it", path.display()))?;
    file.set_modified(std::time::SystemTime::now()).with_context(|| format!("could not touch {}", path.display()))?;
    Ok(())
}
