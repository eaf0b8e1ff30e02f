//! tapbench on smol: the `smol-mt` configuration (an [`Executor`] driven by `--threads` OS
//! threads, each running `smol::block_on(executor.run(..))` so that idle workers also drive
//! async-io's reactor and timers) and `smol-local` (a [`LocalExecutor`] on the calling
//! thread), plus `producer_consumer/native_channel` over `async-channel` (`smol::channel`).
//!
//! smol has no task-set type, so `when_all/native` is recorded as skipped on smol.
//!
//! ```
//! use tapbench_core::{Host, Runtime};
//! use tapbench_rt_smol::{SmolLocalHost, SmolMtHost};
//!
//! let host = SmolMtHost::new(2).unwrap();
//! let rt = host.runtime();
//! assert_eq!(host.block_on(async move { rt.spawn(async { 6 * 7 }).await }), 42);
//!
//! let local = SmolLocalHost::new();
//! let rt = local.runtime();
//! assert_eq!(local.block_on(async move { rt.spawn(async { 7 }).await }), 7);
//! ```

mod channel;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use smol::{Executor, LocalExecutor, Task};
use tapbench_core::{
    build_bench, check_case, measure_on, BoxBench, BuildError, Case, CellError, Host, Runtime,
    RuntimeInfo,
};
use tapbench_measure::{Measurement, SamplingPlan};

pub use channel::AsyncChannel;

/// The smol configurations of the catalogue.
pub const RUNTIMES: [RuntimeInfo; 2] = [
    RuntimeInfo {
        id: "smol-mt",
        family: "smol",
        doc: "smol::Executor driven by --threads OS threads",
        multi_threaded: true,
        legacy: false,
    },
    RuntimeInfo {
        id: "smol-local",
        family: "smol",
        doc: "smol::LocalExecutor on the calling thread",
        multi_threaded: false,
        legacy: false,
    },
];

/// A multi-threaded smol executor with its worker threads, built once per cell. Dropping it
/// stops and joins the workers.
#[derive(Debug)]
pub struct SmolMtHost {
    rt: SmolMt,
    stop: Option<smol::channel::Sender<()>>,
    workers: Vec<JoinHandle<()>>,
}

impl SmolMtHost {
    /// Starts `threads` worker threads running one shared executor.
    ///
    /// # Errors
    ///
    /// The I/O error of a worker thread that could not be started.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let executor = Arc::new(Executor::new());
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let mut host = SmolMtHost {
            rt: SmolMt {
                executor: Arc::clone(&executor),
                threads,
            },
            stop: Some(stop),
            workers: Vec::with_capacity(threads),
        };
        for i in 0..threads {
            let executor = Arc::clone(&executor);
            let stopped = stopped.clone();
            let worker = std::thread::Builder::new()
                .name(format!("smol-worker-{i}"))
                .spawn(move || smol::block_on(executor.run(stopped.recv())).unwrap_or(()))?;
            host.workers.push(worker);
        }
        Ok(host)
    }
}

impl Drop for SmolMtHost {
    fn drop(&mut self) {
        // Closing the channel ends every worker's `run`.
        drop(self.stop.take());
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

impl Host for SmolMtHost {
    type Runtime = SmolMt;

    fn runtime(&self) -> SmolMt {
        self.rt.clone()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        smol::block_on(future)
    }
}

/// A handle to a multi-threaded smol executor.
#[derive(Debug, Clone)]
pub struct SmolMt {
    executor: Arc<Executor<'static>>,
    threads: usize,
}

/// The timer is created at first poll, like the other runtimes' timers.
async fn sleep(duration: Duration) {
    smol::Timer::after(duration).await;
}

impl Runtime for SmolMt {
    type JoinHandle<T: Send + 'static> = Task<T>;

    fn id(&self) -> &'static str {
        "smol-mt"
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor.spawn(future)
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.executor.spawn(future).detach();
    }

    fn spawn_blocking<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        smol::unblock(f)
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static + use<> {
        sleep(duration)
    }

    fn yield_now(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        smol::future::yield_now()
    }
}

thread_local! {
    // The local executor of the `SmolLocalHost::block_on` running on this thread.
    static LOCAL: RefCell<Option<Rc<LocalExecutor<'static>>>> = const { RefCell::new(None) };
}

/// A single-threaded smol executor on the calling thread. A fresh [`LocalExecutor`] is made
/// for each [`block_on`](Host::block_on) and installed in a thread-local for the handles.
#[derive(Debug, Default)]
pub struct SmolLocalHost {
    _private: (),
}

impl SmolLocalHost {
    /// A host; the executor itself is made by each `block_on`.
    pub fn new() -> Self {
        SmolLocalHost { _private: () }
    }
}

impl Host for SmolLocalHost {
    type Runtime = SmolLocal;

