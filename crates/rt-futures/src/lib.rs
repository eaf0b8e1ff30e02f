//! tapbench on the executors of the `futures` crate: `futures-pool`
//! ([`futures::executor::ThreadPool`] with `--threads` workers) and `futures-local`
//! ([`futures::executor::LocalPool`] on the calling thread), plus
//! `producer_consumer/native_channel` over [`futures::channel::mpsc`].
//!
//! The futures executors only run tasks; everything else comes from the crates their users
//! reach for, named in [`RuntimeInfo::uses`]: timers from `futures-timer`, blocking work
//! from `blocking`, yield from `futures-lite`. Join handles are futures' own
//! [`RemoteHandle`] (`SpawnExt::spawn_with_handle`), which cancels its task when dropped.
//! futures has no task-set type and no timeout combinator, so the native table declares
//! `when_all/native` and `timeout/runtime_timeout` missing (`timeout/select_sleep` races
//! futures-timer's `Delay` instead); `throttle/semaphore` uses `async-lock`'s semaphore, and
//! `cancel/token` a [`oneshot`](futures::channel::oneshot) made `Shared` ([`SharedOneshot`]).
//!
//! ```
//! use tapbench_core::{Config, Host, Runtime};
//! use tapbench_rt_futures::{FuturesLocal, FuturesPool};
//!
//! let host = FuturesPool::host(2).unwrap();
//! let rt = host.runtime();
//! assert_eq!(host.block_on(async move { rt.spawn(async { 6 * 7 }).await }), 42);
//!
//! let local = FuturesLocal::host(1).unwrap();
//! let rt = local.runtime();
//! assert_eq!(local.block_on(async move { rt.spawn(async { 7 }).await }), 7);
//! ```

mod channel;
mod shared_oneshot;

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::executor::{LocalPool, LocalSpawner, ThreadPool};
use futures::future::RemoteHandle;
use futures::task::SpawnExt;
use tapbench_core::workloads::cancel::{self, TokenTree};
use tapbench_core::workloads::producer_consumer::{self, Config as Round};
use tapbench_core::workloads::throttle::{self, AsyncLockSemaphore, SemaphoreThrottle};
use tapbench_core::{BuildError, Config, Host, Native, Runtime, RuntimeInfo};

pub use channel::FuturesMpsc;
pub use shared_oneshot::SharedOneshot;

/// Where the futures configurations' primitives come from.
const USES: &[(&str, &str)] = &[
    (
        "join handle",
        "futures RemoteHandle (SpawnExt::spawn_with_handle), cancels on drop",
    ),
    ("timer", "futures-timer Delay (futures has no timer)"),
    ("yield", "futures-lite yield_now (futures has none)"),
    (
        "blocking",
        "blocking unblock (futures has no blocking pool)",
    ),
];

/// The crates the futures configurations are made of.
const CRATES: &[&str] = &[
    "futures",
    "futures-executor",
    "futures-timer",
    "blocking",
    "async-lock",
];

/// `futures-pool`: `futures::executor::ThreadPool` with `--threads` workers.
#[derive(Debug, Clone, Copy, Default)]
pub struct FuturesPool;

impl Config for FuturesPool {
    const INFO: RuntimeInfo = RuntimeInfo {
        id: "futures-pool",
        family: "futures",
        doc:
            "futures::executor::ThreadPool (one shared queue, no work stealing), --threads workers",
        multi_threaded: true,
        legacy: false,
        worker_thread: "futures-worker-",
        uses: USES,
        crates: CRATES,
        colour: 0xcc79a7,
    };
    type Host = FuturesPoolHost;

    fn host(threads: usize) -> Result<FuturesPoolHost, String> {
        FuturesPoolHost::new(threads).map_err(|e| e.to_string())
    }
}

/// `futures-local`: `futures::executor::LocalPool` on the thread that calls `block_on`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FuturesLocal;

impl Config for FuturesLocal {
    const INFO: RuntimeInfo = RuntimeInfo {
        id: "futures-local",
        family: "futures",
        doc: "futures::executor::LocalPool on the calling thread",
        multi_threaded: false,
        legacy: false,
        worker_thread: "",
        uses: USES,
        crates: CRATES,
        colour: 0xe7a8d0,
    };
    type Host = FuturesLocalHost;

