//! `cache` (AsyncCache) on every configuration, for each of the three caches: every lookup
//! gets its key's value; the factory runs exactly once per key however many lookups race on
//! it (lookups polled together in one task, and lookups in tasks of their own, on the
//! workers of the multi-threaded configurations); a failed factory is not cached (the next
//! lookup runs it again); a lookup that was running the factory and is dropped does not
//! leave the key's other lookups hanging. A cache without single flight, and the seed's
//! cache, which keeps a failure forever, are caught by the same checks.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, Shared};
use tapbench_conformance::rt_test;
use tapbench_core::workloads::cache::{
    check_runs, expected_cold_runs, preload, run_lookups, value, AsyncCache, CacheBench, Factory,
    FactoryError, FactoryWait, KeySequence, Lookup, MokaCache, Outcomes, ReadyCache, Rounds,
    SharedFutureCache,
};
use tapbench_core::{ParamValue, Params, Runtime};
use tapbench_measure::{BatchRunner, LatencyRecorder};

const KEYS: u64 = 50;
const M: u64 = 16;
const OPS: u64 = 400;

/// Runs `ops` lookups in cold rounds of `m` on `cache` and checks values and factory runs
/// as the bench does.
async fn cold_rounds<R: Runtime, C: AsyncCache<R>>(
    rt: &R,
    cache: &C,
    wait: FactoryWait,
    m: u64,
    ops: u64,
) -> Result<(), String> {
    let factory = Factory::new(rt, wait, KEYS);
    let keys = KeySequence::zipf(KEYS, 1.0);
    let mut marks = vec![u64::MAX; KEYS as usize];
    let mut latency = LatencyRecorder::new();
    let rounds = Rounds { m, cold: true };
    let got = run_lookups(
        cache,
        &factory,
        &keys,
        rounds,
        ops,
        &mut marks,
        &mut latency,
    )
    .await;
    if got != Outcomes::expected(&keys, ops) {
        return Err(format!("outcomes {got:?}"));
    }
    if latency.count() != ops {
        return Err(format!("{} latencies for {ops} lookups", latency.count()));
    }
    let want = expected_cold_runs(&keys, m, ops);
    check_runs(&factory, KEYS, |k| want[k as usize], "cold runs").map_err(|v| v.to_string())
}

/// Preloads every key, then looks keys up in hit rounds: values right, no factory run.
async fn hit_rounds<R: Runtime, C: AsyncCache<R>>(rt: &R, cache: &C) {
    let factory = Factory::new(rt, FactoryWait::Yield, KEYS);
    preload(cache, &factory, KEYS).await.expect("preload");
    let keys = KeySequence::zipf(KEYS, 1.0);
    let mut marks = vec![u64::MAX; KEYS as usize];
    let mut latency = LatencyRecorder::new();
    let rounds = Rounds { m: M, cold: false };
    let got = run_lookups(
        cache,
        &factory,
        &keys,
        rounds,
        OPS,
        &mut marks,
        &mut latency,
    )
    .await;
    assert_eq!(got, Outcomes::expected(&keys, OPS));
    assert_eq!(latency.count(), 0, "hits are not timed");
    check_runs(&factory, KEYS, |_| 0, "hits").expect("no factory runs");
}

/// `tasks` spawned tasks look the same key up at once: one factory run, every task its value.
async fn spawned_race<R: Runtime, C: AsyncCache<R>>(rt: &R, cache: C, tasks: usize) {
    let cache = Arc::new(cache);
    let factory = Arc::new(Factory::new(
        rt,
        FactoryWait::Sleep(Duration::from_millis(5)),
        KEYS,
    ));
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (cache, factory) = (Arc::clone(&cache), Arc::clone(&factory));
            rt.spawn(async move { cache.get(7, &factory).await })
        })
        .collect();
    for h in handles {
        assert_eq!(h.await, Ok(value(7)));
    }
    assert_eq!(
        factory.runs(7),
        1,
        "one factory run for {tasks} racing lookups"
    );
}

