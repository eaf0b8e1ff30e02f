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

#[cfg(test)]
mod tests {
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
}
