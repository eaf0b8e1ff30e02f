//! Statistics over per-sample times: median with a distribution-free 95% interval,
//! coefficient of variation, and Tukey outlier fences.
//!
//! The interval of the median uses order statistics: with `n` samples, the number of samples
//! below the true median is Binomial(n, 1/2), so `[x(l), x(n+1-l)]` covers the median with
//! probability `1 - 2 P(B <= l-1)`. The widest `l` reaching 95% is used; below six samples no
//! interval reaches 95% and `[min, max]` is reported with its lower coverage in
//! [`TimeStats::ci_coverage`].

/// Summary statistics of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeStats {
    /// Median of the samples.
    pub median: f64,
    /// Lower bound of the distribution-free interval of the median.
    pub ci95_low: f64,
    /// Upper bound of the distribution-free interval of the median.
    pub ci95_high: f64,
    /// Coverage actually achieved by `[ci95_low, ci95_high]` (0.95 or more from six samples).
    pub ci_coverage: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Coefficient of variation: sample standard deviation over mean (0 for one sample).
    pub cv: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Samples below the low Tukey fence (`q1 - 1.5 IQR`).
    pub outliers_low: usize,
    /// Samples above the high Tukey fence (`q3 + 1.5 IQR`).
    pub outliers_high: usize,
}

/// Something that can be summarised (implemented for slices of `f64`).
pub trait Summary {
    /// The statistics of the samples, or `None` for an empty set or one holding a NaN.
    fn summary(&self) -> Option<TimeStats>;
}

impl Summary for [f64] {
    fn summary(&self) -> Option<TimeStats> {
        summarize(self)
    }
}

/// The statistics of `samples`, or `None` for an empty set or one holding a NaN.
pub fn summarize(samples: &[f64]) -> Option<TimeStats> {
    if samples.is_empty() || samples.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let n = sorted.len();
    let median = quantile_sorted(&sorted, 0.5);
    let (lo_rank, coverage) = median_interval_rank(n);
    let ci95_low = sorted[lo_rank - 1];
    let ci95_high = sorted[n - lo_rank];
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let cv = if n > 1 && mean != 0.0 {
        let var = sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        var.sqrt() / mean.abs()
    } else {
        0.0
    };
    let q1 = quantile_sorted(&sorted, 0.25);
    let q3 = quantile_sorted(&sorted, 0.75);
    let iqr = q3 - q1;
    let (low_fence, high_fence) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    Some(TimeStats {
        median,
        ci95_low,
        ci95_high,
        ci_coverage: coverage,
        mean,
        cv,
        min: sorted[0],
        max: sorted[n - 1],
        outliers_low: sorted.iter().filter(|v| **v < low_fence).count(),
        outliers_high: sorted.iter().filter(|v| **v > high_fence).count(),
    })
}

/// Linear-interpolation quantile (type 7) of sorted, non-empty data.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The 1-based rank `l` of the lower bound of the median interval and its coverage.
fn median_interval_rank(n: usize) -> (usize, f64) {
    // P(B <= k) for B ~ Binomial(n, 1/2), computed incrementally in f64 (exact enough for
    // the sample counts used here, up to thousands).
    let half_n = 0.5f64.powi(n as i32);
    let mut best = (1, 1.0 - 2.0 * half_n);
    let mut pmf = half_n; // P(B = 0)
    let mut cdf = pmf; // P(B <= 0)
    for l in 2..=n.div_ceil(2) {
        // Interval [x(l), x(n+1-l)] has coverage 1 - 2 P(B <= l-1).
        let k = l - 1;
        pmf *= (n - k + 1) as f64 / k as f64;
        cdf += pmf;
        let coverage = 1.0 - 2.0 * cdf;
        if coverage >= 0.95 {
            best = (l, coverage);
        } else {
            break;
        }
    }
    if n == 1 {
        return (1, 0.0);
    }
    best
}

