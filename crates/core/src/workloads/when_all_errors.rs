//! `when_all_errors` (Task.WhenAll with AggregateException; WhenAllOrFirstException): a
//! WhenAll of `n` operations of which some fail.
//!
//! One operation is one WhenAll of `n` leaves. Leaf `i` fails when
//! `i % fail_every == fail_every / 2` (a fixed rule, the same on every runtime: with
//! `fail_every = 10`, leaves 5, 15, 25, ...). Every leaf yields once and then fails or
//! returns [`leaf_value`]`(i)`, except the last leaf, the slow sibling, which never fails
//! and sleeps [`SLOW_SLEEP`] on the runtime's timer instead of yielding. All leaves have one
//! type (`join_all` takes one), so each is sized for the slow sibling's timer, the same in
//! both variants.
//!
//! `aggregate` waits for every leaf (`futures::future::join_all`) and then collects every
//! error with its index, in input order, as an AggregateException holds the exceptions of
//! the tasks in order. `first_error` is `futures::future::try_join_all`: it returns at the
//! first failure and drops the unfinished siblings. With inline futures polled in input
//! order, that first failure is the failing leaf of lowest index, `fail_every / 2`: for up
//! to 30 leaves `try_join_all` polls its leaves in input order and returns at the first
//! error it meets; above that it collects a `FuturesOrdered`, whose outputs come out in
//! input order. Either way all failing leaves complete after one yield, the lowest-indexed
//! one is seen first, and the slow sibling (the last leaf) is still sleeping. Up to 30
//! leaves the siblings are dropped inside the poll that returns the error; above, with the
//! `try_join_all` future when the WhenAll returns.
//!
//! After the clock stops the bench checks every operation's outcome against the rule (a
//! digest and a count of the errors: `aggregate` must report exactly the failed indices, in
//! order, `first_error` exactly the lowest one) and, with drop guards on every leaf, that
//! every leaf future was dropped (none leaked), that `aggregate` saw every leaf finish, and
//! that `first_error` never let the slow sibling finish after a failure had finished (it
//! returned at the failure and dropped the sibling; see [`FinishOrder`] for the rare
//! operation whose slow sibling is already done at its first poll on a loaded machine).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::{join_all, try_join_all, Either};
use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use super::when_all::{digest, leaf_value};
use crate::drop_tally::{settle, DropCounts, DropGuard, DropTally, SETTLE_LIMIT};
use crate::params::{ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::seeded::mix64;
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// `n`: operations per WhenAll.
pub const PARAM_N: ParamSpec = ParamSpec {
    name: "n",
    doc: "operations started and awaited by one WhenAll (the last one is the slow sibling)",
    kind: ParamKind::Int {
        min: 1,
        max: 4_294_967_295,
    },
};

/// `fail_every`: one operation in this many fails.
pub const PARAM_FAIL_EVERY: ParamSpec = ParamSpec {
    name: "fail_every",
    doc: "operation i fails when i % fail_every == fail_every / 2 (never the slow last one)",
    kind: ParamKind::Int {
        min: 1,
        max: 4_294_967_295,
    },
};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "when_all_errors",
    tap: "Task.WhenAll with AggregateException, WhenAllOrFirstException",
    op_unit: "one WhenAll of n operations of which some fail",
    variants: &[
        VariantSpec {
            id: "aggregate",
            doc: "futures::future::join_all, then every error collected with its index (AggregateException). Allocates 3 per WhenAll up to 30 operations (the futures, results, errors), about n + 21 above (join_all's FuturesOrdered)",
            native: false,
        },
        VariantSpec {
            id: "first_error",
            doc: "futures::future::try_join_all: returns at the first failure, drops the unfinished siblings. Allocates 1 per WhenAll up to 30 operations, about n + 13 above",
            native: false,
        },
    ],
    params: &[PARAM_N, PARAM_FAIL_EVERY],
    cases: || {
        super::grid(
            "when_all_errors",
            &["aggregate", "first_error"],
            &[
                ("n", &[ParamValue::Int(10), ParamValue::Int(1000)]),
                ("fail_every", &[ParamValue::Int(10)]),
            ],
        )
    },
    memory_bytes: |p| p.int("n").unwrap_or(0).saturating_mul(super::TASK_BYTES),
    normalize: |_| {},
    views: &[],
};

/// The slow sibling's sleep in the measured cells.
pub const SLOW_SLEEP: Duration = Duration::from_millis(1);

