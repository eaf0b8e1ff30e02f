//! A probe for checking the counting allocator against valgrind's DHAT: makes `N` boxed
//! `value_task` calls (one allocation each) inside a tokio multi-thread runtime, on a worker
//! thread, and prints the allocations the counter saw over the whole process.
//!
//! `tests/dhat.rs` runs it under `valgrind --tool=dhat` for two values of `N`: the difference
//! of DHAT's block totals must equal the difference of the counter's totals.

use tapbench_core::workloads::value_task::{run_calls, SyncPattern, Variant};
use tapbench_core::{Config, Host, Runtime};
use tapbench_measure::alloc::snapshot;
use tapbench_measure::CountingAlloc;
use tapbench_runtimes::family::tokio::TokioMt;

#[global_allocator]
static ALLOC: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

fn main() {
    let calls: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        Some(Ok(n)) => n,
        _ => {
            eprintln!("usage: alloc-probe CALLS");
            std::process::exit(2);
        }
    };
    let host = TokioMt::host(2).expect("tokio runtime starts");
    let rt = host.runtime();
    let sum = host.block_on(async move {
        let inner = rt.clone();
        rt.spawn(
            async move { run_calls(&inner, Variant::Boxed, SyncPattern::new(1.0), calls).await },
        )
        .await
    });
    drop(host);
    let total = snapshot();
    println!(
        "calls={calls} sum={sum} counted_allocs={} counted_bytes={}",
        total.allocs, total.bytes
    );
}
