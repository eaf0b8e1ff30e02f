//! `cache` (AsyncCache): lookups of keys with a Zipf-like skew in a cache whose misses run an
//! async factory, single-flight (one factory run per key however many lookups race on it).
//!
//! One operation is one lookup. Lookups run in rounds of `m` concurrent lookups: the
//! measured task creates the round's `m` lookup futures and polls them together, inline (no
//! spawn: a spawned task per lookup would add a task's allocation and scheduling to every
//! hit and swamp the hit path the variants differ in; the lookups still interleave at every
//! await, so lookups of a key whose factory is running really wait on it). The futures sit
//! in `m` pinned slots allocated once per batch and refilled each round, so the driver
//! allocates nothing per lookup. Lookup `i` asks for key [`KeySequence::key`]`(i)`, drawn
//! once, before the clock, from a Zipf distribution of exponent `skew` over `keys` keys
//! (rank 0 the hottest) by a seeded generator, so every runtime and variant makes the same
//! lookups. A miss runs the factory: it counts its run for its key, yields once (or sleeps
//! 1 ms, `factory=sleep_1ms`) and returns the key's value [`value`]`(key)`.
//!
//! Cases: `lookups=hit` preloads every key before the clock (each key's factory run once,
//! checked), so every lookup is a hit: the hit path alone. `lookups=cold` evicts, at the
//! start of each round and inside the timing, every key the round will look up (each
//! distinct key once; the variant's own removal: a map removal, moka's `invalidate`), so each
//! round starts cold: the first lookup of each of its distinct keys misses and runs the
//! factory, and the round's other lookups of that key wait on it.
//!
//! After the clock the bench checks that every lookup returned its key's value (a digest,
//! position-weighted by lookup) and no error, and that the factory ran exactly as often per
//! key as single flight requires: 0 times with `hit`, once per round that looks the key up
//! with `cold`. The conformance tests add a factory that fails on its first run for some
//! keys: the failure is returned, and the next lookup of the key runs the factory again.
//!
//! Latency: with `cold`, each lookup's time from the start of its round to its completion
//! goes into the cell's histogram (one clock read per lookup, into buckets that exist before
//! the clock starts). With `hit` nothing is recorded: a clock read costs about as much as a
//! hit, so timing every hit would double what the cell measures.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::params::{ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::seeded::{digest_term, mix64, GOLDEN};
use crate::spec::{
    BoxBench, BuildError, Case, PivotView, VariantSpec, View, Violation, WorkloadSpec,
};

pub mod factory;
pub mod moka_cache;
pub mod ready;
pub mod shared_future;

pub use factory::{value, AsyncCache, Factory, FactoryError, FactoryWait, Lookup};
pub use moka_cache::MokaCache;
pub use ready::ReadyCache;
pub use shared_future::SharedFutureCache;

/// `lookups`: what the cache holds when a round starts.
pub const PARAM_LOOKUPS: ParamSpec = ParamSpec {
    name: "lookups",
    doc: "hit: every key preloaded before the clock (hits only); cold: each round's keys \
          evicted as it starts (misses, and lookups waiting on them)",
    kind: ParamKind::Choice(&["hit", "cold"]),
};

/// `m`: concurrent lookups of one round.
pub const PARAM_M: ParamSpec = ParamSpec {
    name: "m",
    doc: "lookups made concurrently (polled together, inline) in one round",
    kind: ParamKind::Int {
        min: 1,
        max: 100_000,
    },
};

/// `keys`: the key space.
pub const PARAM_KEYS: ParamSpec = ParamSpec {
    name: "keys",
    doc: "distinct keys looked up",
    kind: ParamKind::Int {
        min: 1,
        max: 1_000_000,
    },
};

/// `skew`: the Zipf exponent of the key distribution.
pub const PARAM_SKEW: ParamSpec = ParamSpec {
    name: "skew",
    doc: "Zipf exponent of the key distribution (0 uniform; 1 the classic Zipf)",
    kind: ParamKind::Float { min: 0.0, max: 4.0 },
};

/// `factory`: what a miss awaits.
pub const PARAM_FACTORY: ParamSpec = ParamSpec {
    name: "factory",
    doc: "what the factory of a miss awaits before returning the value: one yield, or the \
          runtime's 1 ms sleep",
    kind: ParamKind::Choice(&["yield", "sleep_1ms"]),
};

