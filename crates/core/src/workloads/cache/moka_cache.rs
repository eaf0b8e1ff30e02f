//! `moka`: `moka::future::Cache`, the concurrent cache a Rust user reaches for, through
//! `try_get_with` (single-flight: concurrent lookups of an absent key run one factory; a
//! factory that fails is not cached and its error is handed to the lookups that waited on
//! it). Unbounded (no `max_capacity`), like the hand-built caches, so nothing is evicted
//! but what a round evicts itself.
//!
//! `try_get_with` takes the key by value and wraps it in an `Arc` on every call, a hit
//! included (`try_get_with_by_ref` would not); it takes the factory as a future, built on
//! every call and dropped unpolled on a hit, so the lookup passes a future that only
//! borrows the factory until it is polled.

use moka::future::Cache;

use super::factory::{AsyncCache, Factory, Lookup};
use crate::runtime::Runtime;

/// The cache.
pub struct MokaCache {
    cache: Cache<u64, u64>,
}

impl MokaCache {
    /// An empty, unbounded cache with room for `keys` keys.
    pub fn with_capacity(keys: usize) -> Self {
        MokaCache {
            cache: Cache::builder().initial_capacity(keys).build(),
        }
    }
}

impl<R: Runtime> AsyncCache<R> for MokaCache {
    async fn get<'a>(&'a self, key: u64, factory: &'a Factory<R>) -> Lookup {
        self.cache
            .try_get_with(key, async move { factory.run(key).await })
            .await
            .map_err(|e| *e)
    }

    async fn evict(&self, key: u64) {
        self.cache.invalidate(&key).await;
    }
}
