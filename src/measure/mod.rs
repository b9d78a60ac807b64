//! The measuring loop of `compare` (and of BOLT's keep-the-faster check), apart
//! from what runs a workload: an [`Executor`] runs one workload with one variant
//! and says how long it took, so the loop and its statistics are tested with a
//! deterministic mock, and the real executor runs the real workloads.
//!
//! Rounds: after unmeasured warm-up rounds, every round runs every workload with
//! every variant, the variants' order rotating from round to round (A B C, B C A,
//! C A B, …) so drift on a shared machine and the position in a round hit all
//! alike. Rounds go on until every ratio's interval is narrower than the target,
//! the time budget would be exceeded by another round, or the round limit is hit.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

pub mod args;
pub mod counter;
pub mod executor;
pub mod stats;
pub mod text;

pub use crate::cli::MeasureArgs;

use stats::{Estimate, geomean_ratio, paired_ratio};

use crate::workload::metrics::Metric;

/// Runs workload `w` with variant `v` once and returns the seconds it took.
pub trait Executor {
    fn run(&mut self, w: usize, v: usize) -> Result<f64>;
    /// The figures the last run reported itself (`PGO_BUILD_METRICS`).
    fn take_metrics(&mut self) -> Vec<Metric> {
        Vec::new()
    }
    /// Seconds since measuring began (the real clock; the mock's own).
    fn elapsed(&self) -> f64;
}

/// How long to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    pub variants: usize,
    pub workloads: usize,
    /// Workloads whose ratios must reach the target (the startup time need not).
    pub gated: Vec<bool>,
    /// The variant the others are compared with.
    pub baseline: usize,
    pub warmup: u32,
    pub min_rounds: u32,
    pub max_rounds: u32,
    /// The relative half-width every ratio's interval must reach (0.01 is ±1%).
    pub target: f64,
    pub budget_s: f64,
    pub confidence: f64,
    /// Differences smaller than this fraction are no clear difference.
    pub noise: f64,
}

/// Why measuring stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// Every ratio's interval reached the target.
    Precise,
    /// Another round would have exceeded the time budget.
    Budget,
    /// The round limit was reached.
    MaxRounds,
    /// Still measuring (a partial report).
    Running,
}

/// Measured times: `times[w][v]` holds workload `w`'s seconds with variant `v`,
/// one per round.
#[derive(Debug, Clone)]
pub struct Samples {
    pub times: Vec<Vec<Vec<f64>>>,
    /// `metrics[w][v]`: the figures of each measured run, one entry per round.
    pub metrics: Vec<Vec<Vec<Vec<Metric>>>>,
    pub rounds: u32,
    pub stop: Stop,
}

impl Samples {
    /// The ratio of variant `v` to the baseline on workload `w`.
    pub fn ratio(&self, plan: &Plan, w: usize, v: usize) -> Estimate {
        self.ratio_to(plan, w, v, plan.baseline)
    }

    /// The ratio of variant `v` to the reference variant `r` on workload `w`,
    /// paired by round as the ratios to the baseline are (`pgo+bolt` against
    /// `pgo`, say).
    pub fn ratio_to(&self, plan: &Plan, w: usize, v: usize, r: usize) -> Estimate {
        paired_ratio(&self.times[w][r], &self.times[w][v], plan.confidence)
    }

    /// The geometric mean over the gated workloads of variant `v`'s ratios to the baseline.
    pub fn geomean(&self, plan: &Plan, v: usize) -> Option<Estimate> {
        self.geomean_to(plan, v, plan.baseline)
    }

    /// The geometric mean over the gated workloads of variant `v`'s ratios to the
    /// reference variant `r`; `None` before the first round.
    pub fn geomean_to(&self, plan: &Plan, v: usize, r: usize) -> Option<Estimate> {
        let ws: Vec<usize> = (0..plan.workloads).filter(|&w| plan.gated[w]).collect();
        if ws.is_empty() || self.rounds == 0 {
            return None;
        }
        let reference: Vec<&[f64]> = ws.iter().map(|&w| self.times[w][r].as_slice()).collect();
        let var: Vec<&[f64]> = ws.iter().map(|&w| self.times[w][v].as_slice()).collect();
        Some(geomean_ratio(&reference, &var, plan.confidence))
    }

