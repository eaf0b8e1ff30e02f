//! The suite's own harness: `rt_test!` really runs each body inside the runtime it names,
//! and a failing or hung body really fails its test (a harness that swallowed panics would
//! make every other test of the suite unable to fail).

use std::time::Duration;

use tapbench_conformance::{host, rt_test, run_on};
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
        assert_eq!(id, Cfg::INFO.id);
        if Cfg::INFO.multi_threaded {
            assert_eq!(threads, tapbench_conformance::MT_THREADS);
            assert_ne!(body_thread, test_thread, "{id}: the body ran on the test thread");
            let name = name.unwrap_or_default();
            assert!(
                name.starts_with(Cfg::INFO.worker_thread),
                "{id}: the body ran on thread `{name}`, not a `{}*` worker",
                Cfg::INFO.worker_thread
            );
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
        run_on(&host::<Cfg>(), Duration::from_millis(50), |_rt| std::future::pending::<()>());
    }
}

/// The registry holds the seven configurations of the catalogue (`WORKLOADS.md`), in its
/// order, with their thread models; `rt_test!` expands to one module for each.
#[test]
fn the_registry_holds_the_catalogues_configurations() {
    let configs: Vec<_> = tapbench_runtimes::all()
        .iter()
        .map(|r| (r.info.id, r.info.multi_threaded, r.info.legacy))
        .collect();
    assert_eq!(
        configs,
        [
            ("tokio-mt", true, false),
            ("tokio-ct", false, false),
            ("async-std", true, true),
            ("smol-mt", true, false),
            ("smol-local", false, false),
            ("futures-pool", true, false),
            ("futures-local", false, false),
        ]
    );
    macro_rules! modules {
        ({} $($module:ident: $config:path),* $(,)?) => {
            const MODULES: &[(&str, &str)] =
                &[$((stringify!($module), <$config as tapbench_core::Config>::INFO.id)),*];
        };
    }
    tapbench_runtimes::for_each_config!(modules {});
    for (module, id) in MODULES {
        assert_eq!(*module, id.replace('-', "_"), "a module named after its id");
    }
}
