//! The judging engine: what two results files say about each cell they share.
//!
//! `tapbench compare` and `tapbench gate` are two policies over this one module - compare
//! lists every cell's verdict, gate turns the verdicts into an outcome and an exit code -
//! so the two cannot disagree about the same two files. The statistics themselves (rank
//! tests, multiple-testing control, spreads, multimodality) live in
//! `tapbench_measure::stats`; this module decides which of them applies to a cell.
//!
//! A time change needs all three of: a rank test significant at the cut-off, a ratio of
//! medians beyond the threshold (default 5%), and an absolute difference of medians beyond
//! the noise floor (default 1 ns). The cells' p-values are judged together
//! (Benjamini-Hochberg at 1%), so that judging the whole matrix does not turn the 1% of
//! chance per cell into a false alarm in most gates; with one cell this is plain p < 0.01.
//! What the rank test compares depends on how the two files were measured:
//!
//! - Interleaved (both files of one `gate --baseline-exe` run, which records it in each
//!   file): launch i of the baseline's build and launch i of this build ran back to back,
//!   so the launches are judged in pairs, by a sign test of the pairs' log-ratios; the
//!   ratio reported is the median of the pairs' ratios with its distribution-free 95%
//!   interval. Pairs whose two launches timed the machine-speed probe more than
//!   [`PROBE_STEP`] apart ran in different states of the machine and are set aside (see
//!   [`paired_log_ratios`]).
//! - Measured at different times, several launches a side: a Mann-Whitney U test of the
//!   launch medians, and the change must also exceed the spread of either run's own launch
//!   medians (on a shared machine whole phases of seconds to minutes run 10-40% slower).
//!   Cells whose launches fall into two separate levels are "multimodal, not judged".
//! - One launch a side: its samples cannot show launch-to-launch noise, so the time is
//!   judged at a coarse resolution: a change beyond [`SINGLE_LAUNCH_BOUND`] (in units of
//!   the machine-speed probe each launch timed, `tapbench_measure::probe`) is a verdict,
//!   and inside the bound the cell is unchanged at that resolution - the verdict rules out
//!   only changes beyond the bound, which its `detectable_ns` says.
//!
//! Allocations are judged exactly where the workload allocates deterministically (every
//! sample of both runs has the same count): a change is any difference beyond the
//! tolerance (default 0) and the counter's resolution, two allocations per sample window
//! on either side (see [`alloc_resolution`]). Counts that vary from sample to sample
//! depend on contention and scheduling and vary from process to process as time does:
//! with one launch a side they must move beyond the wider of the two launches' own ranges
//! plus [`ONE_LAUNCH_ALLOC_MARGIN`], and otherwise must be significant by the rank test and
//! move beyond both runs' own ranges.
//!
//! A cell measured in the baseline that no longer measures (failed, timed out or skipped
//! now) is a regression; cells that measured in neither run have nothing to judge.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde::Serialize;
use tapbench_measure::stats::{
    benjamini_hochberg_cutoff, is_bimodal, mann_whitney_u, run_to_run_spread, sign_test, summarize,
};

use crate::results::{CellResult, ResultsFile, Status, TimeNsPerOp};

/// Significance level: of one cell's rank test, and of a whole judgement as its false
/// discovery rate across cells.
pub const ALPHA: f64 = 0.01;

/// How far apart two single launches of a cell must be before the gate calls it a change:
/// beyond anything launch-to-launch variation produced on a 2-core shared machine. Over
/// 5,670 pairs of smoke launches of 42 cells (tokio-ct and smol-local, value_task and
/// spawn) two launches of the same code differed by up to 3.57x in units of the
/// machine-speed probe (3.75x in raw time; p99 1.63x, p99.9 3.03x), the widest being
/// `spawn/blocking`, whose cost is a cross-CPU wake; over 40 further smoke runs of the same
/// cells, every other cell stayed within 2.1x. A cell whose launches show samples spread
/// wide has no one level on this machine, and its bound widens to the product of the two
/// launches' spreads (highest sample over lowest; see [`single_launch_bound`]).
///
/// Inside the bound a single launch cannot tell a change from noise - a 2x slowdown is as
/// likely as not to land inside it - so such a cell is unchanged only at this resolution:
/// its verdict rules out a change beyond the bound, nothing smaller. Runs with several
/// launches, or interleaved, judge changes of a few percent.
pub const SINGLE_LAUNCH_BOUND: f64 = 4.0;

