//! The pipeline's record: `<target>/pgo-build/state.json`.
//!
//! Each stage writes what it produced (binaries with their hashes, raw profile sets,
//! the merged profile's hash) and forgets the records of later stages, which its
//! new output has made stale. Each stage also checks what it reads against the
//! record of the stage before and, when something is missing or has changed since,
//! says which stage to run. Stages can therefore run in separate CI jobs, as long
//! as the target directory travels between them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::cargo::{Binary, Settings};
use crate::config::{Use, Workload};
use crate::context::Ctx;
use crate::util::{sha256_bytes, sha256_file, write_atomic};

/// Bumped when the record's shape changes; an older record is treated as absent.
const SCHEMA: u32 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub schema: u32,
    pub instrument: Option<InstrumentRecord>,
    pub train: Option<TrainRecord>,
    pub merge: Option<MergeRecord>,
    pub optimize: Option<OptimizeRecord>,
    #[serde(default)]
    pub bolt: Option<BoltRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BinaryRecord {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

impl BinaryRecord {
    pub fn of(binary: &Binary) -> Result<BinaryRecord> {
        Ok(BinaryRecord {
            name: binary.name.clone(),
            sha256: sha256_file(&binary.path)?,
            size: std::fs::metadata(&binary.path)?.len(),
            path: binary.path.clone(),
        })
    }

    pub fn binary(&self) -> Binary {
        Binary { name: self.name.clone(), path: self.path.clone() }
    }

    /// True when the file is still there with the recorded content.
    pub fn unchanged(&self) -> bool {
        sha256_file(&self.path).is_ok_and(|h| h == self.sha256)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstrumentRecord {
    /// The fingerprint of the stage's inputs (`cache.rs`).
    #[serde(default)]
    pub inputs: String,
    /// The source files the build compiled (from cargo's dep-info).
    #[serde(default)]
    pub source_files: Vec<PathBuf>,
    pub settings: Settings,
    pub binaries: Vec<BinaryRecord>,
    pub elapsed_s: f64,
    pub finished_at: u64,
}

impl InstrumentRecord {
    /// Identifies this instrumented build: the hashes of its binaries.
    pub fn id(&self) -> String {
        let joined: Vec<&str> = self.binaries.iter().map(|b| b.sha256.as_str()).collect();
        sha256_bytes(joined.join(",").as_bytes())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkloadRecord {
    pub name: String,
    /// Hash of what shapes the profile: how the workload runs (not its weight).
    pub definition: String,
    pub raw_dir: PathBuf,
    pub raw_files: usize,
    pub raw_bytes: u64,
    pub elapsed_s: f64,
    /// The weight the workload's profiles get when merged.
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

/// A training run's profile sets; also written beside them as
/// `profile-set.json`, so a set gathered on another machine can be checked
/// before `merge --from` joins it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainRecord {
    /// The fingerprint of the stage's inputs (`cache.rs`).
    #[serde(default)]
    pub inputs: String,
    pub instrument_id: String,
    pub workloads: Vec<WorkloadRecord>,
    pub elapsed_s: f64,
    pub finished_at: u64,
    /// The shard this run trained, if one.
    #[serde(default)]
    pub shard: Option<crate::stage::train::Shard>,
    /// rustc's version and LLVM version that made the instrumented binaries.
    #[serde(default)]
    pub toolchain: String,
    #[serde(default)]
    pub llvm: String,
    /// Name and SHA-256 of each instrumented binary the profiles came from.
    #[serde(default)]
    pub instrumented: Vec<(String, String)>,
}

impl TrainRecord {
    pub fn id(&self) -> String {
        let parts: Vec<String> =
            self.workloads.iter().map(|w| format!("{}:{}:{}", w.name, w.definition, w.raw_bytes)).collect();
        sha256_bytes(format!("{}|{}|{}", self.instrument_id, parts.join(","), self.finished_at).as_bytes())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeRecord {
    /// The fingerprint of the stage's inputs (`cache.rs`).
    #[serde(default)]
    pub inputs: String,
    pub train_id: String,
    pub profile: PathBuf,
    pub sha256: String,
    pub weights: Vec<(String, u32)>,
    pub functions: u64,
    pub functions_with_counts: u64,
    pub total_count: u64,
    pub elapsed_s: f64,
    pub finished_at: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OptimizeRecord {
    /// The fingerprint of the stage's inputs (`cache.rs`).
    #[serde(default)]
    pub inputs: String,
    /// The source files the build compiled (from cargo's dep-info).
    #[serde(default)]
    pub source_files: Vec<PathBuf>,
    pub settings: Settings,
    pub profile_sha256: String,
    /// The stored profile it was built from (`optimize --profile FILE`), if not
    /// the pipeline's merged one.
    #[serde(default)]
    pub stored_profile: Option<PathBuf>,
    pub binaries: Vec<BinaryRecord>,
    pub out_dir: PathBuf,
    pub unprofiled_functions: usize,
    pub mismatched_functions: usize,
    /// In BOLT mode: the unstripped binaries, linked with relocations, that
    /// `pgo-build bolt` rewrites (the delivered ones are stripped as the profile asks).
    pub bolt_inputs: Vec<BinaryRecord>,
    pub elapsed_s: f64,
    pub finished_at: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BoltRecord {
    /// The fingerprint of the stage's inputs (`cache.rs`).
    #[serde(default)]
    pub inputs: String,
    pub optimize_profile_sha256: String,
    /// The BOLT binaries: delivered to the output directory, or when they were
    /// not faster and the PGO ones stayed the result, kept in `<root>/bolt/`.
    pub binaries: Vec<BinaryRecord>,
    /// Whether they replaced the PGO binaries in the output directory.
    #[serde(default = "yes")]
    pub delivered: bool,
    /// llvm-bolt's optimization flags.
    #[serde(default)]
    pub flags: Vec<String>,
    /// Seconds BOLT took to make them (instrument, train, merge, optimize),
    /// without the checks and the measurement: what it adds to a build.
    #[serde(default)]
    pub rewrite_s: f64,
    pub elapsed_s: f64,
    pub finished_at: u64,
}

fn yes() -> bool {
    true
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The hash of a workload's definition as far as it shapes a profile.
pub fn workload_definition(w: &Workload) -> String {
    let json = serde_json::json!({ "run": w.run, "args": w.args, "env": w.env });
    sha256_bytes(json.to_string().as_bytes())
}

impl State {
    pub fn load(path: &Path) -> Result<State> {
        if !path.exists() {
            return Ok(State { schema: SCHEMA, ..State::default() });
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
        match serde_json::from_str::<State>(&text) {
            Ok(state) if state.schema == SCHEMA => Ok(state),
            // A record from another version of pgo-build: start afresh rather than
            // misread it. The stages will say what to run.
            _ => Ok(State { schema: SCHEMA, ..State::default() }),
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, serde_json::to_string_pretty(self)?.as_bytes())
    }

    /// The instrumented build, checked against the current settings and files.
    pub fn require_instrument(&self, ctx: &Ctx) -> Result<&InstrumentRecord> {
        let Some(rec) = &self.instrument else {
            bail!("no instrumented build was found in {}; run `pgo-build instrument` first", ctx.layout.root.display());
        };
        check_settings(&rec.settings, &ctx.settings, "the instrumented build")?;
        if let Some(b) = rec.binaries.iter().find(|b| !b.unchanged()) {
            bail!(
                "the instrumented binary {} is missing or changed since `pgo-build instrument`; run `pgo-build instrument` again",
                b.path.display()
            );
        }
        Ok(rec)
    }

    /// The training profiles, checked against the instrumented build and the config.
    pub fn require_train(&self, ctx: &Ctx) -> Result<&TrainRecord> {
        let instrument = self.require_instrument(ctx)?;
        let Some(train) = &self.train else {
            bail!("no training profiles were found; run `pgo-build train` first");
        };
        if train.instrument_id != instrument.id() {
            bail!(
                "the training profiles were collected from an earlier instrumented build; run `pgo-build train` again"
            );
        }
        // Order does not matter: reordering [[workload]] tables changes no profile.
        let configured: BTreeSet<(String, String)> =
            ctx.config.workloads_for(Use::Train).map(|w| (w.name.clone(), workload_definition(w))).collect();
        let trained: BTreeSet<(String, String)> =
            train.workloads.iter().map(|w| (w.name.clone(), w.definition.clone())).collect();
        if configured != trained {
            bail!(
                "the training workloads (from {}) were added, removed or changed since `pgo-build train`; \
                 run `pgo-build train` again",
                ctx.config.source()
            );
        }
        if let Some(w) = train.workloads.iter().find(|w| !w.raw_dir.is_dir()) {
            bail!(
                "the raw profiles of workload `{}` are gone ({}); run `pgo-build train` again",
                w.name,
                w.raw_dir.display()
            );
        }
        Ok(train)
    }

    /// The merged profile, checked against the training run and its file.
    pub fn require_merge(&self, ctx: &Ctx) -> Result<&MergeRecord> {
        let train = self.require_train(ctx)?;
        let Some(merge) = &self.merge else {
            bail!("no merged profile was found; run `pgo-build merge` first");
        };
        if merge.train_id != train.id() {
            bail!("the merged profile predates the last training run; run `pgo-build merge` again");
        }
        if !sha256_file(&merge.profile).is_ok_and(|h| h == merge.sha256) {
            bail!("the merged profile {} is missing or changed; run `pgo-build merge` again", merge.profile.display());
        }
        Ok(merge)
    }

    /// The optimized build, checked against the merged profile and its files.
    pub fn require_optimize(&self, ctx: &Ctx) -> Result<&OptimizeRecord> {
        if let Some(opt) = self.optimize.as_ref().filter(|o| o.stored_profile.is_some()) {
            // Built from a stored profile: no pipeline behind it to check.
            check_settings(&opt.settings, &ctx.settings, "the optimized build")?;
            let stored = opt.stored_profile.as_deref().unwrap_or(Path::new(""));
            if !sha256_file(stored).is_ok_and(|h| h == opt.profile_sha256) {
                bail!(
                    "the stored profile {} changed since the optimized build; run `pgo-build optimize --profile {}` again",
                    stored.display(),
                    stored.display()
                );
            }
        } else {
            let merge = self.require_merge(ctx)?;
            let Some(opt) = &self.optimize else {
                bail!("no optimized build was found; run `pgo-build optimize` first");
            };
            if opt.profile_sha256 != merge.sha256 {
                bail!("the optimized binaries were built from an earlier profile; run `pgo-build optimize` again");
            }
        }
        let Some(opt) = &self.optimize else {
            bail!("no optimized build was found; run `pgo-build optimize` first");
        };
        if let Some(b) = opt.binaries.iter().find(|b| !b.unchanged()) {
            bail!("the optimized binary {} is missing or changed; run `pgo-build optimize` again", b.path.display());
        }
        Ok(opt)
    }
}

fn check_settings(recorded: &Settings, current: &Settings, what: &str) -> Result<()> {
    let differences = recorded.differences(current);
    if differences.is_empty() {
        return Ok(());
    }
    if differences.contains(&"BOLT mode") {
        bail!(
            "{what} was made {} BOLT mode, and BOLT mode builds everything unstripped (which changes every \
             symbol name). Run the whole pipeline in one mode: `pgo-build all --bolt` (or `bolt = true` in the \
             config), or `pgo-build all` without BOLT",
            if recorded.profile_overrides.is_empty() { "without" } else { "in" }
        );
    }
    let why = if differences.iter().any(|d| *d == "cargo profile" || *d == "Cargo profile settings") {
        " Cargo hashes a profile's settings into every symbol name, so a profile from that build would match \
         no function of this one."
    } else {
        " A profile only fits a build made with the same settings."
    };
    bail!(
        "{what} was made with different settings ({} changed since).{why} Run `pgo-build instrument` again",
        differences.join(", ")
    )
}