    fn runtime(&self) -> SmolLocal {
        SmolLocal { _private: () }
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        let executor = Rc::new(LocalExecutor::new());
        let previous = LOCAL.with(|local| local.borrow_mut().replace(Rc::clone(&executor)));
        struct Restore(Option<Rc<LocalExecutor<'static>>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                LOCAL.with(|local| *local.borrow_mut() = previous);
            }
        }
        let _restore = Restore(previous);
        smol::block_on(executor.run(future))
    }
}

/// A handle to the [`LocalExecutor`] of the `block_on` running on the current thread.
#[derive(Debug, Clone)]
pub struct SmolLocal {
    _private: (),
}

fn with_local<T>(f: impl FnOnce(&LocalExecutor<'static>) -> T) -> T {
    LOCAL.with(|local| {
        let local = local.borrow();
        let executor = local
            .as_ref()
            .expect("smol-local: spawn called outside SmolLocalHost::block_on on this thread");
        f(executor)
    })
}

impl Runtime for SmolLocal {
    type JoinHandle<T: Send + 'static> = Task<T>;

    fn id(&self) -> &'static str {
        "smol-local"
    }

    fn threads(&self) -> usize {
        1
    }

    fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        with_local(|executor| executor.spawn(future))
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        with_local(|executor| executor.spawn(future).detach());
    }

    fn spawn_blocking<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        smol::unblock(f)
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static + use<> {
        sleep(duration)
    }

    fn yield_now(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        smol::future::yield_now()
    }
}

/// Builds the bench for `case` on `rt`: smol's native variants here, the rest from core.
///
/// # Errors
///
/// Unknown ids, invalid parameters, or [`BuildError::Unsupported`] for `when_all/native`.
pub fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    check_case(case)?;
    match (case.workload.as_str(), case.variant.as_str()) {
        ("when_all", "native") => Err(BuildError::Unsupported(
            "smol has no task-set type (no JoinSet equivalent); see when_all/spawn_join".into(),
        )),
        ("producer_consumer", "native_channel") => Ok(Box::new(
            tapbench_core::workloads::producer_consumer::ProducerConsumerBench::new(
                rt,
                AsyncChannel,
                &case.params,
            )?,
        )),
        _ => build_bench(rt, case),
    }
}

/// Runs one cell on the smol configuration `id`: builds the executor (untimed), builds the
/// bench, and measures it inside the executor.
///
/// # Errors
///
/// An unknown id, a case that cannot be built, threads that cannot start, or a violated
/// invariant.
pub fn run_cell(
    id: &str,
    threads: usize,
    case: &Case,
    plan: SamplingPlan,
) -> Result<Measurement, CellError> {
    match id {
        "smol-mt" => {
            let host = SmolMtHost::new(threads).map_err(|e| CellError::Runtime(e.to_string()))?;
            let bench = build(&host.runtime(), case)?;
            Ok(measure_on(&host, bench, plan)?)
        }
        "smol-local" => {
            let host = SmolLocalHost::new();
            let bench = build(&host.runtime(), case)?;
            Ok(measure_on(&host, bench, plan)?)
        }
        other => Err(CellError::Runtime(format!(
            "`{other}` is not a smol configuration"
        ))),
    }
}
