//! `tapbench compare BASE CURRENT`: per cell present in both files, the ratio of medians, a
//! Mann-Whitney U test on the samples, the change in allocations per operation and a
//! verdict; cells present in only one file are listed, not dropped.

use std::collections::BTreeMap;
use std::fmt::Write;

use anyhow::{bail, Result};
use serde::Serialize;
use tapbench_measure::stats::mann_whitney_u;

use crate::report::csv::quote;
use crate::results::{CellResult, ResultsFile, Status, TimeNsPerOp};
use crate::table::format_ns;

/// Significance level of the rank test: a change needs p below this.
pub const ALPHA: f64 = 0.01;

/// What changed in one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly faster by more than the threshold.
    Faster,
    /// Significantly slower by more than the threshold.
    Slower,
    /// No significant change beyond the threshold.
    Same,
    /// One side did not measure the cell (failed, skipped, timed out).
    NotComparable,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::Same => "same",
            Verdict::NotComparable => "not comparable",
        }
    }
}

/// One cell present in both files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellComparison {
    /// Cell id.
    pub id: String,
    /// Median ns/op in BASE.
    pub base_median_ns: Option<f64>,
    /// Median ns/op in CURRENT.
    pub current_median_ns: Option<f64>,
    /// CURRENT median over BASE median.
    pub ratio: Option<f64>,
    /// Two-sided Mann-Whitney U p-value of the launch medians (both runs with several
    /// launches) or of the samples.
    pub p_value: Option<f64>,
    /// Allocations per op in BASE.
    pub base_allocs_per_op: Option<f64>,
    /// Allocations per op in CURRENT.
    pub current_allocs_per_op: Option<f64>,
    /// CURRENT minus BASE allocations per op.
    pub allocs_change: Option<f64>,
    /// The verdict on time.
    pub verdict: Verdict,
    /// Why a cell is not comparable.
    pub note: Option<String>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Relative change below which a significant difference is still "same".
    pub threshold: f64,
    /// Significance level of the rank test.
    pub alpha: f64,
    /// Cells in both files, in BASE order.
    pub cells: Vec<CellComparison>,
    /// Ids only in BASE.
    pub only_in_base: Vec<String>,
    /// Ids only in CURRENT.
    pub only_in_current: Vec<String>,
}

/// The cells of two results files, matched by id.
#[derive(Debug)]
pub struct Matched<'a> {
    /// `(base, current)` pairs of the cells in both files, in BASE order.
    pub pairs: Vec<(&'a CellResult, &'a CellResult)>,
    /// Ids only in BASE.
    pub only_in_base: Vec<String>,
    /// Ids only in CURRENT.
    pub only_in_current: Vec<String>,
}

/// Matches the cells of `base` and `current` by id.
///
/// # Errors
///
/// The files have no cell in common; `what` names the two files in the message.
pub fn match_cells<'a>(
    base: &'a ResultsFile,
    current: &'a ResultsFile,
    what: &str,
) -> Result<Matched<'a>> {
    let current_by_id: BTreeMap<&str, &CellResult> =
        current.cells.iter().map(|c| (c.id.as_str(), c)).collect();
    let base_ids: BTreeMap<&str, ()> = base.cells.iter().map(|c| (c.id.as_str(), ())).collect();
    let pairs: Vec<_> = base
        .cells
        .iter()
        .filter_map(|b| current_by_id.get(b.id.as_str()).map(|c| (b, *c)))
        .collect();
    if pairs.is_empty() {
        bail!(
            "{what} have no cell in common ({} and {} cells); compare runs of the same \
             selection",
            base.cells.len(),
            current.cells.len()
        );
    }
    Ok(Matched {
        pairs,
        only_in_base: base
            .cells
            .iter()
            .filter(|c| !current_by_id.contains_key(c.id.as_str()))
            .map(|c| c.id.clone())
            .collect(),
        only_in_current: current
            .cells
            .iter()
            .filter(|c| !base_ids.contains_key(c.id.as_str()))
            .map(|c| c.id.clone())
            .collect(),
    })
}

/// Compares `current` with `base`; `threshold_pct` is the smallest change, in percent, that
/// counts as faster or slower.
///
/// # Errors
///
/// The files have no cell in common.
pub fn compare(
    base: &ResultsFile,
    current: &ResultsFile,
    threshold_pct: f64,
) -> Result<Comparison> {
    let threshold = threshold_pct / 100.0;
    let matched = match_cells(base, current, "the two results files")?;
    Ok(Comparison {
        threshold,
        alpha: ALPHA,
        cells: matched
            .pairs
            .iter()
            .map(|(b, c)| compare_cell(b, c, threshold))
            .collect(),
        only_in_base: matched.only_in_base,
        only_in_current: matched.only_in_current,
    })
}