/// Which leaves of a WhenAll fail, and how long the slow sibling (the last leaf) sleeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailPlan {
    /// Leaves per WhenAll.
    pub n: u64,
    /// Leaf `i` fails when `i % fail_every == fail_every / 2`.
    pub fail_every: u64,
    /// The slow sibling's sleep.
    pub slow: Duration,
}

impl FailPlan {
    /// Whether leaf `i` fails: `i % fail_every == fail_every / 2`, never the slow last
    /// leaf.
    #[inline]
    pub fn fails(&self, i: u64) -> bool {
        !self.is_slow(i) && i % self.fail_every.max(1) == self.fail_every.max(1) / 2
    }

    /// Whether leaf `i` is the slow sibling (the last leaf).
    #[inline]
    pub fn is_slow(&self, i: u64) -> bool {
        i + 1 == self.n
    }

    /// The failing leaves, in index order.
    pub fn failures(&self) -> impl Iterator<Item = u64> {
        let plan = *self;
        (0..plan.n).filter(move |i| plan.fails(*i))
    }
}

/// A failed leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafFailed {
    /// The leaf's index.
    pub index: u64,
}

/// Every error of a WhenAll of which some leaves failed, in input order (an
/// AggregateException's inner exceptions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateError {
    /// The errors.
    pub errors: Vec<LeafFailed>,
}

/// The errors a failed WhenAll reports.
pub trait FailedLeaves: Send + 'static {
    /// The errors, in the order reported.
    fn errors(&self) -> &[LeafFailed];
}

impl FailedLeaves for LeafFailed {
    fn errors(&self) -> &[LeafFailed] {
        std::slice::from_ref(self)
    }
}

impl FailedLeaves for AggregateError {
    fn errors(&self) -> &[LeafFailed] {
        &self.errors
    }
}

/// The drop tallies of the leaves (the slow sibling's apart from the others') and the
/// order in which failures and the slow sibling finished.
#[derive(Debug, Clone, Default)]
pub struct Tallies {
    /// Every leaf but the slow sibling.
    pub leaves: Arc<DropTally>,
    /// The slow sibling.
    pub slow: Arc<DropTally>,
    /// Failures and slow siblings in the order they finished.
    pub order: Arc<FinishOrder>,
}

impl Tallies {
    /// Sets every count back to zero (between two batches).
    pub fn reset(&self) {
        self.leaves.reset();
        self.slow.reset();
        self.order.failures.store(0, Ordering::SeqCst);
        self.order.slow_after_failure.store(0, Ordering::SeqCst);
    }
}

/// Counts failing leaves as they finish, and slow siblings that finish after a failure of
/// their own WhenAll had finished: what a WhenAll that returns at the first failure never
/// lets happen.
///
/// (The slow sibling may still finish *before* the first failure: when the thread running
/// a WhenAll is preempted for longer than the slow sibling's sleep during its first poll,
/// the sleep is over when the slow sibling is first polled. A loaded machine does this now
/// and then with a 1 ms sleep; it is no fault of the combinator.)
#[derive(Debug, Default)]
pub struct FinishOrder {
    failures: AtomicU64,
    slow_after_failure: AtomicU64,
}

impl FinishOrder {
    /// Slow siblings that finished after a failing sibling had finished.
    pub fn slow_after_failure(&self) -> u64 {
        self.slow_after_failure.load(Ordering::SeqCst)
    }
}

/// Leaf `i` of `plan`: yields once (the slow sibling sleeps `plan.slow` instead), then fails
/// or returns its value; carries a guard of `tallies`, marked finished when it returns. A
/// failing leaf and the slow sibling also record in `tallies.order` when they finish.
pub fn leaf<R: Runtime>(
    rt: &R,
    plan: FailPlan,
    i: u64,
    tallies: &Tallies,
) -> impl Future<Output = Result<u64, LeafFailed>> + Send + 'static + use<R> {
    let (wait, tally) = if plan.is_slow(i) {
        (Either::Right(rt.sleep(plan.slow)), &tallies.slow)
    } else {
        (Either::Left(rt.yield_now()), &tallies.leaves)
    };
    let outcome = if plan.fails(i) {
        Err(LeafFailed { index: i })
    } else {
        Ok(leaf_value(i))
    };
    let order = (plan.fails(i) || plan.is_slow(i)).then(|| {
        let failures_before = tallies.order.failures.load(Ordering::SeqCst);
        (Arc::clone(&tallies.order), failures_before)
    });
    let mut guard = DropGuard::new(tally);
    async move {
        wait.await;
        guard.finish();
        if let Some((order, failures_before)) = &order {
            if outcome.is_err() {
                order.failures.fetch_add(1, Ordering::SeqCst);
            } else if order.failures.load(Ordering::SeqCst) != *failures_before {
                order.slow_after_failure.fetch_add(1, Ordering::SeqCst);
            }
        }
        outcome
    }
}

