//! `throttle` (WhenAny throttling, SemaphoreSlim): run `n` operations with at most `k` in
//! flight at any time.
//!
//! One operation is one throttled run of `n` leaves. A leaf raises a gauge (an in-flight
//! counter with a peak) when it starts its work, yields once, lowers the gauge and returns
//! its value. The variants differ only in how they keep `k` leaves in flight:
//! `buffer_unordered` (`futures::StreamExt::buffer_unordered(k)` over the leaves),
//! `semaphore` (a `join_all` of all `n` leaves, each taking a permit of a `k`-permit
//! semaphore around its work: the runtime family's semaphore, SemaphoreSlim's pattern) and
//! `window` (the seed's refill loop: start `k`, and each time one completes start the next,
//! on a `FuturesUnordered`).
//!
//! After each run the peak of the gauge must equal `k` exactly (never more, and really
//! reached), nothing may still be in flight, and every leaf's value must have arrived (a
//! count and an order-free digest of the values); the bench keeps the lowest and highest
//! peak of a batch and checks them after the clock.
//!
//! Why the peak is exactly `k` on every runtime, multi-threaded ones included: every variant
//! polls its leaves inline, inside the one task of the measured loop (no spawn; the
//! semaphore variant too, so that it measures the semaphore rather than `n` spawns, and so
//! that no leaf can run to its end on another worker before the `k`-th has been started).
//! All three combinators keep their leaves in a `FuturesUnordered` (`join_all` of more than
//! 30 futures is a `FuturesOrdered` over one), whose ready queue is first in, first out: the
//! first `k` leaves (for `semaphore`, all `n`) are queued when pushed, and a leaf that
//! yielded is queued again only when its wake-up arrives, behind them. A leaf ends on its
//! second poll at the earliest, so the first `k` leaves have all raised the gauge before
//! any of them lowers it; and a new leaf starts (or takes a permit) only after one has
//! ended, which lowered the gauge first. Which thread polls the task, and when the runtime
//! delivers a yield's wake-up (tokio defers it to the end of the task's poll), changes none
//! of this.
//!
//! One runtime rule can still break the order: tokio's cooperative budget (128 operations
//! of its resources per task poll) makes a `tokio::sync::Semaphore` acquire return
//! `Pending` once the budget is spent, requeued like a yield; with `k` in the hundreds some
//! leaves then take their permit only after the first holders were polled again, and the
//! run would peak below `k` because of the scheduler, not the throttle. So a leaf, after
//! its yield, is held (it yields again) until the first `min(k, n)` leaves of the run have
//! been in flight together, at most `min(k, n) + 64` times: in the grid (`k` 4 and 64) no
//! leaf is ever held on any runtime (the bench counts holds, and a conformance test asserts
//! none), and a throttle that never lets `k` in still ends, with its peak below `k`.

use std::future::{ready, Future};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures::future::join_all;
use futures::stream::{self, FuturesUnordered, StreamExt};
use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::params::{ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::seeded::{mix64, GOLDEN};
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// `n`: leaves of one throttled run.
pub const PARAM_N: ParamSpec = ParamSpec {
    name: "n",
    doc: "leaf operations of one throttled run",
    kind: ParamKind::Int {
        min: 1,
        max: 10_000_000,
    },
};

/// `k`: the most leaves in flight.
pub const PARAM_K: ParamSpec = ParamSpec {
    name: "k",
    doc: "the most leaves in flight at once",
    kind: ParamKind::Int {
        min: 1,
        max: 1_000_000,
    },
};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "throttle",
    tap: "WhenAny throttling, SemaphoreSlim",
    op_unit: "one run of n leaf operations, at most k in flight",
    variants: &[
        VariantSpec {
            id: "buffer_unordered",
            doc: "futures::StreamExt::buffer_unordered(k) over the n leaves. Allocates n + 2 per run (a FuturesUnordered task node per leaf)",
            native: false,
        },
        VariantSpec {
            id: "semaphore",
            doc: "join_all of the n leaves, each holding a permit of the runtime family's \
                  k-permit semaphore around its work (tokio Semaphore, else async-lock). \
                  Allocates join_all's n + 12 or so per run, plus one per acquire that waits \
                  with async-lock (tokio's waits allocate nothing)",
            native: true,
        },
        VariantSpec {
            id: "window",
            doc: "the manual refill loop: start k, start the next each time one completes \
                  (FuturesUnordered). Allocates n + 2 per run",
            native: false,
        },
    ],
    params: &[PARAM_N, PARAM_K],
    cases: || {
        let k: Vec<ParamValue> = [4, 64].into_iter().map(ParamValue::Int).collect();
        super::grid(
            "throttle",
            &["buffer_unordered", "semaphore", "window"],
            &[("n", &[ParamValue::Int(1000)]), ("k", &k)],
        )
    },
    memory_bytes: |p| p.int("n").unwrap_or(0).saturating_mul(super::TASK_BYTES),
    normalize: |_| {},
    views: &[],
};

