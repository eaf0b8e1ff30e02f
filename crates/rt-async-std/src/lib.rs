//! tapbench on async-std: the `async-std` configuration, its global executor (the
//! `async-global-executor` pool, sized from `ASYNC_STD_THREAD_COUNT`) with `--threads`
//! workers, plus `producer_consumer/native_channel` over `async_std::channel` (a re-export of
//! `async-channel`), `timeout/runtime_timeout` over [`async_std::future::timeout`] and
//! `throttle/semaphore` over `async-lock`'s semaphore (async-std has none of its own) and
//! `cancel/token` over a closed `async_std::channel` (async-std has no cancellation token).
//! async-std has no task-set type, so its native table declares `when_all/native` missing.
//!
//! async-std is discontinued upstream (its authors point to smol); the suite keeps it
//! because code being ported still uses it, and labels it "legacy" everywhere.
//!
//! The global executor is started once per process and cannot be resized: the first
//! [`AsyncStd::host`] of a process sets `ASYNC_STD_THREAD_COUNT` and starts the pool, and a
//! later host asking for another thread count fails with the reason instead of silently
//! running on the wrong number of threads. (Every cell runs in a process of its own.)
//!
//! async-std's `JoinHandle` detaches its task when dropped; [`AsyncStdJoin`] cancels it
//! instead, so that dropping a handle cancels the task here as on every other runtime of
//! the suite.
//!
//! ```
//! use tapbench_core::{Config, Host, Runtime};
//! use tapbench_rt_async_std::AsyncStd;
//!
//! let host = AsyncStd::host(2).unwrap();
//! let rt = host.runtime();
//! assert_eq!(host.block_on(async move { rt.spawn(async { 6 * 7 }).await }), 42);
//! ```

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use async_std::task::{self, JoinHandle};
use futures::task::noop_waker_ref;
use tapbench_core::workloads::cancel::{self, async_channel::ChannelSignal, TokenTree};
use tapbench_core::workloads::producer_consumer::{self, async_channel::AsyncChannel};
use tapbench_core::workloads::throttle::{self, AsyncLockSemaphore, SemaphoreThrottle};
use tapbench_core::workloads::timeout::{self, TimedOut, Timeout};
use tapbench_core::{Config, Host, Native, Runtime, RuntimeInfo};

/// The environment variable async-std sizes its global executor from.
pub const THREAD_COUNT_VAR: &str = "ASYNC_STD_THREAD_COUNT";

/// `async-std`: async-std's global executor with `--threads` workers (legacy).
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStd;

impl Config for AsyncStd {
    const INFO: RuntimeInfo = RuntimeInfo {
        id: "async-std",
        family: "async-std",
        doc: "async-std global executor (async-global-executor), --threads workers \
              via ASYNC_STD_THREAD_COUNT; discontinued upstream",
        multi_threaded: true,
        legacy: true,
        worker_thread: "async-std/runtime",
        uses: &[
            (
                "join handle",
                "async_std::task::JoinHandle, cancelled on drop",
            ),
            ("timer", "async_std::task::sleep (async-io)"),
            ("yield", "async_std::task::yield_now"),
            ("blocking", "async_std::task::spawn_blocking (blocking)"),
        ],
        crates: &[
            "async-std",
            "async-global-executor",
            "async-executor",
            "async-io",
            "async-lock",
        ],
        colour: 0x009e73,
    };
    type Host = AsyncStdHost;

    fn host(threads: usize) -> Result<AsyncStdHost, String> {
        AsyncStdHost::new(threads)
    }
}

/// async-std's native table.
pub static NATIVES: &[Native<AsyncStdRt>] = &[
    Native::missing(
        "when_all",
        "native",
        "async-std has no task-set type (no JoinSet equivalent); see when_all/spawn_join",
    ),
    Native::built(
        "producer_consumer",
        "native_channel",
        "async_std::channel (async-channel), one receiver clone per consumer",
        |rt, params| producer_consumer::bench(rt, AsyncChannel, params),
    ),
    Native::missing(
        "when_any",
        "native",
        "async-std has no task-set type and its race (FutureExt::race, unstable) takes two \
         futures, not k; see when_any/select_all and futures_unordered",
    ),
    Native::built(
        "timeout",
        "runtime_timeout",
        "async_std::future::timeout (an async-io Timer)",
        |rt, params| timeout::bench(rt, AsyncStdTimeout, params),
    ),
    Native::built(
        "throttle",
        "semaphore",
        "async_lock::Semaphore (async-std has none), one permit held around each leaf's work",
        |rt, params| throttle::bench(rt, SemaphoreThrottle(AsyncLockSemaphore), params),
    ),
    Native::built(
        "cancel",
        "token",
        "async_std::channel (async-channel) as a shutdown signal (async-std has no \
         cancellation token): a Receiver clone per task awaiting recv(), close() by the root; \
         one signal for the whole tree; allocates the channel and a listener per waiting task",
        |rt, params| cancel::bench(rt, TokenTree::<ChannelSignal>::new(), params),
    ),
];

/// `timeout/runtime_timeout`: [`async_std::future::timeout`], the operation polled before
/// its async-io timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStdTimeout;

impl Timeout<AsyncStdRt> for AsyncStdTimeout {
    async fn timeout<F>(
        &self,
        _rt: &AsyncStdRt,
        deadline: Duration,
        op: F,
    ) -> Result<F::Output, TimedOut>
    where
        F: Future + Send,
        F::Output: Send,
    {
        async_std::future::timeout(deadline, op)
            .await
            .map_err(|_timeout_error| TimedOut)
    }
}

