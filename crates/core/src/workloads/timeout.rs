//! `timeout` (WhenAny with Task.Delay: early bail-out): an operation raced against a
//! deadline; the first to finish decides, and the operation is abandoned (dropped) when the
//! deadline wins.
//!
//! One operation is one timed operation: the combinator of the variant (the runtime's own
//! timeout, or a `select` against the runtime's sleep) over an operation that yields once
//! and then either returns its value (`op=fast`) or waits forever (`op=slow`, which only
//! the deadline ends). Both kinds are polled inline by the measured task, no spawn.
//!
//! Every combinator polls the operation before its timer, so a fast operation wins as soon
//! as its task is polled again after the yield, however late that is. Yet the timer is
//! armed during the operation's first poll, and a thread the OS deschedules right there
//! (on a shared 2-core machine such stalls reach several milliseconds) finds its deadline
//! passed when it resumes: the timeout then rightly fires before the operation is polled
//! again. So the grid gives fast operations a deadline far above any such stall (1 s)
//! and slow ones a short one (1 ms, the latency to watch). Arming and cancelling a timer
//! costs about the same for either length on every runtime here (a slot of tokio's wheel,
//! an entry of async-io's ordered map, of futures-timer's heap).
//!
//! Each operation carries a drop guard on the bench's counters (a borrow, no allocation):
//! it counts operations that finished and operations dropped unfinished. For `slow`, the
//! time from just before the combinator is made to just after it returns, minus the
//! deadline, is how late the timeout fired; it goes into the cell's latency histogram (no
//! allocation: the histogram's buckets exist before the clock starts). For `fast` nothing is
//! recorded and no clock is read, so the time per operation is the combinator's alone.
//!
//! After the clock stops the check wants: fast operations all returned their value
//! (a digest of them) and none timed out; slow ones all returned "timed out", none before its
//! deadline (early firings are counted and must be 0; lateness never fails a cell: tokio
//! rounds deadlines up to its 1 ms ticks, so a 1 ms deadline fires about 1 ms late, while
//! async-io's timers fire at the deadline plus the thread's wake-up, and futures-timer's at
//! the deadline plus its timer thread's wake-up and a cross-thread wake), and the operation
//! of every slow call was dropped unfinished (a timeout that kept or leaked it fails).
//! Operations are dropped by the combinator as it returns; `run_batch` still waits
//! (bounded, yielding) until every guard is dropped, so a combinator that hands its
//! operation to the runtime to drop later is measured with that cost and not reported as
//! leaking.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::{select, Either};
use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::params::{ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::seeded::{digest_term, mix64, GOLDEN};
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// `op`: whether the operation beats the deadline.
pub const PARAM_OP: ParamSpec = ParamSpec {
    name: "op",
    doc: "the timed operation: fast (one yield, then its value) or slow (a yield, then \
          never done before the deadline)",
    kind: ParamKind::Choice(&["fast", "slow"]),
};

/// `deadline_us`: the deadline of one operation.
pub const PARAM_DEADLINE_US: ParamSpec = ParamSpec {
    name: "deadline_us",
    doc: "deadline of one operation, microseconds",
    kind: ParamKind::Int {
        min: 1,
        max: 60_000_000,
    },
};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "timeout",
    tap: "WhenAny with Task.Delay (early bail-out)",
    op_unit: "one operation raced against its deadline",
    variants: &[
        VariantSpec {
            id: "runtime_timeout",
            doc: "the runtime's own timeout (tokio::time::timeout, async_std::future::timeout, \
                  smol's future::or against a Timer). Allocates nothing itself; async-io's \
                  reactor allocates a few times per timer that fires",
            native: true,
        },
        VariantSpec {
            id: "select_sleep",
            doc: "futures::future::select of the operation and the runtime's sleep \
                  (WhenAny(task, Task.Delay)). Allocates nothing itself; futures-timer \
                  allocates 1 per sleep, async-io's reactor a few per timer that fires",
            native: false,
        },
    ],
    params: &[PARAM_OP, PARAM_DEADLINE_US],
    cases: || {
        // Fast operations get a deadline no scheduling stall reaches, slow ones a short
        // one (see the module documentation).
        let fast = [ParamValue::Text("fast".into())];
        let slow = [ParamValue::Text("slow".into())];
        ["runtime_timeout", "select_sleep"]
            .into_iter()
            .flat_map(|variant| {
                let mut cases = super::grid(
                    "timeout",
                    &[variant],
                    &[("op", &fast), ("deadline_us", &[ParamValue::Int(1_000_000)])],
                );
                cases.extend(super::grid(
                    "timeout",
                    &[variant],
                    &[("op", &slow), ("deadline_us", &[ParamValue::Int(1000)])],
                ));
                cases
            })
            .collect()
    },
    memory_bytes: |_| super::TASK_BYTES + LATENCY_BYTES,
    normalize: |_| {},
    views: &[],
};

