//! The gate's verdicts on constructed files: every rule, and the cases it must not call.

use super::*;
use crate::results::{Interleaved, Side, Status, TimeNsPerOp};
use tapbench_measure::stats::summarize;
use tapbench_measure::stats::{benjamini_hochberg_cutoff, mann_whitney_u, run_to_run_spread};

fn fixture() -> ResultsFile {
    serde_json::from_str(include_str!("../../tests/fixtures/small-results.json")).unwrap()
}

/// A file with one cell whose launches have these medians (one launch: these samples),
/// allocating `allocs` per op in every sample.
fn run(launch_medians: &[f64], samples: &[f64], allocs: f64) -> ResultsFile {
    let mut file = fixture();
    let mut cell = file.cells[0].clone();
    let values = if launch_medians.is_empty() {
        samples
    } else {
        launch_medians
    };
    let median = summarize(values).unwrap().median;
    cell.time_ns_per_op = Some(TimeNsPerOp {
        median,
        ci95_low: median,
        ci95_high: median,
        ci_coverage: 0.95,
        cv: 0.01,
        outliers: 0,
        samples: samples.to_vec(),
        launch_medians: launch_medians.to_vec(),
        probe_ns: Vec::new(),
    });
    cell.allocs_per_op = Some(allocs);
    cell.allocs_per_op_samples = vec![allocs; samples.len()];
    file.cells = vec![cell];
    file
}

fn launches(values: &[f64]) -> ResultsFile {
    run(values, values, 1.0)
}

/// How the two files of a test were measured, and the thresholds.
#[derive(Clone, Copy)]
struct Mode {
    policy: Policy,
    interleaved: bool,
}

const STORED: Mode = Mode {
    policy: Policy {
        threshold_pct: 5.0,
        noise_ns: 1.0,
        alloc_tolerance: 0.0,
    },
    interleaved: false,
};
const INTERLEAVED: Mode = Mode {
    interleaved: true,
    ..STORED
};

/// Gates the two files, first marking them as the two sides of one interleaved run
/// when `mode` says so.
fn gate_as(base: &ResultsFile, current: &ResultsFile, mode: Mode) -> Result<GateReport> {
    let (mut base, mut current) = (base.clone(), current.clone());
    if mode.interleaved {
        for (file, side) in [(&mut base, Side::Baseline), (&mut current, Side::Current)] {
            file.interleaved = Some(Interleaved {
                run: "test".into(),
                side,
                lockstep: false,
            });
        }
    }
    gate(&base, &current, mode.policy)
}

fn verdict(base: &ResultsFile, current: &ResultsFile, mode: Mode) -> CellGate {
    let report = gate_as(base, current, mode).unwrap();
    assert_eq!(report.cells.len(), 1);
    report.cells[0].clone()
}

const BASE: [f64; 6] = [100.0, 101.0, 99.0, 100.5, 99.5, 100.2];

/// An open-loop cell of 12 launches with the same time per request in every launch
/// and these launch p99s (ns).
fn open_loop(p99: &[u64], open: bool) -> ResultsFile {
    let times: Vec<f64> = p99.iter().map(|_| 500_000.0).collect();
    let mut file = run(&times, &times, 30.0);
    let cell = &mut file.cells[0];
    cell.load = Some(crate::results::LoadResult {
        open_loop: open,
        offered_per_s: 2000.0,
        achieved_per_s: Some(2000.0),
        requests: 400 * p99.len() as u64,
        answered: 400 * p99.len() as u64,
        timed_out: 0,
        intervals: 399 * p99.len() as u64,
        started_span_ns: 199_500_000 * p99.len() as u64,
        launch_p99_ns: p99.to_vec(),
    });
    file
}