/// The `n` leaves of `plan`, in input order.
pub fn leaves<'r, 't, R: Runtime>(
    rt: &'r R,
    plan: FailPlan,
    tallies: &'t Tallies,
) -> impl Iterator<Item = impl Future<Output = Result<u64, LeafFailed>> + Send + 'static + use<R>>
       + use<'r, 't, R> {
    (0..plan.n).map(move |i| leaf(rt, plan, i, tallies))
}

/// What a variant returns when some leaves fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// Every error, in input order.
    AllErrors,
    /// The first error only.
    FirstError,
}

/// One way of writing a WhenAll whose operations may fail.
pub trait WhenAllErrors<R: Runtime>: Send + Sync + 'static {
    /// What it returns when some leaves fail.
    const RETURNS: Returns;

    /// Its error type.
    type Error: FailedLeaves;

    /// Runs the [`leaves`] of `plan` guarded by `tallies`: every value in input order, or
    /// the error(s).
    fn when_all(
        &self,
        rt: &R,
        plan: FailPlan,
        tallies: &Tallies,
    ) -> impl Future<Output = Result<Vec<u64>, Self::Error>> + Send;
}

/// `aggregate`: `join_all`, then every error collected in input order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Aggregate;

impl<R: Runtime> WhenAllErrors<R> for Aggregate {
    const RETURNS: Returns = Returns::AllErrors;
    type Error = AggregateError;

    fn when_all(
        &self,
        rt: &R,
        plan: FailPlan,
        tallies: &Tallies,
    ) -> impl Future<Output = Result<Vec<u64>, AggregateError>> + Send {
        let all = join_all(leaves(rt, plan, tallies));
        async move {
            let results = all.await;
            let failed = results.iter().filter(|r| r.is_err()).count();
            if failed == 0 {
                return Ok(results.into_iter().flatten().collect());
            }
            let mut errors = Vec::with_capacity(failed);
            errors.extend(results.into_iter().filter_map(Result::err));
            Err(AggregateError { errors })
        }
    }
}

/// `first_error`: `try_join_all`, which returns at the first failure and drops the rest.
#[derive(Debug, Clone, Copy, Default)]
pub struct FirstError;

impl<R: Runtime> WhenAllErrors<R> for FirstError {
    const RETURNS: Returns = Returns::FirstError;
    type Error = LeafFailed;

    fn when_all(
        &self,
        rt: &R,
        plan: FailPlan,
        tallies: &Tallies,
    ) -> impl Future<Output = Result<Vec<u64>, LeafFailed>> + Send {
        try_join_all(leaves(rt, plan, tallies))
    }
}

/// What WhenAlls came to: how many failed, how many errors they reported, and a digest of
/// every outcome (the values in order, or the errors in the order reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcomes {
    /// WhenAlls that returned an error.
    pub failed: u64,
    /// Errors reported, over all of them.
    pub errors: u64,
    /// Sum of the outcomes' digests.
    pub digest: u64,
}

impl Outcomes {
    /// Folds in one WhenAll's outcome.
    pub fn add<E: FailedLeaves>(&mut self, outcome: &Result<Vec<u64>, E>) {
        let code = match outcome {
            Ok(values) => digest(values),
            Err(error) => {
                let errors = error.errors();
                self.failed += 1;
                self.errors += errors.len() as u64;
                errors_digest(errors)
            }
        };
        self.digest = self.digest.wrapping_add(code);
    }

    /// What `ops` WhenAlls of `plan` must come to for a variant that `returns` so.
    pub fn expected(returns: Returns, plan: FailPlan, ops: u64) -> Outcomes {
        let mut failures = plan.failures().map(|index| LeafFailed { index });
        let reported: Vec<LeafFailed> = match returns {
            Returns::AllErrors => failures.collect(),
            Returns::FirstError => failures.next().into_iter().collect(),
        };
        let one = if reported.is_empty() {
            Ok((0..plan.n).map(leaf_value).collect())
        } else {
            Err(AggregateError { errors: reported })
        };
        let mut single = Outcomes::default();
        single.add(&one);
        Outcomes {
            failed: single.failed * ops,
            errors: single.errors * ops,
            digest: single.digest.wrapping_mul(ops),
        }
    }
}

