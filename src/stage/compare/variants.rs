//! Which builds `compare` measures, and getting each: built now by cargo (a
//! profile of the project or a preset), or reused from the pipeline's stages
//! (`pgo`, `pgo+bolt`), never rebuilt.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::build::{BuildSpec, Flags, cargo_build_for};
use crate::cargo::Binary;
use crate::cargo::c_code::{self, CPgo};
use crate::cargo::cargo_config::Strip;
use crate::context::Ctx;
use crate::pipeline::{StageId, Walk};
use crate::presets::{self, Preset};
use crate::report::record::{BinaryInfo, BuildInfo};
use crate::stage::bolt::Bolt;
use crate::stage::optimize::Optimize;
use crate::state::{BinaryRecord, Shipped, State};
use crate::toolchain::RustcInfo;
use crate::util::copy_atomic;

/// The name of the baseline variant in reports.
pub const BASELINE: &str = "baseline";
/// The variants the pipeline delivers, named as delivery names them.
pub const PGO: &str = Shipped::Pgo.name();
pub const PGO_BOLT: &str = Shipped::PgoBolt.name();
/// The PGO build with the C/C++ code compiled by the same clang without the
/// profile: what C/C++ PGO adds, measured against `pgo`.
pub const PGO_RUST_ONLY: &str = "pgo-rust-only";

/// Cargo's built-in profiles.
const BUILT_IN: &[&str] = &["dev", "release", "test", "bench"];

/// How a variant comes about.
#[derive(Debug, Clone)]
pub enum Source {
    /// A Cargo profile of the project (or a built-in one), built as it is.
    Profile(String),
    /// A preset, defined through `--config` as the profile `pgo-build-<name>`.
    Preset(&'static Preset),
    /// The PGO binaries `optimize` delivered.
    Pgo,
    /// The BOLT binaries `bolt` made from them.
    PgoBolt,
    /// The PGO build again, its C/C++ code without the profile (built now).
    PgoRustOnly,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub source: Source,
}

impl Spec {
    pub fn description(&self, ctx: &Ctx) -> String {
        match &self.source {
            Source::Profile(p) => format!("the Cargo profile `{p}` as it is"),
            Source::Preset(p) => format!("the `{}` preset: {}", p.name, p.summary),
            Source::Pgo => format!("the `{}` profile with PGO", ctx.settings.profile),
            Source::PgoBolt => format!("the `{}` profile with PGO, then BOLT", ctx.settings.profile),
            Source::PgoRustOnly => format!(
                "the `{}` profile with PGO of the Rust code only (C/C++ compiled by the same clang, without the \
                 profile)",
                ctx.settings.profile
            ),
        }
    }

