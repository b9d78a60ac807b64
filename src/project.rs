//! The Cargo project being optimized: which package and binaries, where cargo puts
//! its output, and where pgo-build keeps its own files.
//!
//! Everything is read from `cargo metadata`, never guessed, so workspaces, custom
//! target directories and `[[bin]]` tables with odd paths all work. It runs once
//! per command, with the dependency graph resolved for the target, and what the
//! rest of pgo-build needs from it (the workspace's packages, which dependencies
//! build C) is kept here. Without a graph (offline and no lock file) the project
//! is read again without dependencies: then two runs, and the C code is unknown.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::options::Selection;
use crate::process::Cmd;

#[derive(Debug, Clone)]
pub struct Project {
    /// The directory holding the Cargo.toml pgo-build was pointed at.
    pub dir: PathBuf,
    pub manifest: PathBuf,
    /// The selected package's own Cargo.toml (differs from `manifest` in workspaces).
    pub package_manifest: PathBuf,
    pub workspace_root: PathBuf,
    pub package: String,
    /// The binaries pipelines build, in the package's order.
    pub bins: Vec<String>,
    /// Cargo's target directory (`CARGO_TARGET_DIR` and `build.target-dir` honoured).
    pub target_dir: PathBuf,
    /// The package's root source file (its library's, else its first selected
    /// binary's): touched to time a warm rebuild.
    pub root_source: PathBuf,
    /// The workspace's packages.
    pub members: Vec<cargo_metadata::Package>,
    /// The packages of the selected package's dependency graph whose build
    /// script compiles C or C++ (`cargo::c_code`), or why the graph was not read.
    pub building_c: Result<Vec<String>, String>,
}

/// The dependency graph to read with the project: for which target, and with
/// which of the user's cargo arguments (`--offline`, `--locked`, `--frozen`).
#[derive(Debug, Clone, Copy)]
pub struct Graph<'a> {
    pub target: &'a str,
    pub cargo_args: &'a [String],
}

impl Project {
    /// Fails unless `dir` holds a Cargo.toml: the first thing said to someone who
    /// ran pgo-build in the wrong directory.
    pub fn require_manifest(dir: &Path) -> Result<PathBuf> {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            bail!(
                "no Cargo.toml in {}: run pgo-build in a Cargo project, or name one with --project DIR",
                dir.display()
            );
        }
        Ok(manifest)
    }

    /// Reads the project at `dir` with one `cargo metadata` (with the dependency
    /// graph for `graph`'s target, when given) and applies the selection.
    pub fn load(dir: &Path, selection: &Selection, graph: Option<Graph>) -> Result<Project> {
        let manifest = Project::require_manifest(dir)?;
        let (metadata, building_c) = read_metadata(dir, &manifest, graph)?;
        let package = select_package(&metadata, selection, &manifest)?;
        let all_bins: Vec<String> = package
            .targets
            .iter()
            .filter(|t| t.kind.contains(&cargo_metadata::TargetKind::Bin))
            .map(|t| t.name.clone())
            .collect();
        if all_bins.is_empty() {
            bail!("package `{}` has no binary targets; PGO here optimizes binaries", package.name);
        }
        let bins = match &selection.bins {
            Some(chosen) if !chosen.is_empty() => {
                for b in chosen {
                    if !all_bins.contains(b) {
                        bail!("package `{}` has no binary `{b}` (it has: {})", package.name, all_bins.join(", "));
                    }
                }
                chosen.clone()
            }
            _ => all_bins,
        };
        let lib = package.targets.iter().find(|t| t.kind.contains(&cargo_metadata::TargetKind::Lib));
        let first_bin = package.targets.iter().find(|t| t.name == bins[0]);
        let root_source =
            lib.or(first_bin).map(|t| t.src_path.clone().into_std_path_buf()).context("package has no targets")?;
        Ok(Project {
            dir: dir.to_path_buf(),
            manifest,
            package_manifest: package.manifest_path.clone().into_std_path_buf(),
            workspace_root: metadata.workspace_root.clone().into_std_path_buf(),
            package: package.name.to_string(),
            bins,
            target_dir: metadata.target_directory.clone().into_std_path_buf(),
            root_source,
            building_c: building_c.map(|()| crate::cargo::c_code::c_packages(&metadata, package.name.as_str())),
            members: metadata.workspace_packages().into_iter().cloned().collect(),
        })
    }
}

