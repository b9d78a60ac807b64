//! The counts in the report, from hand-made counts: ratios, the baseline's
//! repeat as an interval, geometric means, and a report without every count.

use super::*;
use crate::measure::counter::{Counter, CounterKind, Counts};
use crate::measure::stats::Verdict;
use crate::report::record::CountsMethod;
use crate::stage::compare::fill_tests::sample;

fn counts(instructions: u64, i1: u64, ll: u64, mispredicts: u64) -> Counts {
    Counts {
        processes: 1,
        instructions,
        cycles: None,
        i1_misses: Some(i1),
        ll_misses: Some(ll),
        branch_mispredicts: Some(mispredicts),
        estimated_cycles: Some(instructions + 5 * i1 + 35 * ll + 10 * mispredicts),
    }
}

pub fn cachegrind() -> Counter {
    Counter {
        kind: CounterKind::Cachegrind,
        program: "/usr/bin/valgrind".into(),
        version: "valgrind-3.19.0".into(),
        why: "perf stat cannot read the hardware counters here, so cachegrind simulates the machine".into(),
    }
}

/// Counts for the sample report's measured variants (baseline, release, pgo,
/// pgo+bolt, small) on its two workloads (puzzles, calc): release the same as
/// the baseline, pgo 14% fewer instructions and far fewer I1 misses, pgo+bolt
/// the same instructions as pgo with fewer I1 misses still, small 20% more.
pub fn samples() -> CountSamples {
    let puzzles = vec![
        Some(counts(1_000_000_000, 500_000, 20_000, 4_000_000)),
        Some(counts(1_000_000_000, 500_000, 20_000, 4_000_000)),
        Some(counts(860_000_000, 10_000, 19_000, 3_700_000)),
        Some(counts(861_000_000, 4_000, 19_000, 3_650_000)),
        Some(counts(1_200_000_000, 700_000, 25_000, 4_400_000)),
    ];
    let calc = vec![
        Some(counts(400_000_000, 90_000, 5_000, 2_000_000)),
        Some(counts(400_000_000, 90_000, 5_000, 2_000_000)),
        Some(counts(352_000_000, 3_000, 5_000, 1_900_000)),
        Some(counts(352_500_000, 2_500, 5_000, 1_880_000)),
        Some(counts(480_000_000, 120_000, 6_000, 2_200_000)),
    ];
    CountSamples {
        repeat: vec![puzzles[0], calc[0]],
        counts: vec![puzzles, calc],
        runs: 12,
        elapsed_s: 95.0,
        stopped: None,
    }
}

fn report_with(s: &CountSamples) -> Report {
    let mut r = sample();
    r.counts = Some(CountsMethod::new(&cachegrind(), 12));
    fill(&mut r, s, 0.01, 0.95);
    r
}

#[test]
fn ratios_are_to_the_baseline_and_identical_repeats_give_points() {
    let r = report_with(&samples());
    let m = r.counts.as_ref().unwrap();
    assert_eq!(m.runs, 12);
    assert!(m.repeat.iter().all(|x| x.difference == 0.0 && x.figure.is_none()), "{:?}", m.repeat);
    let pgo = r.variants[3].counts.as_ref().expect("pgo counted");
    let q = pgo.ratio("puzzles", Figure::Instructions).unwrap();
    assert_eq!((q.ratio, q.ratio_ci_low, q.ratio_ci_high, q.verdict), (0.86, 0.86, 0.86, Verdict::Faster));
    let g = pgo.geomean(Figure::Instructions).unwrap();
    assert!((g.ratio - (0.86f64 * 0.88).sqrt()).abs() < 1e-9, "{g:?}");
    // The A/A variant counts the same: no difference.
    let release = r.variants[2].counts.as_ref().unwrap();
    assert_eq!(release.geomean(Figure::Instructions).unwrap().verdict, Verdict::NoClearDifference);
    assert_eq!(r.variants[5].counts.as_ref().unwrap().geomean(Figure::Instructions).unwrap().verdict, Verdict::Slower);
    // The same build as the baseline has no counts of its own.
    assert!(r.variants[1].counts.is_none());
    // cachegrind gives no cycles; perf's figures are not made up.
    assert!(pgo.geomean(Figure::Cycles).is_none());
}

#[test]
fn a_repeat_that_differs_widens_every_ratio_of_that_figure_and_is_said() {
    let mut s = samples();
    let mut again = s.repeat[1].unwrap();
    again.instructions += 2_000_000; // 0.5% more on the second count of calc
    s.repeat[1] = Some(again);
    let r = report_with(&s);
    let m = r.counts.as_ref().unwrap();
    let calc = m.repeat.iter().find(|x| x.workload == "calc").unwrap();
    assert_eq!(calc.figure, Some(Figure::Instructions));
    assert!((calc.difference - 2.0 / 402.0).abs() < 1e-9, "{calc:?}");
    let q = r.variants[3].counts.as_ref().unwrap().ratio("calc", Figure::Instructions).unwrap().clone();
    assert!(q.ratio_ci_low < q.ratio && q.ratio < q.ratio_ci_high, "{q:?}");
    let md = crate::report::markdown(&r);
    assert!(
        md.contains(
            "**The counts are not exactly repeatable:** the baseline counted twice differed by up to 0.50% (calc, \
             instructions). Each ratio's"
        ),
        "{md}"
    );
    // A small count that moves more than the instructions: both are said.
    let mut s = samples();
    let mut again = s.repeat[0].unwrap();
    (again.instructions, again.ll_misses) = (again.instructions + 15, Some(20_240));
    s.repeat[0] = Some(again);
    let md = crate::report::markdown(&report_with(&s));
    assert!(md.contains("differed by up to 1.19% (puzzles, LL misses); instructions by at most 0.0000015%."), "{md}");
}

