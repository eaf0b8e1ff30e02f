//! The suite's own harness: `rt_test!` really runs each body inside the runtime it names,
//! and a failing or hung body really fails its test (a harness that swallowed panics would
//! make every other test of the suite unable to fail).

use std::time::Duration;

use tapbench_conformance::{rt_test, run_on, RtConfig, SmolLocal, SmolMt, TokioCt, TokioMt};
use tapbench_core::Runtime;

rt_test! {
    /// The handle is the configuration's own, and the body runs as a task: on a worker
    /// thread of the multi-threaded configurations, on the test thread otherwise.
    fn body_runs_inside_the_runtime() {
        let test_thread = std::thread::current().id();
        let (id, threads, body_thread, name) = tapbench_conformance::run::<Cfg, _, _>(|rt| async move {
            let current = std::thread::current();
            (rt.id(), rt.threads(), current.id(), current.name().map(str::to_owned))
        });
        assert_eq!(id, Cfg::ID);
        if Cfg::MULTI_THREADED {
            assert_eq!(threads, tapbench_conformance::MT_THREADS);
            assert_ne!(body_thread, test_thread, "{id}: the body ran on the test thread");
            let name = name.unwrap_or_default();
            assert!(name.contains("worker"), "{id}: the body ran on thread `{name}`");
        } else {
            assert_eq!(threads, 1);
            assert_eq!(body_thread, test_thread, "{id}: single-threaded runtimes run here");
        }
    }

    /// Tasks spawned by the body, and the runtime's timer and yield, work from inside it.
    async fn spawn_sleep_and_yield_work(rt) {
        let inner = rt.clone();
        let nested = rt.spawn(async move { inner.spawn(async { 7 }).await * 6 });
        rt.yield_now().await;
        rt.sleep(Duration::from_millis(1)).await;
        assert_eq!(nested.await, 42);
    }

    #[should_panic(expected = "a failing assertion in the body")]
    async fn a_panicking_body_fails_its_test(_rt) {
        panic!("a failing assertion in the body");
    }

    #[should_panic(expected = "a panic in a task the body awaits")]
    async fn a_panic_in_an_awaited_task_fails_the_test(rt) {
        rt.spawn(async { panic!("a panic in a task the body awaits") }).await;
    }

    #[should_panic(expected = "did not finish within")]
    fn a_hung_body_fails_its_test() {
        run_on(&Cfg::host(), Duration::from_millis(50), |_rt| std::future::pending::<()>());
    }
}

/// The configuration markers name the ids of the catalogue.
#[test]
fn configuration_ids_match_the_catalogue() {
    let ids = [TokioMt::ID, TokioCt::ID, SmolMt::ID, SmolLocal::ID];
    assert_eq!(ids, ["tokio-mt", "tokio-ct", "smol-mt", "smol-local"]);
    let known: Vec<_> = tapbench_rt_tokio::RUNTIMES
        .iter()
        .chain(&tapbench_rt_smol::RUNTIMES)
        .map(|info| (info.id, info.multi_threaded))
        .collect();
    for (id, multi) in [
        (TokioMt::ID, TokioMt::MULTI_THREADED),
        (TokioCt::ID, TokioCt::MULTI_THREADED),
        (SmolMt::ID, SmolMt::MULTI_THREADED),
        (SmolLocal::ID, SmolLocal::MULTI_THREADED),
    ] {
        assert!(
            known.contains(&(id, multi)),
            "{id} (multi-threaded: {multi}) is not a runtime"
        );
    }
}
