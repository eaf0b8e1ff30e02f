//! Shared code of the criterion benches: which cases they measure, and how a bench is timed
//! inside the runtime with criterion's `iter_custom` (criterion's own `to_async` would wrap
//! every iteration in a `block_on` from the bench thread, which on multi-thread runtimes
//! measures a cross-thread wake-up instead of the workload).
//!
//! There is one bench target per runtime family (`benches/<family>.rs`), each a call to
//! [`bench_family`], which measures every configuration of that family in the registry.
//!
//! ```text
//! cargo bench --bench tokio -- --quick
//! cargo bench --bench smol -- when_all
//! cargo bench --bench async_std -- --quick
//! cargo bench --bench futures -- spawn
//! ```

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use tapbench_core::{
    build_bench, catalogue, BoxBench, BuildError, Case, Config, ConfigVisitor, Host, ParamValue,
    Runtime,
};

/// The cases the criterion benches cover: every variant of every workload, with the
/// catalogue's parameters except the largest sizes (the `tapbench` CLI runs the full grid).
pub fn cases() -> Vec<Case> {
    catalogue()
        .iter()
        .flat_map(|w| (w.cases)())
        .filter(|case| {
            let big = |name: &str, limit: u64| {
                matches!(case.params.get(name), Some(ParamValue::Int(v)) if *v > limit)
            };
            !big("n", 1000) && case.params.get("op") != Some(&ParamValue::Text("sleep_1ms".into()))
        })
        .collect()
}

/// Worker threads of the multi-threaded configurations: the machine's logical CPUs, as
/// `tapbench run` uses by default.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Registers the benchmarks of every configuration of runtime `family` in the registry.
///
/// # Panics
///
/// When the registry has no configuration of `family`.
pub fn bench_family(c: &mut Criterion, family: &str) {
    struct Family<'a> {
        c: &'a mut Criterion,
        family: &'a str,
        found: usize,
    }
    impl ConfigVisitor for Family<'_> {
        fn visit<C: Config>(&mut self) {
            if C::INFO.family == self.family {
                self.found += 1;
                bench_config::<C>(self.c);
            }
        }
    }
    let mut visitor = Family {
        c,
        family,
        found: 0,
    };
    tapbench_runtimes::visit(&mut visitor);
    assert!(
        visitor.found > 0,
        "no runtime family `{family}` in the registry"
    );
}

/// Registers one criterion benchmark per case on configuration `C`, in a group named
/// after it.
///
/// The runtime is built once per case, outside any timing; the bench comes from
/// [`build_bench`] (native variants from the family's table). Cases the runtime cannot run
/// are reported on stderr and left out.
///
/// # Panics
///
/// When the runtime cannot start, or a case cannot be built for another reason than a
/// native variant the runtime lacks.
pub fn bench_config<C: Config>(c: &mut Criterion) {
    let id = C::INFO.id;
    let mut group = c.benchmark_group(id);
    for case in cases() {
        let host = C::host(threads()).unwrap_or_else(|why| panic!("{id} does not start: {why}"));
        let mut slot = match build_bench(&host.runtime(), &case) {
            Ok(bench) => Some(bench),
            Err(BuildError::Unsupported(reason)) => {
                eprintln!("{id}/{case}: skipped: {reason}");
                continue;
            }
            Err(err) => panic!("{id}/{case}: {err}"),
        };
        let ops = slot.as_ref().map_or(1, |b| b.ops_per_iter());
        group.throughput(Throughput::Elements(ops));
        let name = format!("{}/{}", case.workload, case.variant);
        group.bench_function(BenchmarkId::new(name, case.params.to_string()), |b| {
            b.iter_custom(|iters| {
                let bench = slot
                    .take()
                    .expect("the bench is returned after every batch");
                let (bench, elapsed) = time_batch(&host, bench, iters);
                slot = Some(bench);
                elapsed
            })
        });
    }
    group.finish();
}

/// Runs one batch of `iters` iterations as a task on the runtime and times it there.
///
/// # Panics
///
/// When the batch's answer is wrong: a fast wrong answer is not a result.
pub fn time_batch<H: Host>(host: &H, mut bench: BoxBench, iters: u64) -> (BoxBench, Duration) {
    let rt = host.runtime();
    host.block_on(async move {
        rt.spawn(async move {
            let batch = bench.run_batch(iters);
            let start = Instant::now();
            let outcome = batch.await;
            let elapsed = start.elapsed();
            if let Err(violation) = outcome.and_then(|()| bench.check_batch(iters).map(drop)) {
                panic!("invariant violated: {violation}");
            }
            (bench, elapsed)
        })
        .await
    })
}