/// About what one [`LatencyRecorder`] holds (3 significant digits up to one minute).
const LATENCY_BYTES: u64 = 256 * 1024;

/// How long `run_batch` waits for abandoned operations to be dropped before the check
/// calls them leaked: far above any runtime's cost of dropping a future.
pub const DROP_WAIT: Duration = Duration::from_secs(5);

/// The timed operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Yields once, then returns its value.
    Fast,
    /// Yields once, then waits forever: only the deadline ends it.
    Slow,
}

impl OpKind {
    /// Parses the `op` parameter.
    ///
    /// # Errors
    ///
    /// A parameter error for a missing or unknown value.
    pub fn from_params(params: &Params) -> Result<Self, crate::params::ParamError> {
        match params.text("op")? {
            "fast" => Ok(OpKind::Fast),
            "slow" => Ok(OpKind::Slow),
            other => Err(PARAM_OP.parse(other).unwrap_err()),
        }
    }
}

/// The value operation `i` returns when it finishes.
#[inline]
pub fn value(i: u64) -> u64 {
    mix64(i.wrapping_mul(GOLDEN) ^ 0x7137_E0D7)
}

/// The deadline won: the operation was abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

/// One way of racing an operation against a deadline.
pub trait Timeout<R: Runtime>: Send + Sync + 'static {
    /// Runs `op` until it finishes (`Ok` with its output) or until `deadline` has passed
    /// (`Err(TimedOut)`, with `op` dropped unfinished).
    fn timeout<F>(
        &self,
        rt: &R,
        deadline: Duration,
        op: F,
    ) -> impl Future<Output = Result<F::Output, TimedOut>> + Send
    where
        F: Future + Send,
        F::Output: Send;
}

/// `select_sleep`: `futures::future::select` of the operation and the runtime's sleep, both
/// pinned inside the combinator's own future (WhenAny(task, Task.Delay)).
#[derive(Debug, Clone, Copy, Default)]
pub struct SelectSleep;

impl<R: Runtime> Timeout<R> for SelectSleep {
    fn timeout<F>(
        &self,
        rt: &R,
        deadline: Duration,
        op: F,
    ) -> impl Future<Output = Result<F::Output, TimedOut>> + Send
    where
        F: Future + Send,
        F::Output: Send,
    {
        let sleep = rt.sleep(deadline);
        async move {
            // `select` polls the operation first, then the sleep.
            match select(pin!(op), pin!(sleep)).await {
                Either::Left((output, _)) => Ok(output),
                Either::Right(((), _)) => Err(TimedOut),
            }
        }
    }
}

/// What the operations of a run did, counted by their drop guards.
#[derive(Debug, Default)]
pub struct OpCounters {
    finished: AtomicU64,
    dropped: AtomicU64,
    dropped_unfinished: AtomicU64,
}

impl OpCounters {
    /// Operations that ran to their end.
    pub fn finished(&self) -> u64 {
        self.finished.load(Ordering::Relaxed)
    }

    /// Operations dropped (finished or not).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Operations dropped before they finished: abandoned.
    pub fn dropped_unfinished(&self) -> u64 {
        self.dropped_unfinished.load(Ordering::Relaxed)
    }

    fn reset(&self) {
        self.finished.store(0, Ordering::Relaxed);
        self.dropped.store(0, Ordering::Relaxed);
        self.dropped_unfinished.store(0, Ordering::Relaxed);
    }
}

/// Lives in an operation's future: counts the operation dropped, and abandoned unless it
/// finished.
struct OpGuard<'a> {
    counters: &'a OpCounters,
    finished: bool,
}

