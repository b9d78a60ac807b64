//! The workloads' own figures in the report (`PGO_BUILD_METRICS`): each one
//! summarized like a workload's time — per variant a median with its interval,
//! and a ratio to the baseline paired by round — with a direction-aware verdict:
//! for a figure where higher is better (`requests_per_s`), a ratio above 1 is
//! better. `--gate-metric NAME` lets the CI checks judge one. The record's types
//! are in `report/record/figures.rs`.

use crate::measure::stats::{Verdict, median_interval, paired_ratio};
use crate::measure::{Plan, Samples};
use crate::report::record::figures::turned;
use crate::report::record::{MetricReport, MetricVerdict, Report};
use crate::workload::metrics::Metric;

/// The values of figure `name` in `runs` (one list of figures per round); `None`
/// unless every run reported it.
fn values<'a>(runs: &'a [Vec<Metric>], name: &str) -> Option<(Vec<f64>, &'a Metric)> {
    let first = runs.first()?.iter().find(|m| m.name == name)?;
    let v: Option<Vec<f64>> = runs.iter().map(|r| r.iter().find(|m| m.name == name).map(|m| m.value)).collect();
    v.map(|v| (v, first))
}

/// Puts each measured variant's figures into its workloads' timings.
pub fn fill(report: &mut Report, plan: &Plan, samples: &Samples) {
    let measured = report.measured_indices();
    for (variant, v) in report.variants.iter_mut().zip(measured) {
        let Some(v) = v else { continue };
        for (w, timing) in variant.workloads.iter_mut().enumerate() {
            timing.metrics = figures_of(plan, samples, w, v);
        }
    }
}

fn figures_of(plan: &Plan, samples: &Samples, w: usize, v: usize) -> Vec<MetricReport> {
    let (Some(base_runs), Some(runs)) =
        (samples.metrics.get(w).and_then(|x| x.get(plan.baseline)), samples.metrics.get(w).and_then(|x| x.get(v)))
    else {
        return Vec::new();
    };
    let Some(names) = runs.first().map(|r| r.iter().map(|m| m.name.clone()).collect::<Vec<_>>()) else {
        return Vec::new();
    };
    names
        .iter()
        .filter_map(|name| {
            let (vals, first) = values(runs, name)?;
            let (base, _) = values(base_runs, name)?;
            let m = median_interval(&vals, plan.confidence);
            let r = paired_ratio(&base, &vals, plan.confidence);
            let verdict = match Verdict::of(&turned(first.better, r), plan.noise, plan.confidence) {
                Verdict::Faster => MetricVerdict::Better,
                Verdict::Slower => MetricVerdict::Worse,
                Verdict::NoClearDifference => MetricVerdict::NoClearDifference,
            };
            Some(MetricReport {
                name: name.clone(),
                unit: first.unit.clone(),
                better: first.better,
                runs: vals.len(),
                median: m.value,
                ci_low: m.low,
                ci_high: m.high,
                ratio: r.value,
                ratio_ci_low: r.low,
                ratio_ci_high: r.high,
                verdict,
            })
        })
        .collect()
}
