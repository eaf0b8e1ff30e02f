//! `when_any` (Task.WhenAny for redundancy, NeedOnlyOne): race `k` replicas of one request,
//! take the first result, cancel the rest.
//!
//! One operation is one race of `k` replicas. Operation `i` has its winner at a seeded
//! position [`winner`]`(i, k)`: that replica does the case's `op` (completes at its first
//! poll with `ready`, after one yield with `yield`, after the runtime's 1 ms sleep with
//! `sleep_1ms`) and returns [`leaf_value`]`(i)`. Every other replica (a loser) sleeps on the
//! runtime's timer for a long, distinct time, [`LOSER_SLEEP`] plus its rank among the losers
//! in milliseconds, so the race is always decided by the winner and every loser is still
//! pending when it is cancelled: the cost of redundancy is starting `k` replicas and
//! cancelling `k - 1` of them in flight. With `op=ready` the race is decided at the first
//! poll, so losers placed after the winner may be cancelled before they were ever polled
//! (their sleep never registered with the timer); with `yield` and `sleep_1ms` every loser
//! has registered its sleep before it is cancelled.
//!
//! Every replica carries a [`DropGuard`]. After the clock stops the bench checks that each
//! operation's result came from its seeded winner with the winner's value (a digest of
//! `(i, winner, value)`), that exactly one replica per operation finished, and that exactly
//! `k - 1` per operation were dropped unfinished: a loser that ran on, or one that was
//! leaked instead of dropped, fails the cell. Aborted tasks are dropped by their runtime
//! after the abort, so the batch ends by waiting for those drops ([`settle`]).

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::{select_all, Either};
use futures::stream::{FuturesUnordered, StreamExt};
use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use super::when_all::{leaf_value, Leaf, LeafOp, ReadyLeaf, SleepLeaf, YieldLeaf, LEAF_SLEEP};
use crate::drop_tally::{settle, DropCounts, DropGuard, DropTally, SETTLE_LIMIT};
use crate::params::{ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::seeded::{digest_term, mix64, GOLDEN};
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// `k`: replicas raced by one operation.
pub const PARAM_K: ParamSpec = ParamSpec {
    name: "k",
    doc: "replicas raced by one operation (one winner, k - 1 cancelled losers)",
    kind: ParamKind::Int {
        min: 1,
        max: 100_000,
    },
};

/// `op`: what the winning replica awaits.
pub const PARAM_OP: ParamSpec = ParamSpec {
    name: "op",
    doc: "what the winning replica awaits: nothing, one yield, or a 1 ms timer",
    kind: ParamKind::Choice(&["ready", "yield", "sleep_1ms"]),
};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "when_any",
    tap: "Task.WhenAny (redundancy, NeedOnlyOne)",
    op_unit: "one race of k replicas: the first result taken, k - 1 replicas cancelled",
    variants: &[
        VariantSpec {
            id: "select_all",
            doc: "futures::future::select_all over k boxed inline futures; the rest dropped. Allocates k boxes and 1 Vec per race",
            native: false,
        },
        VariantSpec {
            id: "futures_unordered",
            doc: "futures::stream::FuturesUnordered of k inline futures, first next(), then dropped. Allocates k task nodes plus 2 (its ready queue and stub) per race",
            native: false,
        },
        VariantSpec {
            id: "native",
            doc: "the runtime's own task set (tokio JoinSet): spawn k, first join_next, abort the rest. Allocates 2k + 1 per race on tokio (k tasks, k set entries, the set)",
            native: true,
        },
    ],
    params: &[PARAM_K, PARAM_OP],
    cases: || {
        let text = |s: &str| ParamValue::Text(s.into());
        let variants = ["select_all", "futures_unordered", "native"];
        // Two replicas only with a real sleep; sixteen with every op (ready and yield show
        // what the combinator costs on its own).
        let mut cases = super::grid(
            "when_any",
            &variants,
            &[("k", &[ParamValue::Int(2)]), ("op", &[text("sleep_1ms")])],
        );
        cases.extend(super::grid(
            "when_any",
            &variants,
            &[
                ("k", &[ParamValue::Int(16)]),
                ("op", &[text("ready"), text("yield"), text("sleep_1ms")]),
            ],
        ));
        cases
    },
    memory_bytes: |p| p.int("k").unwrap_or(0).saturating_mul(super::TASK_BYTES),
    normalize: |_| {},
    views: &[],
};

