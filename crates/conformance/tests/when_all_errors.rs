//! `when_all_errors` (WhenAll with AggregateException; WhenAllOrFirstException) on every
//! configuration: `aggregate` reports exactly the failed indices, in order; `first_error`
//! returns the lowest failure before the slow sibling finishes and drops it unfinished; no
//! leaf future leaks. WhenAlls that leak their siblings, wait for the slow one or report
//! only part of the errors are caught by the bench's own check.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::future::{join_all, try_join_all};
use tapbench_conformance::{rt_test, run_case};
use tapbench_core::drop_tally::{settle, DropCounts, SETTLE_LIMIT};
use tapbench_core::workloads::when_all::leaf_value;
use tapbench_core::workloads::when_all_errors::{
    check_drops, leaves, Aggregate, AggregateError, FailPlan, FirstError, LeafFailed, Returns,
    Tallies, WhenAllErrors, WhenAllErrorsBench, SLOW_SLEEP,
};
use tapbench_core::{Case, ParamValue, Params, Runtime, Violation};
use tapbench_measure::BatchRunner;

/// `(n, fail_every)`: one failure, many, none (leaf 5 of 6 is the slow sibling), all but
/// the slow sibling, and both sides of `try_join_all`'s switch at 30 leaves.
const PLANS: [(u64, u64); 6] = [(10, 10), (31, 10), (257, 10), (1000, 10), (6, 10), (10, 1)];

/// How long a test waits for drops that a leaky WhenAll never makes.
const SHORT_SETTLE: Duration = Duration::from_millis(200);

fn plan(n: u64, fail_every: u64, slow: Duration) -> FailPlan {
    FailPlan {
        n,
        fail_every,
        slow,
    }
}

fn params(n: u64, fail_every: u64) -> Params {
    Params::from_pairs([
        ("n", ParamValue::Int(n)),
        ("fail_every", ParamValue::Int(fail_every)),
    ])
}

fn values(n: u64) -> Vec<u64> {
    (0..n).map(leaf_value).collect()
}

/// Runs one WhenAll of `plan` with `imp`, then checks its leaves' drops; returns the
/// outcome and the slow sibling's drop counts.
async fn when_all_checked<R: Runtime, W: WhenAllErrors<R>>(
    rt: &R,
    imp: &W,
    plan: FailPlan,
) -> (Result<Vec<u64>, W::Error>, DropCounts) {
    let tallies = Tallies::default();
    let outcome = imp.when_all(rt, plan, &tallies).await;
    let [leaves, slow] = settle(rt, [&*tallies.leaves, &*tallies.slow], plan.n, SETTLE_LIMIT).await;
    let late = tallies.order.slow_after_failure();
    if let Err(violation) = check_drops(W::RETURNS, plan, 1, leaves, slow, late) {
        panic!("{:?} on {}, {plan:?}: {violation}", W::RETURNS, rt.id());
    }
    (outcome, slow)
}

/// `first_error` that forgets its `try_join_all` once it has returned: the unfinished
/// siblings are never dropped.
struct ForgetSiblings;

impl<R: Runtime> WhenAllErrors<R> for ForgetSiblings {
    const RETURNS: Returns = Returns::FirstError;
    type Error = LeafFailed;

    fn when_all(
        &self,
        rt: &R,
        plan: FailPlan,
        tallies: &Tallies,
    ) -> impl Future<Output = Result<Vec<u64>, LeafFailed>> + Send {
        let mut all = Box::pin(try_join_all(leaves(rt, plan, tallies)));
        async move {
            let outcome = poll_fn(|cx| Pin::as_mut(&mut all).poll(cx)).await;
            std::mem::forget(all);
            outcome
        }
    }
}

/// `first_error` that waits for every leaf and then returns the first error: the right
/// answer, but only after the slow sibling has finished.
struct WaitForAll;

impl<R: Runtime> WhenAllErrors<R> for WaitForAll {
    const RETURNS: Returns = Returns::FirstError;
    type Error = LeafFailed;

    fn when_all(
        &self,
        rt: &R,
        plan: FailPlan,
        tallies: &Tallies,
    ) -> impl Future<Output = Result<Vec<u64>, LeafFailed>> + Send {
        let all = join_all(leaves(rt, plan, tallies));
        async move { all.await.into_iter().collect() }
    }
}

/// `aggregate` that stops at the first error and reports it alone.
struct FirstOnlyAggregate;

impl<R: Runtime> WhenAllErrors<R> for FirstOnlyAggregate {
    const RETURNS: Returns = Returns::AllErrors;
    type Error = AggregateError;

