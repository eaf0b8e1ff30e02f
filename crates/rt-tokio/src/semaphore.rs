//! `throttle/semaphore`: [`tokio::sync::Semaphore`].

use tapbench_core::workloads::throttle::Semaphore;

/// tokio's semaphore: a permit is a `SemaphorePermit`, given back when dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSemaphore;

impl Semaphore for TokioSemaphore {
    type Sem = tokio::sync::Semaphore;

    fn new(permits: usize) -> tokio::sync::Semaphore {
        tokio::sync::Semaphore::new(permits)
    }

    async fn acquire(sem: &tokio::sync::Semaphore) -> impl Send + '_ {
        // Only a closed semaphore refuses a permit, and this one is never closed.
        sem.acquire()
            .await
            .expect("the throttle's semaphore is never closed")
    }
}
