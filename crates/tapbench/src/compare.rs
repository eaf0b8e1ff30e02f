//! `tapbench compare BASE CURRENT`: every cell present in both files with its verdict on
//! time and on allocations; cells present in only one file are listed, not dropped.
//!
//! Compare is the judging engine's ([`crate::judge`]) listing policy: the verdicts are the
//! ones `tapbench gate` reaches on the same two files with the same thresholds, shown for
//! every cell instead of turned into an exit code.

use std::fmt::Write;

use anyhow::Result;
use serde::Serialize;

use crate::judge::{judge, CellVerdict, Judgement, Policy, ALPHA};
use crate::report::csv::quote;
use crate::results::ResultsFile;
use crate::table::format_ns;

/// What changed in one aspect of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly faster (fewer allocations) by more than the thresholds.
    Faster,
    /// Significantly slower (more allocations) by more than the thresholds.
    Slower,
    /// No change beyond the thresholds.
    Same,
    /// Measured on both sides, but the measurements cannot support a verdict (multimodal
    /// launches, or runs in different states of the machine).
    NotJudged,
    /// One side did not measure the cell (failed, skipped, timed out).
    NotComparable,
}

impl From<Judgement> for Verdict {
    fn from(j: Judgement) -> Self {
        match j {
            Judgement::Regression => Verdict::Slower,
            Judgement::Improvement => Verdict::Faster,
            Judgement::Unchanged => Verdict::Same,
            Judgement::MultimodalNotJudged | Judgement::StateNotJudged => Verdict::NotJudged,
            Judgement::NotComparable => Verdict::NotComparable,
        }
    }
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::Same => "same",
            Verdict::NotJudged => "not judged",
            Verdict::NotComparable => "not comparable",
        }
    }

    fn allocs_str(self) -> &'static str {
        match self {
            Verdict::Faster => "fewer",
            Verdict::Slower => "more",
            other => other.as_str(),
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
    /// CURRENT median over BASE median; for paired launches, the median of the pairs'
    /// ratios.
    pub ratio: Option<f64>,
    /// The distribution-free 95% interval of the ratio (paired launches only).
    pub ratio_ci95: Option<[f64; 2]>,
    /// p-value of the rank test on time (see `compared`).
    pub p_value: Option<f64>,
    /// What the rank test compared: `paired launches`, `launch medians` or `samples`.
    pub compared: &'static str,
    /// Allocations per op in BASE.
    pub base_allocs_per_op: Option<f64>,
    /// Allocations per op in CURRENT.
    pub current_allocs_per_op: Option<f64>,
    /// CURRENT minus BASE allocations per op.
    pub allocs_change: Option<f64>,
    /// The verdict on time.
    pub verdict: Verdict,
    /// The verdict on allocations (`slower`: more allocations).
    pub allocs: Verdict,
    /// The verdict on the p99 latency of open-loop cells (`slower`: a longer tail); absent
    /// for every other cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99: Option<Verdict>,
    /// What the p99 judgement compared and found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_note: Option<String>,
    /// Why a cell was not judged or is not comparable.
    pub note: Option<String>,
}

impl From<CellVerdict> for CellComparison {
    fn from(v: CellVerdict) -> Self {
        CellComparison {
            allocs_change: match (v.base_allocs_per_op, v.current_allocs_per_op) {
                (Some(b), Some(c)) => Some(c - b),
                _ => None,
            },
            id: v.id,
            base_median_ns: v.base_median_ns,
            current_median_ns: v.current_median_ns,
            ratio: v.ratio,
            ratio_ci95: v.ratio_ci95,
            p_value: v.p_value,
            compared: v.compared,
            base_allocs_per_op: v.base_allocs_per_op,
            current_allocs_per_op: v.current_allocs_per_op,
            verdict: v.time.into(),
            allocs: v.allocs.into(),
            p99: v.p99_note.is_some().then(|| v.p99.into()),
            p99_note: v.p99_note,
            note: v.note,
        }
    }
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The thresholds used.
    pub policy: Policy,
    /// Whether the files were the two sides of one interleaved run (judged in pairs).
    pub interleaved: bool,
    /// Significance level of the comparison as a whole.
    pub alpha: f64,
    /// The p-value a cell needed (Benjamini-Hochberg over the cells tested).
    pub p_cutoff: f64,
    /// Cells in both files, in BASE order.
    pub cells: Vec<CellComparison>,
    /// Ids only in BASE.
    pub only_in_base: Vec<String>,
    /// Ids only in CURRENT.
    pub only_in_current: Vec<String>,
}