/// With one launch a side, a varying allocation count must move by more than the wider of
/// the two launches' own ranges (highest sample minus lowest) plus this many allocations
/// per operation. Contention-dependent counts settle at a different level in each process:
/// over six smoke runs of five configurations x `value_task`, `spawn`, `producer_consumer`
/// (30 ordered pairs, 51 cells whose counts vary) `smol-mt`'s channel cells read 0.07 to
/// 0.39 allocations per operation with ranges of 0.04 within a launch, and two launches'
/// medians moved by up to 0.25 beyond the wider range (over 40 smoke runs of the
/// single-threaded configurations, by 0.002).
pub const ONE_LAUNCH_ALLOC_MARGIN: f64 = 0.5;

/// The fewest launch pairs judged as pairs: below 8, no two-sided sign test can reach
/// p < 0.01 (its smallest p-value is 2 / 2^n), so fewer pairs are compared by their
/// medians instead.
pub const MIN_PAIRS: usize = 8;

/// Two launches of a pair ran in the same state of the machine when their machine-speed
/// probe times (`tapbench_measure::probe`, timed in every launch) differ by at most this,
/// as a difference of natural logarithms (about 10%). This 2-core shared machine switches
/// between states lasting seconds, the slow one 20-80% slower for small operations and
/// visible in the probe (430 us against 480-670 us); over 20 A/A gates of 30 launch pairs
/// of five cells, about a third of the pairs straddled a switch, and those pairs carry
/// nearly all of the pairs' disagreement. Under no change either side is as likely to
/// have run in the slow state, so setting such pairs aside keeps the test fair.
pub const PROBE_STEP: f64 = 0.10;

/// Each launch's machine-speed probe time, when every launch of the run timed one.
fn launch_probes(t: &TimeNsPerOp) -> Option<&[f64]> {
    (!t.launch_medians.is_empty()
        && t.probe_ns.len() == t.launch_medians.len()
        && t.probe_ns.iter().all(|p| *p > 0.0 && p.is_finite()))
    .then_some(t.probe_ns.as_slice())
}

/// The log-ratios (current over baseline) of an interleaved cell's launch pairs that
/// ran in the same state of the machine (probe times within [`PROBE_STEP`]), and how many
/// pairs there were in all. When the launches did not all time the probe, or fewer than
/// [`MIN_PAIRS`] pairs are in step, every pair is kept. `None` when the launches do not
/// pair up (different counts) or a median is not positive.
pub fn paired_log_ratios(base: &TimeNsPerOp, current: &TimeNsPerOp) -> Option<(Vec<f64>, usize)> {
    let (bl, cl) = (&base.launch_medians, &current.launch_medians);
    if bl.len() != cl.len() || bl.iter().chain(cl).any(|m| *m <= 0.0 || !m.is_finite()) {
        return None;
    }
    let all: Vec<f64> = bl.iter().zip(cl).map(|(b, c)| (c / b).ln()).collect();
    let (Some(bp), Some(cp)) = (launch_probes(base), launch_probes(current)) else {
        return Some((all, bl.len()));
    };
    let in_step: Vec<f64> = all
        .iter()
        .zip(bp.iter().zip(cp))
        .filter(|(_, (b, c))| (*c / *b).ln().abs() <= PROBE_STEP)
        .map(|(r, _)| *r)
        .collect();
    if in_step.len() >= MIN_PAIRS {
        Some((in_step, bl.len()))
    } else {
        Some((all, bl.len()))
    }
}

/// The judging thresholds, the same for every command that judges.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Policy {
    /// Smallest relative change of the median that counts, in percent.
    pub threshold_pct: f64,
    /// Smallest absolute change of the median that counts, in nanoseconds.
    pub noise_ns: f64,
    /// Allocations per operation that may be added before it counts as a regression.
    pub alloc_tolerance: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            threshold_pct: 5.0,
            noise_ns: 1.0,
            alloc_tolerance: 0.0,
        }
    }
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
    /// Runs measured at different times, in different states of the machine (their
    /// machine-speed probes differ), with too few launches in a common state to compare.
    StateNotJudged,
    /// One side has no measurement.
    NotComparable,
}

