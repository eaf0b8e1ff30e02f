//! criterion benches on every `smol` configuration of the registry:
//! `cargo bench --bench smol`.

use criterion::{criterion_group, criterion_main, Criterion};

fn family(c: &mut Criterion) {
    tapbench_benches::bench_family(c, "smol");
}

criterion_group!(benches, family);
criterion_main!(benches);
