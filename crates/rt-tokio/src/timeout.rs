//! `timeout/runtime_timeout`: [`tokio::time::timeout`].

use std::future::Future;
use std::time::Duration;

use tapbench_core::workloads::timeout::{TimedOut, Timeout};

use crate::rt::TokioRt;

/// The timeout with [`tokio::time::timeout`]: the operation and a `Sleep` in one future,
/// the operation polled first. tokio's timer wheel rounds the deadline up to its next 1 ms
/// tick.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimeout;

impl Timeout<TokioRt> for TokioTimeout {
    async fn timeout<F>(
        &self,
        _rt: &TokioRt,
        deadline: Duration,
        op: F,
    ) -> Result<F::Output, TimedOut>
    where
        F: Future + Send,
        F::Output: Send,
    {
        tokio::time::timeout(deadline, op)
            .await
            .map_err(|_elapsed| TimedOut)
    }
}