#[test]
fn a_workload_left_uncounted_leaves_no_geometric_mean() {
    let mut s = samples();
    s.counts[1] = vec![None; 5];
    s.repeat[1] = None;
    s.stopped = Some("the time budget (3m) ran out after 6 of 12 counted runs".into());
    let r = report_with(&s);
    let pgo = r.variants[3].counts.as_ref().unwrap();
    assert_eq!(pgo.workloads.len(), 1);
    assert!(pgo.geomean.is_empty());
    let md = crate::report::markdown(&r);
    assert!(md.contains("**Counting stopped early:** the time budget (3m) ran out after 6 of 12"), "{md}");
}

#[test]
fn counts_json_snapshot() {
    let r = report_with(&samples());
    let json = serde_json::json!({ "counts": r.counts, "variants[3].counts": r.variants[3].counts });
    insta::assert_snapshot!(serde_json::to_string_pretty(&json).unwrap());
}

#[test]
fn counts_markdown_snapshot() {
    let r = report_with(&samples());
    let md = crate::report::markdown(&r);
    let start = md.find("\n### Counts").expect("a counts section");
    let end = md[start + 1..].find("\n### ").map_or(md.len(), |e| start + 1 + e);
    let counts = &md[start..end];
    insta::assert_snapshot!(counts);
}

/// The counts' charts draw in a real browser: with the timed charts left out
/// (no rounds), each counted variant's colour is on the screen.
#[test]
fn counts_charts_render_in_a_real_browser() {
    use crate::report::page;
    use crate::report::view::colour;
    let mut r = report_with(&samples());
    for v in &mut r.variants {
        (v.workloads, v.startup) = (Vec::new(), None);
    }
    let html = page(&r);
    assert_eq!(html.matches("<figure class=\"chart\">").count(), 2, "instructions and estimated cycles");
    assert!(html.contains("<h2>Counts (cachegrind)</h2>"), "{html}");
    if let Some(keep) = std::env::var_os("PGO_BUILD_KEEP_PAGE") {
        std::fs::write(std::path::Path::new(&keep).join("counts.html"), &html).unwrap();
    }
    let count = crate::report::tests::screenshot(&html);
    for (i, v) in r.variants.iter().enumerate() {
        let n = count(colour(&r, i));
        let differs = v.counts.as_ref().and_then(|c| c.geomean(Figure::Instructions)).is_some_and(|g| g.ratio < 0.95);
        if differs || v.name == "small" {
            assert!(n >= 200, "only {n} pixels of {}'s colour: the counts chart did not render", v.name);
        }
    }
}

fn plan<'a>(counter: &'a Counter, workloads: Vec<&'a crate::config::Workload>, budget_s: f64) -> CountPlan<'a> {
    CountPlan {
        counter,
        workloads,
        variants: vec![("release".into(), Vec::new()), ("pgo".into(), Vec::new())],
        budget_s,
        min_rounds: 6,
        must_complete: false,
    }
}

/// The trial of issue 17: a workload running the binary 200 times, 1.5 s plain;
/// counted, 89 s, though the budget was 60 s. Predicted from the plain run, it
/// is not started, and the reason says what was expected and what was left.
#[test]
fn a_counted_run_that_cannot_fit_the_budget_is_not_started() {
    use crate::config::{Run, Use, Workload};
    let w = Workload::new("many", Run::Shell("x".into()), [Use::Bench].into());
    let counter = cachegrind();
    let p = plan(&counter, vec![&w], 60.0);
    let mut f = Forecast::new(CounterKind::Cachegrind, vec![1.5]);
    assert_eq!(f.next(0), 90.0);
    let why = over_budget(&p, &f, 0, 0.0).expect("90 s does not fit in 60 s");
    assert!(why.starts_with("a counted run of `many` would take about 1m30s (a plain run took 1.5s"), "{why}");
    assert!(why.contains("60× slower"), "{why}");
    assert!(why.contains("18.0s kept for 6 timed rounds"), "6 rounds × 2 builds × 1.5 s: {why}");

    // A cheap workload fits; the slowdown seen replaces the guess.
    let mut quick = Forecast::new(CounterKind::Cachegrind, vec![0.01]);
    assert!(over_budget(&p, &quick, 0, 0.0).is_none());
    quick.learn(0, 0.8);
    assert_eq!((quick.slowdown, quick.next(0)), (80.0, 0.8));
    assert!(over_budget(&p, &quick, 0, 59.5).is_some(), "0.8 s more does not fit at 59.5 s spent");
    f.learn(0, 89.0);
    assert_eq!(f.total_s(2), 3.0 * 89.0, "each build once, the baseline again");
    // A check on a count counts everything.
    let must = CountPlan { must_complete: true, ..plan(&counter, vec![&w], 60.0) };
    assert!(over_budget(&must, &f, 0, 0.0).is_none());
}

/// A second counted run of the first workload, quicker than the first, must not
/// lower the slowdown the first one showed (it once replaced it).
#[test]
fn a_quicker_repeat_of_the_first_workload_keeps_the_slowdown_seen() {
    let mut f = Forecast::new(CounterKind::Cachegrind, vec![1.0, 1.0]);
    f.learn(0, 80.0);
    f.learn(0, 50.0);
    assert_eq!(f.slowdown, 80.0);
    assert_eq!(f.next(1), 80.0, "the next workload is foreseen at the largest slowdown seen");
}
