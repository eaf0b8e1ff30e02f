//! The child side: `tapbench __cell` reads one [`CellRequest`], builds the runtime,
//! measures the cell in this process and writes the [`CellResult`] as one JSON line.

use std::io::{BufRead, Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tapbench_core::{BuildError, Case, CellError};
use tapbench_measure::stats::summarize;
use tapbench_measure::Measurement;

use super::protocol::{CellRequest, PANIC_MARK, READY_LINE};
use crate::launches::{latency_ns, throughput, time_per_op};
use crate::results::{CellResult, LoadResult, Status};

/// Runs `request` in this process and describes the outcome as a cell result.
pub fn execute(request: &CellRequest) -> CellResult {
    let case = Case::new(&request.workload, &request.variant, request.params.clone());
    let started = Instant::now();
    let outcome = match tapbench_runtimes::find(&request.runtime) {
        Some(entry) => entry.run_cell(request.threads, &case, request.sampling()),
        None => Err(CellError::Runtime(format!(
            "unknown runtime `{}`",
            request.runtime
        ))),
    };
    let mut result = match outcome {
        Ok(measurement) => measured(request, &measurement),
        Err(CellError::Build(BuildError::Unsupported(reason))) => {
            request.unmeasured(Status::Skipped, reason)
        }
        Err(err) => request.unmeasured(Status::Failed, err.to_string()),
    };
    result.wall_s = started.elapsed().as_secs_f64();
    result
}

/// The result of a cell that measured.
fn measured(request: &CellRequest, m: &Measurement) -> CellResult {
    let mut result = request.unmeasured(Status::Ok, String::new());
    result.error = None;
    result.ops = Some(m.ops_per_sample);
    let probe = summarize(&m.probe_ns)
        .map(|s| vec![s.median])
        .unwrap_or_default();
    result.time_ns_per_op = time_per_op(m.sample_ns_per_op.clone(), Vec::new(), probe);
    result.throughput_ops_per_s = throughput(&result.time_ns_per_op);
    result.allocs_per_op = m.allocs_per_op;
    result.bytes_per_op = m.bytes_per_op;
    result.allocs_per_op_samples = m.sample_allocs_per_op.clone();
    result.marginal_allocs_per_op = m.marginal_allocs_per_op;
    if let Some(recorder) = m.latency.as_ref().filter(|l| l.count() > 0) {
        result.latency_ns = latency_ns(recorder);
        // Kept whole, so that the parent can merge the launches' latencies.
        result.latency_histogram = recorder.encode().ok();
    }
    result.load = m.load.map(|load| LoadResult {
        open_loop: load.open_loop,
        offered_per_s: load.offered_per_s,
        achieved_per_s: load.achieved_per_s(),
        requests: load.requests,
        answered: load.answered,
        timed_out: load.timed_out,
        intervals: load.intervals,
        started_span_ns: load.started_span_ns,
        launch_p99_ns: result.latency_ns.iter().map(|l| l.p99).collect(),
    });
    result.verified = m.batches_checked > 0;
    result
}

/// The child side: reads a [`CellRequest`] from stdin, runs it, writes the [`CellResult`]
/// as one JSON line on stdout. Panics are reported on stderr behind a marker for the parent.
pub fn child_main(lockstep: bool) -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string panic payload)".into());
        let location = info
            .location()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        let thread = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_string();
        let one_line = message.replace('\n', " ");
        eprintln!("{PANIC_MARK}{one_line} (thread `{thread}`{location})");
    }));
    exit_with_parent();
    let mut input = String::new();
    // In lock-step the parent keeps stdin open for the turns: the request is its first line.
    let read = if lockstep {
        std::io::stdin().lock().read_line(&mut input).map(drop)
    } else {
        std::io::stdin().read_to_string(&mut input).map(drop)
    };
    if let Err(e) = read {
        eprintln!("error: cannot read the cell request from stdin: {e}");
        return ExitCode::from(2);
    }
    let request: CellRequest = match serde_json::from_str(&input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: invalid cell request: {e}");
            return ExitCode::from(2);
        }
    };
    if lockstep {
        tapbench_measure::set_turn_gate(wait_for_turn);
    }
    let result = execute(&request);
    let mut stdout = std::io::stdout().lock();
    match serde_json::to_string(&result) {
        Ok(line)
            if writeln!(stdout, "{line}")
                .and_then(|_| stdout.flush())
                .is_ok() =>
        {
            ExitCode::SUCCESS
        }
        _ => ExitCode::from(2),
    }
}

/// A lock-step child's turn gate: says it is ready, then blocks until the parent writes a
/// line (its turn). A parent that went away (stdin closed) ends the process.
fn wait_for_turn() {
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{READY_LINE}")
        .and_then(|_| stdout.flush())
        .is_err()
    {
        std::process::exit(3);
    }
    drop(stdout);
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(n) if n > 0 => {}
        _ => std::process::exit(3),
    }
}

/// Ends this (child) process if its parent goes away - killed, say - so that a cell in a
/// process group of its own is never left running without anyone to read its result.
fn exit_with_parent() {
    #[cfg(unix)]
    {
        let parent = std::os::unix::process::parent_id();
        let watcher = std::thread::Builder::new()
            .name("parent-watch".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_millis(200));
                if std::os::unix::process::parent_id() != parent {
                    std::process::exit(3);
                }
            });
        drop(watcher);
    }
}