/// The verdicts on one cell present in both files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellVerdict {
    /// Cell id.
    pub id: String,
    /// Median ns/op of the baseline.
    pub base_median_ns: Option<f64>,
    /// Median ns/op of the current run.
    pub current_median_ns: Option<f64>,
    /// Current median over baseline median; for paired launches, the median of the pairs'
    /// ratios.
    pub ratio: Option<f64>,
    /// The distribution-free 95% interval of the ratio (paired launches only).
    pub ratio_ci95: Option<[f64; 2]>,
    /// p-value of the test on time: the sign test for paired launches, else Mann-Whitney U.
    pub p_value: Option<f64>,
    /// What the rank test compared: `paired launches` for interleaved runs with launches in
    /// pairs, `launch medians` when both runs have several launches, else `samples` (which
    /// cannot show process-to-process noise).
    pub compared: &'static str,
    /// The verdict on time.
    pub time: Judgement,
    /// The smallest increase of the median, in ns, that could count as a regression: the
    /// largest of the threshold, the noise floor and (runs not interleaved) the spread of
    /// either run's launch medians (see `tapbench_measure::stats::run_to_run_spread`). What this cell can detect,
    /// measured.
    pub detectable_ns: Option<f64>,
    /// Allocations per op of the baseline.
    pub base_allocs_per_op: Option<f64>,
    /// Allocations per op of the current run.
    pub current_allocs_per_op: Option<f64>,
    /// Whether allocations were compared exactly (deterministic on both sides).
    pub allocs_exact: bool,
    /// The verdict on allocations.
    pub allocs: Judgement,
    /// The verdict on the p99 latency of each launch, for open-loop cells (`service`): a
    /// longer tail at the same throughput is a regression too. `NotComparable` for every
    /// other cell.
    pub p99: Judgement,
    /// What the p99 judgement compared and found (open-loop cells only).
    pub p99_note: Option<String>,
    /// Why a cell was not judged.
    pub note: Option<String>,
    /// Whether the cell measured in either run: one that measured in neither (skipped or
    /// failed in both) has nothing to judge.
    pub applicable: bool,
}

impl CellVerdict {
    /// Whether the gate reached a verdict on the cell: on its time, and on its allocations
    /// where either run counted them. A cell that regressed is judged.
    pub fn judged(&self) -> bool {
        let verdict = |j: Judgement| {
            matches!(
                j,
                Judgement::Regression | Judgement::Improvement | Judgement::Unchanged
            )
        };
        let allocs_counted =
            self.base_allocs_per_op.is_some() || self.current_allocs_per_op.is_some();
        let p99_judged = self.p99_note.is_none() || verdict(self.p99);
        self.regressed()
            || (verdict(self.time) && (verdict(self.allocs) || !allocs_counted) && p99_judged)
    }

    /// Whether any aspect regressed.
    pub fn regressed(&self) -> bool {
        [self.time, self.allocs, self.p99].contains(&Judgement::Regression)
    }

