//! criterion benches on every `async-std` configuration of the registry:
//! `cargo bench --bench async_std`.

use criterion::{criterion_group, criterion_main, Criterion};

fn family(c: &mut Criterion) {
    tapbench_benches::bench_family(c, "async-std");
}

criterion_group!(benches, family);
criterion_main!(benches);
