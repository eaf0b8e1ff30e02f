//! `when_all` (Task.WhenAll): start `n` independent operations, await them all, and get the
//! results in input order.
//!
//! One operation is one whole WhenAll of `n` leaves. Each leaf completes at once (`ready`),
//! after one yield (`yield`) or after a 1 ms sleep on the runtime's timer (`sleep_1ms`), then
//! returns `leaf_value(i)`. Every batch folds the results into a position-weighted digest,
//! so a missing, duplicated or reordered result fails the check.

use std::future::Future;
use std::time::{Duration, Instant};

use std::marker::PhantomData;

use futures::future::join_all;
use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::params::{ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// `n`: operations per WhenAll.
pub const PARAM_N: ParamSpec = ParamSpec {
    name: "n",
    doc: "operations started and awaited by one WhenAll",
    kind: ParamKind::Int {
        min: 1,
        max: 4_294_967_295,
    },
};

/// `op`: what each operation does before returning its value.
pub const PARAM_OP: ParamSpec = ParamSpec {
    name: "op",
    doc: "what each operation awaits: nothing, one yield, or a 1 ms timer",
    kind: ParamKind::Choice(&["ready", "yield", "sleep_1ms"]),
};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "when_all",
    tap: "Task.WhenAll",
    op_unit: "one WhenAll of n operations",
    variants: &[
        VariantSpec {
            id: "join_all",
            doc: "futures::future::join_all over inline futures, no spawn",
            native: false,
        },
        VariantSpec {
            id: "spawn_join",
            doc: "spawn each operation as a task, then await the handles in order",
            native: false,
        },
        VariantSpec {
            id: "native",
            doc: "the runtime's own task set (tokio JoinSet) where it has one, results put back in input order",
            native: true,
        },
    ],
    params: &[PARAM_N, PARAM_OP],
    cases: || {
        let n: Vec<ParamValue> = [10, 1000, 100_000]
            .into_iter()
            .map(ParamValue::Int)
            .collect();
        let op: Vec<ParamValue> = ["ready", "yield", "sleep_1ms"]
            .into_iter()
            .map(|s| ParamValue::Text(s.into()))
            .collect();
        super::grid(
            "when_all",
            &["join_all", "spawn_join", "native"],
            &[("n", &n), ("op", &op)],
        )
    },
    memory_bytes: |p| p.int("n").unwrap_or(0).saturating_mul(super::TASK_BYTES),
    normalize: |_| {},
    views: &[],
};

/// The sleep of the `sleep_1ms` leaf.
pub const LEAF_SLEEP: Duration = Duration::from_millis(1);

/// What a leaf operation awaits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafOp {
    /// Completes synchronously.
    Ready,
    /// Yields to the scheduler once.
    Yield,
    /// Sleeps for [`LEAF_SLEEP`].
    Sleep1ms,
}

impl LeafOp {
    /// Parses the `op` parameter.
    ///
    /// # Errors
    ///
    /// A parameter error for a missing or unknown value.
    pub fn from_params(params: &Params) -> Result<Self, crate::params::ParamError> {
        match params.text("op")? {
            "ready" => Ok(LeafOp::Ready),
            "yield" => Ok(LeafOp::Yield),
            "sleep_1ms" => Ok(LeafOp::Sleep1ms),
            other => Err(PARAM_OP.parse(other).unwrap_err()),
        }
    }
}

/// The value of leaf `i`.
#[inline]
pub fn leaf_value(i: u64) -> u64 {
    i.wrapping_mul(3).wrapping_add(1)
}

/// A leaf operation: awaits its op, then returns [`leaf_value`]`(i)`. One type per op, so a
/// leaf future holds only the state of the op it performs: a `ready` leaf is a few words on
/// every runtime, not sized for the timer it does not use, and the `ready` and `yield` cells
/// compare the combinators rather than the runtimes' timer sizes.
pub trait Leaf<R: Runtime>: Send + Sync + 'static {
    /// The op this leaf performs.
    const OP: LeafOp;

    /// Leaf operation `i`. The wait future is created here, so the returned future is
    /// `'static` and can be spawned without cloning the runtime handle.
    fn leaf(rt: &R, i: u64) -> impl Future<Output = u64> + Send + 'static;
}