    fn when_all(
        &self,
        rt: &R,
        plan: FailPlan,
        tallies: &Tallies,
    ) -> impl Future<Output = Result<Vec<u64>, AggregateError>> + Send {
        let all = try_join_all(leaves(rt, plan, tallies));
        async move {
            all.await.map_err(|first| AggregateError {
                errors: vec![first],
            })
        }
    }
}

/// Runs a batch of `imp` through the bench (n = 10, fail_every = 10) and returns its
/// check's verdict.
async fn bench_verdict<R: Runtime, W: WhenAllErrors<R>>(rt: &R, imp: W) -> Result<(), Violation> {
    let mut bench = WhenAllErrorsBench::new(rt, imp, &params(31, 10), SLOW_SLEEP)
        .expect("valid parameters")
        .with_settle_limit(SHORT_SETTLE);
    bench.run_batch(3).await?;
    bench.check_batch(3).map(|_| ())
}

rt_test! {
    /// `aggregate` waits for every leaf and reports every failed index, in input order.
    async fn aggregate_reports_exactly_the_failed_indices(rt) {
        for (n, fail_every) in PLANS {
            let plan = plan(n, fail_every, SLOW_SLEEP);
            let failed: Vec<LeafFailed> = plan.failures().map(|index| LeafFailed { index }).collect();
            let (outcome, _) = when_all_checked(&rt, &Aggregate, plan).await;
            if failed.is_empty() {
                assert_eq!(outcome, Ok(values(n)), "{plan:?}");
            } else {
                assert_eq!(outcome, Err(AggregateError { errors: failed }), "{plan:?}");
            }
        }
    }

    /// `first_error` returns the failure of lowest index and never waits for the slow
    /// sibling; every leaf future is dropped.
    async fn first_error_returns_the_lowest_failure_and_cancels_the_rest(rt) {
        for (n, fail_every) in PLANS {
            let plan = plan(n, fail_every, SLOW_SLEEP);
            let (outcome, _) = when_all_checked(&rt, &FirstError, plan).await;
            match plan.failures().next() {
                Some(index) => assert_eq!(outcome, Err(LeafFailed { index }), "{plan:?}"),
                None => assert_eq!(outcome, Ok(values(n)), "{plan:?}"),
            }
        }
    }

    /// With the slow sibling sleeping 2 s, `first_error` returns far sooner (and the
    /// sibling is observed dropped, not finished, by `when_all_checked`), while `aggregate`
    /// waits for it.
    async fn first_error_returns_before_the_slow_sibling_finishes(rt) {
        for n in [10, 1000] {
            let slow = plan(n, 10, Duration::from_secs(2));
            let start = Instant::now();
            let (outcome, sibling) = when_all_checked(&rt, &FirstError, slow).await;
            let elapsed = start.elapsed();
            assert_eq!(outcome, Err(LeafFailed { index: 5 }));
            assert_eq!((sibling.finished, sibling.dropped_unfinished), (0, 1), "n={n}");
            assert!(elapsed < Duration::from_secs(1), "n={n} on {}: {elapsed:?}", Cfg::INFO.id);
        }
        let waited = plan(10, 10, Duration::from_millis(200));
        let start = Instant::now();
        assert!(when_all_checked(&rt, &Aggregate, waited).await.0.is_err());
        assert!(start.elapsed() >= waited.slow, "{:?}", start.elapsed());
    }

    /// Both variants' benches pass their own checks on the catalogue's cases.
    async fn the_cases_run_verified(rt) {
        for variant in ["aggregate", "first_error"] {
            for n in [10, 1000] {
                let case = Case::new("when_all_errors", variant, params(n, 10));
                if let Err(err) = run_case(&rt, &case, 3).await {
                    panic!("{case} on {}: {err}", Cfg::INFO.id);
                }
            }
        }
    }

    /// Siblings leaked, a slow sibling waited for, or errors left out: each fails the
    /// bench's check, which the real variants pass.
    async fn wrong_when_alls_are_caught(rt) {
        assert_eq!(bench_verdict(&rt, Aggregate).await, Ok(()));
        assert_eq!(bench_verdict(&rt, FirstError).await, Ok(()));
        let leaked = bench_verdict(&rt, ForgetSiblings).await.unwrap_err();
        assert!(leaked.what.contains("none leaked"), "{leaked}");
        let waited = bench_verdict(&rt, WaitForAll).await.unwrap_err();
        assert!(waited.what.contains("slow sibling"), "{waited}");
        let partial = bench_verdict(&rt, FirstOnlyAggregate).await.unwrap_err();
        assert!(partial.what.contains("exactly the failed indices"), "{partial}");
    }
}