/// `cargo metadata` of the project: with the dependencies resolved for the
/// target (filtered to it, as cargo builds it) when `graph` is given, else or
/// when that fails, without them; then with why there is no graph.
fn read_metadata(
    dir: &Path,
    manifest: &Path,
    graph: Option<Graph>,
) -> Result<(cargo_metadata::Metadata, Result<(), String>)> {
    let base = || Cmd::new("cargo").args(["metadata", "--format-version", "1"]).arg("--manifest-path").arg(manifest);
    let parse = |json: String| -> Result<cargo_metadata::Metadata> {
        serde_json::from_str(&json).context("could not parse the output of `cargo metadata`")
    };
    let no_graph = match graph {
        Some(g) => {
            let read = base()
                .args(["--filter-platform", g.target])
                .args(crate::cargo::offline_args(g.cargo_args))
                .dir(dir)
                .read()
                .context("could not read the dependency graph with `cargo metadata` (to find C/C++ code)");
            match read {
                Ok(json) => return Ok((parse(json)?, Ok(()))),
                Err(e) => format!("{e:#}"),
            }
        }
        None => "the dependency graph was not read".to_string(),
    };
    let json = base()
        .arg("--no-deps")
        .dir(dir)
        .read()
        .with_context(|| format!("could not read the Cargo project at {}", dir.display()))?;
    Ok((parse(json)?, Err(no_graph)))
}

fn select_package<'m>(
    metadata: &'m cargo_metadata::Metadata,
    selection: &Selection,
    manifest: &Path,
) -> Result<&'m cargo_metadata::Package> {
    let members: Vec<&cargo_metadata::Package> = metadata.workspace_packages();
    if let Some(name) = &selection.package {
        return members.iter().copied().find(|p| p.name.as_str() == name).with_context(|| {
            let names: Vec<&str> = members.iter().map(|p| p.name.as_str()).collect();
            format!("the workspace has no package `{name}` (it has: {})", names.join(", "))
        });
    }
    // The package whose manifest pgo-build was pointed at, if it is one.
    let manifest = manifest.canonicalize().unwrap_or_else(|_| manifest.to_path_buf());
    if let Some(p) = members.iter().find(|p| p.manifest_path.as_std_path() == manifest) {
        return Ok(p);
    }
    let with_bins: Vec<&&cargo_metadata::Package> = members
        .iter()
        .filter(|p| p.targets.iter().any(|t| t.kind.contains(&cargo_metadata::TargetKind::Bin)))
        .collect();
    match with_bins.as_slice() {
        [only] => Ok(only),
        [] => bail!("no package in the workspace has a binary target"),
        many => {
            let names: Vec<&str> = many.iter().map(|p| p.name.as_str()).collect();
            bail!(
                "the workspace has several packages with binaries ({}); choose one with --package NAME or `package = \"NAME\"` in pgo-build.toml",
                names.join(", ")
            )
        }
    }
}

impl Project {
    /// The workspace's `Cargo.toml`, where the profiles are.
    pub fn workspace_manifest(&self) -> PathBuf {
        self.workspace_root.join("Cargo.toml")
    }
}