#[test]
fn an_open_loop_cell_whose_tail_doubles_at_the_same_throughput_regresses() {
    let base: Vec<u64> = (0..12).map(|i| 3_000_000 + 20_000 * (i % 5)).collect();
    let doubled: Vec<u64> = base.iter().map(|p| p * 2).collect();
    let v = verdict(
        &open_loop(&base, true),
        &open_loop(&doubled, true),
        INTERLEAVED,
    );
    assert_eq!(v.time, Judgement::Unchanged, "{v:?}");
    assert_eq!(v.p99, Judgement::Regression, "{v:?}");
    assert!(v.regressed() && v.judged());
    assert!(
        v.p99_note
            .as_deref()
            .unwrap()
            .contains("paired launches: 2.00x"),
        "{v:?}"
    );
    let report = gate_as(
        &open_loop(&base, true),
        &open_loop(&doubled, true),
        INTERLEAVED,
    )
    .unwrap();
    assert_eq!(report.outcome, Outcome::Regressed);
    assert!(text(&report).contains("p99 REGRESSION"));

    // Stored runs (launch medians), and an improvement the other way round.
    let v = verdict(&open_loop(&base, true), &open_loop(&doubled, true), STORED);
    assert_eq!(v.p99, Judgement::Regression, "{v:?}");
    let v = verdict(
        &open_loop(&doubled, true),
        &open_loop(&base, true),
        INTERLEAVED,
    );
    assert_eq!(v.p99, Judgement::Improvement, "{v:?}");
    assert!(v.improved());

    // The same tail: unchanged; and a closed-loop cell's tail is not judged at all (its
    // latencies miss a stall's queue, so they cannot speak for the tail).
    let v = verdict(
        &open_loop(&base, true),
        &open_loop(&base, true),
        INTERLEAVED,
    );
    assert_eq!(v.p99, Judgement::Unchanged, "{v:?}");
    assert!(v.judged() && !v.regressed());
    let v = verdict(
        &open_loop(&base, false),
        &open_loop(&doubled, false),
        INTERLEAVED,
    );
    assert_eq!(
        (v.p99, v.p99_note.as_deref()),
        (Judgement::NotComparable, None)
    );
    assert!(!v.regressed());
}

#[test]
fn a_clear_slowdown_of_launch_medians_is_a_regression() {
    let slower: Vec<f64> = BASE.iter().map(|x| x * 1.2).collect();
    for options in [STORED, INTERLEAVED] {
        let v = verdict(&launches(&BASE), &launches(&slower), options);
        assert_eq!(v.time, Judgement::Regression, "{v:?}");
        assert_eq!(v.compared, "launch medians");
        assert!(v.p_value.unwrap() < ALPHA);
        let faster = verdict(&launches(&slower), &launches(&BASE), options);
        assert_eq!(faster.time, Judgement::Improvement);
    }
}

#[test]
fn each_criterion_alone_can_hold_a_regression_back() {
    // 3% slower, significant: under the 5% threshold.
    let slight: Vec<f64> = BASE.iter().map(|x| x * 1.03).collect();
    let v = verdict(&launches(&BASE), &launches(&slight), INTERLEAVED);
    assert_eq!(v.time, Judgement::Unchanged, "{v:?}");
    // 20% slower but 0.2 ns: under the noise floor.
    let tiny = [1.0, 1.01, 0.99, 1.0, 1.0, 1.0];
    let tiny_slow: Vec<f64> = tiny.iter().map(|x| x * 1.2).collect();
    let v = verdict(&launches(&tiny), &launches(&tiny_slow), INTERLEAVED);
    assert_eq!(v.time, Judgement::Unchanged, "{v:?}");
    // 20% slower in the median but overlapping launches: not significant.
    let overlapping = [100.0, 130.0, 99.0, 125.0, 120.0, 121.0];
    let v = verdict(&launches(&BASE), &launches(&overlapping), INTERLEAVED);
    assert!(v.p_value.unwrap() > ALPHA, "{v:?}");
    assert_eq!(v.time, Judgement::Unchanged);
}

#[test]
fn runs_at_different_times_must_differ_by_more_than_their_own_spread() {
    // Launches spread over 26% (30% with the extremes): a 25% shift is within the
    // run-to-run noise when the runs were measured at different times, and judged when
    // they were interleaved.
    let base = [90.0, 92.0, 120.0, 118.0, 100.0, 104.0];
    let shifted: Vec<f64> = [100.0, 104.0, 96.0, 100.0, 99.0, 101.0]
        .iter()
        .map(|x| x * 1.25)
        .collect();
    let stored = verdict(&launches(&base), &launches(&shifted), STORED);
    assert_eq!(stored.time, Judgement::Unchanged, "{stored:?}");
    assert!((stored.detectable_ns.unwrap() - 26.0).abs() < 1e-9);
    let interleaved = verdict(&launches(&base), &launches(&shifted), INTERLEAVED);
    assert!((interleaved.detectable_ns.unwrap() - 5.0).abs() < 0.5);
    // Beyond the spread, the stored comparison flags it too.
    let far: Vec<f64> = shifted.iter().map(|x| x * 1.2).collect();
    let stored = verdict(&launches(&base), &launches(&far), STORED);
    assert_eq!(stored.time, Judgement::Regression, "{stored:?}");
}

