//! `when_any` (Task.WhenAny for redundancy) on every configuration: the winner is the
//! fastest replica for every variant (the runtime's native one where it has one), every
//! loser is dropped unfinished and none completes, the replicas of a race really run
//! concurrently, and races that leak their losers or misreport the winner are caught by the
//! bench's own check.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::select_all;
use tapbench_conformance::{rt_test, run_case};
use tapbench_core::drop_tally::{settle, DropTally, SETTLE_LIMIT};
use tapbench_core::workloads::when_all::{
    leaf_value, Leaf, LeafOp, ReadyLeaf, SleepLeaf, YieldLeaf, LEAF_SLEEP,
};
use tapbench_core::workloads::when_any::{
    expected_drops, replicas, winner, SelectAll, Unordered, WhenAny, WhenAnyBench, Won, LOSER_SLEEP,
};
use tapbench_core::{BuildError, Case, CellError, ParamValue, Params, RtOf, Runtime};
use tapbench_measure::BatchRunner;

const OPS: [LeafOp; 3] = [LeafOp::Ready, LeafOp::Yield, LeafOp::Sleep1ms];

/// How long a test waits for drops that a leaky race never makes.
const SHORT_SETTLE: Duration = Duration::from_millis(200);

fn op_name(op: LeafOp) -> &'static str {
    match op {
        LeafOp::Ready => "ready",
        LeafOp::Yield => "yield",
        LeafOp::Sleep1ms => "sleep_1ms",
    }
}

fn case(variant: &str, k: u64, op: &str) -> Case {
    Case::new(
        "when_any",
        variant,
        Params::from_pairs([
            ("k", ParamValue::Int(k)),
            ("op", ParamValue::Text(op.into())),
        ]),
    )
}

/// Races operations `0..ops` with `imp` and winners `L`, asserting each winner, then waits
/// for the drops and asserts them.
async fn race_and_check<R: Runtime, W: WhenAny<R>, L: Leaf<R>>(
    rt: &R,
    imp: &W,
    name: &str,
    k: u32,
    ops: u64,
) {
    let tally = Arc::new(DropTally::default());
    for i in 0..ops {
        let won = imp.when_any::<L>(rt, i, k, &tally).await;
        let want = Won {
            replica: winner(i, k),
            value: leaf_value(i),
        };
        assert_eq!(won, want, "{name} on {}, k={k}, op {i}", rt.id());
    }
    let [drops] = settle(rt, [&*tally], ops * u64::from(k), SETTLE_LIMIT).await;
    assert_eq!(
        drops,
        expected_drops(k, ops),
        "{name} on {}, k={k}",
        rt.id()
    );
}

async fn check_variant<R: Runtime, W: WhenAny<R>>(rt: &R, imp: &W, name: &str) {
    for k in [1, 2, 16] {
        race_and_check::<R, W, ReadyLeaf>(rt, imp, name, k, 20).await;
        race_and_check::<R, W, YieldLeaf>(rt, imp, name, k, 20).await;
        race_and_check::<R, W, SleepLeaf>(rt, imp, name, k, 5).await;
    }
}

/// A race that forgets its losers instead of dropping them: they are never cancelled.
struct ForgetLosers;

impl<R: Runtime> WhenAny<R> for ForgetLosers {
    fn when_any<L: Leaf<R>>(
        &self,
        rt: &R,
        i: u64,
        k: u32,
        tally: &Arc<DropTally>,
    ) -> impl Future<Output = Won> + Send {
        let race = select_all(replicas::<R, L>(rt, i, k, tally).map(Box::pin));
        async move {
            let (won, _, losers) = race.await;
            std::mem::forget(losers);
            won
        }
    }
}

/// A replica set whose losers are spawned detached: they run on, nobody cancels them.
struct DetachedLosers;

impl<R: Runtime> WhenAny<R> for DetachedLosers {
    fn when_any<L: Leaf<R>>(
        &self,
        rt: &R,
        i: u64,
        k: u32,
        tally: &Arc<DropTally>,
    ) -> impl Future<Output = Won> + Send {
        let win = winner(i, k);
        let mut first = None;
        for (j, replica) in replicas::<R, L>(rt, i, k, tally).enumerate() {
            if j as u32 == win {
                first = Some(replica);
            } else {
                rt.spawn_detached(async move {
                    replica.await;
                });
            }
        }
        async move { first.expect("the winner is among the replicas").await }
    }
}

/// A race that reports the combinator's position in a reordered list as the replica: the
/// winner's value, but the wrong replica.
struct ReversedPositions;

