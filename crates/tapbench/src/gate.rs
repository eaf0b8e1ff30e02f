//! `tapbench gate`: a CI performance gate whose verdict can be trusted on a noisy machine.
//!
//! A time regression needs all three of: a two-sided Mann-Whitney U test on the samples
//! significant at p < 0.01, a ratio of medians above the threshold (default 5%), and an
//! absolute difference of medians above the noise floor (default 1 ns). Cells whose samples
//! fall into two separate levels on either side are reported as "multimodal, not judged"
//! instead of raising a false alarm. Allocations are judged exactly where the workload
//! allocates deterministically (every sample of both runs has the same count): a
//! regression is any increase beyond the tolerance (default 0). Where allocations vary from
//! sample to sample (timers, channel blocks), an increase must also be significant by the
//! rank test and larger than the baseline's own sample-to-sample range.

use std::fmt::Write;

use anyhow::Result;
use serde::Serialize;
use tapbench_measure::stats::{is_bimodal, mann_whitney_u, summarize};

use crate::results::{CellResult, ResultsFile, Status};
use crate::table::format_ns;

/// Significance level of the rank test.
pub const ALPHA: f64 = 0.01;

/// The gate's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GateOptions {
    /// Smallest relative change of the median that counts, in percent.
    pub threshold_pct: f64,
    /// Smallest absolute change of the median that counts, in nanoseconds.
    pub noise_ns: f64,
    /// Allocations per operation that may be added before it counts as a regression.
    pub alloc_tolerance: f64,
    /// Whether both sides were measured in one interleaved run (`--baseline-exe`): their
    /// launches are then exchangeable, so the rank test stays valid even when the samples
    /// fall into several levels, and multimodal cells are judged (and noted).
    pub interleaved: bool,
}

/// What the gate concluded about one aspect of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// Worse, by all the criteria.
    Regression,
    /// Better, by all the criteria.
    Improvement,
    /// Neither.
    Unchanged,
    /// The samples fall into separate levels: no verdict rather than a false one.
    MultimodalNotJudged,
    /// One side has no measurement.
    NotComparable,
}

/// The gate's view of one cell present in both files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellGate {
    /// Cell id.
    pub id: String,
    /// Median ns/op of the baseline.
    pub base_median_ns: Option<f64>,
    /// Median ns/op of the current run.
    pub current_median_ns: Option<f64>,
    /// Current median over baseline median.
    pub ratio: Option<f64>,
    /// Mann-Whitney U p-value of the time samples.
    pub p_value: Option<f64>,
    /// What the rank test compared: `launch medians` when both runs have several launches,
    /// else `samples` (which cannot show process-to-process noise).
    pub compared: &'static str,
    /// The verdict on time.
    pub time: Judgement,
    /// Allocations per op of the baseline.
    pub base_allocs_per_op: Option<f64>,
    /// Allocations per op of the current run.
    pub current_allocs_per_op: Option<f64>,
    /// Whether allocations were compared exactly (deterministic on both sides).
    pub allocs_exact: bool,
    /// The verdict on allocations.
    pub allocs: Judgement,
    /// Why a cell was not judged.
    pub note: Option<String>,
}

impl CellGate {
    /// Whether either aspect regressed.
    pub fn regressed(&self) -> bool {
        self.time == Judgement::Regression || self.allocs == Judgement::Regression
    }

    /// Whether either aspect improved and none regressed.
    pub fn improved(&self) -> bool {
        !self.regressed()
            && (self.time == Judgement::Improvement || self.allocs == Judgement::Improvement)
    }
}