#[test]
fn many_cells_are_judged_together_at_the_gates_level() {
    // One cell: plain p < 0.01.
    assert_eq!(benjamini_hochberg_cutoff(&[0.004], 0.01), 0.01);
    assert_eq!(benjamini_hochberg_cutoff(&[], 0.01), 0.01);
    // 200 cells of unchanged code: one p of 0.004 is what chance gives, not a change.
    let mut null: Vec<f64> = (1..=200).map(|i| f64::from(i) / 200.0).collect();
    null[0] = 0.004;
    let cutoff = benjamini_hochberg_cutoff(&null, 0.01);
    assert!(cutoff <= 0.01 / 200.0 + 1e-15, "{cutoff}");
    assert!(0.004 >= cutoff);
    // A change that shows in many cells keeps them all.
    let mut real = null.clone();
    for p in real.iter_mut().take(50) {
        *p = 1e-5;
    }
    let cutoff = benjamini_hochberg_cutoff(&real, 0.01);
    assert!(1e-5 < cutoff && cutoff < 0.01, "{cutoff}");

    // Through the gate: the same slowdown counts in a file of one cell and not among
    // many unchanged ones, where p = 0.004 is no evidence.
    let base = [100.0, 101.0, 99.0, 100.5, 99.5, 100.2];
    let slower = [120.0, 121.0, 119.0, 100.4, 120.5, 120.2];
    let one = verdict(&launches(&base), &launches(&slower), INTERLEAVED);
    assert!(one.p_value.unwrap() < 0.01 && one.p_value.unwrap() > 0.001);
    assert_eq!(one.time, Judgement::Regression, "{one:?}");
    let (mut b, mut c) = (launches(&base), launches(&slower));
    let template = b.cells[0].clone();
    for i in 0..20 {
        let mut same = template.clone();
        same.id = format!("same/{i}");
        b.cells.push(same.clone());
        c.cells.push(same);
    }
    let report = gate_as(&b, &c, INTERLEAVED).unwrap();
    assert_eq!(report.tested, 21);
    assert_eq!(report.regressions, 0, "{report:#?}");
    assert!(text(&report).contains("Benjamini-Hochberg over the 21 cells"));
}

#[test]
fn one_disturbed_launch_does_not_set_the_spread() {
    assert_eq!(
        run_to_run_spread(&[1.0, 1.5, 1.1, 1.2, 0.9]),
        0.19999999999999996
    );
    assert_eq!(run_to_run_spread(&[1.0, 1.5, 1.1]), 0.5);
    assert_eq!(run_to_run_spread(&[2.0]), 0.0);
    // A 20% slowdown of a steady cell whose baseline had one slow launch is caught.
    // Ten launches a side (the quick profile's): the rank test still has p < 0.01 with
    // one wild launch, which five launches could not give (p = 0.15).
    let base = [
        100.0, 101.0, 150.0, 100.5, 99.5, 100.2, 99.8, 100.1, 100.3, 99.7,
    ];
    let slower: Vec<f64> = [
        100.0, 101.0, 99.0, 100.5, 99.5, 100.2, 99.8, 100.1, 100.3, 99.7,
    ]
    .iter()
    .map(|x| x * 1.2)
    .collect();
    let v = verdict(&launches(&base), &launches(&slower), STORED);
    assert_eq!(v.time, Judgement::Regression, "{v:?}");
}

#[test]
fn one_launch_per_cell_within_the_bound_passes_at_single_launch_resolution() {
    let base = run(&[], &BASE, 1.0);
    let slower: Vec<f64> = BASE.iter().map(|x| x * 1.5).collect();
    let current = run(&[], &slower, 1.0);
    let v = verdict(&base, &current, STORED);
    assert_eq!(v.time, Judgement::Unchanged, "{v:?}");
    assert_eq!(v.compared, "samples");
    assert!(!v.regressed());
    // What it can detect is the bound, not the threshold.
    let detects = v.detectable_ns.unwrap() / v.base_median_ns.unwrap();
    assert!(
        (detects - (SINGLE_LAUNCH_BOUND - 1.0)).abs() < 1e-9,
        "{v:?}"
    );
    assert!(v
        .note
        .as_deref()
        .unwrap()
        .contains("within the single-launch bound"));
    // Interleaved, the same launches are a regression.
    let v = verdict(&base, &current, INTERLEAVED);
    assert_eq!(v.time, Judgement::Regression);
    // Allocations are still judged exactly.
    let more = run(&[], &BASE, 2.0);
    let v = verdict(&base, &more, STORED);
    assert!(v.allocs_exact);
    assert_eq!(v.allocs, Judgement::Regression);
    assert!(v.regressed());
    let report = gate_as(&base, &current, STORED).unwrap();
    assert_eq!(report.outcome, Outcome::Passed);
    assert_eq!(
        (report.judged, report.not_judged, report.one_launch),
        (1, 0, 1)
    );
    let text = text(&report);
    assert!(
        text.contains("1 unchanged only at single-launch resolution"),
        "{text}"
    );
    assert!(
        text.contains("rule out only a change beyond the single-launch bound"),
        "{text}"
    );
}

