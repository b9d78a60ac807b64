//! The pipeline's record: `<target>/pgo-build/state.json`.
//!
//! One [`Entry`] per stage ([`StageId`]), written only by the
//! pipeline's runner: the stage's options, the fingerprint of its inputs, an id
//! of its output, and the stage's own record (what it made: binaries with their
//! hashes, raw profile sets, the merged profile). Stages can therefore run in
//! separate CI jobs, as long as the target directory travels between them.
//! Which binaries were delivered, and why, is the [`Delivery`] beside them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::cargo::{Binary, Settings};
use crate::config::Workload;
use crate::util::hashes::HashCache;
use crate::util::{sha256_file, write_atomic};

/// Bumped when the record's shape changes; an older record is treated as absent.
const SCHEMA: u32 = 2;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub schema: u32,
    #[serde(default)]
    pub instrument: Option<Entry<InstrumentRecord>>,
    #[serde(default)]
    pub train: Option<Entry<TrainRecord>>,
    #[serde(default)]
    pub merge: Option<Entry<MergeRecord>>,
    #[serde(default)]
    pub carry: Option<Entry<CarryRecord>>,
    #[serde(default)]
    pub optimize: Option<Entry<OptimizeRecord>>,
    #[serde(default)]
    pub bolt: Option<Entry<BoltRecord>>,
    /// What is in the output directory, and why.
    #[serde(default)]
    pub delivery: Option<Delivery>,
}

/// A stage's record as the runner keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry<R> {
    /// The stage's options, so later commands resolve the same inputs.
    pub options: serde_json::Value,
    /// The fingerprint of its inputs (`pipeline::fingerprint`).
    pub fingerprint: BTreeMap<String, String>,
    /// Identifies its output; later stages depend on it.
    pub output: String,
    pub elapsed_s: f64,
    pub finished_at: u64,
    #[serde(flatten)]
    pub record: R,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BinaryRecord {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

impl BinaryRecord {
    /// Its file's name: the binary's name, with `.exe` for a Windows target.
    pub fn file_name(&self) -> &std::ffi::OsStr {
        self.path.file_name().unwrap_or(self.name.as_ref())
    }

    pub fn of(binary: &Binary) -> Result<BinaryRecord> {
        Ok(BinaryRecord {
            name: binary.name.clone(),
            sha256: sha256_file(&binary.path)?,
            size: std::fs::metadata(&binary.path)
                .with_context(|| format!("could not read {}", binary.path.display()))?
                .len(),
            path: binary.path.clone(),
        })
    }

    pub fn binary(&self) -> Binary {
        Binary { name: self.name.clone(), path: self.path.clone() }
    }

    /// True when the file is still there with the recorded content (its hash
    /// from `hashes` when the file is unchanged since it was hashed).
    pub fn unchanged(&self, hashes: &HashCache) -> bool {
        hashes.sha256_hex(&self.path).is_some_and(|h| h == self.sha256)
    }
}

/// Fails, naming the first, unless every binary is there with its recorded content.
pub fn binaries_intact(hashes: &HashCache, binaries: &[BinaryRecord]) -> Result<(), String> {
    let found = binaries.iter().find(|b| !b.unchanged(hashes));
    hashes.flush();
    match found {
        Some(b) => Err(format!("{} is missing or changed", b.path.display())),
        None => Ok(()),
    }
}

/// The id of a set of binaries: their hashes.
pub fn binaries_id(binaries: &[BinaryRecord]) -> String {
    crate::util::id_of(binaries.iter().map(|b| b.sha256.as_str()))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstrumentRecord {
    /// The source files the build compiled (from cargo's dep-info).
    pub source_files: Vec<PathBuf>,
    pub settings: Settings,
    pub binaries: Vec<BinaryRecord>,
    /// Built lean: without LTO (`cargo::lean`).
    #[serde(default)]
    pub lean: bool,
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
    /// The weight the workload had when it trained (a set merged elsewhere keeps it).
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
    /// The instrumented build's output id.
    pub instrument_id: String,
    pub workloads: Vec<WorkloadRecord>,
    /// The shard this run trained, if one.
    #[serde(default)]
    pub shard: Option<Shard>,
    /// Where the sets came from when `merge --from` joined them.
    #[serde(default)]
    pub joined_from: Vec<PathBuf>,
    /// rustc's version and LLVM version that made the instrumented binaries.
    #[serde(default)]
    pub toolchain: String,
    #[serde(default)]
    pub llvm: String,
    /// Name and SHA-256 of each instrumented binary the profiles came from.
    #[serde(default)]
    pub instrumented: Vec<(String, String)>,
    /// Seconds the workloads took (summed over the joined sets).
    #[serde(default)]
    pub training_s: f64,
    /// The emulator the binaries ran under, when this machine could not run
    /// them natively (`qemu-aarch64 -L /usr/aarch64-linux-gnu`).
    #[serde(default)]
    pub emulated_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeRecord {
    /// The output id of the training run it merged.
    pub trained: String,
    pub profile: PathBuf,
    pub sha256: String,
    pub weights: Vec<(String, u32)>,
    pub functions: u64,
    pub functions_with_counts: u64,
    pub total_count: u64,
}

/// A profile trained on another target, carried to this one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CarryRecord {
    /// The source files the probe build compiled (from cargo's dep-info).
    pub source_files: Vec<PathBuf>,
    /// The profile it was carried from, and the target that was trained, when known.
    pub source: PathBuf,
    pub source_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_target: Option<String>,
    /// The carried profile (`profiles/carried-<hash>.profdata`).
    pub profile: PathBuf,
    pub sha256: String,
    pub coverage: crate::carry::Coverage,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OptimizeRecord {
    /// The source files the build compiled (from cargo's dep-info).
    pub source_files: Vec<PathBuf>,
    pub settings: Settings,
    /// The profile it was built from.
    pub profile: PathBuf,
    pub profile_sha256: String,
    /// True when that was a stored profile (`optimize --profile FILE`), not the
    /// pipeline's merged one.
    pub stored_profile: bool,
    /// True when it was carried from another target (`--profile-from`).
    #[serde(default)]
    pub carried_profile: bool,
    /// Functions of the carried profile rustc found no data for all the same.
    #[serde(default)]
    pub carried_unused: usize,
    /// The PGO binaries, stripped as the Cargo profile asks, in the stage's own
    /// folder (`<root>/optimized/`).
    pub binaries: Vec<BinaryRecord>,
    pub unprofiled_functions: usize,
    pub mismatched_functions: usize,
    /// In BOLT mode: the unstripped binaries, linked with relocations, that the
    /// BOLT stage rewrites.
    pub bolt_inputs: Vec<BinaryRecord>,
    /// How the profile covered the C/C++ code, when that was built with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_coverage: Option<crate::cargo::c_code::CCoverage>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BoltRecord {
    /// The BOLT binaries, stripped as the profile asks, in `<root>/bolt/`.
    pub binaries: Vec<BinaryRecord>,
    /// llvm-bolt's optimization flags.
    pub flags: Vec<String>,
    /// Seconds BOLT took to make them (instrument, train, merge, optimize),
    /// without the verification: what it adds to a build.
    pub rewrite_s: f64,
    /// Whether the BOLT binaries ran the check workloads like the PGO ones:
    /// `None` when they did, else why not.
    pub verification_failure: Option<String>,
}

/// Which binaries the output directory holds, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub variant: Shipped,
    pub reason: String,
    pub out_dir: PathBuf,
    pub binaries: Vec<BinaryRecord>,
    pub finished_at: u64,
}

/// What the pipeline can deliver: its PGO build, or that build rewritten by BOLT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Shipped {
    #[serde(rename = "pgo")]
    Pgo,
    #[serde(rename = "pgo+bolt")]
    PgoBolt,
}

impl Shipped {
    /// As `compare` names the variant: `pgo`, `pgo+bolt`.
    pub const fn name(self) -> &'static str {
        match self {
            Shipped::Pgo => "pgo",
            Shipped::PgoBolt => "pgo+bolt",
        }
    }
}

