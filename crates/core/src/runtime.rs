//! The seam between workloads and async runtimes.
//!
//! A runtime family implements two traits: [`Host`], the owner that is built once per cell
//! (outside the timing) and drives futures with [`Host::block_on`], and [`Runtime`], a cheap
//! cloneable handle that workloads use from inside tasks to spawn, sleep and yield. Workloads
//! are generic over [`Runtime`] and never see a runtime's own types.

use std::future::Future;
use std::time::Duration;

/// The task-side API of an async runtime, as seen by workloads.
///
/// Handles are cheap to clone, `Unpin`, and may be moved into tasks. Every spawned future must be
/// `Send + 'static`, on single-threaded runtimes too, so that one workload body runs
/// unchanged on every runtime.
pub trait Runtime: Clone + Send + Sync + Unpin + 'static {
    /// Awaitable handle of a spawned task, resolving to the task's output.
    ///
    /// If the task panicked, awaiting the handle resumes the panic. What dropping a handle
    /// does is the runtime's own: tokio detaches the task, smol cancels it.
    type JoinHandle<T: Send + 'static>: Future<Output = T> + Send + Unpin + 'static;

    /// The configuration id, for example `tokio-mt` (see the workload catalogue).
    fn id(&self) -> &'static str;

    /// Worker threads that run tasks (1 for single-threaded runtimes).
    fn threads(&self) -> usize;

    /// Starts `future` as a new task.
    ///
    /// # Panics
    ///
    /// Single-threaded runtimes panic when called outside [`Host::block_on`].
    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Starts `future` as a task that nobody awaits (fire and forget).
    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// Runs blocking, CPU-bound `f` on the runtime's blocking pool (tokio
    /// `spawn_blocking`, smol `unblock`): the Rust counterpart of `Task.Run` for CPU work.
    fn spawn_blocking<F, T>(&self, f: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// Completes after `duration`, using the runtime's own timer.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static + use<Self>;

    /// Returns `Pending` once, rescheduling the task (`Task.Yield`).
    fn yield_now(&self) -> impl Future<Output = ()> + Send + 'static + use<Self>;
}

/// The owner of a runtime instance, built once per cell.
pub trait Host {
    /// The handle type workloads use.
    type Runtime: Runtime;

    /// A handle to this runtime.
    fn runtime(&self) -> Self::Runtime;

    /// Drives `future` to completion on the calling thread.
    ///
    /// On multi-threaded runtimes the calling thread only waits; tasks run on the workers.
    /// To time work on a worker, spawn it and block on the handle (see
    /// [`crate::cell::measure_on`]).
    fn block_on<F: Future>(&self, future: F) -> F::Output;
}

/// A runtime configuration of the catalogue (`tokio-mt`, `smol-local`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// Configuration id.
    pub id: &'static str,
    /// Runtime family (one crate per family).
    pub family: &'static str,
    /// What it is, in one line.
    pub doc: &'static str,
    /// Whether it uses `--threads` worker threads (else exactly one).
    pub multi_threaded: bool,
    /// Whether the runtime is discontinued upstream (reports label it "legacy").
    pub legacy: bool,
}

impl RuntimeInfo {
    /// Worker threads this configuration runs with when `--threads` is `requested`.
    pub fn threads(&self, requested: usize) -> usize {
        if self.multi_threaded {
            requested.max(1)
        } else {
            1
        }
    }
}
