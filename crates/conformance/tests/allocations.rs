//! Allocation counting, checked through the real measurement path.
//!
//! (a) The counting allocator sees allocations made on runtime worker threads, not only on
//! the thread that reads it. (b) `value_task/inline` with `sync_ratio=1` measures exactly
//! 0 allocations in a sample (and never more than two in a sample, what a runtime
//! thread starting or exiting late can add) and `value_task/boxed` at least 1.0, on every
//! configuration, measured by `sample` through the runtime crate's `build` and
//! `tapbench_core::measure_on`.
//!
//! # Why this test has its own `main`
//!
//! The counter is process-wide: every thread's allocations land in it, which is the point.
//! Under libtest, tests run on parallel threads, so another test's allocations would leak
//! into a measurement. A static mutex taken by each test is not enough: libtest's main
//! thread itself allocates between tests - it formats and prints the result line of the
//! test that just finished and spawns the thread of the next one - while the next test may
//! already hold the mutex and be measuring; a single stray allocation turns an exact 0.0
//! into 1e-5. So this target is built with `harness = false` (see `Cargo.toml`): `main`
//! runs the checks one after another on the main thread, and the only other threads in the
//! process are those of the runtime under test (and the idle `async-io` / blocking-pool
//! threads of smol), none of which allocate while the measured task does not ask them to.
//! Each check builds its runtime and drops it (joining its workers) before the next.
//!
//! Run a subset with `cargo test -p tapbench-conformance --test allocations -- <filter>`.

use std::hint::black_box;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use tapbench_conformance::{host, measure_case_on, run, tiny_plan};
use tapbench_core::{Case, Config, ConfigVisitor, ParamValue, Params};
use tapbench_measure::alloc::{is_counting, snapshot};
use tapbench_measure::CountingAlloc;

#[global_allocator]
static A: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

/// Boxes allocated by the task of check (a).
const BOXES: u64 = 1000;

/// (a) A task on a worker thread allocates `BOXES` boxes; the counter, read from the test
/// thread before and after, sees at least that many.
fn worker_allocations_are_counted<C: Config>() {
    assert!(
        C::INFO.multi_threaded,
        "{} runs tasks on the test thread",
        C::INFO.id
    );
    let worker_name_prefix = C::INFO.worker_thread;
    let test_thread = thread::current().id();
    let before = snapshot();
    let (worker, name, in_task) = run::<C, _, _>(|_rt| async move {
        let start = snapshot();
        for i in 0..BOXES {
            drop(black_box(Box::new(i)));
        }
        let in_task = snapshot().since(start).allocs;
        let current = thread::current();
        (current.id(), current.name().map(str::to_owned), in_task)
    });
    let counted = snapshot().since(before).allocs;
    let name = name.unwrap_or_default();
    assert_ne!(
        worker,
        test_thread,
        "{}: the task ran on the test thread",
        C::INFO.id
    );
    assert!(
        name.starts_with(worker_name_prefix),
        "{}: the task ran on `{name}`, not a `{worker_name_prefix}*` worker",
        C::INFO.id
    );
    assert!(
        in_task >= BOXES,
        "{}: {in_task} allocations counted during the task",
        C::INFO.id
    );
    assert!(
        counted >= BOXES,
        "{}: {counted} allocations counted in all",
        C::INFO.id
    );
}

fn value_task(variant: &str, sync_ratio: f64) -> Case {
    Case::new(
        "value_task",
        variant,
        Params::from_pairs([("sync_ratio", ParamValue::Float(sync_ratio))]),
    )
}

/// How long the allocation counter must stay still for [`settle`] to return.
const QUIET: Duration = Duration::from_millis(20);

/// How long [`settle`] waits at most.
const SETTLE_LIMIT: Duration = Duration::from_secs(5);

/// Waits until no thread of the process has allocated for [`QUIET`] and every thread but
/// this one is asleep: a runtime just built has started every worker thread and they have
/// gone idle, and the threads of the runtime the previous check dropped have exited.
///
/// Needed before an exact measurement: worker threads start asynchronously and allocate
/// as they start (a smol worker's local run queue: 8 allocations, some 9 KB; 12 bytes in a
/// tokio worker), and a dropped `futures` thread pool does not join its workers, which
/// exit - and free and allocate thread-local state - some time after the drop. With the
/// tiny plan's 1 ms of warm-up, a thread that starts or exits late does so during a sample,
/// and `inline` then measures some 1e-5 allocations per operation instead of 0. The
/// allocation counter alone can be still for a while because such a thread has not been
/// scheduled yet, on a loaded machine for longer than [`QUIET`]; a thread that is ready to
/// run but not running shows as runnable, so the threads' states close that gap.
///
/// # Panics
///
/// When the process keeps allocating, or some thread keeps running, for [`SETTLE_LIMIT`].
fn settle() {
    let deadline = Instant::now() + SETTLE_LIMIT;
    let mut last = snapshot();
    let mut still_since = Instant::now();
    while Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
        let now = snapshot();
        if now != last {
            last = now;
            still_since = Instant::now();
        } else if still_since.elapsed() >= QUIET {
            if others_asleep() {
                return;
            }
            // A thread is about to run: wait for the counter to stay still again, from
            // after the check (which reads /proc, and so allocates itself).
            last = snapshot();
            still_since = Instant::now();
        }
    }
    panic!(
        "the process kept allocating, or a thread kept running, for {SETTLE_LIMIT:?} after a \
         runtime was built"
    );
}