/// Whether the samples fall into two separate levels (the bimodality of multi-threaded
/// cells on a small machine, where the same benchmark lands at one of two levels from run to
/// run or sample to sample). A heuristic, not BenchmarkDotNet's mValue: split the sorted
/// samples at their widest gap; the samples are bimodal when both sides hold at least two
/// samples and a fifth of them, the gap is wider than the two sides' own spreads together,
/// and wider than 2% of the median. Needs at least six samples.
pub fn is_bimodal(samples: &[f64]) -> bool {
    let n = samples.len();
    if n < 6 || samples.iter().any(|v| v.is_nan()) {
        return false;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (split, gap) = (1..n)
        .map(|i| (i, sorted[i] - sorted[i - 1]))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, 0.0));
    let (low, high) = sorted.split_at(split);
    let min_side = 2.max(n.div_ceil(5));
    if low.len() < min_side || high.len() < min_side {
        return false;
    }
    let spread = |side: &[f64]| side[side.len() - 1] - side[0];
    let median = quantile_sorted(&sorted, 0.5);
    gap > spread(low) + spread(high) && gap > 0.02 * median.abs()
}

/// The result of a two-sided Mann-Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U statistic of the first sample.
    pub u: f64,
    /// Two-sided p-value: exact (by counting rank orderings) for small samples without ties,
    /// else from the normal approximation with tie and continuity corrections.
    pub p_value: f64,
    /// Whether `p_value` is exact.
    pub exact: bool,
}

/// The largest `n1 * n2` for which the exact distribution of U is computed.
const EXACT_LIMIT: usize = 2500;

/// Two-sided Mann-Whitney U (Wilcoxon rank-sum) test: do `a` and `b` come from the same
/// distribution, against one being shifted? Distribution-free, so it suits benchmark
/// samples, which are rarely normal. `None` when a sample is empty or holds a NaN.
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 || a.iter().chain(b).any(|v| v.is_nan()) {
        return None;
    }
    // Rank the pooled samples, averaging the ranks of ties.
    let mut pooled: Vec<(f64, bool)> = a
        .iter()
        .map(|v| (*v, true))
        .chain(b.iter().map(|v| (*v, false)))
        .collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = pooled.len();
    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut ties = false;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        let count = (j - i + 1) as f64;
        if count > 1.0 {
            ties = true;
            tie_term += count.powi(3) - count;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_a += pooled[i..=j].iter().filter(|(_, in_a)| *in_a).count() as f64 * average_rank;
        i = j + 1;
    }
    let u = rank_sum_a - (n1 * (n1 + 1)) as f64 / 2.0;
    let mean = (n1 * n2) as f64 / 2.0;
    if !ties && n1 * n2 <= EXACT_LIMIT {
        let p = exact_two_sided(n1, n2, u);
        return Some(MannWhitney {
            u,
            p_value: p,
            exact: true,
        });
    }
    let (n1f, n2f, nf) = (n1 as f64, n2 as f64, n as f64);
    let variance = n1f * n2f / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    if variance <= 0.0 {
        // Every value equal: no evidence of a difference.
        return Some(MannWhitney {
            u,
            p_value: 1.0,
            exact: false,
        });
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / variance.sqrt();
    let p = (2.0 * normal_upper_tail(z)).min(1.0);
    Some(MannWhitney {
        u,
        p_value: p,
        exact: false,
    })
}

/// The largest p-value that is still significant when `p_values` (one rank test per cell)
/// are judged together at false discovery rate `alpha` (Benjamini-Hochberg): the k-th
/// smallest p-value counts if it is at most `k / m * alpha`, and so do all smaller ones.
/// When no cell really changed, this keeps the chance of any false alarm at `alpha`, however
/// many cells are gated; with one cell it is plain `p < alpha`. The cutoff returned is a
/// strict bound: a p-value counts when it is below it.
pub fn benjamini_hochberg_cutoff(p_values: &[f64], alpha: f64) -> f64 {
    let mut sorted = p_values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let m = sorted.len() as f64;
    // With nothing significant, the bar the most significant cell would have had to pass.
    let mut cutoff = alpha / m.max(1.0);
    for (k, &p) in sorted.iter().enumerate() {
        if p < (k + 1) as f64 / m * alpha {
            // This p-value and every smaller one count: a cutoff just above it.
            cutoff = cutoff.max(p.next_up());
        }
    }
    cutoff
}

