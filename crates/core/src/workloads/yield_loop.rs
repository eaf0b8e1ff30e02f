//! `yield_loop` (Task.Yield): a task gives way to the scheduler `n` times in a row, alone
//! (`single`) or as one of `tasks` tasks doing the same at once (`many`: is the scheduler
//! fair between them?).
//!
//! One operation is one yield of one task, so the time per operation of both variants is
//! the cost of a yield. One iteration of `single` is `n` yields made by the measured task
//! itself (no spawn); one iteration of `many` spawns `tasks` tasks that each yield `n`
//! times, then awaits them in spawn order (`tasks x n` operations, the spawns and the
//! awaits included).
//!
//! Every yield goes through [`counted`], a wrapper around the runtime's `yield_now` that
//! counts the `Pending` and `Ready` returns of the future it wraps, and marks irregular
//! any yield that did not return `Pending` exactly once before completing. After the clock
//! stops the check wants every yield requested to have suspended once and completed once,
//! and every task of `many` to have finished with its `n` yields. A "yield" that completes
//! without suspending (`ready(())`), or one that suspends twice, fails the cell.
//!
//! The counts are about the future, not about the scheduler: on `futures-pool` the
//! `ThreadPool` polls a task that woke itself again at once, on the same worker, so each
//! yield still returns `Pending` once, but gives way to no other task. What the scheduler
//! did with the yields shows in `many`'s fairness figure: each task reads the clock when it
//! finishes, and how long after the first task of its iteration it finished goes into the
//! cell's latency histogram (one value per task per iteration, the first task's 0). A
//! scheduler that runs its ready tasks in turn finishes them all within a round of yields
//! (the lags are about `tasks` yields long); one that lets a task run on through its
//! yields finishes them one after the other (the lags grow to `tasks / threads` whole
//! tasks). The conformance tests also check, with the start and finish times each task
//! reports, that on a single-threaded runtime the first task to finish does so only after
//! the last one has started.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Instant;

use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::params::{ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// `n`: yields of each task in one iteration.
pub const PARAM_N: ParamSpec = ParamSpec {
    name: "n",
    doc: "yields made by each task in one iteration",
    kind: ParamKind::Int {
        min: 1,
        max: 4_294_967_295,
    },
};

/// `tasks`: tasks yielding side by side (`many`).
pub const PARAM_TASKS: ParamSpec = ParamSpec {
    name: "tasks",
    doc: "tasks spawned per iteration, each making n yields (many)",
    kind: ParamKind::Int {
        min: 1,
        max: 1_000_000,
    },
};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "yield_loop",
    tap: "Task.Yield",
    op_unit: "one yield of one task (an iteration is n yields, times tasks for many)",
    variants: &[
        VariantSpec {
            id: "single",
            doc: "the measured task yields n times in a row, no spawn. Allocates nothing \
                  itself",
            native: false,
        },
        VariantSpec {
            id: "many",
            doc: "tasks tasks spawned, each yielding n times, then awaited in spawn order; \
                  how long after the first each task finished is the latency. Allocates one \
                  spawned task (what the runtime allocates per spawn) per n yields, and two \
                  Vecs per batch",
            native: false,
        },
    ],
    params: &[PARAM_N, PARAM_TASKS],
    cases: || {
        let n = [ParamValue::Int(1000)];
        let mut cases = super::grid("yield_loop", &["single"], &[("n", &n)]);
        cases.extend(super::grid(
            "yield_loop",
            &["many"],
            &[("n", &n), ("tasks", &[ParamValue::Int(16)])],
        ));
        cases
    },
    memory_bytes: |p| {
        p.int("tasks")
            .unwrap_or(1)
            .saturating_mul(super::TASK_BYTES)
            .saturating_add(LATENCY_BYTES)
    },
    normalize: |_| {},
    views: &[],
};

/// About what one [`LatencyRecorder`] holds (3 significant digits up to one minute).
const LATENCY_BYTES: u64 = 256 * 1024;

/// What the yields of a task (or of a run) returned, counted by [`counted`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct YieldCounts {
    /// Yields awaited.
    pub requested: u64,
    /// `Pending` returns of the yields' futures.
    pub pending: u64,
    /// `Ready` returns of the yields' futures (yields completed).
    pub ready: u64,
    /// Yields that completed after a number of `Pending` returns other than one.
    pub irregular: u64,
}

impl YieldCounts {
    /// What `yields` yields that each suspend once come to.
    pub fn regular(yields: u64) -> Self {
        YieldCounts {
            requested: yields,
            pending: yields,
            ready: yields,
            irregular: 0,
        }
    }

    fn add(&mut self, other: YieldCounts) {
        self.requested += other.requested;
        self.pending += other.pending;
        self.ready += other.ready;
        self.irregular += other.irregular;
    }
}

