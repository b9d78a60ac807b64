//! `pgo+bolt` against `pgo` in the record, and the decision it led to (measured
//! and decided in `stage/compare/bolt_vs_pgo.rs`).

use serde::Serialize;

use super::Ratio;
use crate::measure::stats::Verdict;

/// `pgo+bolt` against `pgo`, and what that decides.
#[derive(Debug, Clone, Serialize)]
pub struct BoltVsPgo {
    /// Per benchmark workload: `pgo+bolt`'s time over `pgo`'s, paired by round.
    pub workloads: Vec<NamedRatio>,
    /// The geometric mean of those ratios over the benchmark workloads.
    pub geomean: Ratio,
    /// The geometric mean's verdict: the one the decision rests on.
    pub verdict: Verdict,
    /// `--keep-bolt` was given: BOLT is delivered whatever the measurement says.
    pub keep_bolt_asked: bool,
    /// The decision: deliver the BOLT binaries (else the PGO ones).
    pub keep_bolt: bool,
    /// The variant delivered.
    pub delivered: crate::state::Shipped,
    /// Why, in words, naming the noise threshold when that is why.
    pub reason: String,
}

/// One workload's ratio.
#[derive(Debug, Clone, Serialize)]
pub struct NamedRatio {
    pub name: String,
    #[serde(flatten)]
    pub ratio: Ratio,
}
