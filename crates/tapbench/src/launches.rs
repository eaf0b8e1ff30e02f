//! A cell measured in several launches (processes): merging each launch's result into the
//! cell's, as `tapbench run` and the interleaved gate do after every launch.

use tapbench_measure::stats::summarize;
use tapbench_measure::LatencyRecorder;

use crate::results::{CellResult, LatencyNs, Status, TimeNsPerOp};

/// The statistics of `samples` (ns per op), kept with the samples themselves.
pub fn time_per_op(
    samples: Vec<f64>,
    launch_medians: Vec<f64>,
    probe_ns: Vec<f64>,
) -> Option<TimeNsPerOp> {
    let s = summarize(&samples)?;
    Some(TimeNsPerOp {
        median: s.median,
        ci95_low: s.ci95_low,
        ci95_high: s.ci95_high,
        ci_coverage: s.ci_coverage,
        cv: s.cv,
        outliers: s.outliers_low + s.outliers_high,
        samples,
        launch_medians,
        probe_ns,
    })
}

/// Operations per second from the median time per operation.
pub fn throughput(time: &Option<TimeNsPerOp>) -> Option<f64> {
    time.as_ref()
        .filter(|t| t.median > 0.0)
        .map(|t| 1e9 / t.median)
}

/// How many launches `cell` holds: the length of its launch medians, or one for a cell
/// measured in a single process.
pub fn launch_count(cell: &CellResult) -> usize {
    match &cell.time_ns_per_op {
        Some(t) if !t.launch_medians.is_empty() => t.launch_medians.len(),
        _ => 1,
    }
}

/// Adds one more launch to a cell measured so far in `so_far` (one launch or several):
/// samples pooled in launch order, each launch's median kept for the gate, allocation
/// counts averaged over all launches, wall time summed, latency histograms merged (so the
/// percentiles cover every launch). A launch that does not end `ok` ends the cell with its
/// status and error.
pub fn add_launch(so_far: CellResult, launch: CellResult) -> CellResult {
    if so_far.status != Status::Ok {
        return so_far;
    }
    if launch.status != Status::Ok {
        return CellResult {
            wall_s: so_far.wall_s + launch.wall_s,
            ..launch
        };
    }
    let (k, m) = (launch_count(&so_far) as f64, launch_count(&launch) as f64);
    let mean = |a: Option<f64>, b: Option<f64>| Some((a? * k + b? * m) / (k + m));
    let launch_medians = |c: &CellResult| -> Vec<f64> {
        c.time_ns_per_op
            .iter()
            .flat_map(|t| {
                if t.launch_medians.is_empty() {
                    vec![t.median]
                } else {
                    t.launch_medians.clone()
                }
            })
            .collect()
    };
    let samples = |c: &CellResult| -> Vec<f64> {
        c.time_ns_per_op
            .iter()
            .flat_map(|t| t.samples.iter().copied())
            .collect()
    };
    let probes = |c: &CellResult| -> Vec<f64> {
        c.time_ns_per_op
            .iter()
            .flat_map(|t| t.probe_ns.iter().copied())
            .collect()
    };
    let medians = [launch_medians(&so_far), launch_medians(&launch)].concat();
    let pooled = [samples(&so_far), samples(&launch)].concat();
    // Probe times only when every launch has one, so they stay aligned with the medians.
    let probe_ns = [probes(&so_far), probes(&launch)].concat();
    let probe_ns = if probe_ns.len() == medians.len() {
        probe_ns
    } else {
        Vec::new()
    };
    let latency = merge_latency(&so_far, &launch);
    let load = match (&so_far.load, &launch.load) {
        (Some(a), Some(b)) => Some(a.merge(b)),
        (a, b) => a.clone().or_else(|| b.clone()),
    };
    let mut merged = so_far;
    merged.load = load;
    (merged.latency_ns, merged.latency_histogram) = latency;
    merged.time_ns_per_op = time_per_op(pooled, medians, probe_ns);
    merged.throughput_ops_per_s = throughput(&merged.time_ns_per_op);
    merged.allocs_per_op = mean(merged.allocs_per_op, launch.allocs_per_op);
    merged.bytes_per_op = mean(merged.bytes_per_op, launch.bytes_per_op);
    merged.marginal_allocs_per_op =
        mean(merged.marginal_allocs_per_op, launch.marginal_allocs_per_op);
    merged
        .allocs_per_op_samples
        .extend(launch.allocs_per_op_samples);
    merged.verified &= launch.verified;
    merged.wall_s += launch.wall_s;
    merged
}

/// The latency percentiles and histogram of two parts of a cell together. Without a
/// histogram on both sides (a file written before schema version 4, or a launch whose
/// histogram could not be encoded), the first part's percentiles stay and the histogram is
/// dropped, so that it never claims to cover launches it does not.
fn merge_latency(so_far: &CellResult, launch: &CellResult) -> (Option<LatencyNs>, Option<String>) {
    let decode = |c: &CellResult| {
        c.latency_histogram
            .as_deref()
            .and_then(|h| LatencyRecorder::decode(h).ok())
    };
    match (decode(so_far), decode(launch)) {
        (Some(mut all), Some(more)) => {
            all.merge(&more);
            (latency_ns(&all), all.encode().ok())
        }
        _ => (so_far.latency_ns.clone(), None),
    }
}