/// A source of yields: the runtime's own ([`RuntimeYield`]), or in tests a stand-in that
/// does not yield.
pub trait YieldSource: Clone + Send + Sync + 'static {
    /// One yield: a future that should return `Pending` once, rescheduling its task.
    fn yield_once(&self) -> impl Future<Output = ()> + Send + 'static;
}

/// The runtime's `yield_now`.
#[derive(Debug, Clone)]
pub struct RuntimeYield<R>(pub R);

impl<R: Runtime> YieldSource for RuntimeYield<R> {
    fn yield_once(&self) -> impl Future<Output = ()> + Send + 'static {
        self.0.yield_now()
    }
}

/// Awaits `future`, counting its `Pending` and `Ready` returns into `counts` (a yield
/// that does not return `Pending` exactly once is counted irregular). Holds only the
/// wrapped future, a borrow and a counter: no allocation.
pub async fn counted<F: Future>(future: F, counts: &mut YieldCounts) -> F::Output {
    counts.requested += 1;
    let mut future = pin!(future);
    let mut pendings = 0u64;
    poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Pending => {
            pendings += 1;
            counts.pending += 1;
            Poll::Pending
        }
        Poll::Ready(output) => {
            counts.ready += 1;
            if pendings != 1 {
                counts.irregular += 1;
            }
            Poll::Ready(output)
        }
    })
    .await
}

/// Yields `n` times through `source`, counting into `counts`.
pub async fn yield_n<Y: YieldSource>(source: &Y, n: u64, counts: &mut YieldCounts) {
    for _ in 0..n {
        counted(source.yield_once(), counts).await;
    }
}

/// What one task of `many` reports: its yields, when it started and when it finished.
#[derive(Debug, Clone, Copy)]
pub struct TaskReport {
    /// What its yields returned.
    pub counts: YieldCounts,
    /// When it was first polled.
    pub started: Instant,
    /// When it had made its last yield.
    pub finished: Instant,
}

/// One task of `many`: yields `n` times through `source`.
pub async fn yield_task<Y: YieldSource>(source: Y, n: u64) -> TaskReport {
    let started = Instant::now();
    let mut counts = YieldCounts::default();
    yield_n(&source, n, &mut counts).await;
    TaskReport {
        counts,
        started,
        finished: Instant::now(),
    }
}

/// The variant and its sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The measured task yields `n` times.
    Single {
        /// Yields per iteration.
        n: u64,
    },
    /// `tasks` spawned tasks yield `n` times each.
    Many {
        /// Yields of each task per iteration.
        n: u64,
        /// Tasks per iteration.
        tasks: u64,
    },
}

impl Shape {
    /// Yields per iteration (operations).
    pub fn yields(&self) -> u64 {
        match *self {
            Shape::Single { n } => n,
            Shape::Many { n, tasks } => n.saturating_mul(tasks),
        }
    }

    fn tasks(&self) -> u64 {
        match *self {
            Shape::Single { .. } => 1,
            Shape::Many { tasks, .. } => tasks,
        }
    }
}

/// What a run of iterations came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcomes {
    /// Tasks that finished (for `single`, the measured task once per iteration).
    pub tasks_done: u64,
    /// Tasks whose own counts were not `n` regular yields.
    pub short_tasks: u64,
    /// What every yield returned, summed.
    pub counts: YieldCounts,
    /// Iterations of `many` whose first task finished after the last had started (the
    /// tasks' yields interleaved); for `single`, 0.
    pub interleaved: u64,
}

impl Outcomes {
    fn add_task(&mut self, n: u64, counts: YieldCounts) {
        self.tasks_done += 1;
        if counts != YieldCounts::regular(n) {
            self.short_tasks += 1;
        }
        self.counts.add(counts);
    }

    /// Checks the outcomes of `iters` iterations of `shape`.
    ///
    /// # Errors
    ///
    /// The first broken invariant: a task missing, a yield that did not suspend exactly
    /// once, a yield not made or not completed.
    pub fn check(&self, shape: Shape, iters: u64) -> Result<(), Violation> {
        let yields = shape.yields().saturating_mul(iters);
        Violation::check_eq(
            "every task of every iteration finishes",
            shape.tasks().saturating_mul(iters),
            self.tasks_done,
        )?;
        Violation::check_eq(
            "every yield returns Pending exactly once, then Ready (irregular yields)",
            0,
            self.counts.irregular,
        )?;
        Violation::check_eq(
            "every yield suspends its task once (Pending returns of the yields)",
            yields,
            self.counts.pending,
        )?;
        Violation::check_eq(
            "every yield requested is made and completes (yields awaited, completed)",
            (yields, yields),
            (self.counts.requested, self.counts.ready),
        )?;
        Violation::check_eq(
            "every task makes its n yields, each suspending once (tasks that did not)",
            0,
            self.short_tasks,
        )
    }
}