impl OpGuard<'_> {
    fn finish(&mut self) {
        self.finished = true;
        self.counters.finished.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for OpGuard<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.counters
                .dropped_unfinished
                .fetch_add(1, Ordering::Relaxed);
        }
        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// Operation `i` of kind `kind`: yields once, then returns [`value`]`(i)` (`Fast`) or waits
/// forever (`Slow`), with a drop guard on `counters`.
pub fn operation<'a, R: Runtime>(
    rt: &R,
    kind: OpKind,
    counters: &'a OpCounters,
    i: u64,
) -> impl Future<Output = u64> + Send + 'a {
    let step = rt.yield_now();
    async move {
        let mut guard = OpGuard {
            counters,
            finished: false,
        };
        step.await;
        if kind == OpKind::Slow {
            std::future::pending::<()>().await;
        }
        guard.finish();
        value(i)
    }
}

/// What a run of operations came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcomes {
    /// Operations that returned their value.
    pub values: u64,
    /// Operations that returned "timed out".
    pub timed_out: u64,
    /// Timed-out operations that returned before their deadline had passed.
    pub early: u64,
    /// Position-weighted sum of the values returned.
    pub digest: u64,
    /// Operations that ran to their end (drop guards).
    pub finished: u64,
    /// Operations dropped, finished or not (drop guards).
    pub dropped: u64,
    /// Operations dropped unfinished (drop guards).
    pub dropped_unfinished: u64,
}

impl Outcomes {
    /// What `ops` operations of `kind` must come to.
    pub fn expected(kind: OpKind, ops: u64) -> Outcomes {
        match kind {
            OpKind::Fast => Outcomes {
                values: ops,
                digest: (0..ops).fold(0u64, |d, i| d.wrapping_add(digest_term(i, value(i)))),
                finished: ops,
                dropped: ops,
                ..Outcomes::default()
            },
            OpKind::Slow => Outcomes {
                timed_out: ops,
                dropped: ops,
                dropped_unfinished: ops,
                ..Outcomes::default()
            },
        }
    }

    /// Checks these outcomes of `ops` operations of `kind`.
    ///
    /// # Errors
    ///
    /// The first broken invariant: a wrong or missing value, a fast operation that timed
    /// out, a slow one that returned a value or timed out before its deadline, an abandoned
    /// operation never dropped (or dropped twice).
    pub fn check(&self, kind: OpKind, ops: u64) -> Result<(), Violation> {
        let want = Outcomes::expected(kind, ops);
        let what = match kind {
            OpKind::Fast => {
                "a fast operation returns its value (a thread stalled for longer than the \
                 deadline also times out: give fast operations a deadline far above stalls)"
            }
            OpKind::Slow => "a slow operation returns timed out",
        };
        Violation::check_eq(what, (want.values, want.timed_out), (self.values, self.timed_out))?;
        Violation::check_eq(
            "no timeout fires before its deadline (early firings)",
            0,
            self.early,
        )?;
        Violation::check_eq(
            "operations return their own values (digest)",
            want.digest,
            self.digest,
        )?;
        Violation::check_eq(
            "every operation is dropped exactly once (drop guards)",
            want.dropped,
            self.dropped,
        )?;
        Violation::check_eq(
            "the operation of every timed-out call is dropped unfinished, no other",
            want.dropped_unfinished,
            self.dropped_unfinished,
        )?;
        Violation::check_eq(
            "operations that beat the deadline ran to their end, no other",
            want.finished,
            self.finished,
        )
    }
}

/// How operations are raced: their kind, their deadline, and how long to wait at the end
/// of a run for abandoned operations to be dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Race {
    /// The timed operation.
    pub kind: OpKind,
    /// The deadline of each operation.
    pub deadline: Duration,
    /// The longest wait for drops after the last operation ([`DROP_WAIT`] in the bench).
    pub drop_wait: Duration,
}