impl std::fmt::Display for Shipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl State {
    pub fn load(path: &Path) -> Result<State> {
        if !path.exists() {
            return Ok(State { schema: SCHEMA, ..State::default() });
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
        let damaged =
            || format!("the pipeline's record {} is damaged; delete it to start the pipeline afresh", path.display());
        let value: serde_json::Value = serde_json::from_str(&text).with_context(damaged)?;
        if value["schema"].as_u64() != Some(u64::from(SCHEMA)) {
            // A record from another version of pgo-build: start afresh rather than
            // misread it. The stages will say what to run.
            return Ok(State { schema: SCHEMA, ..State::default() });
        }
        serde_json::from_value(value).with_context(damaged)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, serde_json::to_string_pretty(self)?.as_bytes())
    }

    /// Drops the records of every stage after `id`: their inputs have changed.
    pub fn clear_after(&mut self, id: StageId) {
        for later in StageId::ALL.into_iter().filter(|s| *s > id) {
            match later {
                StageId::Instrument => self.instrument = None,
                StageId::Train => self.train = None,
                StageId::Merge => self.merge = None,
                StageId::Carry => self.carry = None,
                StageId::Optimize => self.optimize = None,
                StageId::Bolt => self.bolt = None,
            }
        }
    }

    /// The pipeline's recorded BOLT mode, if a build was recorded.
    pub fn recorded_bolt_mode(&self) -> Option<bool> {
        self.instrument
            .as_ref()
            .map(|e| e.record.settings.bolt)
            .or_else(|| self.optimize.as_ref().map(|e| e.record.settings.bolt))
    }
}

/// The pipeline's stages, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageId {
    Instrument,
    Train,
    Merge,
    /// Only for a profile carried from another target; `previous` skips it.
    Carry,
    Optimize,
    Bolt,
}

impl StageId {
    pub const ALL: [StageId; 6] =
        [StageId::Instrument, StageId::Train, StageId::Merge, StageId::Carry, StageId::Optimize, StageId::Bolt];

    /// The name of its command: `pgo-build <name>`.
    pub fn name(self) -> &'static str {
        match self {
            StageId::Instrument => "instrument",
            StageId::Train => "train",
            StageId::Merge => "merge",
            StageId::Carry => "carry",
            StageId::Optimize => "optimize",
            StageId::Bolt => "bolt",
        }
    }

    /// What the stage makes, for messages: "no instrumented build was found".
    pub fn output(self) -> &'static str {
        match self {
            StageId::Instrument => "instrumented build",
            StageId::Train => "set of training profiles",
            StageId::Merge => "merged profile",
            StageId::Carry => "carried profile",
            StageId::Optimize => "optimized build",
            StageId::Bolt => "BOLT build",
        }
    }
}

impl std::fmt::Display for StageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One Nth of the training workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The workloads of this shard: the `index`-th of every `count`, by name.
    pub fn select<'w>(&self, workloads: &[&'w Workload]) -> Vec<&'w Workload> {
        let mut sorted = workloads.to_vec();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        sorted.into_iter().enumerate().filter(|(i, _)| i % self.count == self.index - 1).map(|(_, w)| w).collect()
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// `K/N`, as `--shard` takes it.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("{text:?} is not a shard K/N with 1 <= K <= N (e.g. 2/4)");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) =
            (k.trim().parse::<usize>().map_err(|_| bad())?, n.trim().parse::<usize>().map_err(|_| bad())?);
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}
