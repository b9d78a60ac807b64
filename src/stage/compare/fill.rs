//! Puts the measured rounds into the record ([`Report`]): each variant's times
//! with their intervals, ratios and verdicts, its workloads' own figures, and
//! `pgo+bolt` against `pgo`.

use super::bolt_vs_pgo;
use super::variants::{PGO, PGO_BOLT};
use crate::measure::stats::{Verdict, median_interval};
use crate::measure::{Plan, Samples};
use crate::report::record::{Ratio, Report, Timing};

impl Report {
    /// Puts measured samples into the variants, and `pgo+bolt` against `pgo`
    /// when both are measured (`keep_bolt`: `--keep-bolt` was given). The plan's
    /// workloads are the report's workloads in order, then the startup run if
    /// measured; its variants are the report's, less those that are the same
    /// build as another.
    pub fn fill(&mut self, plan: &Plan, samples: &Samples, keep_bolt: bool) {
        self.method.rounds = samples.rounds;
        self.method.stop = samples.stop;
        self.method.achieved_precision = (samples.rounds > 0).then(|| samples.worst_precision(plan));
        let confidence = plan.confidence;
        let measured = self.measured_indices();
        for (variant, v) in self.variants.iter_mut().zip(measured) {
            let Some(v) = v else { continue };
            let timing = |w: usize, name: &str| {
                let times = &samples.times[w][v];
                let m = median_interval(times, confidence);
                let r = samples.ratio(plan, w, v);
                Timing {
                    name: name.to_string(),
                    runs: times.len(),
                    median_s: m.value,
                    ci_low_s: m.low,
                    ci_high_s: m.high,
                    ratio: r.value,
                    ratio_ci_low: r.low,
                    ratio_ci_high: r.high,
                    verdict: Verdict::of(&r, plan.noise, plan.confidence),
                    metrics: Vec::new(),
                }
            };
            variant.workloads = self.workloads.iter().enumerate().map(|(w, info)| timing(w, &info.name)).collect();
            variant.startup = self.method.startup_args.is_some().then(|| timing(self.workloads.len(), "startup"));
            variant.geomean = samples.geomean(plan, v).map(|g| Ratio::judged(g, plan.noise, plan.confidence));
        }
        super::metrics::fill(self, plan, samples);
        let index = |name: &str| {
            self.variants.iter().zip(self.measured_indices()).find(|(v, _)| v.name == name).and_then(|(_, i)| i)
        };
        self.bolt_vs_pgo = match (index(PGO), index(PGO_BOLT)) {
            (Some(pgo), Some(bolt)) => {
                let names: Vec<String> = self.workloads.iter().map(|w| w.name.clone()).collect();
                bolt_vs_pgo::measure(plan, samples, &names, pgo, bolt, keep_bolt)
            }
            _ => None,
        };
    }
}