    /// The widest relative half-width among the ratios that must reach the target;
    /// infinite while there are too few rounds for the confidence asked.
    pub fn worst_precision(&self, plan: &Plan) -> f64 {
        let width = |e: Estimate| {
            if e.coverage + 1e-9 < plan.confidence { f64::INFINITY } else { e.relative_half_width() }
        };
        let mut worst: f64 = 0.0;
        for v in (0..plan.variants).filter(|&v| v != plan.baseline) {
            for w in (0..plan.workloads).filter(|&w| plan.gated[w]) {
                worst = worst.max(width(self.ratio(plan, w, v)));
            }
            if let Some(g) = self.geomean(plan, v) {
                worst = worst.max(width(g));
            }
        }
        worst
    }
}

/// Measures by the plan. `on_round` sees the samples after every measured round
/// (to write a partial report, move a progress bar); an executor's error ends the
/// loop and is returned, the rounds before it having been seen.
pub fn run(plan: &Plan, exec: &mut dyn Executor, mut on_round: impl FnMut(&Samples)) -> Result<Samples> {
    let mut samples = Samples {
        times: vec![vec![Vec::new(); plan.variants]; plan.workloads],
        metrics: vec![vec![Vec::new(); plan.variants]; plan.workloads],
        rounds: 0,
        stop: Stop::Running,
    };
    for round in 0..plan.warmup {
        run_round(plan, exec, round as usize, None)?;
    }
    let started = exec.elapsed();
    loop {
        let done = samples.rounds;
        if done >= plan.max_rounds {
            samples.stop = Stop::MaxRounds;
            break;
        }
        if done >= plan.min_rounds.max(2) && samples.worst_precision(plan) <= plan.target {
            samples.stop = Stop::Precise;
            break;
        }
        if done >= plan.min_rounds {
            let spent = exec.elapsed() - started;
            let per_round = spent / f64::from(done.max(1));
            if spent + per_round > plan.budget_s {
                samples.stop = Stop::Budget;
                break;
            }
        }
        run_round(plan, exec, (plan.warmup + done) as usize, Some(&mut samples))?;
        samples.rounds += 1;
        on_round(&samples);
    }
    Ok(samples)
}

fn run_round(plan: &Plan, exec: &mut dyn Executor, round: usize, mut into: Option<&mut Samples>) -> Result<()> {
    for w in 0..plan.workloads {
        for i in 0..plan.variants {
            let v = (i + round) % plan.variants;
            let t = exec.run(w, v)?;
            let figures = exec.take_metrics();
            if let Some(s) = into.as_deref_mut() {
                s.times[w][v].push(t);
                s.metrics[w][v].push(figures);
            }
        }
    }
    Ok(())
}

/// The progress after a round: `round 4: widest interval ±3.2% (target ±1.0%), 1m12s of 3m`.
pub fn round_message(plan: &Plan, samples: &Samples, elapsed: Duration) -> String {
    let widest = samples.worst_precision(plan);
    let precision = if widest.is_finite() {
        format!("widest interval ±{:.1}% (target ±{:.1}%)", widest * 100.0, plan.target * 100.0)
    } else {
        format!("too few rounds yet for a {:.0}% interval", plan.confidence * 100.0)
    };
    format!(
        "round {}: {precision}, {} of {}",
        samples.rounds,
        crate::util::human_duration(elapsed),
        crate::util::human_duration(Duration::from_secs_f64(plan.budget_s))
    )
}

#[cfg(test)]
pub mod mock {
    //! A deterministic executor: each variant has a true speed factor per
    //! workload, the machine drifts slowly, and every run gets log-normal noise
    //! with occasional heavy-tailed hiccups, from a seeded generator.

    use super::Executor;
    use anyhow::Result;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    #[derive(Debug)]
    pub struct Mock {
        /// `base[w]`: workload `w`'s time in seconds at factor 1.
        pub base: Vec<f64>,
        /// `factor[v][w]`: variant `v`'s true time factor on workload `w`.
        pub factor: Vec<Vec<f64>>,
        /// Relative noise (standard deviation of the log time).
        pub noise: f64,
        pub clock: f64,
        pub runs: usize,
        /// Fail on this run (counted from 0), to test partial results.
        pub fail_at: Option<usize>,
        rng: ChaCha8Rng,
    }

