//! `throttle` (WhenAny throttling, SemaphoreSlim) on every configuration: every variant,
//! the family's semaphore included, has exactly `k` leaves in flight at its peak and
//! completes all `n` with their values; a throttle that lets `k + 1` in, never reaches `k`,
//! or loses a leaf is caught by the same check the bench runs.

use std::future::Future;

use tapbench_conformance::{rt_test, run, run_case};
use tapbench_core::workloads::throttle::{
    run_ops, AsyncLockSemaphore, BufferUnordered, Leaves, Runs, SemaphoreThrottle, Tally, Throttle,
    Window,
};
use tapbench_core::{Case, ParamValue, Params, Runtime};
use tapbench_runtimes::family::tokio::{TokioCt, TokioMt, TokioSemaphore};

const VARIANTS: [&str; 3] = ["buffer_unordered", "semaphore", "window"];

fn case(variant: &str, n: u64, k: u64) -> Case {
    Case::new(
        "throttle",
        variant,
        Params::from_pairs([("n", ParamValue::Int(n)), ("k", ParamValue::Int(k))]),
    )
}

/// Runs `imp` `runs` times over `n` leaves, `k` in flight.
async fn runs_of<R: Runtime, T: Throttle<R>>(rt: &R, imp: &T, n: u64, k: usize, runs: u64) -> Runs {
    run_ops(rt, imp, Tally::expected(n), n, k, runs).await
}

/// Lets one leaf more in than asked.
struct Overfull;

impl<R: Runtime> Throttle<R> for Overfull {
    fn throttle<'a>(
        &'a self,
        leaves: Leaves<'a, R>,
        n: u64,
        k: usize,
    ) -> impl Future<Output = Tally> + Send + 'a {
        Throttle::<R>::throttle(&BufferUnordered, leaves, n, k + 1)
    }
}

/// Never has more than `k - 1` in flight.
struct Underfull;

impl<R: Runtime> Throttle<R> for Underfull {
    fn throttle<'a>(
        &'a self,
        leaves: Leaves<'a, R>,
        n: u64,
        k: usize,
    ) -> impl Future<Output = Tally> + Send + 'a {
        Throttle::<R>::throttle(&Window, leaves, n, k - 1)
    }
}

/// Forgets the last leaf.
struct Lossy;

impl<R: Runtime> Throttle<R> for Lossy {
    fn throttle<'a>(
        &'a self,
        leaves: Leaves<'a, R>,
        n: u64,
        k: usize,
    ) -> impl Future<Output = Tally> + Send + 'a {
        Throttle::<R>::throttle(&Window, leaves, n - 1, k)
    }
}

rt_test! {
    /// Every variant of the catalogue, native semaphore included, through the bench and its
    /// check, for several `k` (and `n` below `k`, where the peak is `n`), many runs each.
    async fn every_variant_peaks_at_k_and_completes_every_leaf(rt) {
        for variant in VARIANTS {
            for (n, k) in [(1000, 4), (1000, 64), (200, 1), (300, 7), (10, 64)] {
                if let Err(err) = run_case(&rt, &case(variant, n, k), 10).await {
                    panic!("{} {variant} n={n} k={k}: {err}", Cfg::INFO.id);
                }
            }
        }
    }

    /// What the check sees: the lowest and highest peak are `k`, nothing is left in
    /// flight, every tally is right - and with the grid's parameters no leaf was held
    /// (the combinators' own order fills the first window; see the workload's
    /// documentation), so the cells measure the plain pattern.
    async fn the_peak_is_exactly_k_in_every_run_and_no_leaf_is_held(rt) {
        let exact = |k| Runs { min_peak: k, max_peak: k, ..Runs::default() };
        let sem = SemaphoreThrottle(AsyncLockSemaphore);
        for k in [4, 16, 64] {
            assert_eq!(runs_of(&rt, &BufferUnordered, 1000, k, 10).await, exact(k as u64));
            assert_eq!(runs_of(&rt, &Window, 1000, k, 10).await, exact(k as u64));
            assert_eq!(runs_of(&rt, &sem, 1000, k, 10).await, exact(k as u64));
        }
    }

    async fn a_throttle_with_k_plus_one_in_flight_is_caught(rt) {
        let runs = runs_of(&rt, &Overfull, 1000, 4, 3).await;
        assert_eq!(runs.max_peak, 5);
        let violation = runs.check(1000, 4).expect_err("k + 1 in flight is caught");
        assert!(violation.what.contains("more than k"), "{violation}");
    }

    async fn a_throttle_that_never_reaches_k_is_caught(rt) {
        let runs = runs_of(&rt, &Underfull, 1000, 4, 3).await;
        assert_eq!(runs.max_peak, 3);
        let violation = runs.check(1000, 4).expect_err("k - 1 in flight is caught");
        assert!(violation.what.contains("reaches k"), "{violation}");
    }

    async fn a_throttle_that_loses_a_leaf_is_caught(rt) {
        let runs = runs_of(&rt, &Lossy, 1000, 4, 3).await;
        assert_eq!((runs.wrong_tallies, runs.first_wrong.map(|t| t.count)), (3, Some(999)));
        let violation = runs.check(1000, 4).expect_err("a lost leaf is caught");
        assert!(violation.what.contains("all n leaves"), "{violation}");
    }
}

/// tokio's semaphore under its cooperative budget: no leaf is held with the grid's `k`;
/// with `k` in the hundreds leaves are held (an acquire can be turned away by the budget),
/// and the peak is still exactly `k`.
#[test]
fn tokio_semaphore_fills_its_window() {
    fn check(runs: Runs, k: u64, held: bool) {
        assert_eq!((runs.min_peak, runs.max_peak), (k, k), "{runs:?}");
        assert_eq!(runs.holds > 0, held, "k={k}: {runs:?}");
        assert_eq!(runs.check(1000, k), Ok(()));
    }
    let sem = SemaphoreThrottle(TokioSemaphore);
    for (k, held) in [(4, false), (64, false), (500, true)] {
        let mt =
            run::<TokioMt, _, _>(move |rt| async move { runs_of(&rt, &sem, 1000, k, 10).await });
        check(mt, k as u64, held);
        let ct =
            run::<TokioCt, _, _>(move |rt| async move { runs_of(&rt, &sem, 1000, k, 10).await });
        check(ct, k as u64, held);
    }
}