    /// Whether any aspect improved and none regressed.
    pub fn improved(&self) -> bool {
        !self.regressed() && [self.time, self.allocs, self.p99].contains(&Judgement::Improvement)
    }
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
    // Two measurements of different things are no comparison: refuse the first such cell.
    if let Some((b, c)) = pairs
        .iter()
        .find(|(b, c)| b.threads != c.threads || b.params != c.params)
    {
        if b.threads != c.threads {
            bail!(
                "{what} ran `{}` with different thread counts ({} and {}); measure both \
                 with the same --threads",
                b.id,
                b.threads,
                c.threads
            );
        }
        bail!(
            "{what} ran `{}` with different parameters; measure both with the same \
             selection",
            b.id
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

/// Whether two files are the two sides of one interleaved run: their launches then ran
/// in pairs, back to back, and are exchangeable (the rank test stays valid even when the
/// launches fall into several levels).
pub fn interleaved(base: &ResultsFile, current: &ResultsFile) -> bool {
    match (&base.interleaved, &current.interleaved) {
        (Some(b), Some(c)) => b.run == c.run && b.side != c.side,
        _ => false,
    }
}

/// Every shared cell's verdicts, and what the judgement as a whole used.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// Whether the files were the two sides of one interleaved run.
    pub interleaved: bool,
    /// Cells whose time was put to the rank test.
    pub tested: usize,
    /// A cell's p-value must be below this to count: `ALPHA` for one cell, stricter for
    /// many (Benjamini-Hochberg; see `tapbench_measure::stats::benjamini_hochberg_cutoff`).
    pub p_cutoff: f64,
    /// Every cell present in both files, in baseline order.
    pub cells: Vec<CellVerdict>,
    /// Ids only in the baseline.
    pub only_in_base: Vec<String>,
    /// Ids only in the current file.
    pub only_in_current: Vec<String>,
}

/// Judges every cell of `current` against the same cell of `base`; `what` names the two
/// files in errors.
///
/// # Errors
///
/// The files have no cell in common.
pub fn judge(
    base: &ResultsFile,
    current: &ResultsFile,
    policy: Policy,
    what: &str,
) -> Result<Judged> {
    let matched = match_cells(base, current, what)?;
    let interleaved = interleaved(base, current);
    // First every cell's rank test, then the significance level that keeps the whole
    // judgement's false alarms at ALPHA, then the verdicts.
    let tested: Vec<f64> = matched
        .pairs
        .iter()
        .map(|(b, c)| judge_cell(b, c, policy, interleaved, ALPHA))
        .filter(|c| {
            matches!(
                c.time,
                Judgement::Regression | Judgement::Improvement | Judgement::Unchanged
            )
        })
        .filter_map(|c| c.p_value)
        .collect();
    let p_cutoff = benjamini_hochberg_cutoff(&tested, ALPHA);
    let cells = matched
        .pairs
        .iter()
        .map(|(b, c)| judge_cell(b, c, policy, interleaved, p_cutoff))
        .collect();
    Ok(Judged {
        interleaved,
        tested: tested.len(),
        p_cutoff,
        cells,
        only_in_base: matched.only_in_base,
        only_in_current: matched.only_in_current,
    })
}

fn judge_cell(
    base: &CellResult,
    current: &CellResult,
    options: Policy,
    interleaved: bool,
    alpha: f64,
) -> CellVerdict {
    let mut out = CellVerdict {
        id: base.id.clone(),
        base_median_ns: base.time_ns_per_op.as_ref().map(|t| t.median),
        current_median_ns: current.time_ns_per_op.as_ref().map(|t| t.median),
        ratio: None,
        ratio_ci95: None,
        p_value: None,
        compared: "samples",
        time: Judgement::NotComparable,
        detectable_ns: None,
        base_allocs_per_op: base.allocs_per_op,
        current_allocs_per_op: current.allocs_per_op,
        allocs_exact: false,
        allocs: Judgement::NotComparable,
        p99: Judgement::NotComparable,
        p99_note: None,
        note: None,
        applicable: true,
    };
    if base.status != Status::Ok || current.status != Status::Ok {
        out.note = Some(format!(
            "{} in the baseline, {} now{}",
            base.status.as_str(),
            current.status.as_str(),
            current
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ));
        if base.status == Status::Ok {
            // It measured and verified before and does not now: the worst regression.
            out.time = Judgement::Regression;
        } else if current.status != Status::Ok {
            out.applicable = false;
        }
        return out;
    }
    if let (Some(b), Some(c)) = (&base.time_ns_per_op, &current.time_ns_per_op) {
        let time = judge_series(b, c, options, interleaved, alpha);
        out.compared = time.compared;
        out.ratio = time.ratio;
        out.ratio_ci95 = time.ratio_ci95;
        out.p_value = time.p_value;
        out.detectable_ns = time.detectable_ns;
        out.note = time.note;
        out.time = time.judgement;
    }
    (out.p99, out.p99_note) = judge_p99(base, current, options, interleaved, alpha);
    let one_launch_stored = !interleaved
        && out.compared == "samples"
        && base.time_ns_per_op.is_some()
        && current.time_ns_per_op.is_some();
    (out.allocs_exact, out.allocs) =
        judge_allocs(base, current, options.alloc_tolerance, one_launch_stored);
    out
}

/// The verdict on one measured series of a cell: its time per operation, or the p99
/// latency of its launches.
#[derive(Debug, Clone, PartialEq)]
struct SeriesVerdict {
    ratio: Option<f64>,
    ratio_ci95: Option<[f64; 2]>,
    p_value: Option<f64>,
    compared: &'static str,
    judgement: Judgement,
    detectable_ns: Option<f64>,
    note: Option<String>,
}

/// Judges the series `c` against `b` by the rules of the module's doc (paired launches,
/// launch medians, or one launch a side).
fn judge_series(
    b: &TimeNsPerOp,
    c: &TimeNsPerOp,
    options: Policy,
    interleaved: bool,
    alpha: f64,
) -> SeriesVerdict {
    let mut out = SeriesVerdict {
        ratio: None,
        ratio_ci95: None,
        p_value: None,
        compared: "samples",
        judgement: Judgement::NotComparable,
        detectable_ns: None,
        note: None,
    };
    let (bs, cs, compared) = rank_test_values(b, c);
    out.compared = compared;
    let launches = compared == "launch medians";
    // Runs measured at different times: judge the launches that ran in the machine's
    // fastest state, where both runs have enough of them.
    let same_state = (launches && !interleaved)
        .then(|| fast_state_launches(b, c))
        .flatten();
    let mut state_note = None;
    let (bs, cs) = match &same_state {
        Some(kept) => {
            state_note = Some(format!(
                "{} and {} of {} and {} launches judged: the others ran while the \
                 machine-speed probe was more than {:.0}% slower than its fastest",
                kept.base.len(),
                kept.current.len(),
                bs.len(),
                cs.len(),
                100.0 * PROBE_STEP
            ));
            (kept.base.as_slice(), kept.current.as_slice())
        }
        None => (bs, cs),
    };
    let median = |v: &[f64]| summarize(v).map(|s| s.median);
    let (Some(bm), Some(cm)) = (median(bs), median(cs)) else {
        return out;
    };
    out.ratio = (bm > 0.0).then(|| cm / bm);
    out.p_value = mann_whitney_u(bs, cs).map(|r| r.p_value);
    // Interleaved launches in pairs: judge the pairs' log-ratios, which the pairing
    // frees of whatever state the machine was in at each pass.
    let mut diff = cm - bm;
    let mut pairs_note = None;
    if interleaved && b.launch_medians.len() >= MIN_PAIRS && bm > 0.0 {
        if let Some((log_ratios, all)) = paired_log_ratios(b, c) {
            if let (Some(stats), Some(test)) = (
                summarize(&log_ratios).filter(|s| s.median.is_finite()),
                sign_test(&log_ratios),
            ) {
                let ratio = stats.median.exp();
                out.compared = "paired launches";
                out.ratio = Some(ratio);
                out.ratio_ci95 = Some([stats.ci95_low.exp(), stats.ci95_high.exp()]);
                out.p_value = Some(test.p_value);
                diff = bm * (ratio - 1.0);
                if log_ratios.len() < all {
                    pairs_note = Some(format!(
                        "{} of {all} launch pairs judged: the others' probe times differ \
                         by more than {:.0}%",
                        log_ratios.len(),
                        100.0 * PROBE_STEP
                    ));
                }
            } else {
                // Every pair measured exactly the same: no change to find.
                out.compared = "paired launches";
                out.ratio = Some(1.0);
                out.p_value = Some(1.0);
                diff = 0.0;
            }
        }
    }
    // The smallest change that counts: threshold and noise floor, and for runs measured
    // at different times the run-to-run spread either run showed.
    let multimodal = is_bimodal(bs) || is_bimodal(cs);
    // Two runs whose launches separate completely need no spread rule: every launch of
    // one is beyond every launch of the other.
    let separate = !interleaved && launches && multimodal && separated(b, c);
    // Too few launches in a common state, and the runs' probes differ: the machine,
    // not the code, may be what moved.
    let other_state = (!interleaved && launches && !separate && same_state.is_none())
        .then(|| different_states(b, c))
        .flatten();
    let mut margin = (bm * options.threshold_pct / 100.0).max(options.noise_ns);
    if !interleaved && !separate {
        margin = margin.max(run_to_run_spread(bs)).max(run_to_run_spread(cs));
    }
    out.detectable_ns = Some(margin);
    out.judgement = if !launches && !interleaved {
        // One launch a side: a verdict only beyond the single-launch bound, on the time
        // in units of the machine-speed probe where both launches timed it.
        let (ratio, normalised) = single_launch_ratio(b, c);
        let bound = single_launch_bound(b, c);
        // No rank test: samples of one process a side carry no launch-to-launch noise.
        out.p_value = None;
        out.detectable_ns = Some(bm * (bound - 1.0));
        out.ratio = ratio.or(out.ratio);
        let units = if normalised {
            "time in units of the machine-speed probe"
        } else {
            "raw time: a run without probe times"
        };
        match ratio {
            Some(r) if r > bound && cm - bm > options.noise_ns => {
                out.note = Some(format!(
                    "one launch per cell: {r:.2}x ({units}) is beyond the single-launch \
                     bound of {bound:.1}x"
                ));
                Judgement::Regression
            }
            Some(r) if r < 1.0 / bound && bm - cm > options.noise_ns => {
                out.note = Some(format!(
                    "one launch per cell: {r:.2}x ({units}) is beyond the single-launch \
                     bound of {bound:.1}x"
                ));
                Judgement::Improvement
            }
            Some(r) => {
                out.note = Some(format!(
                    "one launch per cell: {r:.2}x ({units}) is within the single-launch \
                     bound of {bound:.1}x, where launches of the same code differ too; only \
                     a larger change could show (measure both runs with --launches 10, or \
                     interleaved, to judge smaller ones)"
                ));
                Judgement::Unchanged
            }
            None => Judgement::NotComparable,
        }
    } else if let Some((bp, cp)) = other_state {
        out.note = Some(format!(
            "the runs measured in different states of the machine: median probe {:.0} us \
             against {:.0} us, too few launches in a common state",
            bp / 1e3,
            cp / 1e3
        ));
        Judgement::StateNotJudged
    } else if multimodal && !interleaved && !separate {
        out.note = Some("multimodal samples: not judged".into());
        Judgement::MultimodalNotJudged
    } else {
        out.note = if separate {
            Some(
                "multimodal launches, judged: every launch of one run is beyond every \
                 launch of the other, in time and in units of the machine-speed probe"
                    .into(),
            )
        } else {
            pairs_note.or(state_note)
        };
        if multimodal && interleaved {
            let multimodal = "multimodal launches, judged: the runs were interleaved";
            out.note = Some(match out.note.take() {
                Some(pairs) => format!("{multimodal}; {pairs}"),
                None => multimodal.into(),
            });
        }
        let threshold = 1.0 + options.threshold_pct / 100.0;
        match (out.ratio, out.p_value) {
            (Some(r), Some(p)) if p < alpha && r > threshold && diff > margin => {
                Judgement::Regression
            }
            (Some(r), Some(p)) if p < alpha && r < 1.0 / threshold && -diff > margin => {
                Judgement::Improvement
            }
            (Some(_), Some(_)) => Judgement::Unchanged,
            _ => Judgement::NotComparable,
        }
    };
    out
}

/// Each launch's p99 latency of an open-loop cell as a series the time rules judge: one
/// value per launch, with the launches' machine-speed probe times. `None` for a cell
/// that is not open loop or lacks its launches' p99.
fn p99_series(cell: &CellResult) -> Option<TimeNsPerOp> {
    let load = cell.load.as_ref().filter(|l| l.open_loop)?;
    let p99: Vec<f64> = load.launch_p99_ns.iter().map(|v| *v as f64).collect();
    if p99.is_empty() {
        return None;
    }
    let probe_ns = cell
        .time_ns_per_op
        .as_ref()
        .map(|t| t.probe_ns.clone())
        .filter(|p| p.len() == p99.len())
        .unwrap_or_default();
    let medians = if p99.len() > 1 {
        p99.clone()
    } else {
        Vec::new()
    };
    crate::launches::time_per_op(p99, medians, probe_ns)
}

/// The verdict on the p99 latency of an open-loop cell (a runtime change that keeps the
/// throughput and doubles the tail is a regression), judged by the same rules as time
/// over each launch's p99, with a note saying what moved. `NotComparable` and no note for
/// cells that are not open loop on both sides.
fn judge_p99(
    base: &CellResult,
    current: &CellResult,
    options: Policy,
    interleaved: bool,
    alpha: f64,
) -> (Judgement, Option<String>) {
    if base.status != Status::Ok || current.status != Status::Ok {
        return (Judgement::NotComparable, None);
    }
    let (Some(b), Some(c)) = (p99_series(base), p99_series(current)) else {
        return (Judgement::NotComparable, None);
    };
    let p99 = judge_series(&b, &c, options, interleaved, alpha);
    let what = match p99.compared {
        "launch medians" => "of each launch",
        "paired launches" => "of paired launches",
        _ => "of one launch a side",
    };
    let mut note = format!("p99 {what}");
    if let Some(r) = p99.ratio {
        note.push_str(&format!(": {r:.2}x"));
    }
    if let Some(p) = p99.p_value {
        note.push_str(&format!(", p = {p:.3}"));
    }
    if let Some(more) = p99.note {
        note.push_str(&format!(" ({more})"));
    }
    (p99.judgement, Some(note))
}

/// The launches of two runs measured at different times that ran in the machine's fastest
/// state (see [`fast_state_launches`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SameState {
    /// The baseline's launch medians kept.
    pub base: Vec<f64>,
    /// The current run's launch medians kept.
    pub current: Vec<f64>,
}

/// The launch medians of both runs whose machine-speed probe time lies within
/// [`PROBE_STEP`] of the fastest probe time of either run: the launches that ran in the
/// machine's fast state. On this 2-core shared machine a stored baseline of 10 launches
/// holds launches of both states, and a cell whose launches fall into two levels 20-80%
/// apart is either not judged (multimodal) or judged against a spread that hides +50%;
/// compared state for state, the same runs show a few percent. Both runs are filtered by
/// the same rule on a figure the code under test does not change, so under no change the
/// kept launches of both are alike. `None` (judge every launch) when either run lacks
/// probe times, when nothing would be set aside, or when too few launches are left for
/// the rank test to reach [`ALPHA`] (its smallest two-sided p-value is
/// `2 / C(n1 + n2, n1)`).
pub fn fast_state_launches(base: &TimeNsPerOp, current: &TimeNsPerOp) -> Option<SameState> {
    let (bp, cp) = (launch_probes(base)?, launch_probes(current)?);
    let fastest = bp.iter().chain(cp).copied().fold(f64::INFINITY, f64::min);
    let keep = |t: &TimeNsPerOp| -> Vec<f64> {
        t.launch_medians
            .iter()
            .zip(&t.probe_ns)
            .filter(|(_, p)| (*p / fastest).ln() <= PROBE_STEP)
            .map(|(m, _)| *m)
            .collect()
    };
    let kept = SameState {
        base: keep(base),
        current: keep(current),
    };
    let (n1, n2) = (kept.base.len(), kept.current.len());
    // C(n1 + n2, n1), as a float: only compared against 2 / ALPHA.
    let orderings = (1..=n1).fold(1.0, |acc, i| acc * (n2 + i) as f64 / i as f64);
    let all_kept = n1 == base.launch_medians.len() && n2 == current.launch_medians.len();
    (n1 >= 2 && n2 >= 2 && 2.0 / orderings < ALPHA && !all_kept).then_some(kept)
}

/// The two runs' median machine-speed probe times, in ns, when they differ by more than
/// [`PROBE_STEP`]: the runs were measured in different states of the machine (on this
/// machine a slow phase can cover a whole run of a cell's launches: a sub-10 ns cell read
/// 3.4 ns in one run and 5.9 ns in the next, A/A). `None` when they agree or either run
/// lacks probe times.
pub fn different_states(base: &TimeNsPerOp, current: &TimeNsPerOp) -> Option<(f64, f64)> {
    let median = |t: &TimeNsPerOp| summarize(launch_probes(t)?).map(|s| s.median);
    let (b, c) = (median(base)?, median(current)?);
    ((c / b).ln().abs() > PROBE_STEP).then_some((b, c))
}

/// Whether every launch of one run is slower than every launch of the other, both in time
/// and in units of each launch's machine-speed probe, and each run has a launch in the
/// machine's fast state (probe within [`PROBE_STEP`] of the fastest of both). Two runs that
/// separate completely differ by more than any mixture of levels explains, so a
/// multimodal cell is judged all the same; the probe rules out the one other explanation,
/// a machine that ran slower throughout one of the runs. False when either run lacks
/// probe times.
pub fn separated(base: &TimeNsPerOp, current: &TimeNsPerOp) -> bool {
    let (Some(bp), Some(cp)) = (launch_probes(base), launch_probes(current)) else {
        return false;
    };
    let (b_raw, c_raw) = (&base.launch_medians, &current.launch_medians);
    if b_raw.len() < 2 || c_raw.len() < 2 {
        return false;
    }
    let per_probe =
        |m: &[f64], p: &[f64]| -> Vec<f64> { m.iter().zip(p).map(|(m, p)| m / p).collect() };
    let (b_norm, c_norm) = (per_probe(b_raw, bp), per_probe(c_raw, cp));
    let low = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let high = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let fastest = low(bp).min(low(cp));
    let in_fast_state = |p: &[f64]| p.iter().any(|p| (p / fastest).ln() <= PROBE_STEP);
    if !in_fast_state(bp) || !in_fast_state(cp) {
        return false;
    }
    let above = |x: &[f64], y: &[f64]| low(x) > high(y);
    (above(c_raw, b_raw) && above(&c_norm, &b_norm))
        || (above(b_raw, c_raw) && above(&b_norm, &c_norm))
}

/// The ratio of a cell's single launches, current over baseline: in units of the
/// machine-speed probe when both launches timed it (each median divided by its launch's
/// probe time, so a machine that ran slower during one launch does not look like slower
/// code), else of the raw medians. The flag says which.
pub fn single_launch_ratio(base: &TimeNsPerOp, current: &TimeNsPerOp) -> (Option<f64>, bool) {
    let probe = |t: &TimeNsPerOp| match t.probe_ns.as_slice() {
        [p] if *p > 0.0 => Some(*p),
        _ => None,
    };
    if base.median <= 0.0 {
        return (None, false);
    }
    let raw = current.median / base.median;
    match (probe(base), probe(current)) {
        (Some(bp), Some(cp)) => (Some(raw / (cp / bp)), true),
        _ => (Some(raw), false),
    }
}

/// The single-launch bound of a cell: [`SINGLE_LAUNCH_BOUND`], or the product of the two
/// launches' own sample spreads (highest sample over lowest) where that is wider. A launch
/// whose samples spread wide has no one level: its median can sit anywhere in that range,
/// so two such launches can differ by the product of their spreads. Over 40 smoke runs,
/// `smol-local/spawn/blocking` read 12 us per operation in one launch and 150 us in
/// another (11.9x), with samples spread 8.8x and 9.4x within them.
pub fn single_launch_bound(base: &TimeNsPerOp, current: &TimeNsPerOp) -> f64 {
    let spread = |t: &TimeNsPerOp| {
        let (lo, hi) = t
            .samples
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            });
        if lo > 0.0 && hi.is_finite() {
            hi / lo
        } else {
            1.0
        }
    };
    SINGLE_LAUNCH_BOUND.max(spread(base) * spread(current))
}