    /// The cargo build for this variant, `None` for the pipeline's own.
    pub fn build_spec(&self, ctx: &Ctx) -> Option<BuildSpec> {
        let dir = |profile: &str| ctx.layout.variant_target(profile);
        match &self.source {
            Source::Profile(p) => Some(BuildSpec {
                label: format!("variant-{p}"),
                profile: p.clone(),
                config: Vec::new(),
                target_dir: dir(p),
                dependency_warnings: false,
            }),
            Source::Preset(preset) => {
                let profile = format!("pgo-build-{}", preset.name);
                Some(BuildSpec {
                    label: format!("variant-{profile}"),
                    config: preset.config_overrides(&profile),
                    target_dir: dir(&profile),
                    profile,
                    dependency_warnings: false,
                })
            }
            Source::PgoRustOnly => Some(BuildSpec {
                label: format!("variant-{PGO_RUST_ONLY}"),
                target_dir: dir(PGO_RUST_ONLY),
                ..BuildSpec::pipeline(ctx, crate::project::BuildKind::Optimized)
            }),
            Source::Pgo | Source::PgoBolt => None,
        }
    }
}

/// The profiles the project's workspace manifest defines, plus cargo's built-in ones.
pub fn project_profiles(workspace_manifest: &Path) -> Result<BTreeSet<String>> {
    let text = std::fs::read_to_string(workspace_manifest)
        .with_context(|| format!("could not read {}", workspace_manifest.display()))?;
    let doc: toml::Table =
        toml::from_str(&text).with_context(|| format!("could not parse {}", workspace_manifest.display()))?;
    let mut names: BTreeSet<String> = BUILT_IN.iter().map(|s| s.to_string()).collect();
    if let Some(profiles) = doc.get("profile").and_then(|p| p.as_table()) {
        names.extend(profiles.keys().cloned());
    }
    Ok(names)
}

/// What a name means as a variant: the project's profile of that name wins over
/// a preset of the same name (the project's `small` is the one it ships).
fn source_of(name: &str, profiles: &BTreeSet<String>) -> Option<Source> {
    match name {
        PGO => Some(Source::Pgo),
        PGO_BOLT => Some(Source::PgoBolt),
        PGO_RUST_ONLY => Some(Source::PgoRustOnly),
        _ if profiles.contains(name) => Some(Source::Profile(name.to_string())),
        _ => presets::find(name).map(Source::Preset),
    }
}

/// The variants to measure, baseline first. `requested` comes from `--variants`
/// or the config; without it: the baseline, the pipeline's profile as it is,
/// `pgo`, and `pgo+bolt` when the pipeline has checked BOLT binaries (`has_bolt`).
pub fn resolve(
    requested: Option<&[String]>,
    baseline: Option<&str>,
    profile: &str,
    profiles: &BTreeSet<String>,
    has_bolt: bool,
) -> Result<Vec<Spec>> {
    let unknown = |name: &str| {
        let mut known: Vec<String> = vec![PGO.into(), PGO_BOLT.into(), PGO_RUST_ONLY.into()];
        known.extend(profiles.iter().cloned());
        known.extend(presets::names().iter().map(|s| s.to_string()).filter(|n| !profiles.contains(n)));
        anyhow::anyhow!(
            "unknown variant `{name}`: a variant is `pgo`, `pgo+bolt`, `pgo-rust-only`, a Cargo profile of the project or \
             a preset \
             (known here: {})",
            known.join(", ")
        )
    };
    let base_source = match baseline {
        Some(name) => match source_of(name, profiles) {
            Some(Source::Pgo | Source::PgoBolt | Source::PgoRustOnly) => {
                bail!("the baseline must be a plain build (a Cargo profile or a preset), not `{name}`")
            }
            Some(s) => s,
            None => return Err(unknown(name).context("in the baseline")),
        },
        None => Source::Preset(presets::find("production").context("the production preset")?),
    };
    let mut specs = vec![Spec { name: BASELINE.to_string(), source: base_source }];
    let names: Vec<String> = match requested {
        Some(list) => list.to_vec(),
        None => {
            let mut v = vec![profile.to_string(), PGO.to_string()];
            if has_bolt {
                v.push(PGO_BOLT.to_string());
            }
            v
        }
    };
    // The pipeline's own profile is known to cargo even when only a cargo config
    // file defines it.
    let mut profiles = profiles.clone();
    profiles.insert(profile.to_string());
    let profiles = &profiles;
    let mut seen = BTreeSet::from([BASELINE.to_string()]);
    for name in names {
        if name == BASELINE {
            continue;
        }
        if !seen.insert(name.clone()) {
            bail!("variant `{name}` is listed twice");
        }
        let source = source_of(&name, profiles).ok_or_else(|| unknown(&name))?;
        specs.push(Spec { name, source });
    }
    Ok(specs)
}

/// Fails early, before any build, when a variant the pipeline makes is missing
/// or stale.
pub fn check_available(walk: &Walk, specs: &[Spec]) -> Result<()> {
    for spec in specs {
        match spec.source {
            Source::Pgo | Source::PgoRustOnly => walk.require(StageId::Optimize)?,
            Source::PgoBolt => {
                bolt_record(walk)?;
            }
            Source::Profile(_) | Source::Preset(_) => {}
        }
    }
    Ok(())
}

/// `pgo-rust-only` needs C/C++ PGO to compare with; checked in dry runs too.
pub fn check_rust_only(ctx: &Ctx, specs: &[Spec]) -> Result<()> {
    if specs.iter().any(|s| matches!(s.source, Source::PgoRustOnly)) && ctx.settings.c_compiler.is_none() {
        bail!(
            "`{PGO_RUST_ONLY}` measures what C/C++ PGO adds, and this pipeline profiles no C/C++ code ({}); leave \
             it out of the variants",
            ctx.c_pgo.describe()
        );
    }
    Ok(())
}

pub(super) fn bolt_record<'s>(walk: &Walk<'_, 's>) -> Result<&'s crate::state::BoltRecord> {
    let record = walk.current::<Bolt>().context(
        "there are no BOLT binaries for the current PGO build: run `pgo-build bolt` (or `pgo-build all --bolt`) \
         first, or leave `pgo+bolt` out of the variants",
    )?;
    if let Some(why) = &record.verification_failure {
        bail!("the BOLT binaries failed their check ({why}); leave `pgo+bolt` out of the variants");
    }
    Ok(record)
}

/// Whether the pipeline has BOLT binaries to measure: current, and checked.
pub fn has_bolt(walk: &Walk) -> bool {
    bolt_record(walk).is_ok()
}

/// A variant ready to measure.
#[derive(Debug, Clone)]
pub struct Ready {
    pub spec: Spec,
    pub binaries: Vec<Binary>,
    pub sizes: Vec<BinaryInfo>,
    pub build: BuildInfo,
}

/// Builds the variant, or takes its binaries from the pipeline's record (as
/// `walk` judges it).
pub fn prepare(ctx: &Ctx, spec: &Spec, walk: &Walk) -> Result<Ready> {
    let (binaries, build) = match &spec.source {
        Source::Pgo => {
            let rec = walk.current::<Optimize>()?;
            let mut post = if rec.bolt_inputs.is_empty() {
                Vec::new()
            } else {
                vec![format!("stripped as the profile asks ({:?})", ctx.profile_strip()?)]
            };
            post.extend(collection_cost(walk.state()));
            if let (Some(c), Some(clang)) = (&rec.c_coverage, ctx.c_pgo.clang()) {
                post.push(format!("C/C++ compiled by {} with the profile; {}", clang.describe(), c.describe()));
            } else if let off @ CPgo::Off { .. } = &ctx.c_pgo {
                post.push(off.describe());
            }
            let build = BuildInfo {
                origin: "reused from `pgo-build optimize`".into(),
                cargo_profile: ctx.settings.profile.clone(),
                cargo_config: BuildSpec::pipeline(ctx, crate::project::BuildKind::Optimized).config,
                rustflags: crate::cargo::flags::profile_use(ctx.bolt, Path::new("<merged profile>")),
                post,
            };
            (rec.binaries.iter().map(BinaryRecord::binary).collect(), build)
        }
        Source::PgoBolt => {
            let rec = bolt_record(walk)?;
            let build = BuildInfo {
                origin: "reused from `pgo-build bolt`".into(),
                cargo_profile: ctx.settings.profile.clone(),
                cargo_config: BuildSpec::pipeline(ctx, crate::project::BuildKind::Optimized).config,
                rustflags: crate::cargo::flags::profile_use(ctx.bolt, Path::new("<merged profile>")),
                post: [
                    format!(
                        "llvm-bolt {} (BOLT's instrument, train, merge and optimize took {:.1} s)",
                        rec.flags.join(" "),
                        rec.rewrite_s
                    ),
                    format!("stripped as the profile asks ({:?})", ctx.profile_strip()?),
                ]
                .into_iter()
                .chain(collection_cost(walk.state()))
                .collect(),
            };
            (rec.binaries.iter().map(BinaryRecord::binary).collect(), build)
        }
        Source::PgoRustOnly => {
            let bs = spec.build_spec(ctx).context("a built variant has a build")?;
            let flags = rust_only_flags(ctx, walk)?;
            ctx.printer.status("compare", format!("building `{}`: {}", spec.name, spec.description(ctx)));
            let out = cargo_build_for(ctx, &bs, &flags)?;
            // In BOLT mode the pipeline's builds have `strip = false` (BOLT needs
            // the symbols); `pgo` ships stripped as the profile asks, so this one
            // is measured that way too, not 3× bigger with its symbols.
            let strip = if ctx.bolt { Some(ctx.profile_strip()?) } else { None };
            let binaries = as_shipped(&ctx.rustc, out.binaries, &bs.target_dir.join("shipped"), strip)?;
            let pgo = walk.current::<Optimize>()?;
            let pgo: Vec<Binary> = pgo.binaries.iter().map(BinaryRecord::binary).collect();
            if same_bytes(&binaries, &pgo) {
                bail!(
                    "`{PGO_RUST_ONLY}` came out byte-identical to `{PGO}`: the C/C++ code was built with the profile \
                     after all (a build script passes it on, or its C/C++ code has no profiled function), so it \
                     would measure PGO against itself; leave it out of the variants"
                );
            }
            let build = BuildInfo {
                origin: "built by `pgo-build compare`".into(),
                cargo_profile: bs.profile.clone(),
                cargo_config: bs.config.clone(),
                rustflags: crate::cargo::flags::profile_use(ctx.bolt, Path::new("<merged profile>")),
                post: [format!(
                    "C/C++ compiled by {} without the profile",
                    ctx.settings.c_compiler.as_ref().map(|c| c.describe()).unwrap_or_default()
                )]
                .into_iter()
                .chain(strip.map(|s| format!("stripped as the profile asks ({s:?})")))
                .collect(),
            };
            (binaries, build)
        }
        Source::Profile(_) | Source::Preset(_) => {
            let bs = spec.build_spec(ctx).context("a built variant has a build")?;
            ctx.printer.status("compare", format!("building `{}`: {}", spec.name, spec.description(ctx)));
            let out = cargo_build_for(ctx, &bs, &Flags::default())?;
            let build = BuildInfo {
                origin: "built by `pgo-build compare`".into(),
                cargo_profile: bs.profile.clone(),
                cargo_config: bs.config.clone(),
                rustflags: Vec::new(),
                post: Vec::new(),
            };
            (out.binaries, build)
        }
    };
    let sizes = binaries
        .iter()
        .map(|b| {
            let size = std::fs::metadata(&b.path).with_context(|| format!("{} is missing", b.path.display()))?.len();
            Ok(BinaryInfo { name: b.name.clone(), size_bytes: size })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Ready { spec: spec.clone(), binaries, sizes, build })
}

/// Whether every binary of `a` has the bytes of the binary of the same name in
/// `b`.
fn same_bytes(a: &[Binary], b: &[Binary]) -> bool {
    !a.is_empty()
        && a.iter().all(|x| {
            b.iter().find(|y| y.name == x.name).is_some_and(|y| {
                match (std::fs::read(&x.path), std::fs::read(&y.path)) {
                    (Ok(x), Ok(y)) => x == y,
                    _ => false,
                }
            })
        })
}

/// The PGO build's flags with the C/C++ code compiled by the same clang, but
/// without the profile, which cc 1.2.x would otherwise take from the rustflags.
pub(super) fn rust_only_flags(ctx: &Ctx, walk: &Walk) -> Result<Flags> {
    let profile = walk.current::<Optimize>()?.profile.clone();
    Ok(Flags { rust: crate::cargo::flags::profile_use(ctx.bolt, &profile), c: Some(c_code::no_profile_flags()) })
}

/// What collecting the PGO profile cost, which a release build from a stored
/// profile does not pay again (so it is not in the build times).
fn collection_cost(state: &State) -> Option<String> {
    if state.optimize.as_ref().is_some_and(|o| o.record.stored_profile) {
        return Some("built from a stored profile: no profile collection in this pipeline".into());
    }
    let (i, t, m) = (state.instrument.as_ref()?, state.train.as_ref()?, state.merge.as_ref()?);
    Some(format!(
        "profile collected by instrument ({:.1} s), train ({:.1} s) and merge ({:.1} s), not in the build times",
        i.elapsed_s, t.elapsed_s, m.elapsed_s
    ))
}

/// Copies of `built` in `dir`, stripped as `strip` asks: the binaries as
/// they ship. `None`: the build is already as it ships.
pub fn as_shipped(rustc: &RustcInfo, built: Vec<Binary>, dir: &Path, strip: Option<Strip>) -> Result<Vec<Binary>> {
    let Some(mode) = strip else { return Ok(built) };
    built
        .into_iter()
        .map(|b| {
            let path = dir.join(&b.name);
            copy_atomic(&b.path, &path)?;
            crate::toolchain::strip(rustc, &path, mode)
                .with_context(|| format!("could not strip {} as the profile asks", path.display()))?;
            Ok(Binary { name: b.name, path })
        })
        .collect()
}

#[cfg(test)]
#[path = "variants_tests.rs"]
mod tests;