/// A factory that fails on its first run: the failure is returned (to the lookups of its
/// round too), and the next lookup runs the factory again and gets the value, which is then
/// cached.
async fn failure_is_retried<R: Runtime, C: AsyncCache<R>>(rt: &R, cache: &C) {
    let factory = Factory::new(rt, FactoryWait::Yield, KEYS).failing_first_runs(5);
    assert_eq!(
        cache.get(10, &factory).await,
        Err(FactoryError { key: 10, run: 0 })
    );
    assert_eq!(cache.get(10, &factory).await, Ok(value(10)));
    assert_eq!(cache.get(10, &factory).await, Ok(value(10)));
    assert_eq!(factory.runs(10), 2, "one failed run, one retry, then a hit");
    // Keys that do not fail are unaffected.
    assert_eq!(cache.get(11, &factory).await, Ok(value(11)));
    assert_eq!(factory.runs(11), 1);
    // Lookups racing on a failing key: the round sees one run; every lookup returns the
    // error or the value; the next lookup returns the value.
    let outcomes = futures::future::join_all((0..8).map(|_| cache.get(20, &factory))).await;
    assert!(outcomes
        .iter()
        .all(|o| *o == Ok(value(20)) || *o == Err(FactoryError { key: 20, run: 0 })));
    assert_eq!(cache.get(20, &factory).await, Ok(value(20)));
    assert!(factory.runs(20) <= 2, "{} runs", factory.runs(20));
}

/// The lookup running the factory is dropped while another waits on it: the other still
/// gets its value.
async fn dropped_leader<R: Runtime, C: AsyncCache<R>>(rt: &R, cache: &C) {
    let factory = Factory::new(rt, FactoryWait::Sleep(Duration::from_millis(5)), KEYS);
    let mut leader = Box::pin(cache.get(3, &factory));
    assert!(futures::poll!(leader.as_mut()).is_pending());
    let mut waiter = pin!(cache.get(3, &factory));
    assert!(futures::poll!(waiter.as_mut()).is_pending());
    drop(leader);
    assert_eq!(waiter.await, Ok(value(3)));
    assert!((1..=2).contains(&factory.runs(3)), "{}", factory.runs(3));
}

fn params(lookups: &str) -> Params {
    Params::from_pairs([
        ("lookups", ParamValue::Text(lookups.into())),
        ("m", ParamValue::Int(M)),
        ("keys", ParamValue::Int(KEYS)),
        ("skew", ParamValue::Float(1.0)),
        ("factory", ParamValue::Text("yield".into())),
    ])
}