/// The base sleep of a losing replica; loser of rank `r` sleeps this plus `r` ms. Far
/// longer than any winner, so the winner always decides the race.
pub const LOSER_SLEEP: Duration = Duration::from_secs(10);

/// The seeded position of operation `i`'s winner among `k` replicas (`0..k`).
///
/// # Panics
///
/// When `k` is 0.
#[inline]
pub fn winner(i: u64, k: u32) -> u32 {
    (mix64(i.wrapping_mul(GOLDEN) ^ 0x0057_1A4E) % u64::from(k)) as u32
}

/// The value a losing replica would return if it ever finished: never a winner's value.
#[inline]
fn loser_value(i: u64, replica: u32) -> u64 {
    !leaf_value(i) ^ (u64::from(replica) << 32)
}

/// The sleep of the loser at `replica` when the winner is at `winner`: distinct per loser.
pub fn loser_sleep(replica: u32, winner: u32) -> Duration {
    let rank = if replica < winner {
        replica
    } else {
        replica - 1
    };
    LOSER_SLEEP + Duration::from_millis(u64::from(rank))
}

/// What a race returned: which replica, and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Won {
    /// The replica's position, `0..k`.
    pub replica: u32,
    /// Its value.
    pub value: u64,
}

/// Replica `replica` of operation `i` among `k`: the winner does the op of `L`, the others
/// sleep [`loser_sleep`]; each carries a guard of `tally`, marked finished when the replica
/// returns. The future is `'static`, so it can be spawned as it is.
pub fn replica<'a, R: Runtime, L: Leaf<R>>(
    rt: &'a R,
    i: u64,
    replica: u32,
    k: u32,
    tally: &Arc<DropTally>,
) -> impl Future<Output = Won> + Send + 'static + use<'a, R, L> {
    let win = winner(i, k);
    let work = if replica == win {
        Either::Left(L::leaf(rt, i))
    } else {
        let sleep = rt.sleep(loser_sleep(replica, win));
        Either::Right(async move {
            sleep.await;
            loser_value(i, replica)
        })
    };
    let mut guard = DropGuard::new(tally);
    async move {
        let value = work.await;
        guard.finish();
        Won { replica, value }
    }
}

/// The `k` replicas of operation `i`, in position order.
pub fn replicas<'r, 't, R: Runtime, L: Leaf<R>>(
    rt: &'r R,
    i: u64,
    k: u32,
    tally: &'t Arc<DropTally>,
) -> impl Iterator<Item = impl Future<Output = Won> + Send + 'static + use<'r, R, L>>
       + use<'r, 't, R, L> {
    (0..k).map(move |j| replica::<R, L>(rt, i, j, k, tally))
}

/// One way of writing WhenAny: start the `k` replicas of an operation, return the first
/// result, cancel the rest.
pub trait WhenAny<R: Runtime>: Send + Sync + 'static {
    /// Races the [`replicas`] of operation `i` with winners of kind `L`, guarded by
    /// `tally`.
    ///
    /// # Panics
    ///
    /// When `k` is 0 (there is nothing to race).
    fn when_any<L: Leaf<R>>(
        &self,
        rt: &R,
        i: u64,
        k: u32,
        tally: &Arc<DropTally>,
    ) -> impl Future<Output = Won> + Send;
}

/// `select_all`: `futures::future::select_all` over the replicas, each boxed (it needs
/// `Unpin` futures); the losers come back in a `Vec` that is dropped at once.
#[derive(Debug, Clone, Copy, Default)]
pub struct SelectAll;

impl<R: Runtime> WhenAny<R> for SelectAll {
    fn when_any<L: Leaf<R>>(
        &self,
        rt: &R,
        i: u64,
        k: u32,
        tally: &Arc<DropTally>,
    ) -> impl Future<Output = Won> + Send {
        let race = select_all(replicas::<R, L>(rt, i, k, tally).map(Box::pin));
        async move {
            let (won, _position, losers) = race.await;
            drop(losers);
            won
        }
    }
}

/// `futures_unordered`: the replicas in a `FuturesUnordered`, the first item of the stream
/// taken, then the set dropped with the losers in it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unordered;

impl<R: Runtime> WhenAny<R> for Unordered {
    fn when_any<L: Leaf<R>>(
        &self,
        rt: &R,
        i: u64,
        k: u32,
        tally: &Arc<DropTally>,
    ) -> impl Future<Output = Won> + Send {
        let mut set: FuturesUnordered<_> = replicas::<R, L>(rt, i, k, tally).collect();
        async move {
            let won = set.next().await;
            drop(set);
            won.expect("a race of k >= 1 replicas yields a first result")
        }
    }
}