/// The whole verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateReport {
    /// The settings used.
    pub options: GateOptions,
    /// Significance level of the rank test.
    pub alpha: f64,
    /// Cells that regressed in time or allocations.
    pub regressions: usize,
    /// Cells that improved (and did not regress).
    pub improvements: usize,
    /// Cells not judged because their samples are multimodal.
    pub multimodal: usize,
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
pub fn gate(
    baseline: &ResultsFile,
    current: &ResultsFile,
    options: GateOptions,
) -> Result<GateReport> {
    let matched =
        crate::compare::match_cells(baseline, current, "the baseline and the current results")?;
    let cells: Vec<CellGate> = matched
        .pairs
        .iter()
        .map(|(b, c)| gate_cell(b, c, options))
        .collect();
    Ok(GateReport {
        options,
        alpha: ALPHA,
        regressions: cells.iter().filter(|c| c.regressed()).count(),
        improvements: cells.iter().filter(|c| c.improved()).count(),
        multimodal: cells
            .iter()
            .filter(|c| c.time == Judgement::MultimodalNotJudged)
            .count(),
        only_in_baseline: matched.only_in_base,
        only_in_current: matched.only_in_current,
        cells,
    })
}

fn gate_cell(base: &CellResult, current: &CellResult, options: GateOptions) -> CellGate {
    let mut out = CellGate {
        id: base.id.clone(),
        base_median_ns: base.time_ns_per_op.as_ref().map(|t| t.median),
        current_median_ns: current.time_ns_per_op.as_ref().map(|t| t.median),
        ratio: None,
        p_value: None,
        compared: "samples",
        time: Judgement::NotComparable,
        base_allocs_per_op: base.allocs_per_op,
        current_allocs_per_op: current.allocs_per_op,
        allocs_exact: false,
        allocs: Judgement::NotComparable,
        note: None,
    };
    if base.status != Status::Ok || current.status != Status::Ok {
        out.note = Some(format!(
            "{} in the baseline, {} now",
            base.status.as_str(),
            current.status.as_str()
        ));
        return out;
    }
    if let (Some(b), Some(c)) = (&base.time_ns_per_op, &current.time_ns_per_op) {
        // Launch medians when both runs have them: samples of one process share its
        // layout, frequency and neighbours, so they understate run-to-run noise.
        let (bs, cs) = if b.launch_medians.len() >= 2 && c.launch_medians.len() >= 2 {
            out.compared = "launch medians";
            (&b.launch_medians, &c.launch_medians)
        } else {
            (&b.samples, &c.samples)
        };
        let median = |v: &[f64]| summarize(v).map(|s| s.median);
        let (Some(bm), Some(cm)) = (median(bs), median(cs)) else {
            return out;
        };
        out.ratio = (bm > 0.0).then(|| cm / bm);
        out.p_value = mann_whitney_u(bs, cs).map(|r| r.p_value);
        let threshold = 1.0 + options.threshold_pct / 100.0;
        let diff = cm - bm;
        let multimodal = is_bimodal(bs) || is_bimodal(cs);
        if multimodal && options.interleaved {
            out.note = Some("multimodal launches, judged: the runs were interleaved".into());
        }
        out.time = if multimodal && !options.interleaved {
            out.note = Some("multimodal samples: not judged".into());
            Judgement::MultimodalNotJudged
        } else {
            match (out.ratio, out.p_value) {
                (Some(r), Some(p)) if p < ALPHA && r > threshold && diff > options.noise_ns => {
                    Judgement::Regression
                }
                (Some(r), Some(p))
                    if p < ALPHA && r < 1.0 / threshold && -diff > options.noise_ns =>
                {
                    Judgement::Improvement
                }
                (Some(_), Some(_)) => Judgement::Unchanged,
                _ => Judgement::NotComparable,
            }
        };
    }
    (out.allocs_exact, out.allocs) = judge_allocs(base, current, options.alloc_tolerance);
    out
}

