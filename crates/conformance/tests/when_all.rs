//! `when_all` (Task.WhenAll) on every configuration: results equal `f(0..n)` in input order
//! for every variant (the runtime's native one where it has one) and operation, with
//! `op=sleep_1ms` the operations really overlap, and every leaf holds only its own op.

use std::future::Future;
use std::time::{Duration, Instant};

use tapbench_conformance::{rt_test, run_case};
use tapbench_core::workloads::when_all::{
    check_concurrency, expected, run, JoinAll, Leaf, LeafOp, ReadyLeaf, SleepLeaf, SpawnJoin,
    WhenAll, WhenAllBench, YieldLeaf, LEAF_SLEEP,
};
use tapbench_core::{BuildError, Case, CellError, ParamValue, Params, RtOf, Runtime};
use tapbench_measure::BatchRunner;

const OPS: [LeafOp; 3] = [LeafOp::Ready, LeafOp::Yield, LeafOp::Sleep1ms];

fn case(variant: &str, n: u64, op: &str) -> Case {
    Case::new(
        "when_all",
        variant,
        Params::from_pairs([
            ("n", ParamValue::Int(n)),
            ("op", ParamValue::Text(op.into())),
        ]),
    )
}

fn op_name(op: LeafOp) -> &'static str {
    match op {
        LeafOp::Ready => "ready",
        LeafOp::Yield => "yield",
        LeafOp::Sleep1ms => "sleep_1ms",
    }
}

/// A WhenAll that returns its results in reverse order: what a task set would give without
/// putting each result back at its input index.
struct Reversed;

impl<R: Runtime> WhenAll<R> for Reversed {
    fn when_all<L: Leaf<R>>(&self, rt: &R, n: u64) -> impl Future<Output = Vec<u64>> + Send {
        let all = JoinAll.when_all::<L>(rt, n);
        async move {
            let mut results = all.await;
            results.reverse();
            results
        }
    }
}

/// The size of the leaf future of `L` on runtime `R`.
fn leaf_size<R: Runtime, L: Leaf<R>>(rt: &R) -> usize {
    std::mem::size_of_val(&L::leaf(rt, 0))
}

rt_test! {
    /// The generic variants, for every operation.
    async fn results_are_in_input_order(rt) {
        for op in OPS {
            for n in [1, 10, 257] {
                assert_eq!(run(&JoinAll, &rt, n, op).await, expected(n), "join_all, {op:?}, n={n}");
                assert_eq!(run(&SpawnJoin, &rt, n, op).await, expected(n), "spawn_join, {op:?}, n={n}");
            }
        }
    }

    /// `native` is built from the family's table and verified where the runtime has a task
    /// set, and skipped with the table's reason where it has not.
    async fn native_is_verified_or_skipped_with_a_reason(rt) {
        let native = tapbench_core::native::find(RtOf::<Cfg>::natives(), "when_all", "native")
            .expect("every family declares when_all/native")
            .info();
        for op in OPS {
            for n in [1, 10, 257] {
                let outcome = run_case(&rt, &case("native", n, op_name(op)), 3).await;
                match (native.provided, outcome) {
                    (Ok(_), Ok(())) => {}
                    (Err(reason), Err(CellError::Build(BuildError::Unsupported(why)))) => {
                        assert_eq!(why, reason);
                    }
                    (declared, outcome) => {
                        panic!("{op:?}, n={n}: declared {declared:?}, got {outcome:?}")
                    }
                }
            }
        }
    }

    /// With `op=sleep_1ms` and n=1000, one WhenAll lasts at least one sleep and far less
    /// than 1000 sleeps in sequence.
    async fn sleeps_overlap(rt) {
        const N: u64 = 1000;
        for variant in ["join_all", "spawn_join"] {
            let start = Instant::now();
            let results = match variant {
                "join_all" => run(&JoinAll, &rt, N, LeafOp::Sleep1ms).await,
                _ => run(&SpawnJoin, &rt, N, LeafOp::Sleep1ms).await,
            };
            let elapsed = start.elapsed();
            assert_eq!(results, expected(N), "{variant} on {}", Cfg::INFO.id);
            assert!(elapsed >= LEAF_SLEEP, "{variant} on {}: {elapsed:?}", Cfg::INFO.id);
            if let Err(violation) = check_concurrency(N, elapsed) {
                panic!("{variant} on {}: {violation}", Cfg::INFO.id);
            }
        }
        // The native variant's bench makes the same check on every batch.
        match run_case(&rt, &case("native", N, "sleep_1ms"), 2).await {
            Ok(()) | Err(CellError::Build(BuildError::Unsupported(_))) => {}
            Err(err) => panic!("native on {}: {err}", Cfg::INFO.id),
        }
    }

    /// The bench's own check (a position-weighted digest) rejects results out of order.
    async fn the_bench_check_catches_misordered_results(rt) {
        let params = case("join_all", 10, "yield").params;
        let mut good = WhenAllBench::<_, _, YieldLeaf>::new(&rt, JoinAll, &params).unwrap();
        good.run_batch(3).await.unwrap();
        assert!(good.check_batch(3).is_ok());
        let mut bad = WhenAllBench::<_, _, YieldLeaf>::new(&rt, Reversed, &params).unwrap();
        bad.run_batch(3).await.unwrap();
        let violation = bad.check_batch(3).unwrap_err();
        assert!(violation.what.contains("input order"), "{violation}");
    }

    /// A leaf holds only the state of its own op: a `ready` leaf is two words on every
    /// runtime, and never larger than a leaf that sleeps.
    fn a_ready_leaf_is_not_sized_for_a_timer() {
        let host = tapbench_conformance::host::<Cfg>();
        let rt = tapbench_core::Host::runtime(&host);
        let ready = leaf_size::<_, ReadyLeaf>(&rt);
        assert!(ready <= 2 * std::mem::size_of::<u64>(), "{}: {ready} B", Cfg::INFO.id);
        assert!(ready <= leaf_size::<_, YieldLeaf>(&rt), "{}", Cfg::INFO.id);
        assert!(ready < leaf_size::<_, SleepLeaf>(&rt), "{}", Cfg::INFO.id);
    }
}

/// The concurrency check fails a WhenAll that did not wait, or that ran its sleeps one
/// after another.
#[test]
fn the_concurrency_check_can_fail() {
    assert!(check_concurrency(1000, Duration::from_millis(3)).is_ok());
    assert!(
        check_concurrency(1000, Duration::from_micros(10)).is_err(),
        "no sleep at all"
    );
    assert!(
        check_concurrency(1000, Duration::from_secs(1)).is_err(),
        "sleeps in sequence"
    );
}
