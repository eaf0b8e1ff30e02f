//! Running cells, each in a child process of its own (as BenchmarkDotNet does).
//!
//! The parent (`tapbench run`) starts `tapbench __cell` once per cell, hands it the cell on
//! stdin as JSON, and reads the cell's result from its stdout. The child builds one runtime,
//! measures one cell and exits, so one cell's allocations, heap and thread pools never
//! touch the next; a child that panics or crashes is recorded as `failed`, and one that
//! exceeds its time budget is killed and recorded as `timeout`, while the run goes on.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tapbench_core::{BuildError, Case, CellError, Params};
use tapbench_measure::stats::summarize;
use tapbench_measure::{Measurement, SamplingPlan};
use wait_timeout::ChildExt;

use crate::plan::PlannedCell;
use crate::results::{CellResult, LatencyNs, Status, TimeNsPerOp};

/// The hidden subcommand that runs one cell.
pub const CHILD_COMMAND: &str = "__cell";

/// Prefix of the line a child's panic hook writes to stderr.
const PANIC_MARK: &str = "tapbench-cell-panic: ";

/// One cell, as handed to a child process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CellRequest {
    /// Cell id.
    pub id: String,
    /// Runtime configuration id.
    pub runtime: String,
    /// Worker threads.
    pub threads: usize,
    /// Workload id.
    pub workload: String,
    /// Variant id.
    pub variant: String,
    /// Parameters.
    pub params: Params,
    /// Warm-up, nanoseconds.
    pub warmup_ns: u64,
    /// Target sample length, nanoseconds.
    pub sample_target_ns: u64,
    /// Samples.
    pub samples: usize,
    /// Sampling budget, nanoseconds (`None`: no budget).
    pub max_sampling_ns: Option<u64>,
    /// Fewest samples.
    pub min_samples: usize,
    /// Busy-spin nanoseconds injected per operation (gate calibration).
    #[serde(default)]
    pub inject_delay_ns: f64,
    /// Allocations injected per operation (gate calibration).
    #[serde(default)]
    pub inject_allocs: u64,
}

impl CellRequest {
    /// The request for `cell` under `plan`.
    pub fn new(cell: &PlannedCell, plan: SamplingPlan) -> Self {
        CellRequest {
            id: cell.id.clone(),
            runtime: cell.runtime.to_string(),
            threads: cell.threads,
            workload: cell.case.workload.clone(),
            variant: cell.case.variant.clone(),
            params: cell.case.params.clone(),
            warmup_ns: plan.warmup.as_nanos() as u64,
            sample_target_ns: plan.sample_target.as_nanos() as u64,
            samples: plan.samples,
            max_sampling_ns: plan.max_sampling_time.map(|d| d.as_nanos() as u64),
            min_samples: plan.min_samples,
            inject_delay_ns: plan.inject.delay_ns_per_op,
            inject_allocs: plan.inject.allocs_per_op,
        }
    }

    fn sampling(&self) -> SamplingPlan {
        SamplingPlan {
            warmup: Duration::from_nanos(self.warmup_ns),
            sample_target: Duration::from_nanos(self.sample_target_ns),
            samples: self.samples,
            max_sampling_time: self.max_sampling_ns.map(Duration::from_nanos),
            min_samples: self.min_samples,
            inject: tapbench_measure::Injection {
                delay_ns_per_op: self.inject_delay_ns,
                allocs_per_op: self.inject_allocs,
            },
        }
    }

    fn unmeasured(&self, status: Status, reason: String) -> CellResult {
        CellResult {
            id: self.id.clone(),
            runtime: self.runtime.clone(),
            workload: self.workload.clone(),
            variant: self.variant.clone(),
            params: self.params.clone(),
            threads: self.threads,
            status,
            error: Some(reason),
            ops: None,
            time_ns_per_op: None,
            throughput_ops_per_s: None,
            allocs_per_op: None,
            bytes_per_op: None,
            allocs_per_op_samples: Vec::new(),
            marginal_allocs_per_op: None,
            latency_ns: None,
            verified: false,
            wall_s: 0.0,
        }
    }
}

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