/// The percentiles of a recorder, as a results file holds them.
pub fn latency_ns(recorder: &LatencyRecorder) -> Option<LatencyNs> {
    recorder.summary().map(|s| LatencyNs {
        p50: s.p50_ns,
        p90: s.p90_ns,
        p99: s.p99_ns,
        p999: s.p999_ns,
        max: s.max_ns,
        count: s.count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::LoadResult;
    use crate::results::ResultsFile;

    fn launch(samples: &[f64], allocs: f64) -> CellResult {
        let file: ResultsFile =
            serde_json::from_str(include_str!("../tests/fixtures/small-results.json")).unwrap();
        let mut cell = file.cells[0].clone();
        cell.time_ns_per_op = time_per_op(samples.to_vec(), Vec::new(), Vec::new());
        cell.allocs_per_op = Some(allocs);
        cell.allocs_per_op_samples = vec![allocs; samples.len()];
        cell.wall_s = 1.0;
        cell
    }

    #[test]
    fn launches_add_up_whatever_the_grouping() {
        let (a, b, c) = (
            launch(&[10.0, 11.0, 12.0], 1.0),
            launch(&[20.0, 21.0, 22.0], 2.0),
            launch(&[30.0, 31.0, 32.0], 6.0),
        );
        let left = add_launch(add_launch(a.clone(), b.clone()), c.clone());
        let right = add_launch(a, add_launch(b, c));
        for merged in [&left, &right] {
            let t = merged.time_ns_per_op.as_ref().unwrap();
            assert_eq!(t.launch_medians, vec![11.0, 21.0, 31.0]);
            assert_eq!(t.samples.len(), 9);
            assert_eq!(t.median, 21.0);
            assert_eq!(launch_count(merged), 3);
            // Weighted by launches: (1 + 2 + 6) / 3.
            assert!((merged.allocs_per_op.unwrap() - 3.0).abs() < 1e-12);
            assert_eq!(merged.allocs_per_op_samples.len(), 9);
            assert_eq!(merged.wall_s, 3.0);
        }
    }

    /// Percentiles cover every launch: a slow launch moves the tail and the count.
    #[test]
    fn latency_percentiles_cover_every_launch() {
        let with_latency = |ns: u64, n: u64| {
            let mut cell = launch(&[10.0, 11.0], 1.0);
            let mut recorder = LatencyRecorder::new();
            for _ in 0..n {
                recorder.record_ns(ns);
            }
            cell.latency_ns = latency_ns(&recorder);
            cell.latency_histogram = Some(recorder.encode().unwrap());
            cell
        };
        let mut merged = with_latency(1_000, 900);
        for _ in 0..9 {
            merged = add_launch(merged, with_latency(1_000, 900));
        }
        merged = add_launch(merged, with_latency(1_000_000, 1_000));
        let l = merged.latency_ns.as_ref().unwrap();
        assert_eq!(l.count, 10 * 900 + 1_000);
        assert!((995..=1_005).contains(&l.p50), "{l:?}");
        // The last launch is 1000 of 10,000 values: beyond the 90th percentile.
        assert!(l.p99 >= 999_000 && l.max >= 999_000, "{l:?}");
        let back = LatencyRecorder::decode(merged.latency_histogram.as_deref().unwrap()).unwrap();
        assert_eq!(back.count(), l.count);
        // A part without a histogram (an older file): the first part's percentiles, and no
        // histogram that would claim to cover both.
        let mut old = with_latency(1_000, 900);
        old.latency_histogram = None;
        let mixed = add_launch(old.clone(), with_latency(1_000_000, 1_000));
        assert_eq!(mixed.latency_ns, old.latency_ns);
        assert_eq!(mixed.latency_histogram, None);
    }

    #[test]
    fn the_load_of_launches_is_pooled_and_each_launch_keeps_its_p99() {
        let with_load = |span_ms: u64, timed_out: u64, p99: u64| {
            let mut cell = launch(&[10.0, 11.0], 1.0);
            cell.load = Some(LoadResult {
                open_loop: true,
                offered_per_s: 1000.0,
                achieved_per_s: Some(399.0 * 1e3 / span_ms as f64),
                requests: 400,
                answered: 400 - timed_out,
                timed_out,
                intervals: 399,
                started_span_ns: span_ms * 1_000_000,
                launch_p99_ns: vec![p99],
            });
            cell
        };
        let merged = add_launch(with_load(399, 0, 2_000), with_load(798, 4, 9_000));
        let load = merged.load.unwrap();
        assert_eq!(
            (load.requests, load.answered, load.timed_out),
            (800, 796, 4)
        );
        // 798 intervals over 1.197 s.
        assert!(
            (load.achieved_per_s.unwrap() - 666.67).abs() < 0.01,
            "{load:?}"
        );
        assert!((load.achieved_share().unwrap() - 0.6667).abs() < 0.001);
        assert_eq!(load.timed_out_share(), 0.005);
        assert_eq!(load.launch_p99_ns, vec![2_000, 9_000]);
    }

    #[test]
    fn a_failed_launch_ends_the_cell() {
        let ok = launch(&[10.0, 11.0], 1.0);
        let mut failed = ok.clone();
        failed.status = Status::Failed;
        failed.error = Some("answer was wrong".into());
        failed.time_ns_per_op = None;
        let merged = add_launch(ok.clone(), failed);
        assert_eq!(merged.status, Status::Failed);
        assert_eq!(merged.error.as_deref(), Some("answer was wrong"));
        // And nothing is added to a cell that has already failed.
        let after = add_launch(merged.clone(), ok);
        assert_eq!(after, merged);
    }
}
