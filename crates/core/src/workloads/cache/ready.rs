//! `ready_fast_path`: a map of `Ready(value) | Pending(flight)` behind a lock, checked
//! synchronously first (the ValueTask idea applied to a cache).
//!
//! A hit locks the map, copies the ready value and returns it from the lookup's first poll:
//! no allocation, no reference count. A miss is single-flight: the first lookup of an absent
//! key inserts `Pending` with a new flight (one `Arc`) and runs the factory itself; the
//! lookups that find `Pending` wait on the flight (their wakers in the flight's list).
//! When the factory ends, the leader stores `Ready(value)` (or removes the entry when the
//! factory failed: failures are not cached) and hands the outcome to every waiter. A
//! leader dropped before its factory ended (cancelled) removes its entry and tells its
//! waiters, which start over: one of them becomes the next leader.

use std::collections::HashMap;
use std::future::{poll_fn, ready, Future};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use super::factory::{AsyncCache, Factory, Lookup};
use crate::runtime::Runtime;

/// What the map holds for a key.
enum Slot {
    /// The factory has returned this value.
    Ready(u64),
    /// The factory is running; lookups wait on this flight.
    Pending(Arc<Flight>),
}

/// How a flight ended.
#[derive(Debug, Clone, Copy)]
enum Landing {
    /// The factory returned.
    Done(Lookup),
    /// The leader was dropped before the factory returned: start over.
    Abandoned,
}

/// One run of the factory and the lookups waiting on it.
#[derive(Default)]
struct Flight {
    state: Mutex<FlightState>,
}

#[derive(Default)]
struct FlightState {
    landing: Option<Landing>,
    waiters: Vec<Waker>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its data consistent at each step.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Flight {
    /// Ends the flight and wakes its waiters (outside the lock).
    fn land(&self, landing: Landing) {
        let waiters = {
            let mut state = lock(&self.state);
            state.landing = Some(landing);
            std::mem::take(&mut state.waiters)
        };
        for waker in waiters {
            waker.wake();
        }
    }

    /// Waits until the flight has ended.
    async fn wait(&self) -> Landing {
        // This waiter's place in the list, so a repoll replaces its waker instead of adding
        // one more.
        let mut place: Option<usize> = None;
        poll_fn(|cx| {
            let mut state = lock(&self.state);
            if let Some(landing) = state.landing {
                return Poll::Ready(landing);
            }
            match place.and_then(|i| state.waiters.get_mut(i)) {
                Some(waker) => waker.clone_from(cx.waker()),
                None => {
                    place = Some(state.waiters.len());
                    state.waiters.push(cx.waker().clone());
                }
            }
            Poll::Pending
        })
        .await
    }
}

/// The cache.
#[derive(Default)]
pub struct ReadyCache {
    map: Mutex<HashMap<u64, Slot>>,
}

impl ReadyCache {
    /// An empty cache with room for `keys` keys.
    pub fn with_capacity(keys: usize) -> Self {
        ReadyCache {
            map: Mutex::new(HashMap::with_capacity(keys)),
        }
    }
}

/// What a lookup does after looking at the map.
enum Role {
    /// The key had no entry: run the factory.
    Lead(Arc<Flight>),
    /// Another lookup runs the factory: wait for it.
    Wait(Arc<Flight>),
}

/// The leader's hold on its flight: lands it with the factory's outcome, or as abandoned
/// when dropped first.
struct Leader<'a> {
    cache: &'a ReadyCache,
    key: u64,
    flight: Arc<Flight>,
    landed: bool,
}

impl Leader<'_> {
    fn land(&mut self, landing: Landing) {
        {
            let mut map = lock(&self.cache.map);
            // The entry may have been evicted meanwhile: only this flight's entry changes.
            let ours =
                matches!(map.get(&self.key), Some(Slot::Pending(f)) if Arc::ptr_eq(f, &self.flight));
            if ours {
                match landing {
                    Landing::Done(Ok(value)) => {
                        map.insert(self.key, Slot::Ready(value));
                    }
                    Landing::Done(Err(_)) | Landing::Abandoned => {
                        map.remove(&self.key);
                    }
                }
            }
        }
        self.landed = true;
        self.flight.land(landing);
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if !self.landed {
            self.land(Landing::Abandoned);
        }
    }
}

impl<R: Runtime> AsyncCache<R> for ReadyCache {
    async fn get<'a>(&'a self, key: u64, factory: &'a Factory<R>) -> Lookup {
        loop {
            let role = {
                let mut map = lock(&self.map);
                match map.get(&key) {
                    Some(Slot::Ready(value)) => return Ok(*value),
                    Some(Slot::Pending(flight)) => Role::Wait(Arc::clone(flight)),
                    None => {
                        let flight = Arc::new(Flight::default());
                        map.insert(key, Slot::Pending(Arc::clone(&flight)));
                        Role::Lead(flight)
                    }
                }
            };
            match role {
                Role::Lead(flight) => {
                    let mut leader = Leader {
                        cache: self,
                        key,
                        flight,
                        landed: false,
                    };
                    let outcome = factory.run(key).await;
                    leader.land(Landing::Done(outcome));
                    return outcome;
                }
                Role::Wait(flight) => match flight.wait().await {
                    Landing::Done(outcome) => return outcome,
                    Landing::Abandoned => continue,
                },
            }
        }
    }

    fn evict(&self, key: u64) -> impl Future<Output = ()> + Send + '_ {
        lock(&self.map).remove(&key);
        ready(())
    }
}