/// A single-launch run whose launch timed the machine-speed probe at `probe_ns`.
fn probed(samples: &[f64], probe_ns: f64) -> ResultsFile {
    let mut file = run(&[], samples, 1.0);
    file.cells[0].time_ns_per_op.as_mut().unwrap().probe_ns = vec![probe_ns];
    file
}

#[test]
fn single_launches_are_judged_beyond_the_single_launch_bound() {
    let base = probed(&BASE, 500.0);
    let times = |k: f64| -> Vec<f64> { BASE.iter().map(|x| x * k).collect() };
    // Inside the bound - 2x included - one launch cannot tell a change from noise: the
    // cell is unchanged at that resolution.
    for k in [1.0, 2.0, 3.9] {
        let v = verdict(&base, &probed(&times(k), 500.0), STORED);
        assert_eq!(v.time, Judgement::Unchanged, "{k}x: {v:?}");
        let report = gate_as(&base, &probed(&times(k), 500.0), STORED).unwrap();
        assert_eq!(report.outcome, Outcome::Passed, "{k}x");
    }
    // Beyond it, a regression (and its mirror image, an improvement).
    let v = verdict(&base, &probed(&times(4.5), 500.0), STORED);
    assert_eq!(v.time, Judgement::Regression, "{v:?}");
    assert!(v.note.as_deref().unwrap().contains("single-launch bound"));
    let report = gate_as(&base, &probed(&times(4.5), 500.0), STORED).unwrap();
    assert_eq!(report.outcome, Outcome::Regressed);
    let v = verdict(&probed(&times(4.5), 500.0), &base, STORED);
    assert_eq!(v.time, Judgement::Improvement, "{v:?}");
    // The bound is what this cell can detect.
    let d = v.detectable_ns.unwrap();
    assert!((d - 3.0 * v.base_median_ns.unwrap()).abs() < 1e-6, "{v:?}");
    // A launch whose own samples spread wider than the bound widens it.
    let mut wide = times(4.5);
    wide[0] *= 3.0;
    wide[4] /= 2.0;
    let v = verdict(&base, &probed(&wide, 500.0), STORED);
    assert_eq!(v.time, Judgement::Unchanged, "{v:?}");
    let bound = 1.0 + v.detectable_ns.unwrap() / v.base_median_ns.unwrap();
    assert!(bound > 4.5, "{v:?}");
    // A change beyond the bound but below the noise floor is not a regression.
    let tiny = probed(&[0.1; 5], 500.0);
    let v = verdict(&tiny, &probed(&[0.5; 5], 500.0), STORED);
    assert_eq!(v.time, Judgement::Unchanged, "{v:?}");
}

#[test]
fn single_launches_are_compared_in_units_of_the_machine_speed_probe() {
    let base = probed(&BASE, 500.0);
    let slower: Vec<f64> = BASE.iter().map(|x| x * 5.0).collect();
    // 5x the time while the probe, too, ran 2.5x slower: 2x in probe units, inside
    // the bound.
    let v = verdict(&base, &probed(&slower, 1250.0), STORED);
    assert_eq!(v.time, Judgement::Unchanged, "{v:?}");
    assert!((v.ratio.unwrap() - 2.0).abs() < 1e-9, "{v:?}");
    // The same 5x with the probe unchanged: beyond the bound.
    let v = verdict(&base, &probed(&slower, 500.0), STORED);
    assert_eq!(v.time, Judgement::Regression, "{v:?}");
    // Without probe times on either side (files written before schema 2), raw time.
    let v = verdict(&base, &run(&[], &slower, 1.0), STORED);
    assert_eq!(v.time, Judgement::Regression, "{v:?}");
    assert!(v.note.as_deref().unwrap().contains("raw time"), "{v:?}");
}