/// The smallest difference of allocations per operation that two exact counts can show
/// for a cell: a runtime that allocates a block every so many operations (async-executor's
/// queue, every 31 tasks) puts one allocation more or less into a sample depending on where
/// the sample starts, and runs that calibrated different sample sizes spread those blocks
/// over different numbers of operations (1.067733 against 1.067752 allocations per op with
/// 4813 and 5284 operations per sample). Two allocations per sample window on either side
/// cover that and launches that calibrated smaller samples than the first; 0 when the
/// file does not say how many operations a sample held.
pub fn alloc_resolution(base: &CellResult, current: &CellResult) -> f64 {
    let per_window =
        |cell: &CellResult| cell.ops.filter(|o| *o > 0).map_or(0.0, |o| 2.0 / o as f64);
    per_window(base) + per_window(current)
}

fn judge_allocs(
    base: &CellResult,
    current: &CellResult,
    tolerance: f64,
    one_launch_stored: bool,
) -> (bool, Judgement) {
    let (Some(b), Some(c)) = (base.allocs_per_op, current.allocs_per_op) else {
        return (false, Judgement::NotComparable);
    };
    // Samples that agree to within the counter's resolution are one exact count (an
    // amortised block falls into one sample or the next); wider ranges are contention.
    let window = |cell: &CellResult| cell.ops.filter(|o| *o > 0).map_or(0.0, |o| 2.0 / o as f64);
    let constant = |s: &[f64], resolution: f64| {
        let (lo, hi) = s
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            });
        s.is_empty() || hi - lo <= resolution + 1e-12
    };
    let (bs, cs) = (&base.allocs_per_op_samples, &current.allocs_per_op_samples);
    let exact = bs.is_empty()
        || cs.is_empty()
        || (constant(bs, window(base)) && constant(cs, window(current)));
    // A hair of slack for the float division of exact counts.
    const EPSILON: f64 = 1e-9;
    if exact {
        // The average, not the marginal count: measured over 40 smoke runs of 42 cells,
        // no cell's average moved with its batch size beyond the counter's resolution
        // (allocations made once per batch would have), while the marginal count, taken
        // from one sample of twice the size, carries the quantisation of the amortised
        // blocks of one sample instead of all of them: 1.06761 to 1.06782 against
        // 1.067738 to 1.067752 for `smol-local/value_task/spawned/sync_ratio=0.9`.
        let margin = tolerance + alloc_resolution(base, current) + EPSILON;
        let judgement = if c > b + margin {
            Judgement::Regression
        } else if c < b - margin {
            Judgement::Improvement
        } else {
            Judgement::Unchanged
        };
        return (true, judgement);
    }
    let (Some(bstats), Some(cstats)) = (summarize(bs), summarize(cs)) else {
        return (false, Judgement::NotComparable);
    };
    let spread = (bstats.max - bstats.min).max(cstats.max - cstats.min);
    if one_launch_stored {
        // Samples of one process a side: no rank test, and a margin for the level each
        // process settles at.
        let margin = tolerance
            + spread
            + ONE_LAUNCH_ALLOC_MARGIN
            + alloc_resolution(base, current)
            + EPSILON;
        let judgement = if cstats.median > bstats.median + margin {
            Judgement::Regression
        } else if cstats.median < bstats.median - margin {
            Judgement::Improvement
        } else {
            Judgement::Unchanged
        };
        return (false, judgement);
    }
    let p = mann_whitney_u(bs, cs).map(|r| r.p_value).unwrap_or(1.0);
    let margin = tolerance + spread + EPSILON;
    let judgement = if p < ALPHA && cstats.median > bstats.median + margin {
        Judgement::Regression
    } else if p < ALPHA && cstats.median < bstats.median - margin {
        Judgement::Improvement
    } else {
        Judgement::Unchanged
    };
    (false, judgement)
}

/// The words for a judgement.
pub fn judgement_text(j: Judgement) -> &'static str {
    match j {
        Judgement::Regression => "REGRESSION",
        Judgement::Improvement => "improvement",
        Judgement::Unchanged => "unchanged",
        Judgement::MultimodalNotJudged => "multimodal, not judged",
        Judgement::StateNotJudged => "machine state differs, not judged",
        Judgement::NotComparable => "not comparable",
    }
}