/// The value of leaf `i`.
#[inline]
pub fn leaf_value(i: u64) -> u64 {
    mix64(i.wrapping_mul(GOLDEN) ^ 0x7407_7E1E)
}

/// Extra yields a held leaf makes at most, beyond `min(k, n)` (see the module
/// documentation).
pub const HOLD_MARGIN: u64 = 64;

/// Leaves in flight, the most seen at once since the last reset, whether the run's first
/// window has filled (`target` in flight together), and the holds made waiting for it.
#[derive(Debug)]
pub struct Gauge {
    in_flight: AtomicU64,
    peak: AtomicU64,
    target: u64,
    filled: AtomicBool,
    holds: AtomicU64,
}

impl Gauge {
    /// A gauge whose window is full at `target` leaves in flight (`min(k, n)`).
    pub fn new(target: u64) -> Self {
        Gauge {
            in_flight: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            target,
            filled: AtomicBool::new(false),
            holds: AtomicU64::new(0),
        }
    }

    /// A leaf starts its work.
    #[inline]
    pub fn raise(&self) {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        if now >= self.target {
            self.filled.store(true, Ordering::Relaxed);
        }
    }

    /// Whether `target` leaves have been in flight together since the last reset.
    #[inline]
    pub fn filled(&self) -> bool {
        self.filled.load(Ordering::Relaxed)
    }

    /// The most extra yields a leaf makes waiting for the window to fill.
    #[inline]
    pub fn hold_limit(&self) -> u64 {
        self.target + HOLD_MARGIN
    }

    /// A leaf ends its work.
    #[inline]
    pub fn lower(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// Leaves in flight now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The most leaves in flight at once since the last reset.
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// Extra yields leaves made waiting for the window to fill, since the last reset.
    pub fn holds(&self) -> u64 {
        self.holds.load(Ordering::Relaxed)
    }

    /// Starts a run: the peak from what is in flight now, the window not filled, no holds.
    pub fn reset(&self) {
        self.peak.store(self.in_flight(), Ordering::Relaxed);
        self.filled.store(false, Ordering::Relaxed);
        self.holds.store(0, Ordering::Relaxed);
    }
}

/// The leaves of a run: each raises `gauge`, yields once on `rt` (and more while held, see
/// the module documentation), lowers it, and returns [`leaf_value`]`(i)`.
#[derive(Debug)]
pub struct Leaves<'a, R> {
    rt: &'a R,
    gauge: &'a Gauge,
}

impl<R> Clone for Leaves<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Leaves<'_, R> {}

impl<'a, R: Runtime> Leaves<'a, R> {
    /// Leaves on `rt` measured by `gauge`.
    pub fn new(rt: &'a R, gauge: &'a Gauge) -> Self {
        Leaves { rt, gauge }
    }

    /// Leaf `i`.
    pub fn leaf(self, i: u64) -> impl Future<Output = u64> + Send + 'a {
        let Leaves { rt, gauge } = self;
        let step = rt.yield_now();
        async move {
            gauge.raise();
            step.await;
            let mut held = 0;
            while !gauge.filled() && held < gauge.hold_limit() {
                rt.yield_now().await;
                held += 1;
            }
            if held > 0 {
                gauge.holds.fetch_add(held, Ordering::Relaxed);
            }
            gauge.lower();
            leaf_value(i)
        }
    }
}

/// The values of a run, counted and summed (in any order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Values received.
    pub count: u64,
    /// Their wrapping sum: a lost or duplicated leaf changes it.
    pub sum: u64,
}

impl Tally {
    /// Counts value `v`.
    #[inline]
    pub fn add(&mut self, v: u64) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(v);
    }

    /// What a run of `n` leaves must come to.
    pub fn expected(n: u64) -> Tally {
        let mut t = Tally::default();
        (0..n).for_each(|i| t.add(leaf_value(i)));
        t
    }
}

/// One way of running `n` leaves with at most `k` in flight.
pub trait Throttle<R: Runtime>: Send + Sync + 'static {
    /// Runs leaves `0..n` of `leaves` with at most `k` in flight, and tallies their values.
    fn throttle<'a>(
        &'a self,
        leaves: Leaves<'a, R>,
        n: u64,
        k: usize,
    ) -> impl Future<Output = Tally> + Send + 'a;
}

/// `buffer_unordered`: `futures::StreamExt::buffer_unordered(k)` over a stream of the
/// leaves, folded as they complete.
#[derive(Debug, Clone, Copy, Default)]
pub struct BufferUnordered;