#[test]
fn interleaved_launches_are_judged_in_pairs() {
    // The machine drifts from pass to pass by up to 2x; this build is 6% slower in
    // every pair. Unpaired, the launch medians overlap; paired, every log-ratio is +6%.
    let drift = [
        100.0, 180.0, 95.0, 150.0, 200.0, 110.0, 130.0, 170.0, 98.0, 160.0,
    ];
    let slower: Vec<f64> = drift
        .iter()
        .enumerate()
        .map(|(i, x)| x * (1.055 + 0.001 * i as f64))
        .collect();
    let v = verdict(&launches(&drift), &launches(&slower), INTERLEAVED);
    assert_eq!(v.compared, "paired launches");
    assert_eq!(v.time, Judgement::Regression, "{v:?}");
    let ratio = v.ratio.unwrap();
    assert!((ratio - 1.0595).abs() < 1e-3, "{ratio}");
    let [lo, hi] = v.ratio_ci95.unwrap();
    assert!(lo <= ratio && ratio <= hi);
    // Exact: all ten pairs positive, p = 2 / 2^10.
    assert!((v.p_value.unwrap() - 2.0 / 1024.0).abs() < 1e-12);
    let unpaired = mann_whitney_u(&drift, &slower).unwrap().p_value;
    assert!(
        unpaired > 0.3,
        "unpaired, the drift hides it: p = {unpaired}"
    );
    // The same drift with changes of both signs around zero is no regression.
    let wobble: Vec<f64> = drift
        .iter()
        .enumerate()
        .map(|(i, x)| x * if i % 2 == 0 { 1.03 } else { 0.97 })
        .collect();
    let v = verdict(&launches(&drift), &launches(&wobble), INTERLEAVED);
    assert_eq!(v.time, Judgement::Unchanged, "{v:?}");
    // Below the threshold, a consistent change does not count either.
    let slightly: Vec<f64> = drift.iter().map(|x| x * 1.03).collect();
    let v = verdict(&launches(&drift), &launches(&slightly), INTERLEAVED);
    assert_eq!(v.time, Judgement::Unchanged, "{v:?}");
    // Launches that do not pair up (one side stopped early), or too few pairs to reach
    // p < 0.01, are compared by their medians.
    let v = verdict(&launches(&drift), &launches(&slower[..9]), INTERLEAVED);
    assert_eq!(v.compared, "launch medians");
    assert!(v.ratio_ci95.is_none());
    let v = verdict(&launches(&drift[..7]), &launches(&slower[..7]), INTERLEAVED);
    assert_eq!(v.compared, "launch medians");
}

/// Launches of `medians`, each with its machine-speed probe time.
fn launches_probed(medians: &[f64], probes: &[f64]) -> ResultsFile {
    let mut file = launches(medians);
    file.cells[0].time_ns_per_op.as_mut().unwrap().probe_ns = probes.to_vec();
    file
}

#[test]
fn pairs_that_ran_in_different_machine_states_are_set_aside() {
    // Twelve pairs; this build is 6% slower wherever both launches of a pair ran in the
    // same state of the machine (equal probe times). In three pairs the baseline's
    // launch ran in the slow state (probe 30% slower, time 60% slower), so those three
    // read as large improvements and sink the sign test of all twelve (9 of 12
    // positive: p = 0.15). Set aside by their probes, nine of nine are positive.
    let base: Vec<f64> = (0..12)
        .map(|i| if i % 4 == 1 { 160.0 } else { 100.0 + i as f64 })
        .collect();
    let base_probes: Vec<f64> = (0..12)
        .map(|i| if i % 4 == 1 { 650.0 } else { 500.0 })
        .collect();
    let current: Vec<f64> = (0..12).map(|i| (100.0 + i as f64) * 1.06).collect();
    let current_probes = vec![500.0; 12];
    let v = verdict(
        &launches_probed(&base, &base_probes),
        &launches_probed(&current, &current_probes),
        INTERLEAVED,
    );
    assert_eq!(v.compared, "paired launches");
    assert_eq!(v.time, Judgement::Regression, "{v:?}");
    assert!((v.p_value.unwrap() - 2.0 / 512.0).abs() < 1e-12, "{v:?}");
    assert!((v.ratio.unwrap() - 1.06).abs() < 1e-9, "{v:?}");
    let note = v.note.unwrap();
    assert!(note.contains("9 of 12 launch pairs judged"), "{note}");
    // The same launches without probe times: every pair counts, and the three
    // straddling pairs leave the test short of p < 0.01.
    let v = verdict(&launches(&base), &launches(&current), INTERLEAVED);
    assert_eq!(v.time, Judgement::Unchanged, "{v:?}");
    assert!((v.p_value.unwrap() - 0.14599609375).abs() < 1e-12, "{v:?}");
    // A/A: the same code, the straddling pairs all one way; the pairs in step wobble.
    let wobble: Vec<f64> = (0..12)
        .map(|i| (100.0 + i as f64) * if i % 2 == 0 { 1.02 } else { 0.98 })
        .collect();
    let v = verdict(
        &launches_probed(&base, &base_probes),
        &launches_probed(&wobble, &current_probes),
        INTERLEAVED,
    );
    assert_eq!(v.time, Judgement::Unchanged, "{v:?}");
    // Too few pairs in step to reach p < 0.01 on their own: every pair is judged.
    let mostly_out: Vec<f64> = (0..12).map(|i| if i < 5 { 500.0 } else { 650.0 }).collect();
    let v = verdict(
        &launches_probed(&base, &mostly_out),
        &launches_probed(&current, &current_probes),
        INTERLEAVED,
    );
    assert_eq!(v.compared, "paired launches");
    assert!(
        !v.note.unwrap_or_default().contains("launch pairs judged"),
        "every pair was judged"
    );
}