/// Compares `current` with `base` under `policy`.
///
/// # Errors
///
/// The files have no cell in common.
pub fn compare(base: &ResultsFile, current: &ResultsFile, policy: Policy) -> Result<Comparison> {
    let judged = judge(base, current, policy, "the two results files")?;
    Ok(Comparison {
        policy,
        interleaved: judged.interleaved,
        alpha: ALPHA,
        p_cutoff: judged.p_cutoff,
        cells: judged.cells.into_iter().map(CellComparison::from).collect(),
        only_in_base: judged.only_in_base,
        only_in_current: judged.only_in_current,
    })
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "-".into())
}

/// Markdown for people.
pub fn markdown(cmp: &Comparison) -> String {
    let count = |v: Verdict| cmp.cells.iter().filter(|c| c.verdict == v).count();
    let allocs = |v: Verdict| cmp.cells.iter().filter(|c| c.allocs == v).count();
    let p = &cmp.policy;
    let mut out = format!(
        "# tapbench compare\n\n{} cells in both files ({}). Time: {} faster, {} slower, {} \
         same, {} not judged, {} not comparable. Allocations: {} fewer, {} more.\n\nA time \
         change needs a rank-test p-value below {:.2e} ({} as a whole, Benjamini-Hochberg), a \
         ratio beyond {}% and a difference beyond {} ns; allocations are compared exactly \
         (tolerance {} per op) where they are deterministic. `tapbench gate` judges the same \
         files the same way.\n\n",
        cmp.cells.len(),
        if cmp.interleaved {
            "the two sides of one interleaved run: launches judged in pairs"
        } else {
            "measured at different times"
        },
        count(Verdict::Faster),
        count(Verdict::Slower),
        count(Verdict::Same),
        count(Verdict::NotJudged),
        count(Verdict::NotComparable),
        allocs(Verdict::Faster),
        allocs(Verdict::Slower),
        cmp.p_cutoff,
        cmp.alpha,
        p.threshold_pct,
        p.noise_ns,
        p.alloc_tolerance,
    );
    out.push_str(
        "| cell | base ns/op | current ns/op | ratio | p | time | allocs/op base | allocs/op \
         current | allocs |\n|---|---:|---:|---:|---:|---|---:|---:|---|\n",
    );
    for c in &cmp.cells {
        let mut verdict = match &c.note {
            Some(note) => format!("{} ({note})", c.verdict.as_str()),
            None => c.verdict.as_str().to_string(),
        };
        if let (Some(p99), Some(note)) = (c.p99, &c.p99_note) {
            verdict.push_str(&format!("; p99 {} ({note})", p99.as_str()));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.id,
            c.base_median_ns
                .map(format_ns)
                .unwrap_or_else(|| "-".into()),
            c.current_median_ns
                .map(format_ns)
                .unwrap_or_else(|| "-".into()),
            match (c.ratio, c.ratio_ci95) {
                (Some(r), Some([lo, hi])) => format!("{r:.3} [{lo:.3}, {hi:.3}]"),
                (r, _) => num(r, 3),
            },
            c.p_value
                .map(|p| format!("{p:.2e}"))
                .unwrap_or_else(|| "-".into()),
            verdict,
            num(c.base_allocs_per_op, 2),
            num(c.current_allocs_per_op, 2),
            c.allocs.allocs_str()
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
         current_allocs_per_op,allocs_change,verdict,allocs_verdict,note\n",
    );
    let n = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for c in &cmp.cells {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            quote(&c.id),
            n(c.base_median_ns),
            n(c.current_median_ns),
            n(c.ratio),
            n(c.p_value),
            n(c.base_allocs_per_op),
            n(c.current_allocs_per_op),
            n(c.allocs_change),
            c.verdict.as_str(),
            c.allocs.allocs_str(),
            quote(
                &[c.note.as_deref(), c.p99_note.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        );
    }
    for id in &cmp.only_in_base {
        let _ = writeln!(out, "{},,,,,,,,only in base,,", quote(id));
    }
    for id in &cmp.only_in_current {
        let _ = writeln!(out, "{},,,,,,,,only in current,,", quote(id));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::gate;
    use crate::results::{CellResult, Interleaved, Side, TimeNsPerOp};

    fn file(cells: Vec<CellResult>) -> ResultsFile {
        let mut f: ResultsFile =
            serde_json::from_str(include_str!("../tests/fixtures/small-results.json")).unwrap();
        f.cells = cells;
        f
    }

    /// A cell whose launches have these medians (one launch: these are its samples).
    fn cell(id: &str, launch_medians: &[f64], allocs: f64) -> CellResult {
        let fixture: ResultsFile =
            serde_json::from_str(include_str!("../tests/fixtures/small-results.json")).unwrap();
        let mut c = fixture.cells[0].clone();
        c.id = id.to_string();
        let mut sorted = launch_medians.to_vec();
        sorted.sort_by(f64::total_cmp);
        c.time_ns_per_op = Some(TimeNsPerOp {
            median: sorted[sorted.len() / 2],
            ci95_low: sorted[0],
            ci95_high: sorted[sorted.len() - 1],
            ci_coverage: 0.95,
            cv: 0.01,
            outliers: 0,
            samples: launch_medians.to_vec(),
            launch_medians: if launch_medians.len() > 1 {
                launch_medians.to_vec()
            } else {
                Vec::new()
            },
            probe_ns: Vec::new(),
        });
        c.allocs_per_op = Some(allocs);
        c.allocs_per_op_samples = vec![allocs; launch_medians.len()];
        c
    }

    fn one_launch(id: &str, samples: &[f64]) -> CellResult {
        let mut c = cell(id, samples, 1.0);
        c.time_ns_per_op.as_mut().unwrap().launch_medians.clear();
        c
    }

    const BASE: [f64; 8] = [100.0, 101.0, 99.0, 100.5, 99.5, 100.2, 100.8, 99.2];

    fn scaled(k: f64) -> Vec<f64> {
        BASE.iter().map(|x| x * k).collect()
    }

    #[test]
    fn verdicts_need_significance_size_and_more_than_one_launch_for_small_changes() {
        let low: Vec<f64> = (0..12).map(|i| 100.0 + f64::from(i) * 0.1).collect();
        let high: Vec<f64> = low.iter().map(|x| x * 1.5).collect();
        let base = file(vec![
            cell("a", &BASE, 1.0),
            cell("b", &BASE, 1.0),
            cell("c", &BASE, 1.0),
            one_launch("d", &low),
            cell("gone", &BASE, 0.0),
        ]);
        let current = file(vec![
            cell("a", &scaled(1.2), 2.0),
            cell("b", &scaled(0.8), 1.0),
            // Significant but within the 5% threshold.
            cell("c", &scaled(1.02), 1.0),
            // Twelve samples a side, clearly apart, but from one process a side: within the
            // single-launch bound that is no evidence of a change, so the same at that
            // resolution.
            one_launch("d", &high),
            cell("new", &BASE, 0.0),
        ]);
        let cmp = compare(&base, &current, Policy::default()).unwrap();
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
        assert!(cmp.cells[3]
            .note
            .as_deref()
            .unwrap()
            .contains("within the single-launch bound"));
        assert_eq!(cmp.cells[0].allocs, Verdict::Slower);
        assert_eq!(cmp.cells[0].allocs_change, Some(1.0));
        assert_eq!(cmp.cells[1].allocs, Verdict::Same);
        assert!((cmp.cells[0].ratio.unwrap() - 1.2).abs() < 0.01);
        assert_eq!(cmp.cells[0].compared, "launch medians");
        assert_eq!(cmp.only_in_base, ["gone"]);
        assert_eq!(cmp.only_in_current, ["new"]);
        let md = markdown(&cmp);
        assert!(
            md.contains("1 faster, 1 slower, 2 same, 0 not judged")
                && md.contains("0 fewer, 1 more")
                && md.contains("- gone"),
            "{md}"
        );
        assert!(csv(&cmp).contains("gone,,,,,,,,only in base,,"));
        assert!(csv(&cmp).contains(",slower,more,"), "{}", csv(&cmp));
    }

    #[test]
    fn compare_and_gate_reach_the_same_verdicts_on_the_same_files() {
        // Paired launches that drift together: judged in pairs only when the files say
        // they are the two sides of one interleaved run, in compare as in the gate.
        let drift: Vec<f64> = (0..12).map(|i| 100.0 + 8.0 * f64::from(i)).collect();
        let slower: Vec<f64> = drift.iter().map(|x| x * 1.06).collect();
        let levels = [100.0, 100.5, 99.8, 130.0, 130.4, 129.9, 100.2, 130.1];
        let cells = |k: f64, current: bool| {
            vec![
                cell("steady", &scaled(k), 1.0),
                cell(
                    "drift",
                    &drift.iter().map(|x| x * k).collect::<Vec<_>>(),
                    1.0,
                ),
                cell("drift+6%", if current { &slower } else { &drift }, 1.0),
                cell("levels", &levels.map(|x| x * k), 1.0),
                one_launch("single", &scaled(k * 4.5)),
                one_launch("single-near", &scaled(k)),
            ]
        };
        for interleaved in [false, true] {
            for k in [1.0, 1.1, 0.9] {
                let (mut base, mut current) = (file(cells(1.0, false)), file(cells(k, true)));
                if interleaved {
                    for (f, side) in [(&mut base, Side::Baseline), (&mut current, Side::Current)] {
                        f.interleaved = Some(Interleaved {
                            run: "r".into(),
                            side,
                            lockstep: false,
                        });
                    }
                }
                let cmp = compare(&base, &current, Policy::default()).unwrap();
                let gated = gate(&base, &current, Policy::default()).unwrap();
                assert_eq!(cmp.interleaved, interleaved);
                assert_eq!(gated.options.interleaved, interleaved);
                for (c, g) in cmp.cells.iter().zip(&gated.cells) {
                    assert_eq!(c.id, g.id);
                    assert_eq!(c.verdict, Verdict::from(g.time), "{} k={k}", c.id);
                    assert_eq!(c.allocs, Verdict::from(g.allocs), "{}", c.id);
                    assert_eq!(c.p_value, g.p_value);
                }
                if k == 1.0 {
                    // The paired test sees the 6% change that drift hides from the
                    // unpaired one.
                    let paired = &cmp.cells[2];
                    let expect = if interleaved {
                        Verdict::Slower
                    } else {
                        Verdict::Same
                    };
                    assert_eq!(paired.verdict, expect, "{paired:?}");
                }
            }
        }
    }

    #[test]
    fn files_with_nothing_in_common_are_refused() {
        let a = file(vec![cell("a", &[1.0], 0.0)]);
        let b = file(vec![cell("b", &[1.0], 0.0)]);
        assert!(compare(&a, &b, Policy::default())
            .unwrap_err()
            .to_string()
            .contains("no cell in common"));
    }
}
