//! `tapbench gate`: a CI performance gate whose verdict can be trusted on a noisy machine.
//!
//! The gate is a policy over the judging engine ([`crate::judge`]): every shared cell is
//! judged there, exactly as `tapbench compare` judges it, and the gate turns the verdicts
//! into one outcome and an exit code.
//!
//! No PASS without a verdict: the gate's [`Outcome`] is `regressed` when any cell regressed,
//! else `inconclusive` when any cell measured in the baseline could not be judged
//! (multimodal, one launch per cell, not measured now in a comparable way) or none was,
//! else `passed`. Cells that measured in neither run (skipped or failed in both) have
//! nothing to judge and are only listed.

use std::fmt::Write;

use anyhow::Result;
use serde::Serialize;

use crate::judge::{judge, judgement_text, PROBE_STEP};
pub use crate::judge::{CellVerdict as CellGate, Judgement, Policy, ALPHA, SINGLE_LAUNCH_BOUND};
use crate::results::ResultsFile;
use crate::table::format_ns;

/// The settings a gate ran with, as its report records them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GateOptions {
    /// Smallest relative change of the median that counts, in percent.
    pub threshold_pct: f64,
    /// Smallest absolute change of the median that counts, in nanoseconds.
    pub noise_ns: f64,
    /// Allocations per operation that may be added before it counts as a regression.
    pub alloc_tolerance: f64,
    /// Whether the two files were the two sides of one interleaved run
    /// (`--baseline-exe`), judged launch pair by launch pair.
    pub interleaved: bool,
}

/// The gate's conclusion as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every cell measured in the baseline was judged, and none regressed.
    Passed,
    /// At least one cell regressed.
    Regressed,
    /// No cell regressed, but at least one could not be judged (or none could): never a pass.
    Inconclusive,
}

impl Outcome {
    /// The word the text verdict ends with.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "PASS",
            Outcome::Regressed => "FAIL",
            Outcome::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// The whole verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateReport {
    /// The conclusion: passed, regressed or inconclusive.
    pub outcome: Outcome,
    /// Cells judged (time, and allocations where counted), regressed ones included.
    pub judged: usize,
    /// Cells measured in the baseline that could not be judged.
    pub not_judged: usize,
    /// Cells measured in neither run (skipped or failed in both): nothing to judge.
    pub not_applicable: usize,
    /// The settings used.
    pub options: GateOptions,
    /// Significance level of the gate as a whole (false discovery rate across cells).
    pub alpha: f64,
    /// Cells whose time was put to the rank test.
    pub tested: usize,
    /// A cell's p-value must be below this to count: `alpha` for one cell, stricter for
    /// many (Benjamini-Hochberg; see `tapbench_measure::stats::benjamini_hochberg_cutoff`).
    pub p_cutoff: f64,
    /// Cells that regressed in time or allocations.
    pub regressions: usize,
    /// Cells that improved (and did not regress).
    pub improvements: usize,
    /// Cells not judged because their samples are multimodal.
    pub multimodal: usize,
    /// Cells with one launch a side whose time is unchanged within the single-launch
    /// bound: judged, but only a change beyond the bound could have shown.
    pub one_launch: usize,
    /// Cells whose time was not judged because the runs measured in different states of
    /// the machine.
    pub machine_state: usize,
    /// Every cell present in both files.
    pub cells: Vec<CellGate>,
    /// Cells of the baseline that the current run lacks.
    pub only_in_baseline: Vec<String>,
    /// Cells of the current run that the baseline lacks.
    pub only_in_current: Vec<String>,
}

/// Gates `current` against `baseline`.
///
/// # Errors
///
/// The files have no cell in common.
pub fn gate(baseline: &ResultsFile, current: &ResultsFile, policy: Policy) -> Result<GateReport> {
    let judged = judge(
        baseline,
        current,
        policy,
        "the baseline and the current results",
    )?;
    let cells = judged.cells;
    let regressions = cells.iter().filter(|c| c.regressed()).count();
    let judged_cells = cells.iter().filter(|c| c.applicable && c.judged()).count();
    let not_applicable = cells.iter().filter(|c| !c.applicable).count();
    let not_judged = cells.len() - judged_cells - not_applicable;
    let outcome = if regressions > 0 {
        Outcome::Regressed
    } else if not_judged > 0 || judged_cells == 0 {
        Outcome::Inconclusive
    } else {
        Outcome::Passed
    };
    Ok(GateReport {
        outcome,
        judged: judged_cells,
        not_judged,
        not_applicable,
        options: GateOptions {
            threshold_pct: policy.threshold_pct,
            noise_ns: policy.noise_ns,
            alloc_tolerance: policy.alloc_tolerance,
            interleaved: judged.interleaved,
        },
        alpha: ALPHA,
        tested: judged.tested,
        p_cutoff: judged.p_cutoff,
        regressions,
        improvements: cells.iter().filter(|c| c.improved()).count(),
        multimodal: cells
            .iter()
            .filter(|c| c.time == Judgement::MultimodalNotJudged)
            .count(),
        one_launch: cells
            .iter()
            .filter(|c| c.compared == "samples" && c.time == Judgement::Unchanged)
            .count(),
        machine_state: cells
            .iter()
            .filter(|c| c.time == Judgement::StateNotJudged)
            .count(),
        only_in_baseline: judged.only_in_base,
        only_in_current: judged.only_in_current,
        cells,
    })
}