/// A position-weighted digest of races' results, `(i, replica, value)` folded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RaceDigest(pub u64);

impl RaceDigest {
    /// Folds in operation `i`'s result.
    pub fn add(&mut self, i: u64, won: Won) {
        let code = won.value ^ u64::from(won.replica).wrapping_mul(GOLDEN);
        self.0 = self
            .0
            .wrapping_add(digest_term(i, code));
    }

    /// The digest of correct races `0..ops` of `k` replicas: every winner at [`winner`]
    /// with [`leaf_value`].
    pub fn expected(k: u32, ops: u64) -> Self {
        let mut digest = RaceDigest::default();
        for i in 0..ops {
            digest.add(
                i,
                Won {
                    replica: winner(i, k),
                    value: leaf_value(i),
                },
            );
        }
        digest
    }
}

/// The drop counts of races `0..ops` of `k` replicas that cancel every loser: one finished
/// replica and `k - 1` dropped unfinished per operation, every replica dropped.
pub fn expected_drops(k: u32, ops: u64) -> DropCounts {
    DropCounts {
        finished: ops,
        dropped: ops * u64::from(k),
        dropped_unfinished: ops * u64::from(k.saturating_sub(1)),
    }
}

/// Checks the drop counts of `ops` races of `k` replicas against [`expected_drops`].
///
/// # Errors
///
/// A violation naming what went wrong: a loser that finished, or one that was never
/// dropped (leaked).
pub fn check_drops(k: u32, ops: u64, seen: DropCounts) -> Result<(), Violation> {
    let want = expected_drops(k, ops);
    Violation::check_eq(
        "when_any: exactly one replica (the winner) finishes per operation",
        want.finished,
        seen.finished,
    )?;
    Violation::check_eq(
        "when_any: every loser is dropped unfinished (cancelled), none leaked",
        want.dropped_unfinished,
        seen.dropped_unfinished,
    )?;
    Violation::check_eq(
        "when_any: every replica is dropped by the end of its batch (losers leaked)",
        want.dropped,
        seen.dropped,
    )
}

/// The measured form of a [`WhenAny`] implementation.
pub struct WhenAnyBench<R, W, L> {
    rt: R,
    imp: W,
    k: u32,
    tally: Arc<DropTally>,
    settle_limit: Duration,
    leaf: PhantomData<fn() -> L>,
    digest: RaceDigest,
    drops: DropCounts,
    batch_elapsed: Duration,
}

impl<R: Runtime, W: WhenAny<R>, L: Leaf<R>> WhenAnyBench<R, W, L> {
    /// A bench of `imp` with winners `L` and `k` from the case's parameters.
    ///
    /// # Errors
    ///
    /// A missing or invalid parameter.
    pub fn new(rt: &R, imp: W, params: &Params) -> Result<Self, BuildError> {
        let k = params.int("k")?;
        PARAM_K.check(&ParamValue::Int(k))?;
        Ok(WhenAnyBench {
            rt: rt.clone(),
            imp,
            k: u32::try_from(k).unwrap_or(u32::MAX),
            tally: Arc::new(DropTally::default()),
            settle_limit: SETTLE_LIMIT,
            leaf: PhantomData,
            digest: RaceDigest::default(),
            drops: DropCounts::default(),
            batch_elapsed: Duration::ZERO,
        })
    }

    /// The same bench, waiting at most `limit` for the losers' drops at the end of a batch
    /// (tests of leaky races shorten it).
    pub fn with_settle_limit(mut self, limit: Duration) -> Self {
        self.settle_limit = limit;
        self
    }
}

/// The bench of `imp` for a case's parameters, with the winner type its `op` names: what
/// the generic variants and every runtime's native `when_any` build.
///
/// # Errors
///
/// A missing or invalid parameter.
pub fn bench<R: Runtime, W: WhenAny<R>>(
    rt: &R,
    imp: W,
    params: &Params,
) -> Result<BoxBench, BuildError> {
    Ok(match LeafOp::from_params(params)? {
        LeafOp::Ready => Box::new(WhenAnyBench::<R, W, ReadyLeaf>::new(rt, imp, params)?),
        LeafOp::Yield => Box::new(WhenAnyBench::<R, W, YieldLeaf>::new(rt, imp, params)?),
        LeafOp::Sleep1ms => Box::new(WhenAnyBench::<R, W, SleepLeaf>::new(rt, imp, params)?),
    })
}