/// Where pgo-build keeps its files: `<cargo target dir>/pgo-build/` for the
/// host's target, `<cargo target dir>/pgo-build/<triple>/` for another, so each
/// target of a release matrix keeps its own pipeline.
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn new(project: &Project, triple: &str, host: &str) -> Self {
        Layout::of(&project.target_dir, triple, host)
    }

    pub fn of(target_dir: &Path, triple: &str, host: &str) -> Self {
        let base = target_dir.join("pgo-build");
        Layout { root: if triple == host { base } else { base.join(triple) } }
    }

    /// Where `carry` keeps the carried profiles.
    pub fn carried(&self) -> PathBuf {
        self.root.join("profiles").join("carried")
    }

    pub fn state_file(&self) -> PathBuf {
        self.root.join("state.json")
    }

    /// The content hashes of watched files, by their metadata (`util::hashes`).
    pub fn hash_cache(&self) -> PathBuf {
        self.root.join("hash-cache.json")
    }

    /// A cargo target directory of pgo-build's own per kind of build, so the user's
    /// `target/release` and pgo-build's builds never evict each other's caches.
    pub fn cargo_target(&self, kind: BuildKind) -> PathBuf {
        self.root.join("build").join(kind.dir_name())
    }

    pub fn raw_root(&self) -> PathBuf {
        self.root.join("profiles").join("raw")
    }

    pub fn profiles(&self) -> PathBuf {
        self.root.join("profiles")
    }

    pub fn logs(&self, stage: &str) -> PathBuf {
        self.root.join("logs").join(stage)
    }

    pub fn workdir(&self, workload: &str) -> PathBuf {
        self.root.join("work").join(workload)
    }

    pub fn default_out_dir(&self) -> PathBuf {
        self.root.join("out")
    }

    /// The optimize stage's binaries, stripped as the profile asks.
    pub fn optimized(&self) -> PathBuf {
        self.root.join("optimized")
    }

    /// The BOLT stage's work and binaries.
    pub fn bolt(&self) -> PathBuf {
        self.root.join("bolt")
    }

    /// `bolt --no-pgo`'s work and binaries.
    pub fn bolt_no_pgo(&self) -> PathBuf {
        self.root.join("bolt-no-pgo")
    }

    /// `check`'s own cargo target directory, and its report.
    pub fn check_target(&self) -> PathBuf {
        self.root.join("build").join("check")
    }

    pub fn check_json(&self) -> PathBuf {
        self.root.join("check.json")
    }

    pub fn overlap_json(&self) -> PathBuf {
        self.root.join("overlap.json")
    }

    /// The cargo target directory of `compare`'s variant built with `profile`.
    pub fn variant_target(&self, profile: &str) -> PathBuf {
        self.root.join("build").join(format!("variant-{profile}"))
    }

    /// Where `compare` times a variant's cold and warm builds.
    pub fn build_times(&self, variant: &str) -> PathBuf {
        self.root.join("build-times").join(variant.replace('+', "-"))
    }

    /// One counted run's folder: `counts/<workload>/<variant>/<nth>`.
    pub fn counts(&self, workload: &str, variant: &str, nth: &str) -> PathBuf {
        self.root.join("counts").join(workload).join(variant.replace('+', "-")).join(nth)
    }

    /// The figures a workload reported (`PGO_BUILD_METRICS`).
    pub fn metrics(&self, workload: &str) -> PathBuf {
        self.root.join("metrics").join(format!("{workload}.jsonl"))
    }

    /// Wrapper scripts running the binaries of `dir` under the target's
    /// emulator: one folder per folder of binaries.
    pub fn emulated(&self, dir: &Path) -> PathBuf {
        let id = crate::util::id_of([dir.to_string_lossy().as_ref()]);
        self.root.join("emulated").join(&id[..16])
    }

    /// The latest `compare` report (`report/`, a link into `reports/`).
    pub fn latest_report(&self) -> PathBuf {
        self.root.join("report")
    }
}

/// The kinds of build a pipeline makes, each in its own target directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildKind {
    Instrumented,
    Optimized,
    /// `bolt --no-pgo`: the profile as it is (unstripped, with relocations), no PGO.
    BoltInput,
    /// `try`: the profile as it is, to run each workload once against.
    Try,
    /// `carry`'s build that lists the target's functions.
    CarryProbe,
}

impl BuildKind {
    pub fn dir_name(self) -> &'static str {
        match self {
            BuildKind::Instrumented => "instrumented",
            BuildKind::Optimized => "optimized",
            BuildKind::BoltInput => "bolt-input",
            BuildKind::Try => "try",
            BuildKind::CarryProbe => "carry-probe",
        }
    }
}
