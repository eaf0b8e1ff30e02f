//! The runtime handle workloads use ([`TokioRt`]) and the join handle that cancels its task
//! when dropped ([`TokioJoin`]); their [`Runtime`](tapbench_core::Runtime) implementation,
//! which names tokio's own variants, is in the crate root.

use std::future::Future;
use std::panic;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::runtime::Handle;

/// A handle to a tokio runtime, used by workloads.
#[derive(Debug, Clone)]
pub struct TokioRt {
    pub(crate) handle: Handle,
    pub(crate) id: &'static str,
    pub(crate) threads: usize,
}

/// A tokio [`JoinHandle`](tokio::task::JoinHandle) that resolves to the task's output and
/// resumes the task's panic. Dropping it before the task has finished aborts the task
/// (tokio itself would detach it); once the output has been taken, dropping it costs
/// nothing more.
#[derive(Debug)]
pub struct TokioJoin<T> {
    handle: tokio::task::JoinHandle<T>,
    finished: bool,
}

impl<T> TokioJoin<T> {
    pub(crate) fn new(handle: tokio::task::JoinHandle<T>) -> Self {
        TokioJoin {
            handle,
            finished: false,
        }
    }
}

impl<T> Drop for TokioJoin<T> {
    fn drop(&mut self) {
        if !self.finished {
            self.handle.abort();
        }
    }
}

impl<T> Future for TokioJoin<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let polled = Pin::new(&mut self.handle).poll(cx);
        if polled.is_ready() {
            self.finished = true;
        }
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(value)) => Poll::Ready(value),
            Poll::Ready(Err(err)) if err.is_panic() => panic::resume_unwind(err.into_panic()),
            Poll::Ready(Err(err)) => panic!("awaited a tokio task that was cancelled: {err}"),
        }
    }
}