impl<R: Runtime, W: WhenAny<R>, L: Leaf<R>> BatchRunner for WhenAnyBench<R, W, L> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            self.tally.reset();
            let start = Instant::now();
            let mut digest = RaceDigest::default();
            for i in 0..iters {
                let won = self.imp.when_any::<L>(&self.rt, i, self.k, &self.tally).await;
                digest.add(i, won);
            }
            self.batch_elapsed = start.elapsed();
            let want = iters.saturating_mul(u64::from(self.k));
            let [drops] = settle(&self.rt, [&*self.tally], want, self.settle_limit).await;
            self.digest = digest;
            self.drops = drops;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        Violation::check_eq(
            "when_any returns the fastest replica (the seeded winner) and its value",
            RaceDigest::expected(self.k, iters),
            self.digest,
        )?;
        check_drops(self.k, iters, self.drops)?;
        if L::OP == LeafOp::Sleep1ms && iters > 0 {
            check_concurrency(self.batch_elapsed / iters.min(u64::from(u32::MAX)) as u32)?;
        }
        Ok(None)
    }
}

/// With `op=sleep_1ms`, one race lasts at least the winner's sleep and far less than a
/// loser's (under half of [`LOSER_SLEEP`]): the replicas ran concurrently and the race did
/// not wait for a loser.
///
/// # Errors
///
/// A violation when the race was too fast (the winner did not sleep) or too slow.
pub fn check_concurrency(per_op: Duration) -> Result<(), Violation> {
    if per_op < LEAF_SLEEP {
        return Err(Violation::new(
            "when_any with op=sleep_1ms waits for the winner's sleep",
            format!("at least {LEAF_SLEEP:?} per operation"),
            format!("{per_op:?}"),
        ));
    }
    if per_op > LOSER_SLEEP / 2 {
        return Err(Violation::new(
            "when_any runs its replicas concurrently and returns with the winner",
            format!("under {:?} per operation", LOSER_SLEEP / 2),
            format!("{per_op:?}"),
        ));
    }
    Ok(())
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    match case.variant.as_str() {
        "select_all" => bench(rt, SelectAll, &case.params),
        "futures_unordered" => bench(rt, Unordered, &case.params),
        other => Err(BuildError::Unsupported(format!(
            "when_any/{other} is runtime-native"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winners_spread_over_every_position() {
        for k in [2u32, 16] {
            let mut seen = vec![0u32; k as usize];
            for i in 0..2000 {
                seen[winner(i, k) as usize] += 1;
            }
            assert!(seen.iter().all(|c| *c > 0), "k={k}: {seen:?}");
        }
        assert!((0..100).all(|i| winner(i, 1) == 0));
    }

    #[test]
    fn losers_sleep_distinct_times_longer_than_any_winner() {
        let (k, win) = (16u32, 5u32);
        let mut sleeps: Vec<Duration> = (0..k)
            .filter(|j| *j != win)
            .map(|j| loser_sleep(j, win))
            .collect();
        assert!(sleeps.iter().all(|s| *s >= LOSER_SLEEP));
        sleeps.sort();
        sleeps.dedup();
        assert_eq!(sleeps.len(), k as usize - 1);
    }

    #[test]
    fn the_checks_see_a_wrong_winner_and_leaked_losers() {
        let mut wrong = RaceDigest::default();
        for i in 0..50 {
            let k = 16;
            let replica = (winner(i, k) + 1) % k;
            wrong.add(
                i,
                Won {
                    replica,
                    value: leaf_value(i),
                },
            );
        }
        assert_ne!(wrong, RaceDigest::expected(16, 50));
        assert!(check_drops(16, 50, expected_drops(16, 50)).is_ok());
        let leaked = DropCounts {
            dropped: 50 * 16 - 1,
            dropped_unfinished: 50 * 15 - 1,
            ..expected_drops(16, 50)
        };
        assert!(check_drops(16, 50, leaked).is_err());
        let ran_on = DropCounts {
            finished: 51,
            dropped_unfinished: 50 * 15 - 1,
            ..expected_drops(16, 50)
        };
        assert!(check_drops(16, 50, ran_on).is_err());
        assert!(check_concurrency(Duration::from_micros(10)).is_err());
        assert!(check_concurrency(LOSER_SLEEP).is_err());
        assert!(check_concurrency(Duration::from_millis(2)).is_ok());
    }
}