/// How far the launches of one run lie apart: the range of their medians, without the
/// lowest and the highest when there are five or more, so that one launch disturbed by a
/// neighbour does not blind the gate to a whole cell.
pub fn run_to_run_spread(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let kept = if sorted.len() >= 5 {
        &sorted[1..sorted.len() - 1]
    } else {
        &sorted[..]
    };
    match (kept.first(), kept.last()) {
        (Some(lo), Some(hi)) => hi - lo,
        _ => 0.0,
    }
}

/// The result of a sign test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignTest {
    /// Differences that were not zero.
    pub n: usize,
    /// How many of them were positive.
    pub positive: usize,
    /// Exact two-sided p-value: twice the binomial(n, 1/2) tail at the larger count.
    pub p_value: f64,
}

/// The two-sided sign test of paired `differences` (for example the log-ratios of launch
/// pairs): are positive and negative differences equally likely? Zero differences are
/// dropped. `None` when nothing is left or a difference is NaN.
///
/// Only the signs count, not how far a pair lies: a pair whose two launches ran in
/// different states of a shared machine (one of them 20-80% slow as a whole) weighs as
/// much as any other pair, where a signed-rank test would give it the largest rank. Its
/// p-value is exact (as `scipy.stats.binomtest(k, n, 0.5)`), and the interval it inverts
/// to is the order-statistic interval of the median that [`summarize`] reports.
///
/// ```
/// use tapbench_measure::stats::sign_test;
///
/// let t = sign_test(&[0.1, -0.2, 0.3, 0.4, 0.5, 0.6, -0.05, 0.7, 0.0]).unwrap();
/// assert_eq!((t.n, t.positive), (8, 6));
/// assert!((t.p_value - 0.2890625).abs() < 1e-12); // scipy.stats.binomtest(6, 8)
/// ```
pub fn sign_test(differences: &[f64]) -> Option<SignTest> {
    if differences.iter().any(|d| d.is_nan()) {
        return None;
    }
    let n = differences.iter().filter(|d| **d != 0.0).count();
    if n == 0 {
        return None;
    }
    let positive = differences.iter().filter(|d| **d > 0.0).count();
    let k = positive.max(n - positive);
    // P(X >= k) for X ~ binomial(n, 1/2), summed in log space so that thousands of pairs
    // neither underflow 2^-n nor overflow the binomial coefficients.
    let ln_half_n = n as f64 * std::f64::consts::LN_2;
    let mut ln_choose = 0.0; // ln C(n, 0)
    let mut terms = Vec::with_capacity(n + 1);
    for j in 0..=n {
        if j >= k {
            terms.push(ln_choose - ln_half_n);
        }
        if j < n {
            ln_choose += ((n - j) as f64).ln() - ((j + 1) as f64).ln();
        }
    }
    let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let tail = top.exp() * terms.iter().map(|t| (t - top).exp()).sum::<f64>();
    Some(SignTest {
        n,
        positive,
        p_value: (2.0 * tail).min(1.0),
    })
}

/// P(|U - mean| >= |u - mean|) under the null hypothesis, by counting the orderings of
/// `n1 + n2` distinct values that give each U (dynamic programming over U's frequencies).
fn exact_two_sided(n1: usize, n2: usize, u: f64) -> f64 {
    let max_u = n1 * n2;
    // freq[m][k]: orderings of m values of the first sample and k of the second, by U.
    // Built incrementally over the second sample's size to keep memory at O(n1 * max_u).
    let mut prev: Vec<Vec<f64>> = (0..=n1).map(|_| vec![0.0; max_u + 1]).collect();
    for row in prev.iter_mut() {
        row[0] = 1.0; // k = 0: one ordering, U = 0.
    }
    for k in 1..=n2 {
        let mut cur: Vec<Vec<f64>> = (0..=n1).map(|_| vec![0.0; max_u + 1]).collect();
        cur[0][0] = 1.0;
        for m in 1..=n1 {
            for total in 0..=(m * k) {
                // The largest value is from the first sample (adds k to U) or the second.
                let from_first = if total >= k {
                    cur[m - 1][total - k]
                } else {
                    0.0
                };
                cur[m][total] = from_first + prev[m][total];
            }
        }
        prev = cur;
    }
    let freq = &prev[n1];
    let all: f64 = freq.iter().sum();
    let mean = max_u as f64 / 2.0;
    let distance = (u - mean).abs() - 1e-9;
    let extreme: f64 = freq
        .iter()
        .enumerate()
        .filter(|(value, _)| (*value as f64 - mean).abs() >= distance)
        .map(|(_, f)| f)
        .sum();
    (extreme / all).min(1.0)
}