/// `op=ready`: completes at once.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadyLeaf;

impl<R: Runtime> Leaf<R> for ReadyLeaf {
    const OP: LeafOp = LeafOp::Ready;

    fn leaf(_rt: &R, i: u64) -> impl Future<Output = u64> + Send + 'static {
        std::future::ready(leaf_value(i))
    }
}

/// `op=yield`: yields to the scheduler once.
#[derive(Debug, Clone, Copy, Default)]
pub struct YieldLeaf;

impl<R: Runtime> Leaf<R> for YieldLeaf {
    const OP: LeafOp = LeafOp::Yield;

    fn leaf(rt: &R, i: u64) -> impl Future<Output = u64> + Send + 'static {
        let wait = rt.yield_now();
        async move {
            wait.await;
            leaf_value(i)
        }
    }
}

/// `op=sleep_1ms`: sleeps for [`LEAF_SLEEP`] on the runtime's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SleepLeaf;

impl<R: Runtime> Leaf<R> for SleepLeaf {
    const OP: LeafOp = LeafOp::Sleep1ms;

    fn leaf(rt: &R, i: u64) -> impl Future<Output = u64> + Send + 'static {
        let wait = rt.sleep(LEAF_SLEEP);
        async move {
            wait.await;
            leaf_value(i)
        }
    }
}

/// The results a correct WhenAll of `n` returns.
pub fn expected(n: u64) -> Vec<u64> {
    (0..n).map(leaf_value).collect()
}

/// A position-weighted digest of results: differs when a result is missing, extra, wrong or
/// out of place.
pub fn digest(results: &[u64]) -> u64 {
    results
        .iter()
        .enumerate()
        .fold(results.len() as u64, |acc, (i, v)| {
            acc.wrapping_add((i as u64 + 1).wrapping_mul(*v))
        })
}

/// One way of writing WhenAll.
pub trait WhenAll<R: Runtime>: Send + Sync + 'static {
    /// Starts `n` leaves of kind `L`, awaits them all and returns their values in input
    /// order.
    fn when_all<L: Leaf<R>>(&self, rt: &R, n: u64) -> impl Future<Output = Vec<u64>> + Send;
}

/// `join_all`: inline futures polled by `futures::future::join_all`, no tasks.
#[derive(Debug, Clone, Copy, Default)]
pub struct JoinAll;

impl<R: Runtime> WhenAll<R> for JoinAll {
    fn when_all<L: Leaf<R>>(&self, rt: &R, n: u64) -> impl Future<Output = Vec<u64>> + Send {
        join_all((0..n).map(move |i| L::leaf(rt, i)))
    }
}

/// `spawn_join`: one task per leaf, handles awaited in input order.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpawnJoin;

impl<R: Runtime> WhenAll<R> for SpawnJoin {
    fn when_all<L: Leaf<R>>(&self, rt: &R, n: u64) -> impl Future<Output = Vec<u64>> + Send {
        let handles: Vec<_> = (0..n).map(|i| rt.spawn(L::leaf(rt, i))).collect();
        async move {
            let mut results = Vec::with_capacity(handles.len());
            for handle in handles {
                results.push(handle.await);
            }
            results
        }
    }
}

/// Runs `imp` with the leaves of `op`: the one place where the op parameter picks a leaf
/// type (tests and the benches' dispatch go through it).
pub async fn run<R: Runtime, W: WhenAll<R>>(imp: &W, rt: &R, n: u64, op: LeafOp) -> Vec<u64> {
    match op {
        LeafOp::Ready => imp.when_all::<ReadyLeaf>(rt, n).await,
        LeafOp::Yield => imp.when_all::<YieldLeaf>(rt, n).await,
        LeafOp::Sleep1ms => imp.when_all::<SleepLeaf>(rt, n).await,
    }
}

