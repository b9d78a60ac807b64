//! Which builds `compare` measures, and getting each: built now by cargo (a
//! profile of the project or a preset), or reused from the pipeline's stages
//! (`pgo`, `pgo+bolt`), never rebuilt.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cargo::c_code::{self, CPgo};
use crate::cargo::{Binary, BuildSpec, Flags, cargo_build_for};
use crate::context::Ctx;
use crate::pipeline::{StageId, Walk};
use crate::presets::{self, Preset};
use crate::report::record::{BinaryInfo, BuildInfo, BuildTimes};
use crate::stage::bolt::Bolt;
use crate::stage::optimize::Optimize;
use crate::state::{BinaryRecord, State};

/// The name of the baseline variant in reports.
pub const BASELINE: &str = "baseline";
pub const PGO: &str = "pgo";
pub const PGO_BOLT: &str = "pgo+bolt";
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
        let dir = |profile: &str| ctx.layout.root.join("build").join(format!("variant-{profile}"));
        match &self.source {
            Source::Profile(p) => Some(BuildSpec {
                label: format!("variant-{p}"),
                profile: p.clone(),
                config: Vec::new(),
                target_dir: dir(p),
            }),
            Source::Preset(preset) => {
                let profile = format!("pgo-build-{}", preset.name);
                Some(BuildSpec {
                    label: format!("variant-{profile}"),
                    config: preset.config_overrides(&profile),
                    target_dir: dir(&profile),
                    profile,
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
pub fn check_available(ctx: &Ctx, specs: &[Spec], state: &State) -> Result<()> {
    for spec in specs {
        match spec.source {
            Source::Pgo => {
                Walk::new(ctx, state).require(StageId::Optimize)?;
            }
            Source::PgoBolt => {
                bolt_record(ctx, state)?;
            }
            Source::PgoRustOnly => {
                Walk::new(ctx, state).require(StageId::Optimize)?;
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

fn bolt_record<'s>(ctx: &Ctx, state: &'s State) -> Result<&'s crate::state::BoltRecord> {
    let record = Walk::new(ctx, state).current::<Bolt>().context(
        "there are no BOLT binaries for the current PGO build: run `pgo-build bolt` (or `pgo-build all --bolt`) \
         first, or leave `pgo+bolt` out of the variants",
    )?;
    if let Some(why) = &record.verification_failure {
        bail!("the BOLT binaries failed their check ({why}); leave `pgo+bolt` out of the variants");
    }
    Ok(record)
}

/// Whether the pipeline has BOLT binaries to measure: current, and checked.
pub fn has_bolt(ctx: &Ctx, state: &State) -> bool {
    bolt_record(ctx, state).is_ok()
}

/// A variant ready to measure.
#[derive(Debug, Clone)]
pub struct Ready {
    pub spec: Spec,
    pub binaries: Vec<Binary>,
    pub sizes: Vec<BinaryInfo>,
    pub build: BuildInfo,
}

/// Builds the variant, or takes its binaries from the pipeline's record.
pub fn prepare(ctx: &Ctx, spec: &Spec, state: &State) -> Result<Ready> {
    let (binaries, build) = match &spec.source {
        Source::Pgo => {
            let rec = Walk::new(ctx, state).current::<Optimize>()?;
            let mut post = if rec.bolt_inputs.is_empty() {
                Vec::new()
            } else {
                vec![format!("stripped as the profile asks ({:?})", ctx.profile_strip()?)]
            };
            post.extend(collection_cost(state));
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
            let rec = bolt_record(ctx, state)?;
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
                .chain(collection_cost(state))
                .collect(),
            };
            (rec.binaries.iter().map(BinaryRecord::binary).collect(), build)
        }
        Source::PgoRustOnly => {
            let bs = spec.build_spec(ctx).context("a built variant has a build")?;
            let flags = rust_only_flags(ctx, state)?;
            ctx.printer.status("compare", format!("building `{}`: {}", spec.name, spec.description(ctx)));
            let out = cargo_build_for(ctx, &bs, &flags)?;
            let pgo = Walk::new(ctx, state).current::<Optimize>()?;
            let pgo: Vec<Binary> = pgo.binaries.iter().map(BinaryRecord::binary).collect();
            if same_bytes(&out.binaries, &pgo) {
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
                post: vec![format!(
                    "C/C++ compiled by {} without the profile",
                    ctx.settings.c_compiler.as_ref().map(|c| c.describe()).unwrap_or_default()
                )],
            };
            (out.binaries, build)
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

/// Times a cold build (into an empty target directory) and a warm rebuild (after
/// touching the package's root source file) of the variant. `pgo+bolt` adds the
/// BOLT stage's recorded time to its PGO build's.
pub fn build_times(ctx: &Ctx, ready: &Ready, state: &State) -> Result<BuildTimes> {
    let (spec, rustflags, extra) = match &ready.spec.source {
        Source::Profile(_) | Source::Preset(_) => {
            (ready.spec.build_spec(ctx).context("a built variant has a build")?, Flags::default(), 0.0)
        }
        Source::PgoRustOnly => {
            (ready.spec.build_spec(ctx).context("a built variant has a build")?, rust_only_flags(ctx, state)?, 0.0)
        }
        Source::Pgo | Source::PgoBolt => {
            let profile = Walk::new(ctx, state).current::<Optimize>()?.profile.clone();
            let extra = match ready.spec.source {
                Source::PgoBolt => bolt_record(ctx, state)?.rewrite_s,
                _ => 0.0,
            };
            let spec = BuildSpec::pipeline(ctx, crate::project::BuildKind::Optimized);
            (spec, Flags::profile_use(ctx, &profile), extra)
        }
    };
    let dir = ctx.layout.root.join("build-times").join(ready.spec.name.replace('+', "-"));
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
fn rust_only_flags(ctx: &Ctx, state: &State) -> Result<Flags> {
    let profile = Walk::new(ctx, state).current::<Optimize>()?.profile.clone();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles() -> BTreeSet<String> {
        ["dev", "release", "test", "bench", "small"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_variants_follow_the_pipeline() {
        let specs = resolve(None, None, "release", &profiles(), false).expect("resolves");
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["baseline", "release", "pgo"]);
        assert!(matches!(specs[0].source, Source::Preset(p) if p.name == "production"));
    }

    #[test]
    fn the_projects_profile_wins_over_a_preset_of_its_name() {
        let list = ["small".to_string(), "fastest".to_string()];
        let specs = resolve(Some(&list), Some("release"), "release", &profiles(), false).expect("ok");
        assert!(matches!(&specs[0].source, Source::Profile(p) if p == "release"));
        assert!(matches!(&specs[1].source, Source::Profile(p) if p == "small"));
        assert!(matches!(specs[2].source, Source::Preset(p) if p.name == "fastest"));
    }

    #[test]
    fn binaries_are_the_same_only_when_every_one_has_the_same_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = |dir: &str, name: &str, bytes: &[u8]| {
            let path = tmp.path().join(dir).join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
            Binary { name: name.into(), path }
        };
        let pgo = [bin("pgo", "a", b"one"), bin("pgo", "b", b"two")];
        assert!(same_bytes(&[bin("v1", "a", b"one"), bin("v1", "b", b"two")], &pgo));
        assert!(!same_bytes(&[bin("v2", "a", b"one"), bin("v2", "b", b"2")], &pgo));
        assert!(!same_bytes(&[bin("v3", "c", b"one")], &pgo));
        assert!(!same_bytes(&[], &pgo));
    }

    #[test]
    fn unknown_and_repeated_variants_are_refused() {
        let err = resolve(Some(&["tiny".to_string()]), None, "release", &profiles(), false).expect_err("unknown");
        assert!(err.to_string().contains("unknown variant `tiny`"), "{err}");
        assert!(err.to_string().contains("smallest"), "{err}");
        let twice = ["pgo".to_string(), "pgo".to_string()];
        assert!(resolve(Some(&twice), None, "release", &profiles(), false).is_err());
        assert!(resolve(None, Some("pgo"), "release", &profiles(), false).is_err());
    }
}
