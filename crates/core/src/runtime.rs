//! The seam between workloads and async runtimes.
//!
//! A runtime family implements two traits: [`Host`], the owner that is built once per cell
//! (outside the timing) and drives futures with [`Host::block_on`], and [`Runtime`], a cheap
//! cloneable handle that workloads use from inside tasks to spawn, sleep and yield. Workloads
//! are generic over [`Runtime`] and never see a runtime's own types.
//!
//! Each configuration of the catalogue (`tokio-mt`, `smol-local`, ...) is a marker type
//! implementing [`Config`]: its [`RuntimeInfo`] and how to build its host. The registry of
//! configurations (the `tapbench-runtimes` crate) lists those types once, and every consumer
//! either visits them as types ([`ConfigVisitor`]) or uses their type-erased
//! [`RuntimeEntry`](crate::RuntimeEntry).

use std::future::Future;
use std::time::Duration;

use crate::native::Native;

/// The task-side API of an async runtime, as seen by workloads.
///
/// Handles are cheap to clone, `Unpin`, and may be moved into tasks. Every spawned future must be
/// `Send + 'static`, on single-threaded runtimes too, so that one workload body runs
/// unchanged on every runtime.
pub trait Runtime: Clone + Send + Sync + Unpin + 'static {
    /// Awaitable handle of a spawned task, resolving to the task's output.
    ///
    /// If the task panicked, awaiting the handle resumes the panic. Dropping a handle before
    /// its task has finished **cancels the task** on every runtime: the task's future is
    /// dropped promptly, at the latest when the runtime next gets to it (runtimes that detach
    /// by default - tokio, async-std - abort on drop here). Fire-and-forget is explicit:
    /// [`Runtime::spawn_detached`]. Workloads that race, time out or cancel rely on this.
    type JoinHandle<T: Send + 'static>: Future<Output = T> + Send + Unpin + 'static;

    /// The configuration id, for example `tokio-mt` (see the workload catalogue).
    fn id(&self) -> &'static str;

    /// Worker threads that run tasks (1 for single-threaded runtimes).
    fn threads(&self) -> usize;

    /// Starts `future` as a new task; dropping the returned handle cancels it.
    ///
    /// # Panics
    ///
    /// Single-threaded runtimes panic when called outside [`Host::block_on`].
    fn spawn<F>(&self, future: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Starts `future` as a task that nobody awaits and nobody cancels (fire and forget):
    /// it runs to completion.
    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// Runs blocking, CPU-bound `f` on the runtime's blocking pool (tokio
    /// `spawn_blocking`, smol `unblock`): the Rust counterpart of `Task.Run` for CPU work.
    ///
    /// Dropping the handle abandons the result; a closure that has started runs to its end
    /// (no runtime can interrupt a thread).
    fn spawn_blocking<F, T>(&self, f: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// Completes after `duration`, using the runtime's timer (or the timer crate its users
    /// reach for, see [`RuntimeInfo::uses`]).
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static + use<Self>;

    /// Returns `Pending` once, rescheduling the task (`Task.Yield`).
    fn yield_now(&self) -> impl Future<Output = ()> + Send + 'static + use<Self>;

    /// The variants of the catalogue that this runtime family writes with an idiom of its
    /// own (`when_all/native` with tokio's `JoinSet`, ...), and the reasons for the native
    /// variants it has no idiom for: the family's native table (see [`Native`]).
    fn natives() -> &'static [Native<Self>];
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
    /// The name prefix of its worker threads (empty when tasks run on the calling thread).
    pub worker_thread: &'static str,
    /// Where each primitive comes from, `(primitive, provider)`: join handles, timers,
    /// yield, blocking work. Names the crate its users reach for where the runtime has no
    /// primitive of its own (`futures-timer`, `blocking`, ...).
    pub uses: &'static [(&'static str, &'static str)],
    /// The crates it is made of, whose versions a results file records.
    pub crates: &'static [&'static str],
    /// Its colour in charts (`0xRRGGBB`): a family shares a hue, its multi-threaded
    /// configuration is the darker shade.
    pub colour: u32,
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

    /// The id, with " (legacy)" for a runtime discontinued upstream.
    pub fn label(&self) -> String {
        if self.legacy {
            format!("{} (legacy)", self.id)
        } else {
            self.id.to_string()
        }
    }
}

/// One runtime configuration as a type: its description and how to build its host.
///
/// Implemented by a marker type per configuration in its family's crate; the registry
/// (`tapbench-runtimes`) lists the markers once.
pub trait Config: 'static {
    /// What the configuration is.
    const INFO: RuntimeInfo;

    /// The owner of one runtime instance.
    type Host: Host;

    /// Builds a runtime with `threads` workers (ignored by single-threaded configurations).
    ///
    /// # Errors
    ///
    /// Why the runtime cannot start in this process, in one line (threads that cannot be
    /// created, a global pool already running with another size, ...).
    fn host(threads: usize) -> Result<Self::Host, String>;
}

/// The handle type of configuration `C`.
pub type RtOf<C> = <<C as Config>::Host as Host>::Runtime;

/// Visits configurations as types: what the registry hands every configuration to, so that
/// generic code (conformance tests, criterion benches) is monomorphised for each.
pub trait ConfigVisitor {
    /// Called once per configuration, in registry order.
    fn visit<C: Config>(&mut self);
}