/// P(Z > z) for a standard normal Z (complementary error function, W. J. Cody's rational
/// approximation as in Numerical Recipes' `erfcc`, accurate to about 1e-7).
pub fn normal_upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn sign_test_matches_scipy() {
        // scipy.stats.binomtest(k, n, 0.5).pvalue
        for (n, k, p) in [
            (10, 9, 0.021484375),
            (8, 8, 0.0078125),
            (8, 0, 0.0078125),
            (7, 7, 0.015625),
            (30, 23, 0.005222879350185394),
            (30, 22, 0.016124801710247993),
            (60, 41, 0.0062176026593266705),
            (11, 5, 1.0),
        ] {
            let d: Vec<f64> = (0..n).map(|i| if i < k { 0.01 } else { -0.02 }).collect();
            let t = sign_test(&d).unwrap();
            assert_eq!((t.n, t.positive), (n, k));
            assert!((t.p_value - p).abs() < 1e-9 * p, "{n} {k}: {}", t.p_value);
        }
        // Thousands of pairs: no underflow or overflow; balanced signs are no evidence.
        let many: Vec<f64> = (0..4000)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        assert!((sign_test(&many).unwrap().p_value - 1.0).abs() < 1e-9);
        let lopsided: Vec<f64> = (0..4000)
            .map(|i| if i % 3 == 0 { -1.0 } else { 1.0 })
            .collect();
        let p = sign_test(&lopsided).unwrap().p_value;
        assert!(p > 0.0 && p < 1e-80, "{p}");
        // How far a pair lies does not matter, only its sign.
        let far = sign_test(&[0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, -5.0]).unwrap();
        let near = sign_test(&[0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, -0.001]).unwrap();
        assert_eq!(far.p_value, near.p_value);
        assert!(sign_test(&[0.0, 0.0]).is_none());
        assert!(sign_test(&[f64::NAN]).is_none());
    }
    use super::*;

    #[test]
    fn median_of_odd_and_even_sets() {
        assert_eq!(summarize(&[3.0, 1.0, 2.0]).unwrap().median, 2.0);
        assert_eq!(summarize(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
    }

    #[test]
    fn empty_or_nan_has_no_summary() {
        assert!(summarize(&[]).is_none());
        assert!(summarize(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn interval_ranks_match_binomial_tables() {
        // Known 95% ranks for the median: n=6 -> (1, 6) at 96.9%; n=10 -> (2, 9) at 97.9%;
        // n=30 -> (10, 21) at 95.7%.
        assert_eq!(median_interval_rank(6).0, 1);
        assert!((median_interval_rank(6).1 - 0.96875).abs() < 1e-9);
        assert_eq!(median_interval_rank(10).0, 2);
        assert!((median_interval_rank(10).1 - 0.978515625).abs() < 1e-9);
        assert_eq!(median_interval_rank(30).0, 10);
        assert!(median_interval_rank(30).1 >= 0.95);
        // Below six samples the full range is all there is.
        assert_eq!(median_interval_rank(5), (1, 0.9375));
    }

    #[test]
    fn interval_contains_median_and_cv_is_relative() {
        let samples: Vec<f64> = (1..=30).map(|v| v as f64).collect();
        let s = summarize(&samples).unwrap();
        assert!(s.ci95_low <= s.median && s.median <= s.ci95_high);
        assert_eq!((s.ci95_low, s.ci95_high), (10.0, 21.0));
        let scaled: Vec<f64> = samples.iter().map(|v| v * 1000.0).collect();
        assert!((summarize(&scaled).unwrap().cv - s.cv).abs() < 1e-12);
    }

    #[test]
    fn tukey_fences_flag_but_keep_outliers() {
        let s = summarize(&[10.0, 10.1, 9.9, 10.0, 10.2, 9.8, 50.0]).unwrap();
        assert_eq!(s.outliers_high, 1);
        assert_eq!(s.outliers_low, 0);
        assert_eq!(s.max, 50.0);
    }

    #[test]
    fn mann_whitney_exact_matches_tables() {
        // Fully separated 5 vs 5: U = 0, two-sided p = 2 / C(10, 5) = 2 / 252.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [6.0, 7.0, 8.0, 9.0, 10.0];
        let r = mann_whitney_u(&a, &b).unwrap();
        assert!(r.exact);
        assert_eq!(r.u, 0.0);
        assert!((r.p_value - 2.0 / 252.0).abs() < 1e-12, "{r:?}");
        // Symmetric in the other direction.
        let r = mann_whitney_u(&b, &a).unwrap();
        assert_eq!(r.u, 25.0);
        assert!((r.p_value - 2.0 / 252.0).abs() < 1e-12);
        // scipy.stats.mannwhitneyu([1.1,2.3,3.2,4.8,5.0,7.5], [2.0,6.1,8.2,9.3,10.4,11.0,12.5],
        // method="exact"): U = 6, p = 0.03496503496.
        let r = mann_whitney_u(
            &[1.1, 2.3, 3.2, 4.8, 5.0, 7.5],
            &[2.0, 6.1, 8.2, 9.3, 10.4, 11.0, 12.5],
        )
        .unwrap();
        assert_eq!(r.u, 6.0);
        assert!((r.p_value - 0.034_965_034_96).abs() < 1e-9, "{r:?}");
        // Interleaved samples: no evidence (p = 1 at the centre).
        let r = mann_whitney_u(&[1.0, 4.0, 5.0, 8.0], &[2.0, 3.0, 6.0, 7.0]).unwrap();
        assert!(r.p_value > 0.9, "{r:?}");
    }

    #[test]
    fn mann_whitney_normal_approximation_with_ties() {
        // scipy.stats.mannwhitneyu([1,2,2,3,3,3,4,4,5]*3, [3,4,4,5,5,5,6,6,7]*3,
        // use_continuity=True, method="asymptotic"): U = 90, p = 1.3854609691e-06.
        let a: Vec<f64> = [1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 4.0, 5.0].repeat(3);
        let b: Vec<f64> = [3.0, 4.0, 4.0, 5.0, 5.0, 5.0, 6.0, 6.0, 7.0].repeat(3);
        let r = mann_whitney_u(&a, &b).unwrap();
        assert!(!r.exact);
        assert_eq!(r.u, 90.0);
        assert!((r.p_value / 1.385_460_969_1e-6 - 1.0).abs() < 1e-3, "{r:?}");
        let same = mann_whitney_u(&[2.0; 10], &[2.0; 10]).unwrap();
        assert_eq!(same.p_value, 1.0);
        assert!(mann_whitney_u(&[], &[1.0]).is_none());
    }

    #[test]
    fn normal_tail() {
        assert!((normal_upper_tail(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_upper_tail(1.959_964) - 0.025).abs() < 1e-6);
        assert!((normal_upper_tail(-1.0) - 0.841_344_7).abs() < 1e-6);
    }

    #[test]
    fn two_levels_are_bimodal_one_level_is_not() {
        // The harness's own noop cell on this machine: four samples at one level, eleven at
        // another.
        let levels = [
            0.72, 0.72, 0.73, 0.64, 0.41, 0.41, 0.41, 0.42, 0.43, 0.41, 0.41, 0.42, 0.41, 0.41,
            0.43,
        ];
        assert!(is_bimodal(&levels));
        let steady = [
            900.76, 910.39, 911.46, 885.49, 890.15, 892.6, 908.77, 888.12, 889.93, 888.59,
        ];
        assert!(!is_bimodal(&steady));
        // One outlier is an outlier, not a second mode.
        assert!(!is_bimodal(&[10.0, 10.1, 9.9, 10.0, 10.2, 9.8, 50.0]));
        assert!(!is_bimodal(&[1.0, 2.0, 3.0]));
    }
}
