//! criterion benches on every `tokio` configuration of the registry:
//! `cargo bench --bench tokio`.

use criterion::{criterion_group, criterion_main, Criterion};

fn family(c: &mut Criterion) {
    tapbench_benches::bench_family(c, "tokio");
}

criterion_group!(benches, family);
criterion_main!(benches);