fn compare_cell(base: &CellResult, current: &CellResult, threshold: f64) -> CellComparison {
    let median = |c: &CellResult| c.time_ns_per_op.as_ref().map(|t| t.median);
    let mut out = CellComparison {
        id: base.id.clone(),
        base_median_ns: median(base),
        current_median_ns: median(current),
        ratio: None,
        p_value: None,
        base_allocs_per_op: base.allocs_per_op,
        current_allocs_per_op: current.allocs_per_op,
        allocs_change: match (base.allocs_per_op, current.allocs_per_op) {
            (Some(b), Some(c)) => Some(c - b),
            _ => None,
        },
        verdict: Verdict::NotComparable,
        note: None,
    };
    if base.status != Status::Ok || current.status != Status::Ok {
        out.note = Some(format!(
            "{} in BASE, {} in CURRENT",
            base.status.as_str(),
            current.status.as_str()
        ));
        return out;
    }
    let (Some(b), Some(c)) = (&base.time_ns_per_op, &current.time_ns_per_op) else {
        out.note = Some("no samples".into());
        return out;
    };
    out.ratio = (b.median > 0.0).then(|| c.median / b.median);
    let (bs, cs, _) = rank_test_values(b, c);
    out.p_value = mann_whitney_u(bs, cs).map(|r| r.p_value);
    out.verdict = match (out.ratio, out.p_value) {
        (Some(ratio), Some(p)) if p < ALPHA && ratio > 1.0 + threshold => Verdict::Slower,
        (Some(ratio), Some(p)) if p < ALPHA && ratio < 1.0 / (1.0 + threshold) => Verdict::Faster,
        (Some(_), Some(_)) => Verdict::Same,
        _ => Verdict::NotComparable,
    };
    out
}

