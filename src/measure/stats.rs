//! The statistics of `compare`, all distribution-free (docs/statistics.md):
//!
//! - a variant's time on a workload: the median of its runs, with the exact
//!   order-statistic confidence interval of the median (binomial);
//! - a variant's time relative to the baseline (or to another variant: `pgo+bolt`
//!   to `pgo`): runs are paired by round (both ran back to back in the same
//!   round), the paired log time ratios are summarized by their Hodges–Lehmann
//!   estimate with the exact Wilcoxon signed-rank confidence interval, and turned
//!   back into a ratio;
//! - the geometric mean over workloads: the same, on each round's mean log ratio.
//!
//! Times on a shared machine are skewed and drift; none of this assumes normality,
//! and pairing by round cancels drift that hits both runs of a round alike.

use serde::Serialize;

/// A point estimate with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// The interval's actual coverage: at least the requested confidence when
    /// there are enough samples, less (and said) when there are too few.
    pub coverage: f64,
}

impl Estimate {
    /// Half the interval's width relative to the estimate (0.01 is ±1%).
    pub fn relative_half_width(&self) -> f64 {
        (self.high - self.low) / 2.0 / self.value.abs().max(f64::MIN_POSITIVE)
    }
}

/// What a ratio's interval says about a variant against the baseline. As in
/// criterion, a difference must be both statistically clear and larger than a
/// noise threshold: a binary compared with itself over hundreds of rounds would
/// otherwise show "differences" of a fraction of a percent (page cache, layout in
/// memory) that no one should bet a release on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The whole interval is below `1 - noise`.
    Faster,
    /// The whole interval is above `1 + noise`.
    Slower,
    /// The interval reaches into `[1 - noise, 1 + noise]`.
    NoClearDifference,
}

impl Verdict {
    /// `noise` is the threshold as a fraction (0.01 is 1%). An interval whose
    /// coverage is below `confidence` (too few rounds) proves nothing.
    pub fn of(ratio: &Estimate, noise: f64, confidence: f64) -> Verdict {
        if ratio.coverage + 1e-9 < confidence {
            Verdict::NoClearDifference
        } else if ratio.high < 1.0 - noise {
            Verdict::Faster
        } else if ratio.low > 1.0 + noise {
            Verdict::Slower
        } else {
            Verdict::NoClearDifference
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::NoClearDifference => "no clear difference",
        }
    }
}

/// The median of some numbers (`NaN` for none).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let v = sorted(values);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 }
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// The median with the exact order-statistic interval: `[x(k), x(n+1-k)]` covers
/// the true median with probability `1 - 2·P(Binomial(n, ½) < k)`; `k` is the
/// largest that keeps that at or above `confidence`. With too few samples for the
/// confidence (fewer than 6 at 95%) the interval is the whole range, with its
/// actual, lower coverage.
pub fn median_interval(values: &[f64], confidence: f64) -> Estimate {
    let v = sorted(values);
    let n = v.len();
    if n == 0 {
        return Estimate { value: f64::NAN, low: f64::NAN, high: f64::NAN, coverage: 0.0 };
    }
    // cdf[i] = P(B <= i) for B ~ Binomial(n, 1/2).
    let mut cdf = Vec::with_capacity(n + 1);
    let mut acc = 0.0;
    for i in 0..=n {
        acc += binomial_half(n, i);
        cdf.push(acc);
    }
    let alpha = 1.0 - confidence;
    let mut k = 1;
    while k < n.div_ceil(2) && cdf[k] <= alpha / 2.0 {
        k += 1;
    }
    Estimate { value: median(&v), low: v[k - 1], high: v[n - k], coverage: 1.0 - 2.0 * cdf[k - 1] }
}

/// P(Binomial(n, ½) = i), computed in logs so large n does not overflow.
fn binomial_half(n: usize, i: usize) -> f64 {
    (ln_choose(n, i) - n as f64 * std::f64::consts::LN_2).exp()
}

fn ln_choose(n: usize, k: usize) -> f64 {
    let k = k.min(n - k);
    (0..k).map(|j| ((n - j) as f64).ln() - ((j + 1) as f64).ln()).sum()
}

