//! tapbench on tokio: the `tokio-mt` (multi-thread scheduler) and `tokio-ct`
//! (current-thread scheduler) configurations, plus the variants tokio has its own idiom for
//! (see [`NATIVES`]): `when_all/native` and `when_any/native` (a [`tokio::task::JoinSet`]),
//! `producer_consumer/native_channel` ([`tokio::sync::mpsc`]), `timeout/runtime_timeout`
//! ([`tokio::time::timeout`]), `throttle/semaphore` ([`tokio::sync::Semaphore`]) and
//! `cancel/token` (tokio-util's [`CancellationToken`](tokio_util::sync::CancellationToken)).
//!
//! tokio's `JoinHandle` detaches its task when dropped; [`TokioJoin`] aborts it instead, so
//! that dropping a handle cancels the task here as on every other runtime of the suite.
//!
//! ```
//! use tapbench_core::{Config, Host, Runtime};
//! use tapbench_rt_tokio::TokioCt;
//!
//! let host = TokioCt::host(1).unwrap();
//! let rt = host.runtime();
//! let answer = host.block_on(async move { rt.spawn(async { 6 * 7 }).await });
//! assert_eq!(answer, 42);
//! ```

mod cancellation_token;
mod channel;
mod join_set;
mod rt;
mod semaphore;
mod timeout;

use std::future::Future;
use std::time::Duration;

use tapbench_core::workloads::cancel::{self, TokenTree};
use tapbench_core::workloads::throttle::{self, SemaphoreThrottle};
use tapbench_core::workloads::{producer_consumer, when_all, when_any};
use tapbench_core::{Config, Host, Native, Runtime, RuntimeInfo};

pub use cancellation_token::TokioToken;
pub use channel::TokioMpsc;
pub use join_set::{JoinSetWhenAll, JoinSetWhenAny};
pub use rt::{TokioJoin, TokioRt};
pub use semaphore::TokioSemaphore;
pub use timeout::TokioTimeout;

/// Where tokio's primitives come from (all of them are tokio's own).
const USES: &[(&str, &str)] = &[
    ("join handle", "tokio::task::JoinHandle, aborted on drop"),
    ("timer", "tokio::time::sleep"),
    ("yield", "tokio::task::yield_now"),
    ("blocking", "tokio::task::spawn_blocking"),
];

/// `tokio-mt`: the multi-thread, work-stealing scheduler with `--threads` workers.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioMt;

impl Config for TokioMt {
    const INFO: RuntimeInfo = RuntimeInfo {
        id: "tokio-mt",
        family: "tokio",
        doc: "tokio multi-thread scheduler (work-stealing), --threads workers",
        multi_threaded: true,
        legacy: false,
        worker_thread: "tokio-worker",
        uses: USES,
        crates: &["tokio"],
        colour: 0x0072b2,
    };
    type Host = TokioHost;

    fn host(threads: usize) -> Result<TokioHost, String> {
        TokioHost::new(Flavor::MultiThread, threads).map_err(|e| e.to_string())
    }
}

/// `tokio-ct`: the current-thread scheduler, on the thread that calls `block_on`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioCt;

impl Config for TokioCt {
    const INFO: RuntimeInfo = RuntimeInfo {
        id: "tokio-ct",
        family: "tokio",
        doc: "tokio current-thread scheduler on the calling thread",
        multi_threaded: false,
        legacy: false,
        worker_thread: "",
        uses: USES,
        crates: &["tokio"],
        colour: 0x56b4e9,
    };
    type Host = TokioHost;

    fn host(_threads: usize) -> Result<TokioHost, String> {
        TokioHost::new(Flavor::CurrentThread, 1).map_err(|e| e.to_string())
    }
}

/// tokio's native table: the catalogue's native variants, written with tokio's own types.
pub static NATIVES: &[Native<TokioRt>] = &[
    Native::built(
        "when_all",
        "native",
        "tokio::task::JoinSet (results put back in input order)",
        |rt, params| when_all::bench(rt, JoinSetWhenAll, params),
    ),
    Native::built(
        "producer_consumer",
        "native_channel",
        "tokio::sync::mpsc (receiver shared behind tokio::sync::Mutex when consumers > 1)",
        |rt, params| producer_consumer::bench(rt, TokioMpsc, params),
    ),
    Native::built(
        "when_any",
        "native",
        "tokio::task::JoinSet (spawn k, first join_next, the rest aborted with the set)",
        |rt, params| when_any::bench(rt, JoinSetWhenAny, params),
    ),
    Native::built(
        "timeout",
        "runtime_timeout",
        "tokio::time::timeout (deadline rounded up to the timer wheel's 1 ms tick)",
        |rt, params| tapbench_core::workloads::timeout::bench(rt, TokioTimeout, params),
    ),
    Native::built(
        "throttle",
        "semaphore",
        "tokio::sync::Semaphore, one permit held around each leaf's work",
        |rt, params| throttle::bench(rt, SemaphoreThrottle(TokioSemaphore), params),
    ),
    Native::built(
        "cancel",
        "token",
        "tokio_util::sync::CancellationToken, a child_token() per task (a token tree like the \
         task tree), cancel() on the root; allocates a token node per task plus the root's, \
         and each parent token's Vec of children",
        |rt, params| cancel::bench(rt, TokenTree::<TokioToken>::new(), params),
    ),
];

/// Which tokio scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `tokio-mt`: the multi-thread, work-stealing scheduler.
    MultiThread,
    /// `tokio-ct`: the current-thread scheduler.
    CurrentThread,
}

impl Flavor {
    fn id(self) -> &'static str {
        match self {
            Flavor::MultiThread => TokioMt::INFO.id,
            Flavor::CurrentThread => TokioCt::INFO.id,
        }
    }
}

/// An owned tokio runtime, built once per cell.
#[derive(Debug)]
pub struct TokioHost {
    runtime: tokio::runtime::Runtime,
    rt: TokioRt,
}

impl TokioHost {
    /// Builds a runtime of `flavor` with `threads` workers (ignored for the current-thread
    /// scheduler), with the timer enabled.
    ///
    /// # Errors
    ///
    /// The I/O error of tokio's builder (for example when threads cannot be created).
    pub fn new(flavor: Flavor, threads: usize) -> std::io::Result<Self> {
        let (mut builder, threads) = match flavor {
            Flavor::MultiThread => {
                let threads = threads.max(1);
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(threads).thread_name("tokio-worker");
                (b, threads)
            }
            Flavor::CurrentThread => (tokio::runtime::Builder::new_current_thread(), 1),
        };
        let runtime = builder.enable_time().build()?;
        let rt = TokioRt {
            handle: runtime.handle().clone(),
            id: flavor.id(),
            threads,
        };
        Ok(TokioHost { runtime, rt })
    }
}

impl Host for TokioHost {
    type Runtime = TokioRt;

    fn runtime(&self) -> TokioRt {
        self.rt.clone()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

impl Runtime for TokioRt {
    type JoinHandle<T: Send + 'static> = TokioJoin<T>;

    fn id(&self) -> &'static str {
        self.id
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn spawn<F>(&self, future: F) -> TokioJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        TokioJoin::new(self.handle.spawn(future))
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.handle.spawn(future));
    }

    fn spawn_blocking<F, T>(&self, f: F) -> TokioJoin<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        TokioJoin::new(self.handle.spawn_blocking(f))
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static + use<> {
        // Created at first poll, inside the runtime, like the other runtimes' timers.
        async move { tokio::time::sleep(duration).await }
    }

    fn yield_now(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        tokio::task::yield_now()
    }

    fn natives() -> &'static [Native<Self>] {
        NATIVES
    }
}