/// Runs `iters` iterations of `shape` with yields from `source`; for `many`, records into
/// `lag` how long after the first task of its iteration each task finished.
pub async fn run_iterations<R: Runtime, Y: YieldSource>(
    rt: &R,
    source: &Y,
    shape: Shape,
    iters: u64,
    lag: &mut LatencyRecorder,
) -> Outcomes {
    let mut out = Outcomes::default();
    match shape {
        Shape::Single { n } => {
            for _ in 0..iters {
                let mut counts = YieldCounts::default();
                yield_n(source, n, &mut counts).await;
                out.add_task(n, counts);
            }
        }
        Shape::Many { n, tasks } => {
            let tasks = usize::try_from(tasks).unwrap_or(usize::MAX);
            let mut handles = Vec::with_capacity(tasks);
            let mut reports: Vec<TaskReport> = Vec::with_capacity(tasks);
            for _ in 0..iters {
                handles.extend((0..tasks).map(|_| rt.spawn(yield_task(source.clone(), n))));
                for handle in handles.drain(..) {
                    reports.push(handle.await);
                }
                let first = reports.iter().map(|r| r.finished).min();
                let last_start = reports.iter().map(|r| r.started).max();
                if let (Some(first), Some(last_start)) = (first, last_start) {
                    if first > last_start {
                        out.interleaved += 1;
                    }
                    for report in &reports {
                        lag.record_ns(report.finished.duration_since(first).as_nanos() as u64);
                    }
                }
                for report in reports.drain(..) {
                    out.add_task(n, report.counts);
                }
            }
        }
    }
    out
}

/// The measured form of the workload.
pub struct YieldLoopBench<R> {
    rt: R,
    source: RuntimeYield<R>,
    shape: Shape,
    lag: LatencyRecorder,
    outcomes: Outcomes,
}

impl<R: Runtime> BatchRunner for YieldLoopBench<R> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        self.shape.yields()
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            self.outcomes =
                run_iterations(&self.rt, &self.source, self.shape, iters, &mut self.lag).await;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        let recorded = matches!(self.shape, Shape::Many { .. }).then(|| self.lag.clone());
        self.lag.reset();
        self.outcomes.check(self.shape, iters)?;
        Ok(recorded)
    }
}

/// The shape of a case.
///
/// # Errors
///
/// An unknown variant, or a missing or invalid parameter.
pub fn shape(case: &Case) -> Result<Shape, BuildError> {
    let params: &Params = &case.params;
    match case.variant.as_str() {
        "single" => Ok(Shape::Single {
            n: params.int("n")?,
        }),
        "many" => Ok(Shape::Many {
            n: params.int("n")?,
            tasks: params.int("tasks")?,
        }),
        other => Err(BuildError::Unsupported(format!("yield_loop/{other}"))),
    }
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    let shape = shape(case)?;
    Ok(Box::new(YieldLoopBench {
        rt: rt.clone(),
        source: RuntimeYield(rt.clone()),
        shape,
        lag: LatencyRecorder::new(),
        outcomes: Outcomes::default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A future that returns `Pending` `times` times (waking itself), then `Ready`.
    struct Suspend(u32);

    impl Future for Suspend {
        type Output = ();
        fn poll(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> Poll<()> {
            if self.0 == 0 {
                Poll::Ready(())
            } else {
                self.0 -= 1;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    #[test]
    fn counted_sees_yields_that_do_not_suspend_once() {
        let mut counts = YieldCounts::default();
        futures::executor::block_on(async {
            counted(Suspend(1), &mut counts).await;
            counted(Suspend(1), &mut counts).await;
        });
        assert_eq!(counts, YieldCounts::regular(2));
        for times in [0, 2] {
            let mut counts = YieldCounts::default();
            futures::executor::block_on(counted(Suspend(times), &mut counts));
            assert_eq!(counts.irregular, 1, "{times} pendings");
            assert_eq!(counts.pending, u64::from(times));
        }
    }

    #[test]
    fn the_check_fails_missing_tasks_and_irregular_yields() {
        let shape = Shape::Many { n: 10, tasks: 4 };
        let mut good = Outcomes::default();
        for _ in 0..8 {
            good.add_task(10, YieldCounts::regular(10));
        }
        assert_eq!(good.check(shape, 2), Ok(()));
        assert!(good.check(shape, 3).is_err());
        // One task made a yield short, another one more: the totals agree, the tasks do not.
        let mut uneven = Outcomes::default();
        for _ in 0..6 {
            uneven.add_task(10, YieldCounts::regular(10));
        }
        uneven.add_task(10, YieldCounts::regular(9));
        uneven.add_task(10, YieldCounts::regular(11));
        assert_eq!(uneven.counts, good.counts);
        assert!(uneven.check(shape, 2).is_err());
        // Yields that completed without suspending.
        let mut ready = good;
        ready.counts.pending -= 1;
        assert!(ready.check(shape, 2).is_err());
    }
}
