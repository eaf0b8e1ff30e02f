//! `shared_future`: a map of shared futures, the seed's `AsyncCache` (a
//! `ConcurrentDictionary<TKey, Lazy<Task<TValue>>>`) in Rust.
//!
//! A lookup locks the map, clones the key's `Shared` handle (inserting a new one, the boxed
//! factory made shared, when the key is absent) and awaits the clone: a hit clones a handle
//! (an atomic increment of the shared state's count, and a decrement when the clone is
//! dropped) and polls it, which clones the stored output. Unlike the seed, a failed factory
//! is not cached: a lookup that finds a finished, failed entry replaces it with a new flight,
//! and a lookup whose flight failed removes the entry.

use std::collections::hash_map::{Entry, HashMap};
use std::future::{ready, Future};
use std::sync::{Mutex, MutexGuard};

use futures::future::{BoxFuture, FutureExt, Shared};

use super::factory::{AsyncCache, Factory, FactoryError, Lookup};
use crate::runtime::Runtime;

/// A flight of the factory, shared by every lookup of its key.
type Flight = Shared<BoxFuture<'static, Lookup>>;

/// The cache: one shared future per key, finished or not.
#[derive(Default)]
pub struct SharedFutureCache {
    map: Mutex<HashMap<u64, Flight>>,
}

impl SharedFutureCache {
    /// An empty cache with room for `keys` keys.
    pub fn with_capacity(keys: usize) -> Self {
        SharedFutureCache {
            map: Mutex::new(HashMap::with_capacity(keys)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Flight>> {
        // A panic while the lock was held leaves a consistent map (each step is one
        // insertion or removal).
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether `flight` has finished with an error (such an entry must not be reused).
fn failed(flight: &Flight) -> bool {
    matches!(flight.peek(), Some(Err(_)))
}

impl<R: Runtime> AsyncCache<R> for SharedFutureCache {
    async fn get<'a>(&'a self, key: u64, factory: &'a Factory<R>) -> Lookup {
        let flight = {
            let mut map = self.lock();
            let start = || factory.run(key).boxed().shared();
            match map.entry(key) {
                Entry::Occupied(mut e) => {
                    if failed(e.get()) {
                        drop(e.insert(start()));
                    }
                    e.get().clone()
                }
                Entry::Vacant(e) => e.insert(start()).clone(),
            }
        };
        let outcome: Result<u64, FactoryError> = flight.await;
        if outcome.is_err() {
            let mut map = self.lock();
            if map.get(&key).is_some_and(failed) {
                map.remove(&key);
            }
        }
        outcome
    }

    fn evict(&self, key: u64) -> impl Future<Output = ()> + Send + '_ {
        self.lock().remove(&key);
        ready(())
    }
}
