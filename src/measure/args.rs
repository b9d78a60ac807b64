//! How long and how strictly to measure: the command-line options shared by
//! `compare`, `all` and `bolt`, turned into a [`Plan`].

use std::time::Duration;

use clap::Args;

use super::Plan;

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

impl Default for MeasureArgs {
    fn default() -> Self {
        MeasureArgs {
            warmup: 1,
            min_rounds: 6,
            max_rounds: 200,
            rounds: None,
            precision: 1.0,
            budget: Duration::from_secs(180),
            confidence: 0.95,
            noise_threshold: 1.0,
        }
    }
}

impl MeasureArgs {
    /// The options given a value other than their default, by name.
    pub fn given(&self) -> Vec<&'static str> {
        let d = MeasureArgs::default();
        [
            (self.warmup != d.warmup, "--warmup"),
            (self.min_rounds != d.min_rounds, "--min-rounds"),
            (self.max_rounds != d.max_rounds, "--max-rounds"),
            (self.rounds.is_some(), "--rounds"),
            (self.precision != d.precision, "--precision"),
            (self.budget != d.budget, "--budget"),
            (self.confidence != d.confidence, "--confidence"),
            (self.noise_threshold != d.noise_threshold, "--noise-threshold"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }

    pub fn plan(&self, variants: usize, gated: Vec<bool>, baseline: usize) -> Plan {
        let (min_rounds, max_rounds) = match self.rounds {
            Some(n) => (n, n),
            None => (self.min_rounds, self.max_rounds.max(self.min_rounds)),
        };
        Plan {
            variants,
            workloads: gated.len(),
            gated,
            baseline,
            warmup: self.warmup,
            min_rounds,
            max_rounds,
            target: self.precision / 100.0,
            budget_s: self.budget.as_secs_f64(),
            confidence: self.confidence,
            noise: self.noise_threshold / 100.0,
        }
    }
}

fn confidence(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v > 0.5 && v < 1.0 => Ok(v),
        _ => Err(format!("{text:?} is not a confidence level between 0.5 and 1 (e.g. 0.95)")),
    }
}