/// The bench of `cache` runs a batch and checks it.
async fn bench_batch<R: Runtime, C: AsyncCache<R>>(
    rt: &R,
    cache: C,
    lookups: &str,
) -> Result<(), String> {
    let mut bench = CacheBench::new(rt, cache, &params(lookups)).map_err(|e| e.to_string())?;
    bench.verify_once().await.map_err(|e| e.to_string())?;
    bench.run_batch(OPS).await.map_err(|e| e.to_string())?;
    bench
        .check_batch(OPS)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

rt_test! {
    async fn every_lookup_gets_its_value_and_each_cold_key_one_run(rt) {
        for (m, ops) in [(M, OPS), (1, 40), (64, 300)] {
            cold_rounds(&rt, &SharedFutureCache::default(), FactoryWait::Yield, m, ops).await.unwrap();
            cold_rounds(&rt, &ReadyCache::default(), FactoryWait::Yield, m, ops).await.unwrap();
            cold_rounds(&rt, &MokaCache::with_capacity(0), FactoryWait::Yield, m, ops).await.unwrap();
        }
        let sleep = FactoryWait::Sleep(Duration::from_millis(1));
        cold_rounds(&rt, &SharedFutureCache::default(), sleep, M, 48).await.unwrap();
        cold_rounds(&rt, &ReadyCache::default(), sleep, M, 48).await.unwrap();
        cold_rounds(&rt, &MokaCache::with_capacity(0), sleep, M, 48).await.unwrap();
    }

    async fn preloaded_keys_are_hits(rt) {
        hit_rounds(&rt, &SharedFutureCache::default()).await;
        hit_rounds(&rt, &ReadyCache::default()).await;
        hit_rounds(&rt, &MokaCache::with_capacity(0)).await;
    }

    async fn lookups_in_racing_tasks_run_one_factory(rt) {
        spawned_race(&rt, SharedFutureCache::default(), 16).await;
        spawned_race(&rt, ReadyCache::default(), 16).await;
        spawned_race(&rt, MokaCache::with_capacity(0), 16).await;
    }

    async fn a_failed_factory_is_not_cached(rt) {
        failure_is_retried(&rt, &SharedFutureCache::default()).await;
        failure_is_retried(&rt, &ReadyCache::default()).await;
        failure_is_retried(&rt, &MokaCache::with_capacity(0)).await;
    }

    async fn a_dropped_leader_leaves_no_waiter_hanging(rt) {
        dropped_leader(&rt, &SharedFutureCache::default()).await;
        dropped_leader(&rt, &ReadyCache::default()).await;
        dropped_leader(&rt, &MokaCache::with_capacity(0)).await;
    }

    async fn the_bench_checks_pass_for_every_cache(rt) {
        for lookups in ["hit", "cold"] {
            bench_batch(&rt, SharedFutureCache::default(), lookups).await.unwrap();
            bench_batch(&rt, ReadyCache::default(), lookups).await.unwrap();
            bench_batch(&rt, MokaCache::with_capacity(0), lookups).await.unwrap();
        }
    }

    /// A cache whose concurrent misses each run the factory fails the bench's check.
    async fn a_cache_without_single_flight_is_caught(rt) {
        let err = bench_batch(&rt, NoSingleFlight::default(), "cold").await.unwrap_err();
        assert!(err.contains("single flight"), "{err}");
        // Hits alone cannot tell: it is a correct cache once loaded.
        bench_batch(&rt, NoSingleFlight::default(), "hit").await.unwrap();
    }

    /// The seed's cache keeps a failed factory's error forever.
    async fn the_seeds_cache_is_caught_keeping_a_failure(rt) {
        let cache = SeedCache::default();
        let factory = Factory::new(&rt, FactoryWait::Yield, KEYS).failing_first_runs(5);
        assert!(cache.get(10, &factory).await.is_err());
        let retried = cache.get(10, &factory).await;
        assert_eq!(retried, Err(FactoryError { key: 10, run: 0 }), "the failure is cached");
        assert_eq!(factory.runs(10), 1);
    }
}

/// A wrong cache: a miss runs the factory and stores its value, with no flight that other
/// lookups of the key could wait on.
#[derive(Default)]
struct NoSingleFlight {
    map: Mutex<HashMap<u64, u64>>,
}

impl<R: Runtime> AsyncCache<R> for NoSingleFlight {
    async fn get<'a>(&'a self, key: u64, factory: &'a Factory<R>) -> Lookup {
        let hit = self.map.lock().unwrap().get(&key).copied();
        if let Some(v) = hit {
            return Ok(v);
        }
        let v = factory.run(key).await?;
        self.map.lock().unwrap().insert(key, v);
        Ok(v)
    }

    fn evict(&self, key: u64) -> impl Future<Output = ()> + Send + '_ {
        self.map.lock().unwrap().remove(&key);
        std::future::ready(())
    }
}

/// The seed's `AsyncCache`: a map of shared futures, the failed ones kept.
#[derive(Default)]
struct SeedCache {
    map: Mutex<HashMap<u64, Shared<BoxFuture<'static, Lookup>>>>,
}

impl<R: Runtime> AsyncCache<R> for SeedCache {
    fn get<'a>(
        &'a self,
        key: u64,
        factory: &'a Factory<R>,
    ) -> impl Future<Output = Lookup> + Send + 'a {
        let flight = self
            .map
            .lock()
            .unwrap()
            .entry(key)
            .or_insert_with(|| factory.run(key).boxed().shared())
            .clone();
        flight
    }

    fn evict(&self, key: u64) -> impl Future<Output = ()> + Send + '_ {
        self.map.lock().unwrap().remove(&key);
        std::future::ready(())
    }
}