/// A position-weighted digest of errors: differs when one is missing, extra or misplaced.
fn errors_digest(errors: &[LeafFailed]) -> u64 {
    errors
        .iter()
        .enumerate()
        .fold(!(errors.len() as u64), |acc, (pos, e)| {
            acc.wrapping_add((pos as u64 + 1).wrapping_mul(mix64(e.index ^ 0xE770)))
        })
}

/// What the leaves' drop guards must show after `ops` WhenAlls of `plan` by a variant
/// that `returns` so, with `slow_after_failure` from [`FinishOrder`].
///
/// # Errors
///
/// A violation naming the invariant: a leaf never dropped (leaked), an `aggregate` that did
/// not wait for every leaf, a `first_error` that waited for the slow sibling.
pub fn check_drops(
    returns: Returns,
    plan: FailPlan,
    ops: u64,
    leaves: DropCounts,
    slow: DropCounts,
    slow_after_failure: u64,
) -> Result<(), Violation> {
    Violation::check_eq(
        "when_all_errors drops every leaf future by the end of its WhenAll (none leaked)",
        ops * plan.n,
        leaves.dropped + slow.dropped,
    )?;
    let fails = plan.failures().next().is_some();
    match returns {
        Returns::FirstError if fails => {
            Violation::check_eq(
                "first_error returns at the first failure: the slow sibling never finishes \
                 after a failure did (it is not waited for)",
                0,
                slow_after_failure,
            )?;
            Violation::check_eq(
                "first_error drops the slow sibling of every WhenAll, unfinished unless its \
                 sleep was over before the first failure",
                (ops, ops),
                (slow.dropped, slow.dropped_unfinished + slow.finished),
            )
        }
        _ => {
            Violation::check_eq(
                "a WhenAll that waits for all sees every leaf finish",
                (ops * plan.n.saturating_sub(1), ops),
                (leaves.finished, slow.finished),
            )?;
            Violation::check_eq(
                "a WhenAll that waits for all cancels no leaf",
                (0, 0),
                (leaves.dropped_unfinished, slow.dropped_unfinished),
            )
        }
    }
}

/// The measured form of a [`WhenAllErrors`] implementation.
pub struct WhenAllErrorsBench<R, W> {
    rt: R,
    imp: W,
    plan: FailPlan,
    tallies: Tallies,
    settle_limit: Duration,
    outcomes: Outcomes,
    drops: [DropCounts; 2],
    slow_after_failure: u64,
}

impl<R: Runtime, W: WhenAllErrors<R>> WhenAllErrorsBench<R, W> {
    /// A bench of `imp` with `n` and `fail_every` from the case's parameters and the slow
    /// sibling sleeping `slow`.
    ///
    /// # Errors
    ///
    /// A missing or invalid parameter.
    pub fn new(rt: &R, imp: W, params: &Params, slow: Duration) -> Result<Self, BuildError> {
        let n = params.int("n")?;
        let fail_every = params.int("fail_every")?;
        PARAM_N.check(&ParamValue::Int(n))?;
        PARAM_FAIL_EVERY.check(&ParamValue::Int(fail_every))?;
        Ok(WhenAllErrorsBench {
            rt: rt.clone(),
            imp,
            plan: FailPlan {
                n,
                fail_every,
                slow,
            },
            tallies: Tallies::default(),
            settle_limit: SETTLE_LIMIT,
            outcomes: Outcomes::default(),
            drops: [DropCounts::default(); 2],
            slow_after_failure: 0,
        })
    }

    /// The same bench, waiting at most `limit` for the leaves' drops at the end of a batch
    /// (tests of leaky WhenAlls shorten it).
    pub fn with_settle_limit(mut self, limit: Duration) -> Self {
        self.settle_limit = limit;
        self
    }
}