/// What a rank test between two runs of a cell compares: the launches' medians when both
/// ran in several processes (samples of one process share its layout, frequency and
/// neighbours, so pooling them would overstate the evidence), else the samples. The third
/// value names which.
pub fn rank_test_values<'a>(
    base: &'a TimeNsPerOp,
    current: &'a TimeNsPerOp,
) -> (&'a [f64], &'a [f64], &'static str) {
    if base.launch_medians.len() >= 2 && current.launch_medians.len() >= 2 {
        (
            &base.launch_medians,
            &current.launch_medians,
            "launch medians",
        )
    } else {
        (&base.samples, &current.samples, "samples")
    }
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

/// Markdown for people.
pub fn markdown(cmp: &Comparison) -> String {
    let count = |v: Verdict| cmp.cells.iter().filter(|c| c.verdict == v).count();
    let mut out = format!(
        "# tapbench compare\n\n{} cells in both files: {} faster, {} slower, {} same, {} not \
         comparable (a change needs Mann-Whitney p < {} and a ratio beyond {:.1}%).\n\n",
        cmp.cells.len(),
        count(Verdict::Faster),
        count(Verdict::Slower),
        count(Verdict::Same),
        count(Verdict::NotComparable),
        cmp.alpha,
        cmp.threshold * 100.0
    );
    out.push_str(
        "| cell | base ns/op | current ns/op | ratio | p | allocs/op base | allocs/op current | \
         verdict |\n|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for c in &cmp.cells {
        let verdict = match &c.note {
            Some(note) => format!("{} ({note})", c.verdict.as_str()),
            None => c.verdict.as_str().to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            c.id,
            c.base_median_ns
                .map(format_ns)
                .unwrap_or_else(|| "-".into()),
            c.current_median_ns
                .map(format_ns)
                .unwrap_or_else(|| "-".into()),
            num(c.ratio, 3),
            c.p_value
                .map(|p| format!("{p:.2e}"))
                .unwrap_or_else(|| "-".into()),
            num(c.base_allocs_per_op, 2),
            num(c.current_allocs_per_op, 2),
            verdict
        );
    }
    for (title, ids) in [
        ("Only in BASE", &cmp.only_in_base),
        ("Only in CURRENT", &cmp.only_in_current),
    ] {
        if !ids.is_empty() {
            let _ = writeln!(out, "\n## {title} ({})\n", ids.len());
            for id in ids {
                let _ = writeln!(out, "- {id}");
            }
        }
    }
    out
}

/// CSV for machines: one row per cell in both files, then the one-sided cells.
pub fn csv(cmp: &Comparison) -> String {
    let mut out = String::from(
        "id,base_median_ns_per_op,current_median_ns_per_op,ratio,p_value,base_allocs_per_op,\
         current_allocs_per_op,allocs_change,verdict,note\n",
    );
    let n = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for c in &cmp.cells {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            quote(&c.id),
            n(c.base_median_ns),
            n(c.current_median_ns),
            n(c.ratio),
            n(c.p_value),
            n(c.base_allocs_per_op),
            n(c.current_allocs_per_op),
            n(c.allocs_change),
            c.verdict.as_str(),
            quote(c.note.as_deref().unwrap_or(""))
        );
    }
    for id in &cmp.only_in_base {
        let _ = writeln!(out, "{},,,,,,,,only in base,", quote(id));
    }
    for id in &cmp.only_in_current {
        let _ = writeln!(out, "{},,,,,,,,only in current,", quote(id));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(cells: Vec<CellResult>) -> ResultsFile {
        let mut f: ResultsFile =
            serde_json::from_str(include_str!("../tests/fixtures/small-results.json")).unwrap();
        f.cells = cells;
        f
    }

    fn cell(id: &str, samples: &[f64], allocs: f64) -> CellResult {
        let fixture: ResultsFile =
            serde_json::from_str(include_str!("../tests/fixtures/small-results.json")).unwrap();
        let mut c = fixture.cells[0].clone();
        c.id = id.to_string();
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        c.time_ns_per_op = Some(TimeNsPerOp {
            median: sorted[sorted.len() / 2],
            ci95_low: sorted[0],
            ci95_high: sorted[sorted.len() - 1],
            ci_coverage: 0.95,
            cv: 0.01,
            outliers: 0,
            samples: samples.to_vec(),
            launch_medians: Vec::new(),
            probe_ns: Vec::new(),
        });
        c.allocs_per_op = Some(allocs);
        c
    }

    #[test]
    fn several_launches_are_compared_by_their_medians_not_their_pooled_samples() {
        // Twelve samples a side, clearly apart - but from two processes a side: two launch
        // medians cannot make a rank test significant, so this is no evidence of a change.
        let with_launches = |samples: &[f64], medians: &[f64]| {
            let mut c = cell("a", samples, 1.0);
            c.time_ns_per_op.as_mut().unwrap().launch_medians = medians.to_vec();
            c
        };
        let low: Vec<f64> = (0..12).map(|i| 100.0 + f64::from(i) * 0.1).collect();
        let high: Vec<f64> = low.iter().map(|x| x * 1.5).collect();
        let pooled = compare(
            &file(vec![cell("a", &low, 1.0)]),
            &file(vec![cell("a", &high, 1.0)]),
            5.0,
        )
        .unwrap();
        assert_eq!(pooled.cells[0].verdict, Verdict::Slower);
        let by_launch = compare(
            &file(vec![with_launches(&low, &[100.3, 100.8])]),
            &file(vec![with_launches(&high, &[150.4, 151.2])]),
            5.0,
        )
        .unwrap();
        assert!(by_launch.cells[0].p_value.unwrap() > 0.3);
        assert_eq!(by_launch.cells[0].verdict, Verdict::Same);
    }

    #[test]
    fn verdicts_need_significance_and_size() {
        let base = file(vec![
            cell("a", &[100.0, 101.0, 99.0, 100.5, 99.5, 100.2], 1.0),
            cell("b", &[100.0, 101.0, 99.0, 100.5, 99.5, 100.2], 1.0),
            cell("c", &[100.0, 101.0, 99.0, 100.5, 99.5, 100.2], 1.0),
            cell("d", &[100.0, 101.0, 99.0, 100.5, 99.5, 100.2], 1.0),
            cell("gone", &[1.0], 0.0),
        ]);
        let current = file(vec![
            cell("a", &[120.0, 121.0, 119.0, 120.5, 119.5, 120.2], 2.0),
            cell("b", &[80.0, 81.0, 79.0, 80.5, 79.5, 80.2], 1.0),
            // Significant but within the 5% threshold.
            cell("c", &[102.0, 103.0, 101.5, 102.5, 101.8, 102.2], 1.0),
            // A big median change that the samples cannot support (one sample each side).
            cell("d", &[150.0], 1.0),
            cell("new", &[1.0], 0.0),
        ]);
        let cmp = compare(&base, &current, 5.0).unwrap();
        let v: Vec<_> = cmp.cells.iter().map(|c| c.verdict).collect();
        assert_eq!(
            v,
            [
                Verdict::Slower,
                Verdict::Faster,
                Verdict::Same,
                Verdict::Same
            ]
        );
        assert_eq!(cmp.cells[0].allocs_change, Some(1.0));
        assert!((cmp.cells[0].ratio.unwrap() - 1.2).abs() < 0.01);
        assert_eq!(cmp.only_in_base, ["gone"]);
        assert_eq!(cmp.only_in_current, ["new"]);
        let md = markdown(&cmp);
        assert!(
            md.contains("1 faster, 1 slower, 2 same") && md.contains("- gone"),
            "{md}"
        );
        assert!(csv(&cmp).contains("gone,,,,,,,,only in base,"));
    }

    #[test]
    fn files_with_nothing_in_common_are_refused() {
        let a = file(vec![cell("a", &[1.0], 0.0)]);
        let b = file(vec![cell("b", &[1.0], 0.0)]);
        assert!(compare(&a, &b, 5.0)
            .unwrap_err()
            .to_string()
            .contains("no cell in common"));
    }
}
