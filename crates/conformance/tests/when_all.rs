//! `when_all` (Task.WhenAll) on every configuration: results equal `f(0..n)` in input order
//! for every variant and operation, and with `op=sleep_1ms` the operations really overlap.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tapbench_conformance::{rt_test, RtConfig};
use tapbench_core::workloads::when_all::{
    check_concurrency, expected, JoinAll, LeafOp, SpawnJoin, WhenAll, WhenAllBench, LEAF_SLEEP,
};
use tapbench_core::{Case, ParamValue, Params, Runtime};
use tapbench_measure::BatchRunner;

const OPS: [LeafOp; 3] = [LeafOp::Ready, LeafOp::Yield, LeafOp::Sleep1ms];

/// Runs `variant` of WhenAll with the generic implementations or the configuration's
/// native one; `None` when the configuration has no native variant.
fn when_all<'a, C: RtConfig>(
    rt: &'a C::Rt,
    variant: &str,
    n: u64,
    op: LeafOp,
) -> Option<BoxFuture<'a, Vec<u64>>> {
    match variant {
        "join_all" => Some(Box::pin(JoinAll.when_all(rt, n, op))),
        "spawn_join" => Some(Box::pin(SpawnJoin.when_all(rt, n, op))),
        "native" => C::native_when_all(rt, n, op),
        other => panic!("no when_all variant {other}"),
    }
}

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

/// A WhenAll that returns its results in reverse order: what a task set would give without
/// putting each result back at its input index.
struct Reversed;

impl<R: Runtime> WhenAll<R> for Reversed {
    fn when_all(&self, rt: &R, n: u64, op: LeafOp) -> impl Future<Output = Vec<u64>> + Send {
        let all = JoinAll.when_all(rt, n, op);
        async move {
            let mut results = all.await;
            results.reverse();
            results
        }
    }
}

rt_test! {
    /// Every variant (native where the runtime has one) and every operation.
    async fn results_are_in_input_order(rt) {
        for variant in ["join_all", "spawn_join", "native"] {
            for op in OPS {
                for n in [1, 10, 257] {
                    let Some(run) = when_all::<Cfg>(&rt, variant, n, op) else {
                        assert_eq!(Cfg::FAMILY, "smol", "{} lacks when_all/native", Cfg::ID);
                        continue;
                    };
                    assert_eq!(run.await, expected(n), "{variant}, {op:?}, n={n} on {}", Cfg::ID);
                }
            }
        }
    }

    /// `native` is built where the runtime has a task set and skipped with a reason
    /// where it has not (smol).
    async fn native_is_built_or_skipped_with_a_reason(rt) {
        let built = Cfg::build(&rt, &case("native", 10, "ready"));
        match (Cfg::FAMILY, built) {
            ("tokio", Ok(_)) => {}
            ("smol", Err(tapbench_core::BuildError::Unsupported(reason))) => {
                assert!(reason.contains("smol"), "an unclear reason: {reason}");
            }
            (family, Err(err)) => panic!("{family}: when_all/native not built: {err}"),
            (family, Ok(_)) => panic!("{family}: when_all/native unexpectedly built"),
        }
    }

    /// With `op=sleep_1ms` and n=1000, one WhenAll lasts at least one sleep and far less
    /// than 1000 sleeps in sequence.
    async fn sleeps_overlap(rt) {
        const N: u64 = 1000;
        for variant in ["join_all", "spawn_join", "native"] {
            let start = Instant::now();
            let Some(run) = when_all::<Cfg>(&rt, variant, N, LeafOp::Sleep1ms) else {
                continue;
            };
            let results = run.await;
            let elapsed = start.elapsed();
            assert_eq!(results, expected(N), "{variant} on {}", Cfg::ID);
            assert!(elapsed >= LEAF_SLEEP, "{variant} on {}: {elapsed:?}", Cfg::ID);
            if let Err(violation) = check_concurrency(N, elapsed) {
                panic!("{variant} on {}: {violation}", Cfg::ID);
            }
        }
    }

    /// The bench's own check (a position-weighted digest) rejects results out of order.
    async fn the_bench_check_catches_misordered_results(rt) {
        let params = case("join_all", 10, "yield").params;
        let mut good = WhenAllBench::new(&rt, JoinAll, &params).unwrap();
        good.run_batch(3).await.unwrap();
        assert!(good.check_batch(3).is_ok());
        let mut bad = WhenAllBench::new(&rt, Reversed, &params).unwrap();
        bad.run_batch(3).await.unwrap();
        let violation = bad.check_batch(3).unwrap_err();
        assert!(violation.what.contains("input order"), "{violation}");
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
