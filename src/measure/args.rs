//! How long and how strictly to measure: the command-line options shared by
//! `compare`, `all` and `bolt`, turned into a [`Plan`].

use crate::cli::MeasureArgs;
use std::time::Duration;

use super::Plan;

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