/// Whether every thread of the process other than the calling one is asleep (Linux: its
/// state in `/proc/self/task/*/stat` is not `R`, running or ready to run). Elsewhere, and
/// when `/proc` cannot be read, true: the allocation counter alone decides.
fn others_asleep() -> bool {
    let Ok(me) = std::fs::read_link("/proc/thread-self") else {
        return true;
    };
    let me = me
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return true;
    };
    tasks.flatten().all(|task| {
        if task.file_name().to_string_lossy() == me {
            return true;
        }
        // "tid (comm) S ...": the state follows the last parenthesis (comm may hold any).
        match std::fs::read_to_string(task.path().join("stat")) {
            Ok(stat) => stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next())
                .is_none_or(|state| state != 'R'),
            // The thread exited between the listing and the read.
            Err(_) => true,
        }
    })
}

/// (b) The ValueTask path allocates nothing per call; the Task path at least once.
fn value_task_allocations<C: Config>() {
    let host = host::<C>();
    settle();
    let case = value_task("inline", 1.0);
    let inline =
        measure_case_on(&host, &case, tiny_plan()).unwrap_or_else(|e| panic!("{case}: {e}"));
    // Exactly nothing in some sample, and no sample with more than two allocations in all
    // (the gate's resolution of a count: see `judge::alloc_resolution`): an allocation per
    // call would put hundreds of thousands into every sample, while a runtime thread that
    // `settle` could not see coming (a dropped pool's worker exiting on a loaded machine)
    // can put one into one sample.
    let per_sample: Vec<f64> = inline
        .sample_allocs_per_op
        .iter()
        .map(|a| a * inline.ops_per_sample as f64)
        .collect();
    assert!(
        per_sample.contains(&0.0) && per_sample.iter().all(|n| *n <= 2.0 + 1e-6),
        "{case} on {}: {} ops per sample, allocations per sample {per_sample:?}, {:?} bytes \
         per op",
        C::INFO.id,
        inline.ops_per_sample,
        inline.bytes_per_op
    );
    // One boxed future per call at sync_ratio 1: the marginal count, from batches of two
    // sizes, is that one allocation per operation.
    let case = value_task("boxed", 1.0);
    let boxed =
        measure_case_on(&host, &case, tiny_plan()).unwrap_or_else(|e| panic!("{case}: {e}"));
    let marginal = boxed
        .marginal_allocs_per_op
        .expect("the counting allocator is installed and several samples were taken");
    assert!(
        (marginal - 1.0).abs() <= 2.0 / boxed.ops_per_sample as f64,
        "{case} on {}: {marginal} marginal allocations per op",
        C::INFO.id
    );
    for ratio in [0.0, 0.5, 0.9, 1.0] {
        let case = value_task("boxed", ratio);
        let boxed =
            measure_case_on(&host, &case, tiny_plan()).unwrap_or_else(|e| panic!("{case}: {e}"));
        let allocs = boxed
            .allocs_per_op
            .expect("the counting allocator is installed");
        assert!(
            allocs >= 1.0,
            "{case} on {}: {allocs} allocations per op",
            C::INFO.id
        );
    }
}

/// Every check of this file, by name: (a) on every multi-threaded configuration of the
/// registry, (b) on every configuration.
fn checks() -> Vec<(String, fn())> {
    struct Checks(Vec<(String, fn())>);
    impl ConfigVisitor for Checks {
        fn visit<C: Config>(&mut self) {
            let module = C::INFO.id.replace('-', "_");
            if C::INFO.multi_threaded {
                self.0.push((
                    format!("{module}::worker_allocations_are_counted"),
                    worker_allocations_are_counted::<C>,
                ));
            }
            self.0.push((
                format!("{module}::value_task_allocations"),
                value_task_allocations::<C>,
            ));
        }
    }
    let mut checks = Checks(Vec::new());
    tapbench_runtimes::visit(&mut checks);
    checks.0
}

/// A minimal test runner: libtest's output format, name filters (substrings), `--list`;
/// other libtest flags are accepted and ignored.
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let selected: Vec<_> = checks()
        .into_iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f)))
        .collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in &selected {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    // `--ignored` asks for the ignored tests only: there are none.
    let selected = if args.iter().any(|a| a == "--ignored") {
        Vec::new()
    } else {
        selected
    };

    assert!(is_counting(), "the counting allocator is not installed");
    println!("\nrunning {} tests", selected.len());
    let mut failed = Vec::new();
    for (name, check) in &selected {
        let outcome = panic::catch_unwind(AssertUnwindSafe(check));
        println!(
            "test {name} ... {}",
            if outcome.is_ok() { "ok" } else { "FAILED" }
        );
        if outcome.is_err() {
            failed.push(name.as_str());
        }
    }
    let passed = selected.len() - failed.len();
    if failed.is_empty() {
        println!("\ntest result: ok. {passed} passed; 0 failed\n");
        ExitCode::SUCCESS
    } else {
        println!("\nfailures:\n    {}\n", failed.join("\n    "));
        println!(
            "test result: FAILED. {passed} passed; {} failed\n",
            failed.len()
        );
        ExitCode::FAILURE
    }
}
