//! What the caches of the `cache` workload share: the factory a miss runs (counting its
//! runs per key), what a lookup returns, and the trait every cache implements.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::Runtime;
use crate::seeded::{mix64, GOLDEN};

/// The value of `key`: what its factory returns.
#[inline]
pub fn value(key: u64) -> u64 {
    mix64(key.wrapping_mul(GOLDEN) ^ 0xCA_C4E0)
}

/// A factory's failure (the conformance tests make some first runs fail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactoryError {
    /// The key.
    pub key: u64,
    /// Which run of the key's factory failed (from 0).
    pub run: u64,
}

/// What a lookup returns.
pub type Lookup = Result<u64, FactoryError>;

/// What the factory awaits before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactoryWait {
    /// One yield.
    Yield,
    /// The runtime's sleep.
    Sleep(Duration),
}

/// The factory of every miss: counts its runs per key, awaits its wait, and returns the
/// key's [`value`], or fails on the first run of every `fail_first_every`-th key.
#[derive(Debug, Clone)]
pub struct Factory<R> {
    rt: R,
    wait: FactoryWait,
    runs: Arc<[AtomicU64]>,
    fail_first_every: u64,
}

impl<R: Runtime> Factory<R> {
    /// A factory for keys `0..keys` that never fails.
    pub fn new(rt: &R, wait: FactoryWait, keys: u64) -> Self {
        Factory {
            rt: rt.clone(),
            wait,
            runs: (0..keys).map(|_| AtomicU64::new(0)).collect(),
            fail_first_every: 0,
        }
    }

    /// Makes the first run of every key divisible by `every` fail (0: none).
    pub fn failing_first_runs(mut self, every: u64) -> Self {
        self.fail_first_every = every;
        self
    }

    /// Whether run `run` of `key`'s factory fails.
    pub fn fails(&self, key: u64, run: u64) -> bool {
        run == 0 && self.fail_first_every != 0 && key.is_multiple_of(self.fail_first_every)
    }

    /// One run of the factory for `key` (counted when it starts, at its first poll).
    pub fn run(&self, key: u64) -> impl Future<Output = Lookup> + Send + 'static {
        let runs = Arc::clone(&self.runs);
        let rt = self.rt.clone();
        let wait = self.wait;
        let fail_first_every = self.fail_first_every;
        async move {
            let run = runs
                .get(key as usize)
                .map_or(0, |c| c.fetch_add(1, Ordering::Relaxed));
            match wait {
                FactoryWait::Yield => rt.yield_now().await,
                FactoryWait::Sleep(d) => rt.sleep(d).await,
            }
            if run == 0 && fail_first_every != 0 && key.is_multiple_of(fail_first_every) {
                Err(FactoryError { key, run })
            } else {
                Ok(value(key))
            }
        }
    }

    /// The runs of `key`'s factory since the last reset.
    pub fn runs(&self, key: u64) -> u64 {
        self.runs
            .get(key as usize)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Sets every key's run count back to 0.
    pub fn reset_runs(&self) {
        for c in self.runs.iter() {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// An async cache with a single-flight miss path.
pub trait AsyncCache<R: Runtime>: Send + Sync + 'static {
    /// The value of `key`: the cached one, or the outcome of a run of `factory` (one run
    /// per key for every lookup that races on it; a failure is returned, not cached).
    fn get<'a>(
        &'a self,
        key: u64,
        factory: &'a Factory<R>,
    ) -> impl Future<Output = Lookup> + Send + 'a;

    /// Removes `key`'s entry, so its next lookup misses.
    fn evict(&self, key: u64) -> impl Future<Output = ()> + Send + '_;
}
