//! criterion benches on `tokio-mt` and `tokio-ct`: `cargo bench --bench tokio`.

use criterion::{criterion_group, criterion_main, Criterion};
use tapbench_benches::bench_runtime;
use tapbench_rt_tokio::{build, Flavor, TokioHost};

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn tokio(c: &mut Criterion) {
    let host = |flavor| move || TokioHost::new(flavor, threads()).expect("tokio runtime starts");
    bench_runtime(c, "tokio-mt", host(Flavor::MultiThread), build);
    bench_runtime(c, "tokio-ct", host(Flavor::CurrentThread), build);
}

criterion_group!(benches, tokio);
criterion_main!(benches);
