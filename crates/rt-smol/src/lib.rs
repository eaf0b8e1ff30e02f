//! tapbench on smol: the `smol-mt` configuration (an [`Executor`] driven by `--threads` OS
//! threads, each running `smol::block_on(executor.run(..))` so that idle workers also drive
//! async-io's reactor and timers) and `smol-local` (a [`LocalExecutor`] on the calling
//! thread), plus `producer_consumer/native_channel` over `async-channel` (`smol::channel`),
//! `timeout/runtime_timeout` as the `smol::Timer` documentation writes a timeout (the
//! operation `or` a timer), `throttle/semaphore` over `async-lock`'s semaphore
//! (`smol::lock`) and `cancel/token` over a closed `smol::channel`, the shutdown signal
//! smol's documentation stops its executor threads with.
//! smol has no task-set type, so its native table declares `when_all/native` missing and
//! the cell is skipped with that reason.
//!
//! ```
//! use tapbench_core::{Config, Host, Runtime};
//! use tapbench_rt_smol::{SmolLocal, SmolMt};
//!
//! let host = SmolMt::host(2).unwrap();
//! let rt = host.runtime();
//! assert_eq!(host.block_on(async move { rt.spawn(async { 6 * 7 }).await }), 42);
//!
//! let local = SmolLocal::host(1).unwrap();
//! let rt = local.runtime();
//! assert_eq!(local.block_on(async move { rt.spawn(async { 7 }).await }), 7);
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use smol::{Executor, LocalExecutor, Task};
use tapbench_core::workloads::cancel::{self, async_channel::ChannelSignal, TokenTree};
use tapbench_core::workloads::producer_consumer::{self, async_channel::AsyncChannel};
use tapbench_core::workloads::throttle::{self, AsyncLockSemaphore, SemaphoreThrottle};
use tapbench_core::workloads::timeout::{self, TimedOut, Timeout};
use tapbench_core::{Config, Host, Native, Runtime, RuntimeInfo};

/// Where smol's primitives come from: smol re-exports async-task, async-io and blocking.
const USES: &[(&str, &str)] = &[
    (
        "join handle",
        "async-task Task (smol::Task), cancels on drop",
    ),
    ("timer", "async-io Timer (smol::Timer)"),
    ("yield", "futures-lite yield_now (smol::future::yield_now)"),
    ("blocking", "blocking unblock (smol::unblock)"),
];

/// The crates smol is made of.
const CRATES: &[&str] = &[
    "smol",
    "async-executor",
    "async-io",
    "async-channel",
    "async-lock",
    "blocking",
];

/// `smol-mt`: a `smol::Executor` driven by `--threads` OS threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolMt;

impl Config for SmolMt {
    const INFO: RuntimeInfo = RuntimeInfo {
        id: "smol-mt",
        family: "smol",
        doc: "smol::Executor driven by --threads OS threads",
        multi_threaded: true,
        legacy: false,
        worker_thread: "smol-worker-",
        uses: USES,
        crates: CRATES,
        colour: 0xd55e00,
    };
    type Host = SmolMtHost;

    fn host(threads: usize) -> Result<SmolMtHost, String> {
        SmolMtHost::new(threads).map_err(|e| e.to_string())
    }
}

/// `smol-local`: a `smol::LocalExecutor` on the thread that calls `block_on`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolLocal;

impl Config for SmolLocal {
    const INFO: RuntimeInfo = RuntimeInfo {
        id: "smol-local",
        family: "smol",
        doc: "smol::LocalExecutor on the calling thread",
        multi_threaded: false,
        legacy: false,
        worker_thread: "",
        uses: USES,
        crates: CRATES,
        colour: 0xe69f00,
    };
    type Host = SmolLocalHost;

    fn host(_threads: usize) -> Result<SmolLocalHost, String> {
        Ok(SmolLocalHost::new())
    }
}

