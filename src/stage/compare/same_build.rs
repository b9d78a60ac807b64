//! Variants that are the same build under another name are built and measured
//! once. The usual case: a project whose `release` profile already has fat LTO,
//! one codegen unit and `panic = "abort"` is the `production` preset, the
//! default baseline; measuring it twice only produces a "no clear difference"
//! that looks like a finding and is not one.
//!
//! Two variants are the same build when their effective Cargo profile settings
//! are equal ([`ProfileSources::resolve`]: every source, `inherits`, the
//! built-in defaults and `--config`, with the spellings cargo treats alike made
//! equal) and so are the rustflags pgo-build adds (none, for the variants
//! `compare` builds). The profile's name is not part of it: it only names a
//! target directory, which changes no code.
//!
//! Only the variants `compare` builds from a profile or a preset are candidates:
//! `pgo`, `pgo+bolt` and `pgo-rust-only` have rustflags of their own.

use anyhow::Result;

use super::variants::{Ready, Source, Spec};
use crate::cargo::cargo_config::{ProfileSettings, ProfileSources};
use crate::context::Ctx;
use crate::report::record::BuildInfo;

/// What makes a build the build it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildKey {
    pub settings: ProfileSettings,
    /// The rustflags pgo-build adds to the user's.
    pub rustflags: Vec<String>,
}

/// For each variant, the earlier variant it is the same build as, if any. A
/// failure to resolve the profiles is a warning: every variant is then built.
pub fn find(ctx: &Ctx, specs: &[Spec]) -> Vec<Option<usize>> {
    match keys(ctx, specs) {
        Ok(keys) => same_as(&keys),
        Err(e) => {
            ctx.printer.warn(format!(
                "could not work out whether variants are the same build, so each is built and measured: {e:#}"
            ));
            vec![None; specs.len()]
        }
    }
}

/// The build key of each variant `compare` builds; `None` for the pipeline's.
fn keys(ctx: &Ctx, specs: &[Spec]) -> Result<Vec<Option<BuildKey>>> {
    let sources = ProfileSources::load(&ctx.project.workspace_manifest(), &ctx.project.dir)?;
    specs
        .iter()
        .map(|spec| {
            if matches!(spec.source, Source::PgoRustOnly) {
                return Ok(None);
            }
            let Some(bs) = spec.build_spec(ctx) else { return Ok(None) };
            Ok(Some(BuildKey { settings: sources.resolve(&bs.profile, &bs.config)?, rustflags: Vec::new() }))
        })
        .collect()
}

/// For each key, the first earlier index with an equal key.
pub fn same_as(keys: &[Option<BuildKey>]) -> Vec<Option<usize>> {
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let key = key.as_ref()?;
            keys[..i].iter().position(|k| k.as_ref() == Some(key))
        })
        .collect()
}

/// The variant `spec`, ready as the build of `other`: its binaries, with build
/// settings that say so.
pub fn shared(ctx: &Ctx, spec: &Spec, other: &Ready) -> Ready {
    let (cargo_profile, cargo_config) = match spec.build_spec(ctx) {
        Some(bs) => (bs.profile, bs.config),
        None => (other.build.cargo_profile.clone(), other.build.cargo_config.clone()),
    };
    Ready {
        spec: spec.clone(),
        build: BuildInfo {
            origin: format!("not built again: the same build as `{}`", other.spec.name),
            cargo_profile,
            cargo_config,
            rustflags: Vec::new(),
            post: Vec::new(),
        },
        ..other.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(settings: &str) -> Option<BuildKey> {
        let manifest: toml::Table =
            toml::from_str(&format!("[profile.x]\ninherits = \"release\"\n{settings}")).expect("valid TOML");
        let settings = ProfileSources::new(vec![manifest], Default::default()).resolve("x", &[]).expect("resolves");
        Some(BuildKey { settings, rustflags: Vec::new() })
    }

    #[test]
    fn the_first_of_equal_builds_is_the_one_built() {
        let keys = [
            key("lto = \"fat\""),
            key(""),
            key("lto = true"),
            None,
            key("lto = \"fat\"\ncodegen-units = 1"),
            key("codegen-units = 16"),
        ];
        assert_eq!(same_as(&keys), [None, None, Some(0), None, None, Some(1)]);
        // The pipeline's variants (no key) are never the same as anything.
        assert_eq!(same_as(&[None, None]), [None, None]);
        // Equal settings with different rustflags are different builds.
        let mut flagged = key("");
        if let Some(k) = &mut flagged {
            k.rustflags.push("-Ctarget-cpu=native".into());
        }
        assert_eq!(same_as(&[key(""), flagged]), [None, None]);
    }
}