fn judge_allocs(base: &CellResult, current: &CellResult, tolerance: f64) -> (bool, Judgement) {
    let (Some(b), Some(c)) = (base.allocs_per_op, current.allocs_per_op) else {
        return (false, Judgement::NotComparable);
    };
    let constant = |s: &[f64]| s.windows(2).all(|w| w[0] == w[1]);
    let (bs, cs) = (&base.allocs_per_op_samples, &current.allocs_per_op_samples);
    let exact = bs.is_empty() || cs.is_empty() || (constant(bs) && constant(cs));
    // A hair of slack for the float division of exact counts.
    const EPSILON: f64 = 1e-9;
    if exact {
        let judgement = if c > b + tolerance + EPSILON {
            Judgement::Regression
        } else if c < b - tolerance - EPSILON {
            Judgement::Improvement
        } else {
            Judgement::Unchanged
        };
        return (true, judgement);
    }
    let p = mann_whitney_u(bs, cs).map(|r| r.p_value).unwrap_or(1.0);
    let (Some(bstats), Some(cstats)) = (summarize(bs), summarize(cs)) else {
        return (false, Judgement::NotComparable);
    };
    let margin = tolerance + (bstats.max - bstats.min) + EPSILON;
    let judgement = if p < ALPHA && cstats.median > bstats.median + margin {
        Judgement::Regression
    } else if p < ALPHA && cstats.median < bstats.median - margin {
        Judgement::Improvement
    } else {
        Judgement::Unchanged
    };
    (false, judgement)
}

/// Which cells a section of the text output lists.
type CellFilter = fn(&CellGate) -> bool;

fn judgement_text(j: Judgement) -> &'static str {
    match j {
        Judgement::Regression => "REGRESSION",
        Judgement::Improvement => "improvement",
        Judgement::Unchanged => "unchanged",
        Judgement::MultimodalNotJudged => "multimodal, not judged",
        Judgement::NotComparable => "not comparable",
    }
}

/// The verdict for people: regressions, then improvements, then cells not judged.
pub fn text(report: &GateReport) -> String {
    let o = &report.options;
    let mut out = format!(
        "tapbench gate: {} cells compared, {} regressed, {} improved, {} multimodal (not \
         judged).\nA time change needs Mann-Whitney p < {}, a ratio beyond {}% and a difference \
         beyond {} ns; allocations are compared exactly (tolerance {} per op) where they are \
         deterministic.\n{}",
        report.cells.len(),
        report.regressions,
        report.improvements,
        report.multimodal,
        report.alpha,
        o.threshold_pct,
        o.noise_ns,
        o.alloc_tolerance,
        if report
            .cells
            .iter()
            .any(|c| c.compared == "samples" && c.p_value.is_some())
        {
            "Some cells ran in a single process: their samples cannot show process-to-process \
             noise, so the verdict is less trustworthy (run with --launches 5).\n"
        } else {
            ""
        }
    );
    let row = |c: &CellGate| {
        let n = |v: Option<f64>| v.map(format_ns).unwrap_or_else(|| "-".into());
        let a = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into());
        format!(
            "| {} | {} | {} | {} | {} | {} | {} -> {} | {} |",
            c.id,
            n(c.base_median_ns),
            n(c.current_median_ns),
            c.ratio
                .map(|r| format!("{r:.3}"))
                .unwrap_or_else(|| "-".into()),
            c.p_value
                .map(|p| format!("{p:.1e}"))
                .unwrap_or_else(|| "-".into()),
            judgement_text(c.time),
            a(c.base_allocs_per_op),
            a(c.current_allocs_per_op),
            judgement_text(c.allocs)
        )
    };
    let header = "| cell | base ns/op | current ns/op | ratio | p | time | allocs/op | allocs |\n\
                  |---|---:|---:|---:|---:|---|---|---|\n";
    let not_judged = |c: &CellGate| {
        !c.regressed()
            && !c.improved()
            && matches!(
                c.time,
                Judgement::MultimodalNotJudged | Judgement::NotComparable
            )
    };
    let sections: [(&str, CellFilter); 3] = [
        ("Regressions", CellGate::regressed),
        ("Improvements", CellGate::improved),
        ("Not judged", not_judged),
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
        "\n{}",
        if report.regressions > 0 {
            "FAIL: regression found"
        } else {
            "PASS: no regression"
        }
    );
    out
}