/// Ten launches: `fast` of them at `level` with the probe at 500 us, the rest 70% slower
/// with the probe at 700 us (the machine's slow state).
fn two_states(level: f64, fast: usize) -> ResultsFile {
    let medians: Vec<f64> = (0..10)
        .map(|i| {
            let jitter = 1.0 + 0.002 * i as f64;
            if i < fast {
                level * jitter
            } else {
                level * 1.7 * jitter
            }
        })
        .collect();
    let probes: Vec<f64> = (0..10)
        .map(|i| if i < fast { 500.0 } else { 700.0 })
        .collect();
    launches_probed(&medians, &probes)
}

#[test]
fn stored_runs_are_compared_state_for_state() {
    // Both runs hold launches of both machine states: all launches together fall into
    // two levels (multimodal, not judged); the six fast-state launches of each show
    // the +20%.
    let v = verdict(&two_states(100.0, 6), &two_states(120.0, 6), STORED);
    assert_eq!(v.compared, "launch medians");
    assert_eq!(v.time, Judgement::Regression, "{v:?}");
    assert!((v.ratio.unwrap() - 1.2).abs() < 0.01, "{v:?}");
    let note = v.note.unwrap();
    assert!(
        note.contains("6 and 6 of 10 and 10 launches judged"),
        "{note}"
    );
    // The same code, state for state: unchanged.
    let v = verdict(&two_states(100.0, 6), &two_states(100.5, 7), STORED);
    assert_eq!(v.time, Judgement::Unchanged, "{v:?}");
    // Too few fast-state launches in the baseline for the rank test (2 and 6: the
    // smallest p-value is 2 / 28), and the runs' median probes differ (700 and 500
    // us): measured in different states, not judged.
    let v = verdict(&two_states(100.0, 2), &two_states(100.0, 6), STORED);
    assert_eq!(v.time, Judgement::StateNotJudged, "{v:?}");
    assert!(v.note.unwrap().contains("different states"));
    // A whole run in the slow state against a whole run in the fast state: 70%
    // slower, every launch, with a tight spread - the machine, not the code.
    let v = verdict(&two_states(100.0, 10), &two_states(100.0, 0), STORED);
    assert_eq!(v.time, Judgement::StateNotJudged, "{v:?}");
    // Same median probe, too few launches in the fast state: all launches are judged,
    // and the two levels are multimodal.
    let v = verdict(&two_states(100.0, 3), &two_states(100.0, 2), STORED);
    assert_eq!(v.time, Judgement::MultimodalNotJudged, "{v:?}");
    // ... unless the two runs separate completely, in time and in probe units: +100%.
    let v = verdict(&two_states(100.0, 2), &two_states(200.0, 6), STORED);
    assert_eq!(v.time, Judgement::Regression, "{v:?}");
    // A current run that spent every launch in the slow state separates in time from
    // a baseline of mostly fast launches, but has no launch in the fast state: not
    // judged, rather than a false alarm.
    let v = verdict(&two_states(100.0, 2), &two_states(103.0, 0), STORED);
    assert_eq!(v.time, Judgement::MultimodalNotJudged, "{v:?}");
}

