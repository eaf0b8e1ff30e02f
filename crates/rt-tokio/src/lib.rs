//! tapbench on tokio: the `tokio-mt` (multi-thread scheduler) and `tokio-ct`
//! (current-thread scheduler) configurations, plus the variants tokio has its own idiom for:
//! `when_all/native` (a [`tokio::task::JoinSet`]) and `producer_consumer/native_channel`
//! ([`tokio::sync::mpsc`]).
//!
//! ```
//! use tapbench_core::{Host, Runtime};
//! use tapbench_rt_tokio::{Flavor, TokioHost};
//!
//! let host = TokioHost::new(Flavor::CurrentThread, 1).unwrap();
//! let rt = host.runtime();
//! let answer = host.block_on(async move { rt.spawn(async { 6 * 7 }).await });
//! assert_eq!(answer, 42);
//! ```

mod channel;
mod when_all;

use std::future::Future;
use std::panic;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tapbench_core::{
    build_bench, check_case, measure_on, BoxBench, BuildError, Case, CellError, Host, Runtime,
    RuntimeInfo,
};
use tapbench_measure::{Measurement, SamplingPlan};
use tokio::runtime::Handle;

pub use channel::TokioMpsc;
pub use when_all::JoinSetWhenAll;

/// The tokio configurations of the catalogue.
pub const RUNTIMES: [RuntimeInfo; 2] = [
    RuntimeInfo {
        id: "tokio-mt",
        family: "tokio",
        doc: "tokio multi-thread scheduler (work-stealing), --threads workers",
        multi_threaded: true,
        legacy: false,
    },
    RuntimeInfo {
        id: "tokio-ct",
        family: "tokio",
        doc: "tokio current-thread scheduler on the calling thread",
        multi_threaded: false,
        legacy: false,
    },
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
    /// The flavour of a configuration id, if it is a tokio one.
    pub fn from_id(id: &str) -> Option<Flavor> {
        match id {
            "tokio-mt" => Some(Flavor::MultiThread),
            "tokio-ct" => Some(Flavor::CurrentThread),
            _ => None,
        }
    }

    fn id(self) -> &'static str {
        match self {
            Flavor::MultiThread => "tokio-mt",
            Flavor::CurrentThread => "tokio-ct",
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

/// A handle to a tokio runtime, used by workloads.
#[derive(Debug, Clone)]
pub struct TokioRt {
    handle: Handle,
    id: &'static str,
    threads: usize,
}

/// A tokio [`JoinHandle`](tokio::task::JoinHandle) that resolves to the task's output and
/// resumes the task's panic. Dropping it detaches the task (tokio's behaviour).
#[derive(Debug)]
pub struct TokioJoin<T>(tokio::task::JoinHandle<T>);

impl<T> Future for TokioJoin<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(value)) => Poll::Ready(value),
            Poll::Ready(Err(err)) if err.is_panic() => panic::resume_unwind(err.into_panic()),
            Poll::Ready(Err(err)) => panic!("awaited a tokio task that was cancelled: {err}"),
        }
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
        TokioJoin(self.handle.spawn(future))
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
        TokioJoin(self.handle.spawn_blocking(f))
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static + use<> {
        // Created at first poll, inside the runtime, like the other runtimes' timers.
        async move { tokio::time::sleep(duration).await }
    }

    fn yield_now(&self) -> impl Future<Output = ()> + Send + 'static + use<> {
        tokio::task::yield_now()
    }
}

/// Builds the bench for `case` on `rt`: tokio's native variants here, the rest from core.
///
/// # Errors
///
/// Unknown ids or invalid parameters.
pub fn build(rt: &TokioRt, case: &Case) -> Result<BoxBench, BuildError> {
    check_case(case)?;
    match (case.workload.as_str(), case.variant.as_str()) {
        ("when_all", "native") => Ok(Box::new(
            tapbench_core::workloads::when_all::WhenAllBench::new(
                rt,
                JoinSetWhenAll,
                &case.params,
            )?,
        )),
        ("producer_consumer", "native_channel") => Ok(Box::new(
            tapbench_core::workloads::producer_consumer::ProducerConsumerBench::new(
                rt,
                TokioMpsc,
                &case.params,
            )?,
        )),
        _ => build_bench(rt, case),
    }
}

/// Runs one cell on the tokio configuration `id`: builds the runtime (untimed), builds the
/// bench, and measures it inside the runtime.
///
/// # Errors
///
/// An unknown id, a case that cannot be built, a runtime that cannot start, or a violated
/// invariant.
pub fn run_cell(
    id: &str,
    threads: usize,
    case: &Case,
    plan: SamplingPlan,
) -> Result<Measurement, CellError> {
    let flavor = Flavor::from_id(id)
        .ok_or_else(|| CellError::Runtime(format!("`{id}` is not a tokio configuration")))?;
    let host = TokioHost::new(flavor, threads).map_err(|e| CellError::Runtime(e.to_string()))?;
    let bench = build(&host.runtime(), case)?;
    Ok(measure_on(&host, bench, plan)?)
}