    fn host(_threads: usize) -> Result<FuturesLocalHost, String> {
        Ok(FuturesLocalHost::new())
    }
}

/// The futures native table, for either handle type.
struct Natives<R>(PhantomData<R>);

impl<R: Runtime> Natives<R> {
    /// The table; a constant, so each handle type's `natives()` borrows it for `'static`.
    const TABLE: &'static [Native<R>] = &[
        Native::missing(
            "when_all",
            "native",
            "futures has no task-set type (no JoinSet equivalent); see when_all/spawn_join",
        ),
        Native::built(
            "producer_consumer",
            "native_channel",
            "futures::channel::mpsc (buffer = capacity - producers, since every sender has a \
             slot of its own; receiver shared behind futures::lock::Mutex when consumers > 1)",
            mpsc_bench::<R>,
        ),
        Native::missing(
            "when_any",
            "native",
            "the futures crate's own k-way races are select_all and FuturesUnordered, measured \
             as when_any/select_all and futures_unordered; it has no task-set type",
        ),
        Native::missing(
            "timeout",
            "runtime_timeout",
            "futures has no timeout combinator (nor a timer); see timeout/select_sleep, which \
             races futures-timer's Delay",
        ),
        Native::built(
            "throttle",
            "semaphore",
            "async_lock::Semaphore (futures has none), one permit held around each leaf's work",
            |rt, params| throttle::bench(rt, SemaphoreThrottle(AsyncLockSemaphore), params),
        ),
        Native::built(
            "cancel",
            "token",
            "futures::channel::oneshot made Shared (FutureExt::shared), a clone per task, \
             send(()) by the root wakes them all; one signal for the whole tree; allocates the \
             one-shot, the Shared state and notifier, and the notifier's slab of wakers",
            |rt, params| cancel::bench(rt, TokenTree::<SharedOneshot>::new(), params),
        ),
    ];
}

/// `producer_consumer/native_channel`: futures' bounded mpsc cannot hold fewer items than
/// it has senders, so such a capacity is skipped with the reason.
fn mpsc_bench<R: Runtime>(
    rt: &R,
    params: &tapbench_core::Params,
) -> Result<tapbench_core::BoxBench, BuildError> {
    let round = Round::from_params(params)?;
    if let Some(capacity) = round.capacity {
        if capacity < round.producers as usize {
            return Err(BuildError::Unsupported(format!(
                "futures::channel::mpsc gives every sender a slot of its own: a capacity of \
                 {capacity} cannot be kept with {} producers",
                round.producers
            )));
        }
    }
    producer_consumer::bench(rt, FuturesMpsc, params)
}

/// A join handle of the futures configurations: a [`RemoteHandle`] for tasks, a `blocking`
/// task for blocking work. Either cancels its task when dropped (a blocking closure that
/// has started runs to its end).
#[derive(Debug)]
pub enum FuturesJoin<T> {
    /// A task spawned with `spawn_with_handle`.
    Task(RemoteHandle<T>),
    /// A closure on the `blocking` pool.
    Blocking(blocking::Task<T>),
}

impl<T: Send + 'static> Future for FuturesJoin<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.get_mut() {
            FuturesJoin::Task(handle) => Pin::new(handle).poll(cx),
            FuturesJoin::Blocking(task) => Pin::new(task).poll(cx),
        }
    }
}

/// The timer is created at first poll, like the other runtimes' timers (`Delay::new`
/// registers with futures-timer's global timer thread at once).
async fn sleep(duration: Duration) {
    futures_timer::Delay::new(duration).await;
}

/// A `futures::executor::ThreadPool`, built once per cell. Dropping it lets its workers
/// exit once their queue is empty.
#[derive(Debug)]
pub struct FuturesPoolHost {
    rt: FuturesPoolRt,
}

impl FuturesPoolHost {
    /// A pool of `threads` workers (at least one).
    ///
    /// # Errors
    ///
    /// The I/O error of a worker thread that could not be started.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let threads = threads.max(1);
        let pool = ThreadPool::builder()
            .pool_size(threads)
            .name_prefix(FuturesPool::INFO.worker_thread)
            .create()?;
        Ok(FuturesPoolHost {
            rt: FuturesPoolRt { pool, threads },
        })
    }
}