#[test]
fn exact_allocation_counts_are_compared_at_the_counters_resolution() {
    // Two A/A runs of an amortised allocator that calibrated different sample sizes.
    let counted = |allocs: f64, ops: u64| {
        let mut file = run(&BASE, &BASE, allocs);
        file.cells[0].ops = Some(ops);
        file
    };
    let (a, b) = (counted(1.067733, 4813), counted(1.067752, 5284));
    for (base, current) in [(&a, &b), (&b, &a)] {
        let v = verdict(base, current, STORED);
        assert!(v.allocs_exact);
        assert_eq!(v.allocs, Judgement::Unchanged, "{v:?}");
    }
    // One allocation more per operation, or one per hundred, is still caught.
    for more in [1.0, 0.01] {
        let v = verdict(&a, &counted(1.067733 + more, 4813), STORED);
        assert_eq!(v.allocs, Judgement::Regression, "+{more}: {v:?}");
    }
    // Without the sample size, the comparison stays exact.
    let unsized_run = |allocs: f64| {
        let mut file = run(&BASE, &BASE, allocs);
        file.cells[0].ops = None;
        file
    };
    let v = verdict(&unsized_run(1.0), &unsized_run(1.0001), STORED);
    assert_eq!(v.allocs, Judgement::Regression);
}

#[test]
fn varying_allocation_counts_of_single_launches_are_judged_beyond_their_ranges() {
    // Contention-dependent counts: each process lands somewhere else.
    let varying = |samples: &[f64]| {
        let mut file = run(&[], &BASE, samples[0]);
        file.cells[0].allocs_per_op_samples = samples.to_vec();
        file
    };
    let a = varying(&[0.090, 0.092, 0.095, 0.091, 0.093]);
    // Moved to another level, by less than the wider range plus half an allocation per
    // operation: unchanged.
    let near = varying(&[0.390, 0.397, 0.403, 0.401, 0.399]);
    let v = verdict(&a, &near, STORED);
    assert!(!v.allocs_exact);
    assert_eq!(v.allocs, Judgement::Unchanged, "{v:?}");
    assert_eq!(gate_as(&a, &near, STORED).unwrap().outcome, Outcome::Passed);
    // One allocation more per operation: a regression, and its mirror image an
    // improvement.
    let b = varying(&[1.090, 1.092, 1.095, 1.091, 1.093]);
    let v = verdict(&a, &b, STORED);
    assert_eq!(v.allocs, Judgement::Regression, "{v:?}");
    assert_eq!(gate_as(&a, &b, STORED).unwrap().outcome, Outcome::Regressed);
    assert_eq!(verdict(&b, &a, STORED).allocs, Judgement::Improvement);
    // Measured interleaved, the same change is judged by the rank test.
    let v = verdict(&a, &b, INTERLEAVED);
    assert_eq!(v.allocs, Judgement::Regression, "{v:?}");
}

#[test]
fn the_outcome_passes_only_when_every_measured_cell_was_judged() {
    let base = launches(&BASE);
    let same = gate_as(&base, &launches(&BASE), STORED).unwrap();
    assert_eq!(same.outcome, Outcome::Passed);
    assert_eq!(
        (same.judged, same.not_judged, same.not_applicable),
        (1, 0, 0)
    );
    assert!(text(&same).contains("PASS: no regression in 1 judged cells"));

    // A second cell that measured in neither run has nothing to judge: still a pass.
    let with_skipped = |mut file: ResultsFile| {
        let mut skipped = fixture()
            .cells
            .into_iter()
            .find(|c| c.status == Status::Skipped)
            .expect("the fixture has a skipped cell");
        skipped.id = "skipped-in-both".into();
        file.cells.push(skipped);
        file
    };
    let report = gate_as(
        &with_skipped(launches(&BASE)),
        &with_skipped(launches(&BASE)),
        STORED,
    )
    .unwrap();
    assert_eq!(report.outcome, Outcome::Passed);
    assert_eq!(report.not_applicable, 1);

    // Nothing judged at all is no pass either.
    let only_skipped = |file: ResultsFile| {
        let mut file = with_skipped(file);
        file.cells.remove(0);
        file
    };
    let report = gate_as(
        &only_skipped(launches(&BASE)),
        &only_skipped(launches(&BASE)),
        STORED,
    )
    .unwrap();
    assert_eq!(report.outcome, Outcome::Inconclusive);
    assert_eq!(report.judged, 0);

    // A multimodal baseline (stored runs) is not judged: inconclusive, not passed.
    let two_levels = [100.0, 101.0, 100.5, 180.0, 181.0, 180.5];
    let report = gate_as(&launches(&two_levels), &launches(&two_levels), STORED).unwrap();
    assert_eq!(report.multimodal, 1);
    assert_eq!(report.outcome, Outcome::Inconclusive);
}