/// The Hodges–Lehmann estimate of the centre of paired differences `d` (the
/// median of all Walsh averages `(dᵢ + dⱼ)/2`, i ≤ j) with the exact Wilcoxon
/// signed-rank confidence interval. Assumes only that the differences are
/// symmetric around their centre, which interleaved runs of one binary satisfy.
pub fn hodges_lehmann(d: &[f64], confidence: f64) -> Estimate {
    let n = d.len();
    if n == 0 {
        return Estimate { value: f64::NAN, low: f64::NAN, high: f64::NAN, coverage: 0.0 };
    }
    let mut walsh = Vec::with_capacity(n * (n + 1) / 2);
    for i in 0..n {
        for j in i..n {
            walsh.push((d[i] + d[j]) / 2.0);
        }
    }
    walsh.sort_by(f64::total_cmp);
    let m = walsh.len();
    let (k, coverage) = signed_rank_rank(n, confidence);
    Estimate { value: median(&walsh), low: walsh[k - 1], high: walsh[m - k], coverage }
}

/// The rank `k` of the Walsh averages bounding the interval `[W(k), W(m+1-k)]`,
/// whose coverage is `1 - 2·P(T <= k-1)`, and that coverage; remembered per
/// (n, confidence), since measuring asks after every round.
fn signed_rank_rank(n: usize, confidence: f64) -> (usize, f64) {
    thread_local! {
        static RANKS: std::cell::RefCell<std::collections::HashMap<(usize, u64), (usize, f64)>> =
            std::cell::RefCell::default();
    }
    let key = (n, confidence.to_bits());
    if let Some(hit) = RANKS.with(|r| r.borrow().get(&key).copied()) {
        return hit;
    }
    let m = n * (n + 1) / 2;
    let cdf = signed_rank_cdf(n);
    let alpha = 1.0 - confidence;
    let mut k = 1;
    while k < m.div_ceil(2) && cdf[k] <= alpha / 2.0 {
        k += 1;
    }
    let found = (k, 1.0 - 2.0 * cdf[k - 1]);
    RANKS.with(|r| r.borrow_mut().insert(key, found));
    found
}

/// `cdf[t] = P(T <= t)` for the Wilcoxon signed-rank statistic `T` of `n` pairs
/// under the null hypothesis: the number of subsets of {1..n} summing to t, over
/// 2ⁿ. Exact up to 400 pairs, a normal approximation beyond.
fn signed_rank_cdf(n: usize) -> Vec<f64> {
    let max = n * (n + 1) / 2;
    if n > 400 {
        let mean = max as f64 / 2.0;
        let sd = ((n * (n + 1) * (2 * n + 1)) as f64 / 24.0).sqrt();
        return (0..=max).map(|t| normal_cdf((t as f64 + 0.5 - mean) / sd)).collect();
    }
    // Probabilities rather than counts: each rank halves in and out.
    let mut p = vec![0.0f64; max + 1];
    p[0] = 1.0;
    let mut top = 0;
    for r in 1..=n {
        top += r;
        for t in (0..=top).rev() {
            let without = p[t];
            let with = if t >= r { p[t - r] } else { 0.0 };
            p[t] = (without + with) / 2.0;
        }
    }
    let mut acc = 0.0;
    p.iter()
        .map(|x| {
            acc += x;
            acc
        })
        .collect()
}

fn normal_cdf(z: f64) -> f64 {
    0.5 * (1.0 + erf(z / std::f64::consts::SQRT_2))
}

/// Abramowitz–Stegun 7.1.26 (error below 1.5e-7), enough for an approximation
/// only used beyond 400 rounds.
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.3275911 * x.abs());
    let y = 1.0
        - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592)
            * t
            * (-x * x).exp();
    if x >= 0.0 { y } else { -y }
}

/// The ratio of `variant` to `baseline` times, paired by round: the
/// Hodges–Lehmann estimate of the log ratios with its interval, as a ratio.
pub fn paired_ratio(baseline: &[f64], variant: &[f64], confidence: f64) -> Estimate {
    let logs: Vec<f64> = baseline.iter().zip(variant).map(|(a, b)| (b / a).ln()).collect();
    exp_of(hodges_lehmann(&logs, confidence))
}

/// The geometric mean over workloads of the ratio of `variant` to `baseline`:
/// each round's mean log ratio over the workloads, summarized like one workload.
/// `baseline[w]` and `variant[w]` are workload `w`'s times, by round.
pub fn geomean_ratio(baseline: &[&[f64]], variant: &[&[f64]], confidence: f64) -> Estimate {
    let rounds = baseline.iter().chain(variant).map(|t| t.len()).min().unwrap_or(0);
    let k = baseline.len().max(1) as f64;
    let per_round: Vec<f64> =
        (0..rounds).map(|r| baseline.iter().zip(variant).map(|(a, b)| (b[r] / a[r]).ln()).sum::<f64>() / k).collect();
    exp_of(hodges_lehmann(&per_round, confidence))
}

