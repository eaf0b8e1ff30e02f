//! Shared code of the criterion benches: which cases they measure, and how a bench is timed
//! inside the runtime with criterion's `iter_custom` (criterion's own `to_async` would wrap
//! every iteration in a `block_on` from the bench thread, which on multi-thread runtimes
//! measures a cross-thread wake-up instead of the workload).
//!
//! ```text
//! cargo bench --bench tokio -- --quick
//! cargo bench --bench smol -- when_all
//! ```

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use tapbench_core::{catalogue, BoxBench, BuildError, Case, Host, ParamValue, Runtime};

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

/// Registers one criterion benchmark per case on the runtime configuration `id`.
///
/// `make_host` builds the runtime once per case, outside any timing; `build` is the runtime
/// crate's bench builder (native variants included). Cases the runtime cannot run are
/// reported on stderr and left out.
pub fn bench_runtime<H: Host>(
    c: &mut Criterion,
    id: &str,
    make_host: impl Fn() -> H,
    build: impl Fn(&H::Runtime, &Case) -> Result<BoxBench, BuildError>,
) {
    let mut group = c.benchmark_group(id);
    for case in cases() {
        let host = make_host();
        let mut slot = match build(&host.runtime(), &case) {
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