/// Runs operations `0..ops` through `imp` as `race` says, recording how late each timeout
/// fired into `lateness` (slow operations only; fast ones read no clock). Then waits,
/// yielding to the runtime, until every operation has been dropped or `race.drop_wait` has
/// passed.
pub async fn run_ops<R: Runtime, T: Timeout<R>>(
    rt: &R,
    imp: &T,
    race: Race,
    ops: u64,
    counters: &OpCounters,
    lateness: &mut LatencyRecorder,
) -> Outcomes {
    let Race {
        kind,
        deadline,
        drop_wait,
    } = race;
    counters.reset();
    let mut out = Outcomes::default();
    for i in 0..ops {
        let op = operation(rt, kind, counters, i);
        // Fast operations read no clock; slow ones time their timeout.
        let (outcome, elapsed) = match kind {
            OpKind::Fast => (imp.timeout(rt, deadline, op).await, None),
            OpKind::Slow => {
                let start = Instant::now();
                let outcome = imp.timeout(rt, deadline, op).await;
                (outcome, Some(start.elapsed()))
            }
        };
        match (outcome, elapsed) {
            (Ok(v), _) => {
                out.values += 1;
                out.digest = out.digest.wrapping_add(digest_term(i, v));
            }
            (Err(TimedOut), elapsed) => {
                out.timed_out += 1;
                match elapsed.map(|e| e.checked_sub(deadline)) {
                    Some(Some(late)) => lateness.record_ns(late.as_nanos() as u64),
                    Some(None) => out.early += 1,
                    None => {}
                }
            }
        }
    }
    if counters.dropped() < ops {
        let limit = Instant::now() + drop_wait;
        while counters.dropped() < ops && Instant::now() < limit {
            rt.yield_now().await;
        }
    }
    out.finished = counters.finished();
    out.dropped = counters.dropped();
    out.dropped_unfinished = counters.dropped_unfinished();
    out
}

/// The measured form of a [`Timeout`] implementation.
pub struct TimeoutBench<R, T> {
    rt: R,
    imp: T,
    race: Race,
    counters: OpCounters,
    lateness: LatencyRecorder,
    outcomes: Outcomes,
}

/// The bench of `imp` for a case's parameters: what `select_sleep` and every family's
/// native `runtime_timeout` build.
///
/// # Errors
///
/// A missing or invalid parameter.
pub fn bench<R: Runtime, T: Timeout<R>>(
    rt: &R,
    imp: T,
    params: &Params,
) -> Result<BoxBench, BuildError> {
    Ok(Box::new(TimeoutBench {
        rt: rt.clone(),
        imp,
        race: Race {
            kind: OpKind::from_params(params)?,
            deadline: Duration::from_micros(params.int("deadline_us")?),
            drop_wait: DROP_WAIT,
        },
        counters: OpCounters::default(),
        lateness: LatencyRecorder::new(),
        outcomes: Outcomes::default(),
    }))
}

impl<R: Runtime, T: Timeout<R>> BatchRunner for TimeoutBench<R, T> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            self.outcomes = run_ops(
                &self.rt,
                &self.imp,
                self.race,
                iters,
                &self.counters,
                &mut self.lateness,
            )
            .await;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        let kind = self.race.kind;
        let recorded = (kind == OpKind::Slow).then(|| self.lateness.clone());
        self.lateness.reset();
        self.outcomes.check(kind, iters)?;
        Ok(recorded)
    }
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    match case.variant.as_str() {
        "select_sleep" => bench(rt, SelectSleep, &case.params),
        other => Err(BuildError::Unsupported(format!(
            "timeout/{other} is runtime-native"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_outcomes_pass_and_each_fault_is_caught() {
        for kind in [OpKind::Fast, OpKind::Slow] {
            let want = Outcomes::expected(kind, 50);
            assert_eq!(want.check(kind, 50), Ok(()));
            let faults = [
                Outcomes {
                    early: 1,
                    ..want
                },
                Outcomes {
                    dropped: want.dropped - 1,
                    ..want
                },
                Outcomes {
                    values: want.values + 1,
                    ..want
                },
                Outcomes {
                    digest: want.digest ^ 1,
                    ..want
                },
            ];
            for fault in faults {
                assert!(fault.check(kind, 50).is_err(), "{kind:?}: {fault:?} passed");
            }
        }
        // An abandoned operation that is dropped, but counted finished, or never dropped.
        let slow = Outcomes::expected(OpKind::Slow, 10);
        let kept = Outcomes {
            dropped: 9,
            dropped_unfinished: 9,
            ..slow
        };
        assert!(kept.check(OpKind::Slow, 10).is_err());
        // Fast outcomes do not pass for slow operations, nor the other way round.
        assert!(Outcomes::expected(OpKind::Fast, 10)
            .check(OpKind::Slow, 10)
            .is_err());
        assert!(slow.check(OpKind::Fast, 10).is_err());
    }
}