const VARIANTS: &[&str] = &["shared_future", "ready_fast_path", "moka"];

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "cache",
    tap: "AsyncCache",
    op_unit: "one lookup (of m concurrent ones)",
    variants: &[
        VariantSpec {
            id: "shared_future",
            doc: "a locked map of futures::future::Shared boxed factories (the seed's \
                  Lazy<Task>): a hit clones a Shared handle and awaits it, which clones the \
                  value. A hit allocates 0 but touches a shared reference count twice; a \
                  miss about 4 (the boxed factory, the Shared state, the slab of its \
                  waiters' wakers as it grows)",
            native: false,
        },
        VariantSpec {
            id: "ready_fast_path",
            doc: "a locked map of Ready(value) | Pending(flight), checked synchronously \
                  first (ValueTask-style): a hit allocates 0 and returns at its first poll; \
                  a miss allocates 1 (the flight), plus its waiter list when lookups wait \
                  on it (about 1.2 per miss in the cold grid case)",
            native: false,
        },
        VariantSpec {
            id: "moka",
            doc: "moka::future::Cache::try_get_with (unbounded): a hit allocates 1 (moka \
                  wraps the key in an Arc on every call), about 1.09 with moka's \
                  housekeeping; a miss with its eviction about 18 (moka's entry, its \
                  single-flight waiter, write-log records)",
            native: false,
        },
    ],
    params: &[PARAM_LOOKUPS, PARAM_M, PARAM_KEYS, PARAM_SKEW, PARAM_FACTORY],
    cases: || {
        let lookups = [
            ParamValue::Text("hit".into()),
            ParamValue::Text("cold".into()),
        ];
        super::grid(
            "cache",
            VARIANTS,
            &[
                ("lookups", &lookups),
                ("m", &[ParamValue::Int(64)]),
                ("keys", &[ParamValue::Int(1000)]),
                ("skew", &[ParamValue::Float(1.0)]),
                ("factory", &[ParamValue::Text("yield".into())]),
            ],
        )
    },
    memory_bytes: |p| {
        let keys = p.int("keys").unwrap_or(0);
        let m = p.int("m").unwrap_or(0);
        keys.saturating_mul(KEY_BYTES)
            .saturating_add(m.saturating_mul(super::TASK_BYTES))
            .saturating_add(SEQUENCE_LEN as u64 * 4 + LATENCY_BYTES)
    },
    normalize: |_| {},
    views: &[View::Pivot(PivotView {
        param: "lookups",
        contrast: VARIANTS,
        title: "Cache lookups: hits and cold rounds",
        description: "Time and allocations per lookup of the three caches, hits only \
                      (`lookups=hit`) and cold rounds (`lookups=cold`): `ready_fast_path` \
                      answers a hit with the stored value at its first poll (the ValueTask \
                      path), `shared_future` awaits a clone of a shared future (the seed's \
                      `Lazy<Task>`, the Task path), `moka` is the library. The hit column \
                      also stands in the Task vs ValueTask view, beside `value_task`.",
        beside: &[],
    })],
};

/// A generous estimate of what one cached key costs in any of the caches (moka's entries
/// are the largest).
const KEY_BYTES: u64 = 512;

/// About what one [`LatencyRecorder`] holds (3 significant digits up to one minute).
const LATENCY_BYTES: u64 = 256 * 1024;

/// Lookups of the key sequence before it repeats (a power of two).
pub const SEQUENCE_LEN: usize = 1 << 14;

/// The keys lookups ask for: [`SEQUENCE_LEN`] draws from a Zipf distribution, made once,
/// repeated.
#[derive(Debug, Clone)]
pub struct KeySequence {
    keys: Arc<[u32]>,
    space: u64,
}