/// The thread count the global executor of this process was started with.
static STARTED: Mutex<Option<usize>> = Mutex::new(None);

/// Starts async-std's global executor with `threads` workers, or checks that it already
/// runs with that many.
fn start_global_executor(threads: usize) -> Result<(), String> {
    let mut started = STARTED.lock().unwrap_or_else(|e| e.into_inner());
    match *started {
        Some(running) if running == threads => Ok(()),
        Some(running) => Err(format!(
            "async-std's global executor already runs {running} threads in this process and \
             cannot be resized to {threads}"
        )),
        None => {
            // Read once, when the pool starts (at async-std's first spawn): set it first.
            std::env::set_var(THREAD_COUNT_VAR, threads.to_string());
            task::block_on(task::spawn(async {}));
            *started = Some(threads);
            Ok(())
        }
    }
}

/// async-std's global executor, started (once per process) with a fixed thread count.
#[derive(Debug)]
pub struct AsyncStdHost {
    rt: AsyncStdRt,
}

impl AsyncStdHost {
    /// Starts the global executor with `threads` workers (at least one).
    ///
    /// # Errors
    ///
    /// The global executor already runs with another number of threads in this process.
    pub fn new(threads: usize) -> Result<Self, String> {
        let threads = threads.max(1);
        start_global_executor(threads)?;
        Ok(AsyncStdHost {
            rt: AsyncStdRt { threads },
        })
    }
}

impl Host for AsyncStdHost {
    type Runtime = AsyncStdRt;

    fn runtime(&self) -> AsyncStdRt {
        self.rt.clone()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        task::block_on(future)
    }
}

/// A handle to async-std's global executor.
#[derive(Debug, Clone)]
pub struct AsyncStdRt {
    threads: usize,
}

/// An async-std [`JoinHandle`] that cancels its task when dropped before the task has
/// finished (async-std itself would detach it).
#[derive(Debug)]
pub struct AsyncStdJoin<T> {
    handle: Option<JoinHandle<T>>,
}

impl<T> Future for AsyncStdJoin<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let handle = self
            .handle
            .as_mut()
            .expect("an AsyncStdJoin is not polled after it completed");
        let output = std::task::ready!(Pin::new(handle).poll(cx));
        self.handle = None;
        Poll::Ready(output)
    }
}

impl<T> Drop for AsyncStdJoin<T> {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            // `cancel` marks the task cancelled on its first poll (the executor then drops
            // the task's future, scheduling it if it is idle) and would go on to wait for
            // that. Polling it once, then dropping it, cancels without waiting.
            let mut cancel = pin!(handle.cancel());
            let _ = cancel
                .as_mut()
                .poll(&mut Context::from_waker(noop_waker_ref()));
        }
    }
}

impl Runtime for AsyncStdRt {
    type JoinHandle<T: Send + 'static> = AsyncStdJoin<T>;

    fn id(&self) -> &'static str {
        AsyncStd::INFO.id
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn spawn<F>(&self, future: F) -> AsyncStdJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        AsyncStdJoin {
            handle: Some(task::spawn(future)),
        }
    }

    fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // async-std's own fire and forget: a dropped JoinHandle detaches.
        drop(task::spawn(future));
    }

    fn spawn_blocking<F, T>(&self, f: F) -> AsyncStdJoin<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        AsyncStdJoin {
            handle: Some(task::spawn_blocking(f)),
        }
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static + use<> {
        // An async fn: the timer is created at first poll, like the other runtimes' timers.
        task::sleep(duration)
    }

    fn yield_now(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        task::yield_now()
    }

    fn natives() -> &'static [Native<Self>] {
        NATIVES
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tapbench_core::{run_cell, Case, CellError, Params};
    use tapbench_measure::SamplingPlan;

    use super::*;

    /// Worker threads of async-std's pool in this process, by their (truncated) name, once
    /// `expected` of them are named or a second has passed (a thread names itself when it
    /// starts running, a moment after it was spawned).
    #[cfg(target_os = "linux")]
    fn pool_threads(expected: usize) -> usize {
        let prefix = &AsyncStd::INFO.worker_thread[..15];
        let count = || {
            std::fs::read_dir("/proc/self/task")
                .expect("/proc/self/task is readable")
                .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
                .filter(|name| name.trim_end() == prefix)
                .count()
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        while count() < expected && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        // Any thread beyond `expected` has had the same time to name itself.
        std::thread::sleep(Duration::from_millis(50));
        count()
    }

    /// The pool runs exactly the threads asked for; a later cell asking for another size
    /// fails with the reason instead of running on the wrong number of threads.
    #[test]
    fn the_pool_is_sized_once_and_a_different_size_fails_the_cell() {
        let plan = SamplingPlan::fixed(Duration::from_millis(1), Duration::from_millis(1), 2);
        let noop = Case::new("noop", "batch", Params::default());
        let host = AsyncStd::host(2).expect("the pool starts");
        assert_eq!(host.runtime().threads(), 2);
        assert_eq!(std::env::var(THREAD_COUNT_VAR).as_deref(), Ok("2"));
        #[cfg(target_os = "linux")]
        assert_eq!(pool_threads(2), 2);

        let why = AsyncStd::host(3).expect_err("the pool cannot be resized");
        assert!(why.contains("already runs 2 threads"), "{why}");
        match run_cell::<AsyncStd>(3, &noop, plan) {
            Err(CellError::Runtime(why)) => assert!(why.contains("cannot be resized"), "{why}"),
            other => panic!("expected a runtime error, got {other:?}"),
        }
        assert!(run_cell::<AsyncStd>(2, &noop, plan).is_ok());
    }
}
