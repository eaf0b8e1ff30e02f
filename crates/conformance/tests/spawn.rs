//! `spawn` (Task.Run, child tasks, continuations) on every configuration: every task's
//! value arrives, for every variant: `run_once` returns `Variant::expected_per_iter`.

use tapbench_conformance::rt_test;
use tapbench_core::workloads::spawn::{run_once, tree_tasks, variant_of, Variant};
use tapbench_core::{find_workload, Runtime};

/// The variants with small parameters, and those of the catalogue's grid.
fn variants() -> Vec<Variant> {
    let mut variants = vec![
        Variant::SpawnAwait,
        Variant::FanOut(1),
        Variant::FanOut(100),
        Variant::Chained(1),
        Variant::Chained(100),
        Variant::Tree(1),
        Variant::Tree(5),
        Variant::Blocking(1),
        Variant::Blocking(1000),
    ];
    let spec = find_workload("spawn").expect("spawn is in the catalogue");
    for case in (spec.cases)() {
        let variant = variant_of(&case).unwrap_or_else(|e| panic!("{case}: {e}"));
        variants.push(variant);
    }
    variants
}

/// Runs `variant` for iterations `0..iters` and checks each against its expected value.
async fn check_variant<R: Runtime>(rt: &R, variant: Variant, iters: u64) {
    for iter in 0..iters {
        let value = run_once(rt, variant, iter).await;
        assert_eq!(
            value,
            variant.expected_per_iter(iter),
            "{variant:?}, iteration {iter} on {}",
            rt.id()
        );
    }
}

rt_test! {
    async fn every_tasks_value_arrives(rt) {
        for variant in variants() {
            check_variant(&rt, variant, 3).await;
        }
    }

    /// Many tasks at once from several tasks at once: fan-outs, chains and trees started
    /// concurrently, so that multi-threaded runtimes steal and wake across workers.
    async fn concurrent_spawners_all_complete(rt) {
        let handles: Vec<_> = [Variant::FanOut(200), Variant::Chained(200), Variant::Tree(6)]
            .into_iter()
            .flat_map(|variant| (0..4).map(move |iter| (variant, iter)))
            .map(|(variant, iter)| {
                let inner = rt.clone();
                rt.spawn(async move { (variant, iter, run_once(&inner, variant, iter).await) })
            })
            .collect();
        for handle in handles {
            let (variant, iter, value) = handle.await;
            assert_eq!(value, variant.expected_per_iter(iter), "{variant:?}");
        }
    }
}

/// The expected values are what the variants' shapes say, so a task whose value is lost
/// changes the answer.
#[test]
fn expected_values_count_every_task() {
    assert_eq!(Variant::FanOut(4).expected_per_iter(0), 1 + 2 + 3);
    assert_eq!(Variant::Chained(7).expected_per_iter(0), 7);
    assert_eq!(Variant::Tree(3).expected_per_iter(0), 15);
    assert_eq!(tree_tasks(3), 15);
    assert_eq!(Variant::SpawnAwait.expected_per_iter(9), 9);
    assert_ne!(
        Variant::Blocking(10).expected_per_iter(1),
        Variant::Blocking(10).expected_per_iter(2)
    );
}