/// The measured form of a [`WhenAll`] implementation.
pub struct WhenAllBench<R, W, L> {
    rt: R,
    imp: W,
    n: u64,
    leaf: PhantomData<fn() -> L>,
    digest_sum: u64,
    batch_elapsed: Duration,
}

impl<R: Runtime, W: WhenAll<R>, L: Leaf<R>> WhenAllBench<R, W, L> {
    /// A bench of `imp` with leaves `L` and `n` from the case's parameters.
    ///
    /// # Errors
    ///
    /// A missing or invalid parameter.
    pub fn new(rt: &R, imp: W, params: &Params) -> Result<Self, BuildError> {
        Ok(WhenAllBench {
            rt: rt.clone(),
            imp,
            n: params.int("n")?,
            leaf: PhantomData,
            digest_sum: 0,
            batch_elapsed: Duration::ZERO,
        })
    }
}

/// The bench of `imp` for a case's parameters, with the leaf type its `op` names: what the
/// generic variants and every runtime's native `when_all` build.
///
/// # Errors
///
/// A missing or invalid parameter.
pub fn bench<R: Runtime, W: WhenAll<R>>(
    rt: &R,
    imp: W,
    params: &Params,
) -> Result<BoxBench, BuildError> {
    Ok(match LeafOp::from_params(params)? {
        LeafOp::Ready => Box::new(WhenAllBench::<R, W, ReadyLeaf>::new(rt, imp, params)?),
        LeafOp::Yield => Box::new(WhenAllBench::<R, W, YieldLeaf>::new(rt, imp, params)?),
        LeafOp::Sleep1ms => Box::new(WhenAllBench::<R, W, SleepLeaf>::new(rt, imp, params)?),
    })
}

impl<R: Runtime, W: WhenAll<R>, L: Leaf<R>> BatchRunner for WhenAllBench<R, W, L> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            let start = Instant::now();
            let mut sum = 0u64;
            for _ in 0..iters {
                let results = self.imp.when_all::<L>(&self.rt, self.n).await;
                sum = sum.wrapping_add(digest(&results));
            }
            self.batch_elapsed = start.elapsed();
            self.digest_sum = sum;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        let expected = digest(&expected(self.n)).wrapping_mul(iters);
        if self.digest_sum != expected {
            return Err(Violation::new(
                "when_all results equal f(0..n) in input order",
                format!("digest {expected}"),
                format!(
                    "digest {} (a result was missing, wrong or out of order)",
                    self.digest_sum
                ),
            ));
        }
        if L::OP == LeafOp::Sleep1ms {
            check_concurrency(self.n, self.batch_elapsed / iters as u32)?;
        }
        Ok(None)
    }
}

/// With `op=sleep_1ms`, one WhenAll lasts at least one sleep and - for `n` of 100 or more -
/// far less than `n` sleeps in sequence (at most half of them): the sleeps overlap.
///
/// # Errors
///
/// A violation when the WhenAll was too fast (the sleep did not happen) or too slow (the
/// leaves ran one after another).
pub fn check_concurrency(n: u64, elapsed: Duration) -> Result<(), Violation> {
    if elapsed < LEAF_SLEEP {
        return Err(Violation::new(
            "when_all with op=sleep_1ms waits for the sleeps",
            format!("at least {LEAF_SLEEP:?}"),
            format!("{elapsed:?}"),
        ));
    }
    let sequential = LEAF_SLEEP * n.min(u32::MAX as u64) as u32;
    if n >= 100 && elapsed > sequential / 2 {
        return Err(Violation::new(
            "when_all with op=sleep_1ms runs its operations concurrently",
            format!(
                "under {:?} (half of {n} sleeps in sequence)",
                sequential / 2
            ),
            format!("{elapsed:?}"),
        ));
    }
    Ok(())
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    match case.variant.as_str() {
        "join_all" => bench(rt, JoinAll, &case.params),
        "spawn_join" => bench(rt, SpawnJoin, &case.params),
        other => Err(BuildError::Unsupported(format!(
            "when_all/{other} is runtime-native"
        ))),
    }
}