impl<R: Runtime> Throttle<R> for BufferUnordered {
    fn throttle<'a>(
        &'a self,
        leaves: Leaves<'a, R>,
        n: u64,
        k: usize,
    ) -> impl Future<Output = Tally> + Send + 'a {
        stream::iter(0..n)
            .map(move |i| leaves.leaf(i))
            .buffer_unordered(k)
            .fold(Tally::default(), |mut tally, v| {
                tally.add(v);
                ready(tally)
            })
    }
}

/// `window`: the seed's refill loop on a `FuturesUnordered`: start `k` leaves, then start
/// the next each time one completes (WhenAny over the window).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window;

impl<R: Runtime> Throttle<R> for Window {
    async fn throttle<'a>(&'a self, leaves: Leaves<'a, R>, n: u64, k: usize) -> Tally {
        let mut window = FuturesUnordered::new();
        let mut next = 0;
        while next < n && window.len() < k {
            window.push(leaves.leaf(next));
            next += 1;
        }
        let mut tally = Tally::default();
        while let Some(v) = window.next().await {
            tally.add(v);
            if next < n {
                window.push(leaves.leaf(next));
                next += 1;
            }
        }
        tally
    }
}

/// A counting semaphore of a runtime family, as the `semaphore` variant uses it: made with
/// `k` permits, a permit taken before a leaf's work and given back (dropped) after it.
pub trait Semaphore: Send + Sync + 'static {
    /// The semaphore type.
    type Sem: Send + Sync;

    /// A semaphore of `permits` permits.
    fn new(permits: usize) -> Self::Sem;

    /// Waits for a permit; dropping the output gives it back.
    fn acquire(sem: &Self::Sem) -> impl Future<Output = impl Send + '_> + Send + '_;
}

/// `async_lock::Semaphore`: the semaphore of the async-std, smol and futures families
/// (smol re-exports it as `smol::lock`; async-std and futures have none of their own).
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncLockSemaphore;

impl Semaphore for AsyncLockSemaphore {
    type Sem = async_lock::Semaphore;

    fn new(permits: usize) -> async_lock::Semaphore {
        async_lock::Semaphore::new(permits)
    }

    fn acquire(sem: &async_lock::Semaphore) -> impl Future<Output = impl Send + '_> + Send + '_ {
        sem.acquire()
    }
}

/// `semaphore`: a new `k`-permit semaphore per run, and a `join_all` of all `n` leaves,
/// each holding a permit around its work (SemaphoreSlim's WaitAsync / Release). Leaves are
/// polled inline, not spawned (see the module documentation), as in the other variants.
#[derive(Debug, Clone, Copy, Default)]
pub struct SemaphoreThrottle<S>(pub S);

impl<R: Runtime, S: Semaphore> Throttle<R> for SemaphoreThrottle<S> {
    async fn throttle<'a>(&'a self, leaves: Leaves<'a, R>, n: u64, k: usize) -> Tally {
        let sem = S::new(k);
        let sem = &sem;
        let values = join_all((0..n).map(|i| async move {
            let _permit = S::acquire(sem).await;
            leaves.leaf(i).await
        }))
        .await;
        let mut tally = Tally::default();
        values.into_iter().for_each(|v| tally.add(v));
        tally
    }
}

/// What the runs of a batch came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runs {
    /// The lowest peak in flight of a run.
    pub min_peak: u64,
    /// The highest peak in flight of a run.
    pub max_peak: u64,
    /// Runs that ended with leaves still in flight.
    pub unfinished: u64,
    /// Runs whose tally differed from the expected one.
    pub wrong_tallies: u64,
    /// Extra yields of held leaves over all runs (0 when the combinator's own order fills
    /// the first window; not an error).
    pub holds: u64,
    /// The tally of the first run whose tally was wrong, if any.
    pub first_wrong: Option<Tally>,
}

impl Default for Runs {
    fn default() -> Self {
        Runs {
            min_peak: u64::MAX,
            max_peak: 0,
            unfinished: 0,
            wrong_tallies: 0,
            holds: 0,
            first_wrong: None,
        }
    }
}