/// The statistics of `samples` (ns per op), kept with the samples themselves.
fn time_per_op(
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
fn throughput(time: &Option<TimeNsPerOp>) -> Option<f64> {
    time.as_ref()
        .filter(|t| t.median > 0.0)
        .map(|t| 1e9 / t.median)
}

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
    result.latency_ns = m
        .latency
        .as_ref()
        .and_then(|l| l.summary())
        .map(|s| LatencyNs {
            p50: s.p50_ns,
            p90: s.p90_ns,
            p99: s.p99_ns,
            p999: s.p999_ns,
            max: s.max_ns,
            count: s.count,
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

/// The line a lock-step child writes on stdout when it waits for its turn.
pub const READY_LINE: &str = "tapbench-cell-ready";

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

/// Starts child processes for cells.
#[derive(Debug, Clone)]
pub struct CellLauncher {
    exe: PathBuf,
    timeout: Duration,
}

impl CellLauncher {
    /// A launcher that re-runs this executable with a per-cell time budget.
    ///
    /// # Errors
    ///
    /// The path of the running executable cannot be found.
    pub fn new(timeout: Duration) -> Result<Self> {
        let exe = std::env::current_exe().context("cannot find the tapbench executable")?;
        Ok(CellLauncher { exe, timeout })
    }

    /// A launcher that runs cells with another tapbench executable (the same child protocol).
    pub fn with_exe(exe: PathBuf, timeout: Duration) -> Self {
        CellLauncher { exe, timeout }
    }

    /// Runs one launch of `cell` in a child process and returns its result: a crash, a
    /// panic or a timeout becomes a `failed` or `timeout` cell. `None` only when the cell
    /// was stopped by a second Ctrl-C (see [`crate::interrupt`]): such a launch is not
    /// recorded.
    pub fn run(&self, cell: &PlannedCell, plan: SamplingPlan) -> Option<CellResult> {
        let request = CellRequest::new(cell, plan);
        let started = Instant::now();
        let mut result = match self.run_child(&request) {
            Ok(result) => result,
            Err(ChildFailure::Interrupted) => return None,
            Err(failure) => failure.into_result(&request, self.timeout),
        };
        result.wall_s = started.elapsed().as_secs_f64();
        Some(result)
    }

    /// Starts a cell process with its request written to stdin; in lock-step stdin stays
    /// open (the turns go through it), else it is closed so the child can start.
    fn spawn(&self, request: &CellRequest, lockstep: bool) -> Result<Child, ChildFailure> {
        let mut input = serde_json::to_vec(request).map_err(|e| ChildFailure::Io(e.to_string()))?;
        input.push(b'\n');
        let mut command = Command::new(&self.exe);
        command.arg(CHILD_COMMAND);
        if lockstep {
            command.arg("--lockstep");
        }
        command
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A process group of its own: a Ctrl-C at the terminal reaches only the parent.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .spawn()
            .map_err(|e| ChildFailure::Io(format!("cannot start a cell process: {e}")))?;
        if let Some(stdin) = child.stdin.as_mut() {
            stdin
                .write_all(&input)
                .and_then(|_| stdin.flush())
                .map_err(|e| ChildFailure::Io(e.to_string()))?;
        }
        if !lockstep {
            drop(child.stdin.take());
        }
        Ok(child)
    }

    fn run_child(&self, request: &CellRequest) -> Result<CellResult, ChildFailure> {
        let mut child = self.spawn(request, false)?;
        // Drain stdout and stderr on threads so a chatty child cannot block on a full pipe.
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        // Wait in short slices, so that a second Ctrl-C can stop the cell at once.
        let deadline = Instant::now() + self.timeout;
        let status = wait_until(&mut child, deadline)?;
        let stdout = stdout
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        let stderr = stderr
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        conclude(status, &stdout, &stderr)
    }
}

/// Waits for `child` to end, in short slices so that a second Ctrl-C stops it at once;
/// kills it at `deadline`.
fn wait_until(child: &mut Child, deadline: Instant) -> Result<ExitStatus, ChildFailure> {
    loop {
        let now = Instant::now();
        let stop = if crate::interrupt::urgent() {
            Some(ChildFailure::Interrupted)
        } else if now >= deadline {
            Some(ChildFailure::Timeout)
        } else {
            None
        };
        if let Some(failure) = stop {
            let _ = child.kill();
            let _ = child.wait();
            return Err(failure);
        }
        let slice = (deadline - now).min(Duration::from_millis(100));
        match child.wait_timeout(slice) {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => continue,
            Err(e) => return Err(ChildFailure::Io(format!("cannot wait for the cell: {e}"))),
        }
    }
}

/// The cell result of a child that ended with `status`, from what it wrote.
fn conclude(status: ExitStatus, stdout: &str, stderr: &str) -> Result<CellResult, ChildFailure> {
    if let Some(panic) = stderr.lines().find_map(|l| l.strip_prefix(PANIC_MARK)) {
        return Err(ChildFailure::Panicked(panic.to_string()));
    }
    if !status.success() {
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(ChildFailure::Crashed(format!(
            "cell process ended with {status}: {last}"
        )));
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str(line)
        .map_err(|e| ChildFailure::Crashed(format!("cell process gave no result ({e})")))
}

/// What a lock-step child said last.
enum Said {
    /// It waits for its turn.
    Ready,
    /// Any other line (its result).
    Line(String),
    /// It closed stdout: it has ended or is ending.
    Closed,
}

/// Runs one launch of `cell` with each of two launchers at once, in lock-step: the two
/// processes take turns - warm-up, then sample by sample - one running while the other
/// waits for its turn, so that every sample of one has a sample of the other taken a few
/// milliseconds before or after it, on the same machine state. `first` (0 or 1) says which
/// launcher's process takes the first turn. Returns the two results in launcher order, a
/// crash, panic or timeout of either becoming a `failed` or `timeout` cell on its side;
/// `None` when a second Ctrl-C stopped them. Both launchers' executables must understand
/// `__cell --lockstep`; one that does not fails its side with its usage error.
pub fn run_lockstep(
    launchers: [&CellLauncher; 2],
    cell: &PlannedCell,
    plans: [SamplingPlan; 2],
    first: usize,
) -> Option<[CellResult; 2]> {
    let requests = plans.map(|plan| CellRequest::new(cell, plan));
    let started = Instant::now();
    let timeout = launchers[0].timeout.max(launchers[1].timeout) * 2;
    let outcomes = lockstep_pair(launchers, &requests, first, started + timeout);
    let mut results = Vec::with_capacity(2);
    for (side, outcome) in outcomes.into_iter().enumerate() {
        let mut result = match outcome {
            Ok(result) => result,
            Err(ChildFailure::Interrupted) => return None,
            Err(failure) => failure.into_result(&requests[side], launchers[side].timeout),
        };
        result.wall_s = started.elapsed().as_secs_f64();
        results.push(result);
    }
    results.try_into().ok()
}

fn lockstep_pair(
    launchers: [&CellLauncher; 2],
    requests: &[CellRequest; 2],
    first: usize,
    deadline: Instant,
) -> [Result<CellResult, ChildFailure>; 2] {
    let mut children: Vec<Child> = Vec::with_capacity(2);
    for (launcher, request) in launchers.iter().zip(requests) {
        match launcher.spawn(request, true) {
            Ok(child) => children.push(child),
            Err(failure) => {
                for mut child in children {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                let message = match failure {
                    ChildFailure::Io(m) => m,
                    _ => "cannot start a cell process".into(),
                };
                return [
                    Err(ChildFailure::Io(message.clone())),
                    Err(ChildFailure::Io(message)),
                ];
            }
        }
    }
    // Every line of both children, tagged with its side, on one channel.
    let (tx, rx) = mpsc::channel::<(usize, Said)>();
    let mut stderr = Vec::with_capacity(2);
    for (side, child) in children.iter_mut().enumerate() {
        let stdout = child.stdout.take().expect("stdout is piped");
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let said = if line == READY_LINE {
                    Said::Ready
                } else {
                    Said::Line(line)
                };
                if tx.send((side, said)).is_err() {
                    return;
                }
            }
            let _ = tx.send((side, Said::Closed));
        });
        stderr.push(child.stderr.take().map(drain));
    }
    drop(tx);
    let mut output = [String::new(), String::new()];
    let mut waiting = [false; 2];
    let mut closed = [false; 2];
    let mut pending: [VecDeque<Said>; 2] = [VecDeque::new(), VecDeque::new()];
    let mut failure: Option<ChildFailure> = None;
    // The next thing `side` says, holding on to what the other side says meanwhile.
    let next = |side: usize, pending: &mut [VecDeque<Said>; 2]| -> Result<Said, ChildFailure> {
        loop {
            if let Some(said) = pending[side].pop_front() {
                return Ok(said);
            }
            let now = Instant::now();
            if crate::interrupt::urgent() {
                return Err(ChildFailure::Interrupted);
            }
            if now >= deadline {
                return Err(ChildFailure::Timeout);
            }
            match rx.recv_timeout((deadline - now).min(Duration::from_millis(100))) {
                Ok((s, said)) => pending[s].push_back(said),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                // Both readers ended: nothing more will be said.
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(Said::Closed),
            }
        }
    };
    let mut turn = first.min(1);
    'turns: while !(closed[0] && closed[1]) {
        if closed[turn] {
            turn = 1 - turn;
            continue;
        }
        // Until it waits for its turn, and then until it waits for the next one (its phase
        // is over) or has ended: the other side waits all the while.
        for give_turn in [true, false] {
            while !waiting[turn] && !closed[turn] {
                match next(turn, &mut pending) {
                    Ok(Said::Ready) => waiting[turn] = true,
                    Ok(Said::Line(line)) => {
                        output[turn].push_str(&line);
                        output[turn].push('\n');
                    }
                    Ok(Said::Closed) => closed[turn] = true,
                    Err(f) => {
                        failure = Some(f);
                        break 'turns;
                    }
                }
            }
            if give_turn && waiting[turn] {
                waiting[turn] = false;
                let stdin = children[turn].stdin.as_mut().expect("stdin is kept open");
                // A child that died meanwhile shows as closed on the next read.
                let _ = stdin.write_all(b"go\n").and_then(|_| stdin.flush());
            }
        }
        turn = 1 - turn;
    }
    let mut outcomes = Vec::with_capacity(2);
    for (side, mut child) in children.into_iter().enumerate() {
        drop(child.stdin.take());
        let status = match &failure {
            Some(_) => {
                let _ = child.kill();
                let _ = child.wait();
                None
            }
            None => Some(wait_until(&mut child, deadline)),
        };
        let stderr = stderr[side]
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        outcomes.push(match (status, &failure) {
            (_, Some(ChildFailure::Interrupted)) => Err(ChildFailure::Interrupted),
            (_, Some(_)) => Err(ChildFailure::Timeout),
            (Some(Ok(status)), None) => conclude(status, &output[side], &stderr),
            (Some(Err(f)), None) => Err(f),
            (None, None) => Err(ChildFailure::Timeout),
        });
    }
    let mut outcomes = outcomes.into_iter();
    let a = outcomes.next().unwrap_or(Err(ChildFailure::Timeout));
    let b = outcomes.next().unwrap_or(Err(ChildFailure::Timeout));
    [a, b]
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
/// counts averaged over all launches, wall time summed. Latency percentiles stay those of
/// the first launch (histograms are not merged across processes). A launch that does not
/// end `ok` ends the cell with its status and error.
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
    let mut merged = so_far;
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

fn drain<R: Read + Send + 'static>(mut pipe: R) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
}

enum ChildFailure {
    Interrupted,
    Timeout,
    Panicked(String),
    Crashed(String),
    Io(String),
}

impl ChildFailure {
    fn into_result(self, request: &CellRequest, timeout: Duration) -> CellResult {
        match self {
            ChildFailure::Timeout => request.unmeasured(
                Status::Timeout,
                format!(
                    "exceeded the cell time budget of {} s and was stopped",
                    timeout.as_secs_f64()
                ),
            ),
            ChildFailure::Panicked(message) => {
                request.unmeasured(Status::Failed, format!("panicked: {message}"))
            }
            ChildFailure::Crashed(message) | ChildFailure::Io(message) => {
                request.unmeasured(Status::Failed, message)
            }
            ChildFailure::Interrupted => {
                request.unmeasured(Status::Failed, "stopped by Ctrl-C".to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
