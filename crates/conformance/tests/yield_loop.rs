//! `yield_loop` (Task.Yield) on every configuration: every yield of the runtime returns
//! Pending exactly once, alone and in every task of `many`, and every task finishes; a
//! "yield" that does not suspend, or suspends twice, is caught by the same check the bench
//! runs; on a single-threaded runtime the tasks of `many` take turns (the first to finish
//! does so after the last has started).

use std::future::Future;

use tapbench_conformance::{rt_test, run_case};
use tapbench_core::workloads::yield_loop::{
    run_iterations, yield_task, Outcomes, RuntimeYield, Shape, YieldCounts, YieldSource,
};
use tapbench_core::{Case, ParamValue, Params, Runtime};
use tapbench_measure::LatencyRecorder;

/// A stand-in that completes at once: not a yield.
#[derive(Debug, Clone)]
struct NoYield;

impl YieldSource for NoYield {
    fn yield_once(&self) -> impl Future<Output = ()> + Send + 'static {
        std::future::ready(())
    }
}

/// A stand-in that yields twice per call.
#[derive(Debug, Clone)]
struct TwoYields<R>(R);

impl<R: Runtime> YieldSource for TwoYields<R> {
    fn yield_once(&self) -> impl Future<Output = ()> + Send + 'static {
        let (first, second) = (self.0.yield_now(), self.0.yield_now());
        async move {
            first.await;
            second.await;
        }
    }
}

const SINGLE: Shape = Shape::Single { n: 1000 };
const MANY: Shape = Shape::Many { n: 300, tasks: 8 };

async fn run<R: Runtime, Y: YieldSource>(rt: &R, source: &Y, shape: Shape, iters: u64) -> Outcomes {
    let mut lag = LatencyRecorder::new();
    let out = run_iterations(rt, source, shape, iters, &mut lag).await;
    let tasks = match shape {
        Shape::Single { .. } => 0,
        Shape::Many { tasks, .. } => tasks,
    };
    // One lag per task of `many`, none for `single`.
    assert_eq!(lag.count(), tasks * iters, "{shape:?}");
    out
}

fn case(variant: &str, tasks: Option<u64>) -> Case {
    let mut params = Params::from_pairs([("n", ParamValue::Int(100))]);
    if let Some(tasks) = tasks {
        params.0.insert("tasks".into(), ParamValue::Int(tasks));
    }
    Case::new("yield_loop", variant, params)
}

rt_test! {
    /// One task yielding: every yield suspends once and completes once.
    async fn every_yield_returns_pending_once(rt) {
        let out = run(&rt, &RuntimeYield(rt.clone()), SINGLE, 3).await;
        assert_eq!(out.counts, YieldCounts::regular(3000));
        assert_eq!((out.tasks_done, out.short_tasks), (3, 0));
        assert_eq!(out.check(SINGLE, 3), Ok(()));
    }

    /// Every spawned task finishes, each with its n yields, each suspending once.
    async fn many_finishes_every_task_with_its_yields(rt) {
        let out = run(&rt, &RuntimeYield(rt.clone()), MANY, 2).await;
        assert_eq!((out.tasks_done, out.short_tasks), (16, 0));
        assert_eq!(out.counts, YieldCounts::regular(2 * 8 * 300));
        assert_eq!(out.check(MANY, 2), Ok(()));
        // One task alone reports its own yields.
        let report = rt.spawn(yield_task(RuntimeYield(rt.clone()), 50)).await;
        assert_eq!(report.counts, YieldCounts::regular(50));
        assert!(report.finished > report.started);
    }

    /// A "yield" that completes without suspending is caught, alone and in tasks.
    async fn a_yield_that_does_not_suspend_is_caught(rt) {
        for shape in [SINGLE, MANY] {
            let out = run(&rt, &NoYield, shape, 1).await;
            assert_eq!(out.counts.pending, 0, "{shape:?}");
            assert_eq!(out.counts.irregular, shape.yields(), "{shape:?}");
            assert!(out.check(shape, 1).is_err(), "{shape:?}: {out:?}");
        }
        // Tasks that never give way do not take turns: on one thread each runs to its end
        // before the next starts, and the interleaving measure says so.
        if !Cfg::INFO.multi_threaded {
            assert_eq!(run(&rt, &NoYield, MANY, 2).await.interleaved, 0);
        }
    }

    /// A yield that suspends twice is caught too (the totals of Pending returns would not
    /// do it alone if some other yield did not suspend: each yield is checked).
    async fn a_yield_that_suspends_twice_is_caught(rt) {
        let out = run(&rt, &TwoYields(rt.clone()), SINGLE, 1).await;
        assert_eq!(out.counts.pending, 2000);
        assert_eq!(out.counts.irregular, 1000);
        assert!(out.check(SINGLE, 1).is_err());
    }

    /// On a single-threaded runtime the tasks take turns: in every iteration the first
    /// task to finish its 300 yields does so after the last task has started (an ordering
    /// of events on one thread, no duration). Multi-threaded runtimes are not held to it:
    /// the futures ThreadPool lets a yielding task run on (see the module documentation).
    async fn single_threaded_runtimes_interleave_the_tasks(rt) {
        let out = run(&rt, &RuntimeYield(rt.clone()), MANY, 3).await;
        assert_eq!(out.check(MANY, 3), Ok(()));
        if !Cfg::INFO.multi_threaded {
            assert_eq!(out.interleaved, 3, "on {}", Cfg::INFO.id);
        }
    }

    /// The catalogue's cases run and pass their check through the bench.
    async fn the_bench_runs_both_variants(rt) {
        run_case(&rt, &case("single", None), 3).await.expect("single");
        run_case(&rt, &case("many", Some(4)), 3).await.expect("many");
    }
}