impl Runs {
    /// Checks the runs of a batch of `n` leaves at most `k` in flight.
    ///
    /// # Errors
    ///
    /// A run whose peak was not `min(k, n)`, that left leaves in flight, or whose values
    /// were wrong (a lost, extra or wrong leaf).
    pub fn check(&self, n: u64, k: u64) -> Result<(), Violation> {
        let want = k.min(n);
        if self.max_peak > want {
            return Err(Violation::new(
                "throttle never has more than k leaves in flight",
                format!("peak {want}"),
                format!("peak {}", self.max_peak),
            ));
        }
        if self.min_peak < want {
            return Err(Violation::new(
                "throttle really reaches k leaves in flight",
                format!("peak {want} in every run"),
                format!("peak {} in a run", self.min_peak),
            ));
        }
        Violation::check_eq(
            "every leaf has ended when the run returns",
            0,
            self.unfinished,
        )?;
        if self.wrong_tallies > 0 {
            return Err(Violation::new(
                "all n leaves complete with their values",
                format!("{:?}", Tally::expected(n)),
                format!(
                    "{:?} (and {} runs wrong in all)",
                    self.first_wrong.unwrap_or_default(),
                    self.wrong_tallies
                ),
            ));
        }
        Ok(())
    }
}

/// Runs `runs` throttled runs of `n` leaves, at most `k` in flight, through `imp`, reading
/// a gauge after each; `expected` is [`Tally::expected`]`(n)`.
pub async fn run_ops<R: Runtime, T: Throttle<R>>(
    rt: &R,
    imp: &T,
    expected: Tally,
    n: u64,
    k: usize,
    runs: u64,
) -> Runs {
    let mut out = Runs::default();
    let gauge = Gauge::new(n.min(k as u64));
    let leaves = Leaves::new(rt, &gauge);
    for _ in 0..runs {
        gauge.reset();
        let tally = imp.throttle(leaves, n, k).await;
        let peak = gauge.peak();
        out.holds += gauge.holds();
        out.min_peak = out.min_peak.min(peak);
        out.max_peak = out.max_peak.max(peak);
        if gauge.in_flight() != 0 {
            out.unfinished += 1;
        }
        if tally != expected {
            out.wrong_tallies += 1;
            out.first_wrong.get_or_insert(tally);
        }
    }
    out
}

/// The measured form of a [`Throttle`] implementation.
pub struct ThrottleBench<R, T> {
    rt: R,
    imp: T,
    n: u64,
    k: usize,
    expected: Tally,
    runs: Runs,
}

/// The bench of `imp` for a case's parameters: what `buffer_unordered`, `window` and every
/// family's native `semaphore` build.
///
/// # Errors
///
/// A missing or invalid parameter.
pub fn bench<R: Runtime, T: Throttle<R>>(
    rt: &R,
    imp: T,
    params: &Params,
) -> Result<BoxBench, BuildError> {
    let n = params.int("n")?;
    let k = usize::try_from(params.int("k")?).unwrap_or(usize::MAX);
    Ok(Box::new(ThrottleBench {
        rt: rt.clone(),
        imp,
        n,
        k,
        expected: Tally::expected(n),
        runs: Runs::default(),
    }))
}

impl<R: Runtime, T: Throttle<R>> BatchRunner for ThrottleBench<R, T> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            self.runs = run_ops(
                &self.rt,
                &self.imp,
                self.expected,
                self.n,
                self.k,
                iters,
            )
            .await;
            Ok(())
        })
    }

    fn check_batch(&mut self, _iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        self.runs.check(self.n, self.k as u64)?;
        Ok(None)
    }
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    match case.variant.as_str() {
        "buffer_unordered" => bench(rt, BufferUnordered, &case.params),
        "window" => bench(rt, Window, &case.params),
        other => Err(BuildError::Unsupported(format!(
            "throttle/{other} is runtime-native"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_correct_batch_passes_and_each_fault_is_caught() {
        let good = Runs {
            min_peak: 4,
            max_peak: 4,
            ..Runs::default()
        };
        assert_eq!(good.check(1000, 4), Ok(()));
        // Fewer leaves than k: the peak is n.
        assert_eq!(
            Runs {
                min_peak: 3,
                max_peak: 3,
                ..Runs::default()
            }
            .check(3, 4),
            Ok(())
        );
        let faults = [
            Runs {
                max_peak: 5,
                ..good
            },
            Runs {
                min_peak: 3,
                ..good
            },
            Runs {
                unfinished: 1,
                ..good
            },
            Runs {
                wrong_tallies: 1,
                first_wrong: Some(Tally::expected(999)),
                ..good
            },
        ];
        for fault in faults {
            assert!(fault.check(1000, 4).is_err(), "{fault:?} passed");
        }
    }

    #[test]
    fn a_lost_or_duplicated_leaf_changes_the_tally() {
        let all = Tally::expected(100);
        let mut lost_and_doubled = Tally::default();
        (0..100)
            .map(|i| if i == 7 { 8 } else { i })
            .for_each(|i| lost_and_doubled.add(leaf_value(i)));
        assert_eq!(lost_and_doubled.count, all.count);
        assert_ne!(lost_and_doubled, all);
        assert_ne!(Tally::expected(99), all);
    }
}
