//! Delivery: which binaries end up in the output directory, decided in one place.
//!
//! The stages keep their outputs in folders of their own (`optimize` in
//! `<root>/optimized/`, `bolt` in `<root>/bolt/`) and never touch each other's.
//! This step reads their records and the measurement, if there was one, and
//! copies the chosen binaries to `--out-dir`: Shipped::Pgo, or Shipped::Pgo+BOLT when BOLT ran,
//! passed its check and was measured faster (or `--keep-bolt`, or nothing was
//! measured). When BOLT is delivered, the Shipped::Pgo binaries go beside it in
//! `<out>/pgo/`. What was delivered and why is recorded as the state's
//! `delivery`, and said.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::bolt::Bolt;
use super::optimize::Optimize;
use crate::context::Ctx;
use crate::pipeline::Walk;
use crate::state::{BinaryRecord, BoltRecord, Delivery, Shipped, State, now};
use crate::util::copy_atomic;

/// What is known of BOLT against Shipped::Pgo when delivering.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// Nothing was measured (`--no-compare`, or no benchmark workloads).
    NotMeasured,
    /// `--keep-bolt`: BOLT whatever a measurement says.
    KeepBolt,
    /// A measurement's decision, and its words.
    Measured { keep: bool, summary: String },
}

/// Which variant to deliver, and why: a pure function of the BOLT record (if
/// BOLT ran) and the evidence.
pub fn decide(bolt: Option<&BoltRecord>, evidence: &Evidence) -> (Shipped, String) {
    let Some(bolt) = bolt else { return (Shipped::Pgo, "the pipeline is not in BOLT mode".into()) };
    if let Some(why) = &bolt.verification_failure {
        return (Shipped::Pgo, format!("BOLT failed its check: {why}"));
    }
    match evidence {
        Evidence::KeepBolt => (Shipped::PgoBolt, "--keep-bolt".into()),
        Evidence::NotMeasured => {
            (Shipped::PgoBolt, "BOLT passed its check; it was not measured (`pgo-build compare` measures it)".into())
        }
        Evidence::Measured { keep: true, summary } => (Shipped::PgoBolt, summary.clone()),
        Evidence::Measured { keep: false, summary } => (Shipped::Pgo, summary.clone()),
    }
}

/// The output directory: `--out-dir`, else `<root>/out`, made absolute, and
/// (unless this is a dry run) checked before any build: see [`check_out_dir`].
pub fn out_dir(ctx: &Ctx, arg: Option<&Path>) -> Result<PathBuf> {
    let dir = arg.map_or_else(|| ctx.layout.default_out_dir(), Path::to_path_buf);
    let dir = std::path::absolute(&dir).with_context(|| format!("bad output directory {}", dir.display()))?;
    if !ctx.dry_run {
        check_out_dir(&dir)?;
    }
    Ok(dir)
}

/// Fails, naming the folder, unless binaries can be written to `dir`: checked
/// before any build, so a typo or a read-only folder costs seconds, not a build.
pub fn check_out_dir(dir: &Path) -> Result<()> {
    let fix = "choose another with --out-dir";
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!("the output directory {} is a file, not a folder; {fix}", dir.display());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("the output directory {} cannot be created; {fix}", dir.display()))?;
    tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("the output directory {} is not writable; {fix}", dir.display()))?;
    Ok(())
}

/// Copies the chosen binaries into `out_dir` and records the delivery.
pub fn deliver(ctx: &Ctx, out_dir: &Path, evidence: Evidence) -> Result<()> {
    if ctx.dry_run {
        return Ok(());
    }
    let path = ctx.layout.state_file();
    let mut state = State::load(&path)?;
    let (pgo, bolt) = {
        let walk = Walk::new(ctx, &state);
        let pgo = walk.current::<Optimize>()?.binaries.clone();
        (pgo, if ctx.bolt { Some(walk.current::<Bolt>()?.clone()) } else { None })
    };
    let (variant, reason) = decide(bolt.as_ref(), &evidence);
    check_out_dir(out_dir)?;
    let chosen: &[BinaryRecord] = match (&bolt, variant) {
        (Some(b), Shipped::PgoBolt) => &b.binaries,
        _ => &pgo,
    };
    let mut delivered = Vec::new();
    for b in chosen {
        let dest = out_dir.join(b.file_name());
        copy_atomic(&b.path, &dest)?;
        delivered.push(BinaryRecord { path: dest, ..b.clone() });
    }
    // Beside BOLT, the Shipped::Pgo binaries it was made from; an earlier run's are stale.
    let beside = out_dir.join(Shipped::Pgo.name());
    if variant == Shipped::PgoBolt {
        for b in &pgo {
            copy_atomic(&b.path, &beside.join(b.file_name()))?;
        }
    } else if beside.is_dir() {
        for b in &pgo {
            let _ = std::fs::remove_file(beside.join(b.file_name()));
        }
        let _ = std::fs::remove_dir(&beside);
    }
    let names: Vec<&str> = delivered.iter().map(|b| b.name.as_str()).collect();
    ctx.printer.status("deliver", format!("{variant} ({}) in {}: {reason}", names.join(", "), out_dir.display()));
    state.delivery =
        Some(Delivery { variant, reason, out_dir: out_dir.to_path_buf(), binaries: delivered, finished_at: now() });
    state.save(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bolt(failure: Option<&str>) -> BoltRecord {
        BoltRecord {
            binaries: Vec::new(),
            flags: Vec::new(),
            rewrite_s: 1.0,
            verification_failure: failure.map(str::to_string),
        }
    }

    /// Record × evidence → what is delivered, as a table.
    #[test]
    fn the_decision_follows_the_records_and_the_measurement() {
        let faster = Evidence::Measured { keep: true, summary: "3% faster".into() };
        let same = Evidence::Measured { keep: false, summary: "no clear difference".into() };
        let table: [(Option<BoltRecord>, &Evidence, Shipped, &str); 7] = [
            (None, &faster, Shipped::Pgo, "not in BOLT mode"),
            (Some(bolt(Some("exit 1 vs 0"))), &Evidence::KeepBolt, Shipped::Pgo, "failed its check"),
            (Some(bolt(Some("exit 1 vs 0"))), &faster, Shipped::Pgo, "exit 1 vs 0"),
            (Some(bolt(None)), &Evidence::KeepBolt, Shipped::PgoBolt, "--keep-bolt"),
            (Some(bolt(None)), &Evidence::NotMeasured, Shipped::PgoBolt, "not measured"),
            (Some(bolt(None)), &faster, Shipped::PgoBolt, "3% faster"),
            (Some(bolt(None)), &same, Shipped::Pgo, "no clear difference"),
        ];
        for (record, evidence, want, why) in table {
            let (got, reason) = decide(record.as_ref(), evidence);
            assert_eq!(got, want, "{evidence:?}");
            assert!(reason.contains(why), "{reason}");
        }
    }

    #[test]
    fn an_unwritable_output_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let err = check_out_dir(&file).unwrap_err().to_string();
        assert!(err.contains("a-file") && err.contains("--out-dir"), "{err}");
        let below = file.join("sub");
        let err = format!("{:#}", check_out_dir(&below).unwrap_err());
        assert!(err.contains("cannot be created"), "{err}");
    }
}