impl<R: Runtime> WhenAny<R> for ReversedPositions {
    fn when_any<L: Leaf<R>>(
        &self,
        rt: &R,
        i: u64,
        k: u32,
        tally: &Arc<DropTally>,
    ) -> impl Future<Output = Won> + Send {
        let mut all: Vec<_> = replicas::<R, L>(rt, i, k, tally).map(Box::pin).collect();
        all.reverse();
        let race = select_all(all);
        async move {
            let (won, position, _) = race.await;
            Won {
                replica: position as u32,
                value: won.value,
            }
        }
    }
}

/// Runs a batch of `imp` through the bench and returns its check's verdict.
async fn bench_verdict<R: Runtime, W: WhenAny<R>>(
    rt: &R,
    imp: W,
    k: u64,
) -> Result<(), tapbench_core::Violation> {
    let params = case("select_all", k, "yield").params;
    let mut bench = WhenAnyBench::<_, _, YieldLeaf>::new(rt, imp, &params)
        .expect("valid parameters")
        .with_settle_limit(SHORT_SETTLE);
    bench.run_batch(5).await?;
    bench.check_batch(5).map(|_| ())
}

rt_test! {
    /// Every operation returns its seeded winner's value, and every loser is dropped
    /// unfinished (none completes, none leaks), for the generic variants.
    async fn the_winner_is_the_fastest_replica_and_losers_are_dropped(rt) {
        check_variant(&rt, &SelectAll, "select_all").await;
        check_variant(&rt, &Unordered, "futures_unordered").await;
    }

    /// `native` is built from the family's table and verified (winners, drops of the
    /// aborted tasks, concurrency) where the runtime has a task set, and skipped with the
    /// table's reason where it has not.
    async fn native_is_verified_or_skipped_with_a_reason(rt) {
        let native = tapbench_core::native::find(RtOf::<Cfg>::natives(), "when_any", "native")
            .expect("every family declares when_any/native")
            .info();
        for op in OPS {
            for k in [1, 2, 16] {
                let outcome = run_case(&rt, &case("native", k, op_name(op)), 5).await;
                match (native.provided, outcome) {
                    (Ok(_), Ok(())) => {}
                    (Err(reason), Err(CellError::Build(BuildError::Unsupported(why)))) => {
                        assert_eq!(why, reason);
                    }
                    (declared, outcome) => {
                        panic!("{op:?}, k={k}: declared {declared:?}, got {outcome:?}")
                    }
                }
            }
        }
    }

    /// With `op=sleep_1ms` a race of 16 takes at least the winner's sleep and far less than
    /// any loser's: the replicas ran concurrently and the losers were not awaited.
    async fn replicas_race_concurrently(rt) {
        const RACES: u64 = 5;
        for (name, variant) in [("select_all", 0), ("futures_unordered", 1)] {
            let tally = Arc::new(DropTally::default());
            let start = Instant::now();
            for i in 0..RACES {
                let won = match variant {
                    0 => SelectAll.when_any::<SleepLeaf>(&rt, i, 16, &tally).await,
                    _ => Unordered.when_any::<SleepLeaf>(&rt, i, 16, &tally).await,
                };
                assert_eq!(won.replica, winner(i, 16));
            }
            let elapsed = start.elapsed();
            assert!(elapsed >= LEAF_SLEEP * RACES as u32, "{name} on {}: {elapsed:?}", Cfg::INFO.id);
            assert!(elapsed < LOSER_SLEEP / 10, "{name} on {}: {elapsed:?}", Cfg::INFO.id);
        }
    }

    /// Losers that are forgotten, or spawned detached, are never dropped unfinished: the
    /// bench's check fails them; a correct race passes the same check.
    async fn a_leaky_race_is_caught(rt) {
        assert_eq!(bench_verdict(&rt, SelectAll, 16).await, Ok(()));
        assert_eq!(bench_verdict(&rt, Unordered, 16).await, Ok(()));
        let forgot = bench_verdict(&rt, ForgetLosers, 16).await.unwrap_err();
        assert!(forgot.what.contains("dropped unfinished"), "{forgot}");
        let detached = bench_verdict(&rt, DetachedLosers, 16).await.unwrap_err();
        assert!(detached.what.contains("dropped unfinished"), "{detached}");
    }

    /// A race that names the wrong replica as the winner fails the bench's digest check.
    async fn a_misreported_winner_is_caught(rt) {
        let wrong = bench_verdict(&rt, ReversedPositions, 16).await.unwrap_err();
        assert!(wrong.what.contains("seeded winner"), "{wrong}");
    }
}