fn exp_of(e: Estimate) -> Estimate {
    Estimate { value: e.value.exp(), low: e.low.exp(), high: e.high.exp(), coverage: e.coverage }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn median_interval_matches_the_binomial_table() {
        // n = 10 at 95%: [x(2), x(9)], coverage 1 - 2·11/1024 = 0.9785.
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let e = median_interval(&v, 0.95);
        assert_eq!((e.low, e.high), (2.0, 9.0));
        assert!((e.coverage - (1.0 - 22.0 / 1024.0)).abs() < 1e-12);
        // n = 5 cannot reach 95%: the whole range, with its real coverage 15/16.
        let e = median_interval(&[5.0, 1.0, 3.0, 2.0, 4.0], 0.95);
        assert_eq!((e.low, e.high), (1.0, 5.0));
        assert!((e.coverage - 0.9375).abs() < 1e-12);
    }

    #[test]
    fn signed_rank_distribution_is_exact() {
        // n = 3: T takes 0..=6 with counts 1,1,1,2,1,1,1 over 8.
        let cdf = signed_rank_cdf(3);
        let expect = [1.0, 2.0, 3.0, 5.0, 6.0, 7.0, 8.0].map(|c| c / 8.0);
        for (a, b) in cdf.iter().zip(expect) {
            assert!((a - b).abs() < 1e-12);
        }
        // n = 10: P(T <= 8) = 0.02441 (published critical value for α = 0.05 two-sided).
        assert!((signed_rank_cdf(10)[8] - 25.0 / 1024.0).abs() < 1e-12);
    }

    #[test]
    fn hodges_lehmann_interval_for_ten_pairs() {
        // 55 Walsh averages; at 95% k = 9: [W(9), W(47)].
        let d: Vec<f64> = (1..=10).map(f64::from).collect();
        let e = hodges_lehmann(&d, 0.95);
        assert_eq!(e.value, 5.5);
        let mut walsh: Vec<f64> = Vec::new();
        for i in 0..10 {
            for j in i..10 {
                walsh.push((d[i] + d[j]) / 2.0);
            }
        }
        walsh.sort_by(f64::total_cmp);
        assert_eq!((e.low, e.high), (walsh[8], walsh[46]));
        assert!(e.coverage >= 0.95);
    }

    #[test]
    fn normal_approximation_joins_the_exact_distribution() {
        let n = 400;
        let exact = signed_rank_cdf(n);
        let mean = (n * (n + 1) / 2) as f64 / 2.0;
        let sd = ((n * (n + 1) * (2 * n + 1)) as f64 / 24.0).sqrt();
        let t = (mean - 1.96 * sd) as usize;
        let approx = normal_cdf((t as f64 + 0.5 - mean) / sd);
        assert!((exact[t] - approx).abs() < 1e-3, "{} vs {approx}", exact[t]);
    }

    #[test]
    fn verdicts_follow_the_interval() {
        let e = |low, high| Estimate { value: (low + high) / 2.0, low, high, coverage: 0.95 };
        assert_eq!(Verdict::of(&e(0.8, 0.9), 0.01, 0.95), Verdict::Faster);
        assert_eq!(Verdict::of(&e(1.02, 1.2), 0.01, 0.95), Verdict::Slower);
        assert_eq!(Verdict::of(&e(0.98, 1.03), 0.01, 0.95), Verdict::NoClearDifference);
        // Clear, but within the noise threshold.
        assert_eq!(Verdict::of(&e(0.985, 0.995), 0.01, 0.95), Verdict::NoClearDifference);
        assert_eq!(Verdict::of(&e(0.985, 0.995), 0.0, 0.95), Verdict::Faster);
        // Too few rounds for the confidence asked.
        assert_eq!(Verdict::of(&e(0.8, 0.9), 0.01, 0.99), Verdict::NoClearDifference);
    }

    #[test]
    fn paired_ratio_sees_a_constant_factor_through_drift() {
        // The machine slows down over the run; the variant is always 20% faster.
        let base: Vec<f64> = (0..12).map(|r| 1.0 + 0.1 * f64::from(r)).collect();
        let fast: Vec<f64> = base.iter().map(|t| t * 0.8).collect();
        let e = paired_ratio(&base, &fast, 0.95);
        assert!((e.value - 0.8).abs() < 1e-12 && (e.low - 0.8).abs() < 1e-12 && (e.high - 0.8).abs() < 1e-12);
        let g = geomean_ratio(&[&base, &base], &[&fast, &base], 0.95);
        assert!((g.value - 0.8f64.sqrt()).abs() < 1e-12);
    }
}
