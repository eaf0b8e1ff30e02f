//! criterion benches on every `futures` configuration of the registry:
//! `cargo bench --bench futures`.

use criterion::{criterion_group, criterion_main, Criterion};

fn family(c: &mut Criterion) {
    tapbench_benches::bench_family(c, "futures");
}

criterion_group!(benches, family);
criterion_main!(benches);