impl Host for FuturesPoolHost {
    type Runtime = FuturesPoolRt;

    fn runtime(&self) -> FuturesPoolRt {
        self.rt.clone()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        futures::executor::block_on(future)
    }
}

/// A handle to a `futures::executor::ThreadPool`.
#[derive(Debug, Clone)]
pub struct FuturesPoolRt {
    pool: ThreadPool,
    threads: usize,
}

impl Runtime for FuturesPoolRt {
    type JoinHandle<T: Send + 'static> = FuturesJoin<T>;

    fn id(&self) -> &'static str {
        FuturesPool::INFO.id
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn spawn<F>(&self, future: F) -> FuturesJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // A ThreadPool never refuses a task (its spawn error is for shut-down executors).
        FuturesJoin::Task(
            self.pool
                .spawn_with_handle(future)
                .expect("a futures ThreadPool accepts tasks"),
        )
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.pool.spawn_ok(future);
    }

    fn spawn_blocking<F, T>(&self, f: F) -> FuturesJoin<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        FuturesJoin::Blocking(blocking::unblock(f))
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static + use<> {
        sleep(duration)
    }

    fn yield_now(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        futures_lite::future::yield_now()
    }

    fn natives() -> &'static [Native<Self>] {
        Natives::<Self>::TABLE
    }
}

thread_local! {
    // The spawner of the `FuturesLocalHost::block_on` running on this thread.
    static LOCAL: RefCell<Option<LocalSpawner>> = const { RefCell::new(None) };
}

/// A `futures::executor::LocalPool` on the calling thread; its spawner is installed in a
/// thread-local for the handles while [`block_on`](Host::block_on) runs.
#[derive(Debug)]
pub struct FuturesLocalHost {
    pool: RefCell<LocalPool>,
}

impl FuturesLocalHost {
    /// A host with an empty pool.
    pub fn new() -> Self {
        FuturesLocalHost {
            pool: RefCell::new(LocalPool::new()),
        }
    }
}

impl Default for FuturesLocalHost {
    fn default() -> Self {
        Self::new()
    }
}

impl Host for FuturesLocalHost {
    type Runtime = FuturesLocalRt;

    fn runtime(&self) -> FuturesLocalRt {
        FuturesLocalRt { _private: () }
    }

    /// # Panics
    ///
    /// When called again, on the same host, from inside a `block_on` of its own.
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        let mut pool = self
            .pool
            .try_borrow_mut()
            .expect("futures-local: block_on is not re-entrant");
        let previous = LOCAL.with(|local| local.borrow_mut().replace(pool.spawner()));
        struct Restore(Option<LocalSpawner>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                LOCAL.with(|local| *local.borrow_mut() = previous);
            }
        }
        let _restore = Restore(previous);
        pool.run_until(future)
    }
}

/// A handle to the `LocalPool` of the `block_on` running on the current thread.
#[derive(Debug, Clone)]
pub struct FuturesLocalRt {
    _private: (),
}

fn with_local<T>(f: impl FnOnce(&LocalSpawner) -> T) -> T {
    LOCAL.with(|local| {
        let local = local.borrow();
        let spawner = local.as_ref().expect(
            "futures-local: spawn called outside FuturesLocalHost::block_on on this thread",
        );
        f(spawner)
    })
}

impl Runtime for FuturesLocalRt {
    type JoinHandle<T: Send + 'static> = FuturesJoin<T>;

    fn id(&self) -> &'static str {
        FuturesLocal::INFO.id
    }

    fn threads(&self) -> usize {
        1
    }

    fn spawn<F>(&self, future: F) -> FuturesJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        with_local(|spawner| {
            FuturesJoin::Task(
                spawner
                    .spawn_with_handle(future)
                    .expect("the LocalPool of a running block_on accepts tasks"),
            )
        })
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        with_local(|spawner| {
            spawner
                .spawn(future)
                .expect("the LocalPool of a running block_on accepts tasks")
        });
    }

    fn spawn_blocking<F, T>(&self, f: F) -> FuturesJoin<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        FuturesJoin::Blocking(blocking::unblock(f))
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static + use<> {
        sleep(duration)
    }

    fn yield_now(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        futures_lite::future::yield_now()
    }

    fn natives() -> &'static [Native<Self>] {
        Natives::<Self>::TABLE
    }
}
