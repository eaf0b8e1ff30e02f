//! `retry` (RetryOnFault) on every configuration: the tries match the seeded failure
//! sequence exactly, an operation whose every try fails returns the last try's error, and
//! `delayed` really sleeps between tries. A combinator that tries once too many or returns
//! the first error is caught by the same check the bench runs.

use std::time::{Duration, Instant};

use tapbench_conformance::rt_test;
use tapbench_core::workloads::retry::{
    attempt, retry_on_fault, run_ops, FailurePattern, Outcomes, TryFailed, Variant,
};

/// Operations per run: enough for every probability to mix successes and failures.
const OPS: u64 = 300;

const PROBABILITIES: [f64; 4] = [0.0, 0.5, 0.9, 1.0];

rt_test! {
    async fn tries_and_outcomes_follow_the_failure_sequence(rt) {
        for p in PROBABILITIES {
            let pattern = FailurePattern::new(p);
            for max_tries in [1, 3] {
                let got = run_ops(&rt, Variant::Immediate, pattern, max_tries, OPS).await;
                let want = Outcomes::expected(pattern, max_tries, OPS);
                assert_eq!(got, want, "p={p}, max_tries={max_tries}");
            }
        }
        // At p = 1 every operation tries three times and fails.
        let all = run_ops(&rt, Variant::Immediate, FailurePattern::new(1.0), 3, OPS).await;
        assert_eq!((all.tries, all.failed), (3 * OPS, OPS));
    }

    /// The error returned is the last try's, with every try made.
    async fn when_every_try_fails_the_last_error_is_returned(rt) {
        let pattern = FailurePattern::new(1.0);
        let mut tries = 0;
        let outcome = retry_on_fault(
            |t| {
                tries += 1;
                attempt(&rt, pattern, 7, t)
            },
            4,
            || std::future::ready(()),
        )
        .await;
        assert_eq!(outcome, Err(TryFailed { op: 7, attempt: 3 }));
        assert_eq!(tries, 4);
    }

    /// A first success ends the retries: no try after it.
    async fn a_success_ends_the_retries(rt) {
        let pattern = FailurePattern::new(0.5);
        let op = (0..1000)
            .find(|i| pattern.fails(*i, 0) && !pattern.fails(*i, 1))
            .expect("some operation fails once, then succeeds");
        let mut tries = 0;
        let outcome = retry_on_fault(
            |t| {
                tries += 1;
                attempt(&rt, pattern, op, t)
            },
            5,
            || std::future::ready(()),
        )
        .await;
        assert!(outcome.is_ok(), "{outcome:?}");
        assert_eq!(tries, 2);
    }

    /// `delayed` sleeps between tries and not after the last: a run lasts at least the
    /// sleeps the sequence calls for (a lower bound only, no upper one).
    async fn delayed_sleeps_between_tries(rt) {
        let pattern = FailurePattern::new(0.9);
        let (ops, max_tries, delay) = (20, 3, Duration::from_millis(2));
        let want = Outcomes::expected(pattern, max_tries, ops);
        let sleeps = want.tries - ops;
        let started = Instant::now();
        let got = run_ops(&rt, Variant::Delayed(delay), pattern, max_tries, ops).await;
        let elapsed = started.elapsed();
        assert_eq!(got, want);
        assert!(sleeps > 10, "{sleeps}");
        assert!(elapsed >= delay * sleeps as u32, "{elapsed:?} for {sleeps} sleeps");
    }
}

/// The check is not blind: outcomes that differ from the sequence in the tries, the
/// failures or the error returned all compare unequal.
#[test]
fn the_check_sees_a_wrong_combinator() {
    let pattern = FailurePattern::new(0.5);
    let want = Outcomes::expected(pattern, 3, OPS);
    assert_ne!(
        want,
        Outcomes {
            tries: want.tries + 1,
            ..want
        }
    );
    assert_ne!(want, Outcomes::expected(pattern, 4, OPS));
    assert_ne!(want, Outcomes::expected(pattern, 3, OPS - 1));
}