/// smol's native table, for either of its handle types.
struct Natives<R>(PhantomData<R>);

impl<R: Runtime> Natives<R> {
    /// The table; a constant, so each handle type's `natives()` borrows it for `'static`.
    const TABLE: &'static [Native<R>] = &[
        Native::missing(
            "when_all",
            "native",
            "smol has no task-set type (no JoinSet equivalent); see when_all/spawn_join",
        ),
        Native::built(
            "producer_consumer",
            "native_channel",
            "async-channel (smol::channel), one receiver clone per consumer",
            |rt, params| producer_consumer::bench(rt, AsyncChannel, params),
        ),
        Native::missing(
            "when_any",
            "native",
            "smol has no task-set type and futures-lite's race and or take two futures, not k; \
             see when_any/select_all and futures_unordered",
        ),
        Native::built(
            "timeout",
            "runtime_timeout",
            "smol::future::or (futures-lite) of the operation and a smol::Timer (async-io)",
            |rt, params| timeout::bench(rt, SmolTimeout, params),
        ),
        Native::built(
            "throttle",
            "semaphore",
            "async_lock::Semaphore (smol::lock), one permit held around each leaf's work",
            |rt, params| throttle::bench(rt, SemaphoreThrottle(AsyncLockSemaphore), params),
        ),
        Native::built(
            "cancel",
            "token",
            "smol::channel (async-channel) as a shutdown signal, as smol's docs stop an \
             executor: a Receiver clone per task awaiting recv(), close() by the root; one \
             signal for the whole tree; allocates the channel and a listener per waiting task",
            |rt, params| cancel::bench(rt, TokenTree::<ChannelSignal>::new(), params),
        ),
    ];
}

/// `timeout/runtime_timeout` as the `smol::Timer` (async-io) documentation writes a
/// timeout: `smol::future::or` (futures-lite) of the operation and a timer that ends in
/// the error; `or` polls the operation first.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolTimeout;

impl<R: Runtime> Timeout<R> for SmolTimeout {
    fn timeout<F>(
        &self,
        _rt: &R,
        deadline: Duration,
        op: F,
    ) -> impl Future<Output = Result<F::Output, TimedOut>> + Send
    where
        F: Future + Send,
        F::Output: Send,
    {
        smol::future::or(async move { Ok(op.await) }, async move {
            smol::Timer::after(deadline).await;
            Err(TimedOut)
        })
    }
}

/// A multi-threaded smol executor with its worker threads, built once per cell. Dropping it
/// stops and joins the workers.
#[derive(Debug)]
pub struct SmolMtHost {
    rt: SmolMtRt,
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
            rt: SmolMtRt {
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
    type Runtime = SmolMtRt;

    fn runtime(&self) -> SmolMtRt {
        self.rt.clone()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        smol::block_on(future)
    }
}

/// A handle to a multi-threaded smol executor.
#[derive(Debug, Clone)]
pub struct SmolMtRt {
    executor: Arc<Executor<'static>>,
    threads: usize,
}

/// The timer is created at first poll, like the other runtimes' timers.
async fn sleep(duration: Duration) {
    smol::Timer::after(duration).await;
}

impl Runtime for SmolMtRt {
    type JoinHandle<T: Send + 'static> = Task<T>;

    fn id(&self) -> &'static str {
        SmolMt::INFO.id
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

    fn natives() -> &'static [Native<Self>] {
        Natives::<Self>::TABLE
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
    type Runtime = SmolLocalRt;

    fn runtime(&self) -> SmolLocalRt {
        SmolLocalRt { _private: () }
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
pub struct SmolLocalRt {
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

impl Runtime for SmolLocalRt {
    type JoinHandle<T: Send + 'static> = Task<T>;

    fn id(&self) -> &'static str {
        SmolLocal::INFO.id
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

    fn natives() -> &'static [Native<Self>] {
        Natives::<Self>::TABLE
    }
}