/// Which cells a section of the text output lists.
type CellFilter = fn(&CellGate) -> bool;

/// The verdict for people: regressions, then improvements, then cells not judged.
pub fn text(report: &GateReport) -> String {
    let o = &report.options;
    let mut out = format!(
        "tapbench gate ({}): {} cells compared, {} judged ({} regressed, {} improved, {} \
         unchanged only at single-launch resolution), {} not judged ({} multimodal, {} machine \
         state), {} measured in neither run.\nA time change \
         needs a p-value of {} below {:.2e} ({} for the gate as a whole: Benjamini-Hochberg over the {} cells \
         tested), a ratio beyond {}% and a difference beyond {} ns{}; allocations are \
         compared exactly (tolerance {} per op) where they are deterministic.\n{}",
        if o.interleaved {
            "interleaved runs"
        } else {
            "runs measured at different times"
        },
        report.cells.len(),
        report.judged,
        report.regressions,
        report.improvements,
        report.one_launch,
        report.not_judged,
        report.multimodal,
        report.machine_state,
        report.not_applicable,
        if o.interleaved {
            format!(
                "the sign test of the launch pairs' log-ratios (pairs whose machine-speed \
                 probe times differ by more than {:.0}% set aside)",
                100.0 * PROBE_STEP
            )
        } else {
            "the Mann-Whitney U test".to_string()
        },
        report.p_cutoff,
        report.alpha,
        report.tested,
        o.threshold_pct,
        o.noise_ns,
        if o.interleaved {
            ""
        } else {
            " and beyond the spread of either run's launches (column `detects`)"
        },
        o.alloc_tolerance,
        if !o.interleaved && report.cells.iter().any(|c| c.compared == "samples") {
            format!(
                "Cells with one launch a side are judged at single-launch resolution: a time \
                 change counts only beyond the single-launch bound of {SINGLE_LAUNCH_BOUND}x \
                 (wider for cells whose samples spread wide), in units of the machine-speed \
                 probe, because launches of the same code differ by up to 3.6x here; inside \
                 it a cell passes, which rules out only a larger change (run with --launches \
                 10, or interleaved, to judge smaller changes).\n"
            )
        } else {
            String::new()
        }
    );
    let row = |c: &CellGate| {
        let n = |v: Option<f64>| v.map(format_ns).unwrap_or_else(|| "-".into());
        let a = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into());
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} -> {} | {} |",
            c.id,
            n(c.base_median_ns),
            n(c.current_median_ns),
            match (c.ratio, c.ratio_ci95) {
                (Some(r), Some([lo, hi])) => format!("{r:.3} [{lo:.3}, {hi:.3}]"),
                (Some(r), None) => format!("{r:.3}"),
                _ => "-".into(),
            },
            match (c.detectable_ns, c.base_median_ns) {
                (Some(d), Some(b)) if b > 0.0 => format!("+{:.0}%", 100.0 * d / b),
                _ => "-".into(),
            },
            c.p_value
                .map(|p| format!("{p:.1e}"))
                .unwrap_or_else(|| "-".into()),
            match &c.p99_note {
                Some(note) => format!(
                    "{}; p99 {} ({note})",
                    judgement_text(c.time),
                    judgement_text(c.p99)
                ),
                None => judgement_text(c.time).to_string(),
            },
            a(c.base_allocs_per_op),
            a(c.current_allocs_per_op),
            judgement_text(c.allocs)
        )
    };
    let header = "| cell | base ns/op | current ns/op | ratio | detects | p | time | allocs/op | \
                  allocs |\n|---|---:|---:|---:|---:|---:|---|---|---|\n";
    let not_judged = |c: &CellGate| c.applicable && !c.judged();
    let neither = |c: &CellGate| !c.applicable;
    let sections: [(&str, CellFilter); 4] = [
        ("Regressions", CellGate::regressed),
        ("Improvements", CellGate::improved),
        ("Not judged", not_judged),
        ("Measured in neither run", neither),
    ];
    for (title, keep) in sections {
        let rows: Vec<String> = report.cells.iter().filter(|c| keep(c)).map(row).collect();
        if !rows.is_empty() {
            let _ = write!(out, "\n## {title} ({})\n\n{header}", rows.len());
            for r in rows {
                let _ = writeln!(out, "{r}");
            }
        }
    }
    for (title, ids) in [
        ("Only in the baseline", &report.only_in_baseline),
        ("Only in the current run", &report.only_in_current),
    ] {
        if !ids.is_empty() {
            let _ = writeln!(out, "\n## {title} ({})\n", ids.len());
            for id in ids {
                let _ = writeln!(out, "- {id}");
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{}: {}",
        report.outcome.as_str(),
        match report.outcome {
            Outcome::Regressed => format!(
                "{} of {} judged cells regressed",
                report.regressions, report.judged
            ),
            Outcome::Passed if report.one_launch > 0 => format!(
                "no regression in {} judged cells; {} of them had one launch a side and rule \
                 out only a change beyond the single-launch bound (column `detects`)",
                report.judged, report.one_launch
            ),
            Outcome::Passed => format!("no regression in {} judged cells", report.judged),
            Outcome::Inconclusive => format!(
                "no regression in {} judged cells, but {} cells could not be judged (exit 3; \
                 --accept-inconclusive accepts it)",
                report.judged, report.not_judged
            ),
        }
    );
    out
}

#[cfg(test)]
mod tests;
