//! The arguments of `compare` and of the measurement it makes (also taken by
//! `bolt` and `all`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::config::CounterChoice;

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Comparison options")]
pub struct CompareArgs {
    /// The variants to measure besides the baseline, comma-separated: `pgo`,
    /// `pgo+bolt`, `pgo-rust-only`, a Cargo profile of the project, or a preset (develop, fast,
    /// fastest, small, smallest, production) [default: the config's, else
    /// PROFILE,pgo and pgo+bolt when there are BOLT binaries].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub variants: Vec<String>,
    /// The baseline: a Cargo profile of the project or a preset [default: the
    /// config's `baseline`, else the production preset].
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Also time a cold build and a warm rebuild of every variant (minutes).
    #[arg(long)]
    pub build_times: bool,
    /// Where to write report.md, report.json and report.html [default: a new
    /// <target>/pgo-build/reports/<UTC time>/, linked as <target>/pgo-build/report].
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Arguments of the startup run, shell-quoted; "" for none [default: the
    /// config's `startup-args`, else --version].
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub startup_args: Option<String>,
    /// Exit with 3 when a workload of the gated variant is slower than the
    /// baseline by more than PCT percent, with confidence.
    #[arg(long, value_name = "PCT", value_parser = crate::util::percent::slowdown)]
    pub fail_if_slower: Option<f64>,
    /// Exit with 4 unless the gated variant's geometric mean is faster than the
    /// baseline by at least PCT percent, with confidence.
    #[arg(long, value_name = "PCT", value_parser = crate::util::percent::gain)]
    pub require_speedup: Option<f64>,
    /// The variant the CI checks judge [default: pgo+bolt if measured, else pgo,
    /// else every variant].
    #[arg(long, value_name = "NAME")]
    pub gate: Option<String>,
    /// What the CI checks judge: wall time, or a count (one run decides, even on
    /// a noisy machine; implies --counts).
    #[arg(long, value_name = "FIGURE", value_enum, default_value_t = GateOn::Time)]
    pub gate_on: GateOn,
    /// Let the CI checks judge a figure the benchmark workloads report
    /// (`PGO_BUILD_METRICS`, e.g. requests_per_s) instead of wall time.
    #[arg(long, value_name = "NAME", conflicts_with = "gate_on")]
    pub gate_metric: Option<String>,
    /// Also count each benchmark workload once per variant: instructions,
    /// simulated cache misses and mispredictions, estimated cycles [config: `counts`].
    #[arg(long)]
    pub counts: bool,
    /// What counts: perf stat where the hardware counters are readable, else
    /// cachegrind [default: the config's `counter`, else auto].
    #[arg(long, value_name = "COUNTER", value_enum)]
    pub counter: Option<CounterChoice>,
    #[command(flatten)]
    pub measure: MeasureArgs,
}

/// How the variants are measured (on `compare` and `all`; BOLT's check too).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Measurement options")]
pub struct MeasureArgs {
    /// Unmeasured rounds before measuring.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub warmup: u32,
    /// Measured rounds at least (an interval at 95% needs 6).
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..))]
    pub min_rounds: u32,
    /// Measured rounds at most.
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rounds: u32,
    /// Exactly this many measured rounds (sets --min-rounds and --max-rounds).
    #[arg(long, value_name = "N", conflicts_with_all = ["min_rounds", "max_rounds"],
          value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: Option<u32>,
    /// Stop when every ratio's confidence interval is within ±PCT percent.
    #[arg(long, value_name = "PCT", default_value_t = 1.0, value_parser = crate::util::percent::precision)]
    pub precision: f64,
    /// Stop before a round that would end after this much measuring (e.g. 90s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "3m", value_parser = humantime::parse_duration)]
    pub budget: Duration,
    /// The confidence level of the intervals.
    #[arg(long, value_name = "LEVEL", default_value_t = 0.95, value_parser = confidence)]
    pub confidence: f64,
    /// Call a variant faster or slower only when its whole interval is more
    /// than PCT percent away from the baseline.
    #[arg(long, value_name = "PCT", default_value_t = 1.0, value_parser = crate::util::percent::gain)]
    pub noise_threshold: f64,
}

/// What the CI checks judge (`--gate-on`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GateOn {
    /// Wall time, with its confidence intervals.
    #[default]
    Time,
    /// Instructions executed, counted (`--counts` is implied).
    Instructions,
    /// cachegrind's estimated cycles (`--counts` is implied; needs cachegrind).
    EstimatedCycles,
}

fn confidence(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v > 0.5 && v < 1.0 => Ok(v),
        _ => Err(format!("{text:?} is not a confidence level between 0.5 and 1 (e.g. 0.95)")),
    }
}
