//! The parent side: starting a cell's child process, waiting for it within its time budget,
//! and turning what it wrote - or how it died - into a cell result; and two children kept
//! in lock-step (`gate --lockstep`).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tapbench_measure::SamplingPlan;
use wait_timeout::ChildExt;

use super::protocol::{CellRequest, CHILD_COMMAND, PANIC_MARK, READY_LINE};
use crate::plan::PlannedCell;
use crate::results::{CellResult, Status};

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