impl<R: Runtime, W: WhenAllErrors<R>> BatchRunner for WhenAllErrorsBench<R, W> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            self.tallies.reset();
            let mut outcomes = Outcomes::default();
            for _ in 0..iters {
                let outcome = self.imp.when_all(&self.rt, self.plan, &self.tallies).await;
                outcomes.add(&outcome);
            }
            let tallies = [&*self.tallies.leaves, &*self.tallies.slow];
            let want = iters.saturating_mul(self.plan.n);
            self.drops = settle(&self.rt, tallies, want, self.settle_limit).await;
            self.slow_after_failure = self.tallies.order.slow_after_failure();
            self.outcomes = outcomes;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        let want = Outcomes::expected(W::RETURNS, self.plan, iters);
        let got = self.outcomes;
        let what = match W::RETURNS {
            Returns::AllErrors => "aggregate reports exactly the failed indices, in order",
            Returns::FirstError => "first_error returns the first failure (the lowest index)",
        };
        Violation::check_eq(what, want, got)?;
        let [leaves, slow] = self.drops;
        check_drops(
            W::RETURNS,
            self.plan,
            iters,
            leaves,
            slow,
            self.slow_after_failure,
        )?;
        Ok(None)
    }
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    let params = &case.params;
    match case.variant.as_str() {
        "aggregate" => Ok(Box::new(WhenAllErrorsBench::new(
            rt, Aggregate, params, SLOW_SLEEP,
        )?)),
        "first_error" => Ok(Box::new(WhenAllErrorsBench::new(
            rt, FirstError, params, SLOW_SLEEP,
        )?)),
        other => Err(BuildError::Unsupported(format!("when_all_errors/{other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(n: u64, fail_every: u64) -> FailPlan {
        FailPlan {
            n,
            fail_every,
            slow: SLOW_SLEEP,
        }
    }

    #[test]
    fn the_rule_picks_one_leaf_in_fail_every_and_never_the_slow_one() {
        assert_eq!(plan(10, 10).failures().collect::<Vec<_>>(), [5]);
        assert_eq!(plan(1000, 10).failures().count(), 100);
        assert_eq!(plan(1000, 1000).failures().collect::<Vec<_>>(), [500]);
        assert_eq!(plan(6, 10).failures().count(), 0, "leaf 5 is the slow one");
        assert_eq!(plan(10, 1).failures().count(), 9);
        assert!(plan(10, 1).is_slow(9) && !plan(10, 1).fails(9));
    }

    #[test]
    fn the_checks_see_a_wrong_outcome() {
        let p = plan(1000, 10);
        let all = Outcomes::expected(Returns::AllErrors, p, 3);
        let first = Outcomes::expected(Returns::FirstError, p, 3);
        assert_eq!((all.failed, all.errors), (3, 300));
        assert_eq!((first.failed, first.errors), (3, 3));
        assert_ne!(all.digest, first.digest);
        // The errors out of order, or the second failure instead of the first.
        let mut reversed = Outcomes::default();
        let mut errors: Vec<_> = p.failures().map(|index| LeafFailed { index }).collect();
        errors.reverse();
        reversed.add::<AggregateError>(&Err(AggregateError { errors }));
        assert_ne!(reversed.digest, Outcomes::expected(Returns::AllErrors, p, 1).digest);
        let mut second = Outcomes::default();
        second.add::<LeafFailed>(&Err(LeafFailed { index: 15 }));
        assert_ne!(second, Outcomes::expected(Returns::FirstError, p, 1));
        // No failure at all: the values in order.
        let none = Outcomes::expected(Returns::FirstError, plan(5, 10), 2);
        assert_eq!((none.failed, none.errors), (0, 0));
    }

    #[test]
    fn the_drop_checks_see_leaks_and_a_finished_slow_sibling() {
        let p = plan(10, 10);
        let cancelled = DropCounts {
            finished: 0,
            dropped: 2,
            dropped_unfinished: 2,
        };
        let leaves = DropCounts {
            finished: 12,
            dropped: 18,
            dropped_unfinished: 6,
        };
        assert!(check_drops(Returns::FirstError, p, 2, leaves, cancelled, 0).is_ok());
        let leaked = DropCounts {
            dropped: 17,
            ..leaves
        };
        assert!(check_drops(Returns::FirstError, p, 2, leaked, cancelled, 0).is_err());
        let finished = DropCounts {
            finished: 2,
            dropped: 2,
            dropped_unfinished: 0,
        };
        // Waited for: finished after the failure.
        assert!(check_drops(Returns::FirstError, p, 2, leaves, finished, 2).is_err());
        // Finished before the first failure (a preempted first poll): no fault.
        assert!(check_drops(Returns::FirstError, p, 2, leaves, finished, 0).is_ok());
        let all = DropCounts {
            finished: 18,
            dropped: 18,
            dropped_unfinished: 0,
        };
        assert!(check_drops(Returns::AllErrors, p, 2, all, finished, 2).is_ok());
        assert!(check_drops(Returns::AllErrors, p, 2, all, cancelled, 0).is_err());
    }
}