impl KeySequence {
    /// Draws from a Zipf distribution of exponent `skew` over `keys` keys: key `r` (rank
    /// `r`, from 0) has weight `1 / (r + 1)^skew`. Each draw inverts the distribution at a
    /// uniform number made by [`mix64`] from the draw's index.
    pub fn zipf(keys: u64, skew: f64) -> Self {
        let keys = keys.clamp(1, u64::from(u32::MAX));
        let mut cdf: Vec<f64> = Vec::with_capacity(keys as usize);
        let mut total = 0.0;
        for r in 0..keys {
            total += ((r + 1) as f64).powf(-skew);
            cdf.push(total);
        }
        let seq: Arc<[u32]> = (0..SEQUENCE_LEN as u64)
            .map(|j| {
                let draw = mix64(j.wrapping_mul(GOLDEN).wrapping_add(0xCAC4E)) >> 11;
                let u = draw as f64 / (1u64 << 53) as f64 * total;
                let rank = cdf.partition_point(|c| *c <= u) as u64;
                rank.min(keys - 1) as u32
            })
            .collect();
        KeySequence { keys: seq, space: keys }
    }

    /// The key of lookup `i`.
    #[inline]
    pub fn key(&self, i: u64) -> u64 {
        u64::from(self.keys[(i as usize) & (SEQUENCE_LEN - 1)])
    }

    /// The number of keys.
    pub fn space(&self) -> u64 {
        self.space
    }
}

/// What the lookups of a run came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcomes {
    /// Lookups that returned a value.
    pub values: u64,
    /// Lookups that returned an error.
    pub errors: u64,
    /// Position-weighted sum of the values returned.
    pub digest: u64,
}

impl Outcomes {
    fn add(&mut self, i: u64, outcome: Lookup) {
        match outcome {
            Ok(v) => {
                self.values += 1;
                self.digest = self
                    .digest
                    .wrapping_add(digest_term(i, v));
            }
            Err(_) => self.errors += 1,
        }
    }

    /// What lookups `0..ops` of `keys` must return when no factory fails.
    pub fn expected(keys: &KeySequence, ops: u64) -> Outcomes {
        let mut out = Outcomes::default();
        for i in 0..ops {
            out.add(i, Ok(value(keys.key(i))));
        }
        out
    }
}

/// The factory runs per key that lookups `0..ops` in rounds of `m` need when each round
/// starts cold: one per round that looks the key up.
pub fn expected_cold_runs(keys: &KeySequence, m: u64, ops: u64) -> Vec<u64> {
    let m = m.max(1);
    let mut runs = vec![0u64; keys.space() as usize];
    let mut last_round = vec![u64::MAX; keys.space() as usize];
    for i in 0..ops {
        let (k, round) = (keys.key(i) as usize, i / m);
        if last_round[k] != round {
            last_round[k] = round;
            runs[k] += 1;
        }
    }
    runs
}

/// How a run of lookups is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rounds {
    /// Lookups per round.
    pub m: u64,
    /// Whether each round starts by evicting its keys.
    pub cold: bool,
}

