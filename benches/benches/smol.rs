//! criterion benches on `smol-mt` and `smol-local`: `cargo bench --bench smol`.

use criterion::{criterion_group, criterion_main, Criterion};
use tapbench_benches::bench_runtime;
use tapbench_rt_smol::{build, SmolLocalHost, SmolMtHost};

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn smol(c: &mut Criterion) {
    let mt = || SmolMtHost::new(threads()).expect("smol workers start");
    bench_runtime(c, "smol-mt", mt, build);
    bench_runtime(c, "smol-local", SmolLocalHost::new, build);
}

criterion_group!(benches, smol);
criterion_main!(benches);