    impl Mock {
        pub fn new(seed: u64, base: Vec<f64>, factor: Vec<Vec<f64>>, noise: f64) -> Mock {
            Mock { base, factor, noise, clock: 0.0, runs: 0, fail_at: None, rng: ChaCha8Rng::seed_from_u64(seed) }
        }
    }

    impl Executor for Mock {
        fn run(&mut self, w: usize, v: usize) -> Result<f64> {
            if self.fail_at == Some(self.runs) {
                anyhow::bail!("workload {w} failed with variant {v}");
            }
            self.runs += 1;
            let drift = 1.0 + 0.05 * (self.runs as f64 / 50.0).sin();
            let mut noise = Normal::new(0.0, self.noise).map(|n| n.sample(&mut self.rng)).unwrap_or(0.0);
            if self.rng.random_bool(0.03) {
                noise += self.rng.random_range(0.1..0.5);
            }
            let t = self.base[w] * self.factor[v][w] * drift * noise.exp();
            self.clock += t;
            Ok(t)
        }

        fn elapsed(&self) -> f64 {
            self.clock
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mock::Mock;
    use super::*;
    use crate::measure::stats::Verdict;

    fn plan(variants: usize, workloads: usize) -> Plan {
        Plan {
            variants,
            workloads,
            gated: vec![true; workloads],
            baseline: 0,
            warmup: 1,
            min_rounds: 6,
            max_rounds: 200,
            target: 0.01,
            budget_s: 1e9,
            confidence: 0.95,
            noise: 0.01,
        }
    }

    #[test]
    fn an_a_a_comparison_finds_no_difference() {
        // The same binary twice, under noise and drift.
        let mut mock = Mock::new(7, vec![0.5, 1.0], vec![vec![1.0, 1.0], vec![1.0, 1.0]], 0.05);
        let p = plan(2, 2);
        let s = run(&p, &mut mock, |_| {}).expect("measures");
        for w in 0..2 {
            assert_eq!(
                Verdict::of(&s.ratio(&p, w, 1), p.noise, p.confidence),
                Verdict::NoClearDifference,
                "workload {w}"
            );
        }
        assert_eq!(Verdict::of(&s.geomean(&p, 1).expect("geomean"), p.noise, p.confidence), Verdict::NoClearDifference);
    }

    #[test]
    fn a_a_false_positives_stay_near_the_nominal_rate() {
        // Over many seeds, a 95% interval excludes 1 for an A/A pair about 5% of
        // the time, never much more: the intervals are honest. (No noise
        // threshold here: it would hide a miscalibrated interval.)
        let mut wrong = 0;
        let trials = 300;
        for seed in 0..trials {
            let mut mock = Mock::new(seed, vec![1.0], vec![vec![1.0], vec![1.0]], 0.1);
            let mut p = plan(2, 1);
            (p.min_rounds, p.max_rounds, p.noise) = (10, 10, 0.0);
            let s = run(&p, &mut mock, |_| {}).expect("measures");
            if Verdict::of(&s.ratio(&p, 0, 1), p.noise, p.confidence) != Verdict::NoClearDifference {
                wrong += 1;
            }
        }
        assert!(wrong <= trials * 8 / 100, "{wrong} of {trials} A/A comparisons claimed a difference");
    }

    #[test]
    #[ignore = "a calibration run: prints the false-positive rate under sequential stopping"]
    fn calibrate_sequential_a_a() {
        let mut wrong = 0;
        for seed in 0..200 {
            let mut mock = Mock::new(seed, vec![0.5, 1.0], vec![vec![1.0, 1.0], vec![1.0, 1.0]], 0.05);
            let p = plan(2, 2);
            let s = run(&p, &mut mock, |_| {}).expect("measures");
            let any = (0..2)
                .any(|w| Verdict::of(&s.ratio(&p, w, 1), p.noise, p.confidence) != Verdict::NoClearDifference)
                || Verdict::of(&s.geomean(&p, 1).expect("g"), p.noise, p.confidence) != Verdict::NoClearDifference;
            if any {
                wrong += 1;
                eprintln!("seed {seed}: {:?} {:?} rounds {}", s.ratio(&p, 0, 1), s.ratio(&p, 1, 1), s.rounds);
            }
        }
        eprintln!("{wrong} of 200");
    }

    #[test]
    fn a_real_difference_is_found_and_measured() {
        let mut mock = Mock::new(3, vec![1.0, 2.0], vec![vec![1.0, 1.0], vec![0.8, 0.85], vec![1.1, 1.1]], 0.03);
        let p = plan(3, 2);
        let s = run(&p, &mut mock, |_| {}).expect("measures");
        assert_eq!(s.stop, Stop::Precise);
        let r = s.ratio(&p, 0, 1);
        assert!(r.low <= 0.8 && 0.8 <= r.high, "{r:?}");
        assert_eq!(Verdict::of(&r, p.noise, p.confidence), Verdict::Faster);
        assert_eq!(Verdict::of(&s.ratio(&p, 1, 2), p.noise, p.confidence), Verdict::Slower);
        let g = s.geomean(&p, 1).expect("geomean");
        assert!((g.value - (0.8f64 * 0.85).sqrt()).abs() < 0.01, "{g:?}");
        assert!(s.worst_precision(&p) <= 0.01);
    }

    #[test]
    fn ratios_to_another_variant_pair_by_round() {
        // pgo 20% faster than the baseline, pgo+bolt 10% faster than pgo.
        let mut mock = Mock::new(5, vec![1.0, 0.5], vec![vec![1.0, 1.0], vec![0.8, 0.8], vec![0.72, 0.72]], 0.02);
        let p = plan(3, 2);
        let s = run(&p, &mut mock, |_| {}).expect("measures");
        for w in 0..2 {
            assert_eq!(s.ratio_to(&p, w, 2, p.baseline), s.ratio(&p, w, 2));
            let r = s.ratio_to(&p, w, 2, 1);
            assert!(r.low <= 0.9 && 0.9 <= r.high, "workload {w}: {r:?}");
        }
        let g = s.geomean_to(&p, 2, 1).expect("geomean");
        assert!((g.value - 0.9).abs() < 0.01, "{g:?}");
        assert_eq!(Verdict::of(&g, p.noise, p.confidence), Verdict::Faster);
        assert_eq!(s.geomean_to(&p, 2, p.baseline), s.geomean(&p, 2));
    }

    #[test]
    fn the_budget_stops_a_noisy_run() {
        let mut mock = Mock::new(1, vec![1.0], vec![vec![1.0], vec![0.9]], 0.3);
        let mut p = plan(2, 1);
        p.budget_s = 30.0;
        let s = run(&p, &mut mock, |_| {}).expect("measures");
        assert_eq!(s.stop, Stop::Budget);
        assert!(s.rounds >= p.min_rounds);
        assert!(mock.clock < 30.0 + 2.0 * 1.0 * 2.0 * 2.0, "ran {} s", mock.clock);
    }

    #[test]
    fn the_order_rotates_and_every_round_is_complete() {
        let mut mock = Mock::new(1, vec![1.0, 1.0], vec![vec![1.0; 2]; 3], 0.3);
        let mut p = plan(3, 2);
        (p.min_rounds, p.max_rounds) = (4, 4);
        let mut seen = Vec::new();
        let s = run(&p, &mut mock, |s| seen.push(s.rounds)).expect("measures");
        assert_eq!(s.stop, Stop::MaxRounds);
        assert_eq!(seen, [1, 2, 3, 4]);
        assert!(s.times.iter().all(|w| w.iter().all(|v| v.len() == 4)));
        assert_eq!(mock.runs, (1 + 4) * 3 * 2);
    }

    #[test]
    fn a_failure_keeps_the_rounds_before_it() {
        let mut mock = Mock::new(1, vec![1.0], vec![vec![1.0]; 2], 0.1);
        mock.fail_at = Some(2 + 2 * 3 + 1);
        let mut last = 0;
        let err = run(&plan(2, 1), &mut mock, |s| last = s.rounds).expect_err("fails");
        assert!(err.to_string().contains("failed"));
        assert_eq!(last, 3);
    }
}