#[test]
fn a_cell_that_no_longer_measures_is_a_regression() {
    let base = launches(&BASE);
    let mut failed = launches(&BASE);
    failed.cells[0].status = Status::Failed;
    failed.cells[0].time_ns_per_op = None;
    failed.cells[0].error = Some("invariant violated: sum".into());
    let report = gate_as(&base, &failed, STORED).unwrap();
    assert_eq!(report.outcome, Outcome::Regressed);
    let cell = &report.cells[0];
    assert!(cell.regressed());
    let note = cell.note.as_deref().unwrap_or_default();
    assert!(
        note.contains("ok in the baseline, failed now: invariant violated"),
        "{note}"
    );
    // The other way round: a cell that measures only now cannot be judged.
    let report = gate_as(&failed, &base, STORED).unwrap();
    assert_eq!(report.outcome, Outcome::Inconclusive);
}

#[test]
fn multimodal_launches_are_judged_only_when_interleaved() {
    let two_levels = [28.0, 37.0, 28.5, 37.5, 29.0, 38.0];
    let slower: Vec<f64> = two_levels.iter().map(|x| x * 1.5).collect();
    let v = verdict(&launches(&two_levels), &launches(&slower), STORED);
    assert_eq!(v.time, Judgement::MultimodalNotJudged, "{v:?}");
    let v = verdict(&launches(&two_levels), &launches(&slower), INTERLEAVED);
    assert_eq!(v.time, Judgement::Regression, "{v:?}");
    assert!(v.note.unwrap().contains("interleaved"));
}

#[test]
fn allocations_are_exact_where_deterministic_and_ranked_where_not() {
    let base = launches(&BASE);
    let same = verdict(&base, &launches(&BASE), STORED);
    assert_eq!(same.allocs, Judgement::Unchanged);
    let one_more = verdict(&base, &run(&BASE, &BASE, 2.0), STORED);
    assert!(one_more.allocs_exact);
    assert_eq!(one_more.allocs, Judgement::Regression);
    let tolerated = verdict(
        &base,
        &run(&BASE, &BASE, 2.0),
        Mode {
            policy: Policy {
                alloc_tolerance: 1.0,
                ..STORED.policy
            },
            ..STORED
        },
    );
    assert_eq!(tolerated.allocs, Judgement::Unchanged);
    // Counts that vary by sample (timer wheels, channel blocks): a change inside the
    // baseline's own range is not a regression, one beyond it is.
    let varying = |values: &[f64]| {
        let mut f = launches(&BASE);
        f.cells[0].allocs_per_op_samples = values.to_vec();
        f.cells[0].allocs_per_op = summarize(values).map(|s| s.median);
        f
    };
    let b = varying(&[3.0, 3.1, 3.05, 3.0, 3.1, 3.02]);
    let within = verdict(&b, &varying(&[3.05, 3.1, 3.08, 3.1, 3.06, 3.09]), STORED);
    assert!(!within.allocs_exact);
    assert_eq!(within.allocs, Judgement::Unchanged);
    let beyond = verdict(&b, &varying(&[4.0, 4.1, 4.05, 4.0, 4.1, 4.02]), STORED);
    assert_eq!(beyond.allocs, Judgement::Regression);
}

#[test]
fn the_text_verdict_lists_regressions_with_what_each_cell_can_detect() {
    let slower: Vec<f64> = BASE.iter().map(|x| x * 1.2).collect();
    let report = gate_as(&launches(&BASE), &launches(&slower), STORED).unwrap();
    let out = text(&report);
    assert!(out.contains("## Regressions (1)"), "{out}");
    assert!(out.contains("| detects |"));
    assert!(out.contains("+5%"), "{out}");
    assert!(
        out.ends_with("FAIL: 1 of 1 judged cells regressed\n"),
        "{out}"
    );
    let same = text(&gate_as(&launches(&BASE), &launches(&BASE), STORED).unwrap());
    assert!(
        same.ends_with("PASS: no regression in 1 judged cells\n"),
        "{same}"
    );
}