/// Runs lookups `0..ops` in rounds of `rounds.m` concurrent lookups, polled together inline,
/// and returns what they returned. With `rounds.cold` each round first evicts each of its
/// distinct keys (`marks` is scratch space with a slot per key, `u64::MAX` or any stale
/// round in it) and records each lookup's latency from the round's start in `latency`.
pub async fn run_lookups<R: Runtime, C: AsyncCache<R>>(
    cache: &C,
    factory: &Factory<R>,
    keys: &KeySequence,
    rounds: Rounds,
    ops: u64,
    marks: &mut [u64],
    latency: &mut LatencyRecorder,
) -> Outcomes {
    let m = rounds.m.max(1);
    let mut out = Outcomes::default();
    // Pinned slots for one round's lookups, refilled every round: no allocation per lookup.
    let mut slots: Vec<Pin<Box<Option<_>>>> = (0..m.min(ops)).map(|_| Box::pin(None)).collect();
    let mut next = 0u64;
    let mut round = 0u64;
    while next < ops {
        let len = m.min(ops - next);
        if rounds.cold {
            for i in next..next + len {
                let key = keys.key(i);
                if let Some(mark) = marks.get_mut(key as usize) {
                    if *mark != round {
                        *mark = round;
                        cache.evict(key).await;
                    }
                }
            }
        }
        let start = rounds.cold.then(Instant::now);
        for (j, slot) in slots.iter_mut().take(len as usize).enumerate() {
            slot.as_mut()
                .set(Some(cache.get(keys.key(next + j as u64), factory)));
        }
        let mut left = len;
        poll_fn(|cx| {
            for (j, slot) in slots.iter_mut().take(len as usize).enumerate() {
                let Some(lookup) = slot.as_mut().as_pin_mut() else {
                    continue;
                };
                if let Poll::Ready(outcome) = lookup.poll(cx) {
                    slot.as_mut().set(None);
                    out.add(next + j as u64, outcome);
                    left -= 1;
                    if let Some(start) = start {
                        latency.record_ns(start.elapsed().as_nanos() as u64);
                    }
                }
            }
            if left == 0 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        next += len;
        round += 1;
    }
    out
}

/// Loads every key `0..keys` into `cache` (one lookup each), and checks that each key's
/// factory ran once and every lookup returned its value; then resets the run counts.
///
/// # Errors
///
/// The first key whose lookup or factory runs were wrong.
pub async fn preload<R: Runtime, C: AsyncCache<R>>(
    cache: &C,
    factory: &Factory<R>,
    keys: u64,
) -> Result<(), Violation> {
    for key in 0..keys {
        Violation::check_eq(
            "a preloading lookup returns its key's value",
            Ok(value(key)),
            cache.get(key, factory).await,
        )?;
    }
    check_runs(factory, keys, |_| 1, "preloading runs each key's factory once")?;
    factory.reset_runs();
    Ok(())
}

/// Checks that `key`'s factory ran `want(key)` times for every key `0..keys`.
///
/// # Errors
///
/// The first key whose count differs, as a violation of `what`.
pub fn check_runs<R: Runtime>(
    factory: &Factory<R>,
    keys: u64,
    want: impl Fn(u64) -> u64,
    what: &str,
) -> Result<(), Violation> {
    for key in 0..keys {
        let (want, seen) = (want(key), factory.runs(key));
        if want != seen {
            return Err(Violation::new(
                what,
                format!("key {key}: {want} factory runs"),
                format!("{seen}"),
            ));
        }
    }
    Ok(())
}

/// The measured form of one cache.
pub struct CacheBench<R, C> {
    cache: C,
    factory: Factory<R>,
    keys: KeySequence,
    rounds: Rounds,
    preloaded: bool,
    marks: Vec<u64>,
    latency: LatencyRecorder,
    outcomes: Outcomes,
}

impl<R: Runtime, C: AsyncCache<R>> CacheBench<R, C> {
    /// The bench of `cache` for a case's parameters.
    ///
    /// # Errors
    ///
    /// A missing or invalid parameter.
    pub fn new(rt: &R, cache: C, params: &Params) -> Result<Self, BuildError> {
        let space = params.int("keys")?;
        let wait = match params.text("factory")? {
            "sleep_1ms" => FactoryWait::Sleep(Duration::from_millis(1)),
            _ => FactoryWait::Yield,
        };
        Ok(CacheBench {
            cache,
            factory: Factory::new(rt, wait, space),
            keys: KeySequence::zipf(space, params.float("skew")?),
            rounds: Rounds {
                m: params.int("m")?,
                cold: params.text("lookups")? == "cold",
            },
            preloaded: false,
            marks: vec![u64::MAX; space as usize],
            latency: LatencyRecorder::new(),
            outcomes: Outcomes::default(),
        })
    }

    async fn preload_once(&mut self) -> Result<(), Violation> {
        if !self.rounds.cold && !self.preloaded {
            preload(&self.cache, &self.factory, self.keys.space()).await?;
            self.preloaded = true;
        }
        Ok(())
    }
}

impl<R: Runtime, C: AsyncCache<R>> BatchRunner for CacheBench<R, C> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    /// Preloads the `hit` case's keys, untimed, and checks the preload.
    fn verify_once(&mut self) -> BatchFuture<'_, Violation> {
        Box::pin(self.preload_once())
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            // Preloads here only when `verify_once` was skipped (then inside the timing).
            self.preload_once().await?;
            self.factory.reset_runs();
            self.marks.fill(u64::MAX);
            self.outcomes = run_lookups(
                &self.cache,
                &self.factory,
                &self.keys,
                self.rounds,
                iters,
                &mut self.marks,
                &mut self.latency,
            )
            .await;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        let recorded = self.rounds.cold.then(|| self.latency.clone());
        self.latency.reset();
        let want = Outcomes::expected(&self.keys, iters);
        Violation::check_eq(
            "every lookup returns a value, none an error",
            (want.values, want.errors),
            (self.outcomes.values, self.outcomes.errors),
        )?;
        Violation::check_eq(
            "every lookup returns its key's value (digest)",
            want.digest,
            self.outcomes.digest,
        )?;
        let space = self.keys.space();
        if self.rounds.cold {
            let runs = expected_cold_runs(&self.keys, self.rounds.m, iters);
            check_runs(
                &self.factory,
                space,
                |k| runs[k as usize],
                "single flight: a cold round runs each of its keys' factories exactly once",
            )?;
        } else {
            check_runs(
                &self.factory,
                space,
                |_| 0,
                "hits of preloaded keys run no factory",
            )?;
        }
        Ok(recorded)
    }
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    let params = &case.params;
    let space = usize::try_from(params.int("keys")?).unwrap_or(usize::MAX);
    Ok(match case.variant.as_str() {
        "shared_future" => Box::new(CacheBench::new(
            rt,
            SharedFutureCache::with_capacity(space),
            params,
        )?),
        "ready_fast_path" => Box::new(CacheBench::new(
            rt,
            ReadyCache::with_capacity(space),
            params,
        )?),
        "moka" => Box::new(CacheBench::new(rt, MokaCache::with_capacity(space), params)?),
        other => return Err(BuildError::Unsupported(format!("cache/{other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_names_this_workloads_parameter_and_variants() {
        assert_eq!(SPEC.check_views(), Ok(()));
        assert_eq!((SPEC.cases)().len(), 6);
    }

    #[test]
    fn the_key_sequence_is_zipf_like() {
        let uniform = KeySequence::zipf(10, 0.0);
        let mut counts = [0u64; 10];
        for i in 0..SEQUENCE_LEN as u64 {
            counts[uniform.key(i) as usize] += 1;
        }
        let share = SEQUENCE_LEN as f64 / 10.0;
        assert!(counts.iter().all(|c| (*c as f64 - share).abs() < share * 0.1), "{counts:?}");
        // Zipf 1 over 1000 keys: the hottest key has 1/H(1000) (about 13%) of the draws,
        // twice the second's.
        let zipf = KeySequence::zipf(1000, 1.0);
        let of = |k: u64| (0..SEQUENCE_LEN as u64).filter(|i| zipf.key(*i) == k).count() as f64;
        let top = of(0) / SEQUENCE_LEN as f64;
        assert!((top - 0.1336).abs() < 0.01, "{top}");
        assert!((of(0) / of(1) - 2.0).abs() < 0.3);
        assert!((0..SEQUENCE_LEN as u64).all(|i| zipf.key(i) < 1000));
    }

    #[test]
    fn cold_runs_count_each_round_once_per_key() {
        let keys = KeySequence::zipf(50, 1.0);
        let runs = expected_cold_runs(&keys, 8, 80);
        assert!(runs.iter().sum::<u64>() <= 80);
        assert!(runs.iter().all(|r| *r <= 10));
        // The hottest key shows up in nearly every round of 8.
        assert!(runs[0] >= 5, "{runs:?}");
        // One lookup per round: a run per lookup.
        assert_eq!(expected_cold_runs(&keys, 1, 80).iter().sum::<u64>(), 80);
    }

    #[test]
    fn a_wrong_value_or_error_changes_the_outcomes() {
        let keys = KeySequence::zipf(100, 1.0);
        let want = Outcomes::expected(&keys, 100);
        let mut swapped = Outcomes::default();
        for i in 0..100 {
            swapped.add(i, Ok(value(keys.key(99 - i))));
        }
        assert_ne!(want.digest, swapped.digest);
        let mut failed = Outcomes::default();
        for i in 0..100 {
            failed.add(i, if i == 3 { Err(FactoryError { key: 0, run: 0 }) } else { Ok(value(keys.key(i))) });
        }
        assert_ne!((want.values, want.errors), (failed.values, failed.errors));
    }
}
