//! `producer_consumer` (AsyncProducerConsumerCollection, BufferBlock, Channel): `producers`
//! tasks each send `items` items through one queue to `consumers` tasks.
//!
//! One operation is one item sent and received. An iteration is one round: make the queue,
//! spawn the consumers and producers, let the producers finish and drop their senders, and
//! collect what every consumer saw. Consumers count the items and add up their
//! fingerprints (see [`fingerprint`]); after the clock stops, [`check_rounds`] compares
//! both with every item of every round, so a lost or duplicated item fails the check; with
//! one consumer each producer's items must arrive in order. Every [`LATENCY_STRIDE`]th item
//! carries its send time, and consumers record the send-to-receive latency in their own
//! HDR recorder.
//!
//! The queue is a [`QueueKind`]: `tcs_queue` is the seed's hand-built collection
//! ([`tcs_queue::TcsQueue`]), `native_channel` is each runtime's own channel, supplied by its
//! runtime crate.

pub mod async_channel;
pub mod queue;
pub mod tcs_queue;

pub use queue::{Closed, QueueKind, QueueReceiver, QueueSender};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::params::{ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::seeded::{mix64, GOLDEN};
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// Every this-many items of a producer carries a send timestamp (item 0, `STRIDE`, ...).
pub const LATENCY_STRIDE: u32 = 8;

/// `producers`.
pub const PARAM_PRODUCERS: ParamSpec = ParamSpec {
    name: "producers",
    doc: "producer tasks",
    kind: ParamKind::Int {
        min: 1,
        max: 1_000_000,
    },
};
/// `consumers`.
pub const PARAM_CONSUMERS: ParamSpec = ParamSpec {
    name: "consumers",
    doc: "consumer tasks",
    kind: ParamKind::Int {
        min: 1,
        max: 1_000_000,
    },
};
/// `items`.
pub const PARAM_ITEMS: ParamSpec = ParamSpec {
    name: "items",
    doc: "items sent by each producer per round",
    kind: ParamKind::Int {
        min: 1,
        max: 4_294_967_295,
    },
};
/// `bounded`.
pub const PARAM_BOUNDED: ParamSpec = ParamSpec {
    name: "bounded",
    doc: "whether the queue has a capacity (senders wait when it is full)",
    kind: ParamKind::Bool,
};
/// `capacity`.
pub const PARAM_CAPACITY: ParamSpec = ParamSpec {
    name: "capacity",
    doc: "capacity of a bounded queue",
    kind: ParamKind::Int {
        min: 1,
        max: 4_294_967_295,
    },
};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "producer_consumer",
    tap: "AsyncProducerConsumerCollection, BufferBlock, Channel",
    op_unit: "one item sent and received",
    variants: &[
        VariantSpec {
            id: "native_channel",
            doc: "the runtime's own channel (tokio mpsc, async-channel for smol and async-std, futures mpsc)",
            native: true,
        },
        VariantSpec {
            id: "tcs_queue",
            doc:
                "the seed's collection: a locked queue plus a queue of waiting one-shot completions",
            native: false,
        },
    ],
    params: &[
        PARAM_PRODUCERS,
        PARAM_CONSUMERS,
        PARAM_ITEMS,
        PARAM_BOUNDED,
        PARAM_CAPACITY,
    ],
    cases: || {
        let mut cases = Vec::new();
        for variant in ["native_channel", "tcs_queue"] {
            for (producers, consumers) in [(1, 1), (4, 1), (4, 4)] {
                for bounded in [false, true] {
                    let mut p = Params::from_pairs([
                        ("producers", ParamValue::Int(producers)),
                        ("consumers", ParamValue::Int(consumers)),
                        ("items", ParamValue::Int(1000)),
                        ("bounded", ParamValue::Bool(bounded)),
                    ]);
                    if bounded {
                        p.0.insert("capacity".into(), ParamValue::Int(DEFAULT_CAPACITY));
                    }
                    cases.push(Case::new("producer_consumer", variant, p));
                }
            }
        }
        cases
    },
    memory_bytes: |p| {
        let get = |name| p.int(name).unwrap_or(0);
        let (producers, consumers, items) = (get("producers"), get("consumers"), get("items"));
        let per_round = producers.saturating_mul(items);
        // Unbounded: every item may sit in the queue at once (x2 for the queue's growth).
        // Bounded: a queue may preallocate its capacity.
        let queued = if p.flag("bounded").unwrap_or(false) {
            get("capacity").min(per_round)
        } else {
            per_round
        };
        let queue = queued.saturating_mul(2 * std::mem::size_of::<Item>() as u64);
        let capacity = get("capacity").saturating_mul(32);
        // Each consumer keeps a bit per item and an HDR latency recorder.
        let consumer = (per_round / 8).saturating_add(LATENCY_RECORDER_BYTES);
        let tasks = producers
            .saturating_add(consumers)
            .saturating_mul(super::TASK_BYTES);
        queue
            .saturating_add(capacity)
            .saturating_add(consumers.saturating_mul(consumer))
            .saturating_add(tasks)
    },
    normalize: |p| {
        if p.flag("bounded").unwrap_or(false) {
            p.0.entry("capacity".into())
                .or_insert(ParamValue::Int(DEFAULT_CAPACITY));
        } else {
            p.0.remove("capacity");
        }
    },
    views: &[],
};

/// The capacity of bounded queues in the default grid.
pub const DEFAULT_CAPACITY: u64 = 64;

/// About what one [`LatencyRecorder`] holds (3 significant digits up to one minute).
const LATENCY_RECORDER_BYTES: u64 = 256 * 1024;

/// What travels through the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// Which producer sent it.
    pub producer: u32,
    /// Its position in that producer's sequence.
    pub seq: u32,
    /// Send time in nanoseconds since the batch's base instant, plus one; 0 when unstamped.
    pub stamp_ns: u64,
}

/// The shape of one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Producer tasks.
    pub producers: u32,
    /// Consumer tasks.
    pub consumers: u32,
    /// Items per producer per round.
    pub items: u32,
    /// Capacity of a bounded queue, `None` when unbounded.
    pub capacity: Option<usize>,
}

impl Config {
    /// The round described by a case's parameters.
    ///
    /// # Errors
    ///
    /// A missing or invalid parameter (a bounded queue needs `capacity`).
    pub fn from_params(params: &Params) -> Result<Self, BuildError> {
        let to_u32 = |name: &str| -> Result<u32, BuildError> {
            let v = params.int(name)?;
            u32::try_from(v).map_err(|_| {
                BuildError::Param(crate::params::ParamError::Invalid {
                    name: name.into(),
                    value: v.to_string(),
                    expected: "a value below 2^32".into(),
                })
            })
        };
        let capacity = if params.flag("bounded")? {
            Some(params.int("capacity")? as usize)
        } else {
            None
        };
        Ok(Config {
            producers: to_u32("producers")?,
            consumers: to_u32("consumers")?,
            items: to_u32("items")?,
            capacity,
        })
    }

    /// Items per round.
    pub fn items_per_round(&self) -> u64 {
        self.producers as u64 * self.items as u64
    }
}

/// What one consumer saw since its rounds were last checked: how many items, the sum of
/// their fingerprints (see [`fingerprint`]), and whether a producer's items came out of
/// order. Reused across rounds, so rounds allocate nothing here, and checked by
/// [`check_rounds`] after the clock has stopped: the consumer's only bookkeeping per item
/// is one addition and, with one consumer, one comparison.
#[derive(Debug, Clone)]
pub struct ConsumerState {
    next_seq: Vec<u32>,
    received: u64,
    fingerprints: u64,
    round: u64,
    out_of_order: Option<(u32, u32, u32)>,
    ordered: bool,
    latency: LatencyRecorder,
}

impl ConsumerState {
    /// A state for rounds of `config`; `ordered` checks per-producer order.
    pub fn new(config: &Config, ordered: bool) -> Self {
        ConsumerState {
            next_seq: vec![0; config.producers as usize],
            received: 0,
            fingerprints: 0,
            round: 0,
            out_of_order: None,
            ordered,
            latency: LatencyRecorder::new(),
        }
    }

    /// A new round starts: sequences start again from 0.
    fn start_round(&mut self) {
        self.next_seq.fill(0);
        self.round += 1;
    }

    #[inline]
    fn observe(&mut self, item: Item, now_ns: impl FnOnce() -> u64) {
        if item.stamp_ns != 0 {
            self.latency
                .record_ns((now_ns() + 1).saturating_sub(item.stamp_ns));
        }
        self.fingerprints = self
            .fingerprints
            .wrapping_add(fingerprint(item.producer, item.seq, self.round));
        if self.ordered {
            let expected = &mut self.next_seq[item.producer as usize];
            if item.seq != *expected {
                self.out_of_order
                    .get_or_insert((item.producer, *expected, item.seq));
            }
            *expected = item.seq.wrapping_add(1);
        }
        self.received += 1;
    }

    /// Forgets what was checked.
    fn clear(&mut self) {
        self.received = 0;
        self.fingerprints = 0;
        self.round = 0;
        self.out_of_order = None;
    }
}

/// A 64-bit fingerprint of item `seq` of `producer` in round `round` (SplitMix64's
/// finaliser). The sum of the fingerprints of what the consumers received equals the sum
/// over every item of every round exactly when they received each item once - but for a
/// chance of about 2^-64 per check that a loss and a duplicate cancel out.
pub fn fingerprint(producer: u32, seq: u32, round: u64) -> u64 {
    mix64(((u64::from(producer) << 32) | u64::from(seq)) ^ round.wrapping_mul(GOLDEN))
}

async fn produce<S: QueueSender<Item>>(
    mut tx: S,
    producer: u32,
    items: u32,
    base: Instant,
) -> Result<(), Closed> {
    for seq in 0..items {
        let stamp_ns = if seq % LATENCY_STRIDE == 0 {
            base.elapsed().as_nanos() as u64 + 1
        } else {
            0
        };
        tx.send(Item {
            producer,
            seq,
            stamp_ns,
        })
        .await?;
    }
    Ok(())
}

async fn consume<Q: QueueReceiver<Item>>(
    mut rx: Q,
    mut state: ConsumerState,
    base: Instant,
) -> ConsumerState {
    while let Some(item) = rx.recv().await {
        state.observe(item, || base.elapsed().as_nanos() as u64);
    }
    state
}

/// Runs one round and returns the consumers' states (in the order given).
///
/// # Errors
///
/// A violation when a producer found the queue closed.
pub async fn round<R: Runtime, K: QueueKind>(
    rt: &R,
    kind: &K,
    config: &Config,
    states: Vec<ConsumerState>,
    base: Instant,
) -> Result<Vec<ConsumerState>, Violation> {
    let (tx, receivers) = kind.channel::<Item>(
        config.capacity,
        config.producers as usize,
        config.consumers as usize,
    );
    let consumers: Vec<_> = receivers
        .into_iter()
        .zip(states)
        .map(|(rx, mut state)| {
            state.start_round();
            rt.spawn(consume(rx, state, base))
        })
        .collect();
    let producers: Vec<_> = (0..config.producers)
        .map(|p| rt.spawn(produce(tx.clone(), p, config.items, base)))
        .collect();
    drop(tx);
    let mut closed = false;
    for producer in producers {
        closed |= producer.await.is_err();
    }
    let mut states = Vec::with_capacity(consumers.len());
    for consumer in consumers {
        states.push(consumer.await);
    }
    if closed {
        return Err(Violation::new(
            "producers can send until they finish",
            "an open queue",
            "the queue closed under a producer",
        ));
    }
    Ok(states)
}

/// Checks every round the consumers took part in since the last check - every item of
/// every round received exactly once, in order per producer when there is one consumer -
/// and clears their counts for the next rounds. Runs after the clock has stopped: the
/// expected fingerprints are summed here, item by item.
///
/// # Errors
///
/// The first item out of order, a count of items that is not the rounds' (an item lost or
/// delivered twice), or a set of items of the right count that is not the rounds' (one
/// lost and another delivered twice).
pub fn check_rounds(config: &Config, states: &mut [ConsumerState]) -> Result<(), Violation> {
    let outcome = verify_rounds(config, states);
    for state in states.iter_mut() {
        state.clear();
    }
    outcome
}

fn verify_rounds(config: &Config, states: &[ConsumerState]) -> Result<(), Violation> {
    for state in states {
        match state.out_of_order {
            // In order up to an item seen again: delivered twice.
            Some((p, expected, seen)) if seen < expected => {
                return Err(Violation::new(
                    "every item is consumed exactly once",
                    "one delivery",
                    format!("producer {p} item {seen} twice"),
                ));
            }
            Some((p, expected, seen)) => {
                return Err(Violation::new(
                    "a single consumer sees each producer's items in order",
                    format!("producer {p} item {expected}"),
                    format!("item {seen}"),
                ));
            }
            None => {}
        }
    }
    let rounds = states.first().map_or(0, |s| s.round);
    if let Some(other) = states.iter().find(|s| s.round != rounds) {
        return Err(Violation::new(
            "every consumer takes part in every round",
            format!("{rounds} rounds"),
            format!("{} rounds", other.round),
        ));
    }
    let what = "every item is consumed exactly once";
    let expected = rounds * config.items_per_round();
    let received: u64 = states.iter().map(|s| s.received).sum();
    if received != expected {
        return Err(Violation::new(
            what,
            format!("{expected} items in {rounds} round(s)"),
            format!("{received} received"),
        ));
    }
    let mut want = 0u64;
    for round in 1..=rounds {
        for producer in 0..config.producers {
            for seq in 0..config.items {
                want = want.wrapping_add(fingerprint(producer, seq, round));
            }
        }
    }
    let got = states
        .iter()
        .fold(0u64, |sum, s| sum.wrapping_add(s.fingerprints));
    if got != want {
        return Err(Violation::new(
            what,
            format!("each of the {expected} items once"),
            format!("{received} received, not those: an item twice and another never"),
        ));
    }
    Ok(())
}

/// Sends up to twice `capacity` items into a bounded queue that nobody reads, gives the
/// producer ample time, and returns how many sends completed. A bounded queue must stop
/// the producer at exactly `capacity`. The queue is drained afterwards.
pub async fn fill_without_consumer<R: Runtime, K: QueueKind>(
    rt: &R,
    kind: &K,
    capacity: usize,
) -> usize {
    let (mut tx, mut receivers) = kind.channel::<Item>(Some(capacity), 1, 1);
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let attempts = capacity.saturating_mul(2).max(2);
    let producer = rt.spawn(async move {
        for seq in 0..attempts {
            let item = Item {
                producer: 0,
                seq: seq as u32,
                stamp_ns: 0,
            };
            if tx.send(item).await.is_err() {
                break;
            }
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    for _ in 0..attempts + 100 {
        rt.yield_now().await;
    }
    rt.sleep(Duration::from_millis(5)).await;
    let filled = sent.load(Ordering::SeqCst);
    let mut rx = receivers.pop().expect("one receiver was asked for");
    while rx.recv().await.is_some() {}
    producer.await;
    filled
}

/// The measured form of producer/consumer over one queue kind.
pub struct ProducerConsumerBench<R, K> {
    rt: R,
    kind: K,
    config: Config,
    states: Vec<ConsumerState>,
    rounds: u64,
}

impl<R: Runtime, K: QueueKind> ProducerConsumerBench<R, K> {
    /// A bench of `kind` with the case's parameters.
    ///
    /// # Errors
    ///
    /// A missing or invalid parameter.
    pub fn new(rt: &R, kind: K, params: &Params) -> Result<Self, BuildError> {
        let config = Config::from_params(params)?;
        let ordered = config.consumers == 1;
        Ok(ProducerConsumerBench {
            rt: rt.clone(),
            kind,
            states: (0..config.consumers)
                .map(|_| ConsumerState::new(&config, ordered))
                .collect(),
            config,
            rounds: 0,
        })
    }
}

impl<R: Runtime, K: QueueKind> BatchRunner for ProducerConsumerBench<R, K> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        self.config.items_per_round()
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            let base = Instant::now();
            self.rounds = 0;
            for _ in 0..iters {
                let states = std::mem::take(&mut self.states);
                self.states = round(&self.rt, &self.kind, &self.config, states, base).await?;
                self.rounds += 1;
            }
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        Violation::check_eq("producer_consumer rounds completed", iters, self.rounds)?;
        check_rounds(&self.config, &mut self.states)?;
        let mut latency = LatencyRecorder::new();
        for state in &mut self.states {
            latency.merge(&state.latency);
            state.latency.reset();
        }
        Ok(Some(latency))
    }

    fn verify_once(&mut self) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            if let Some(capacity) = self.config.capacity {
                let filled = fill_without_consumer(&self.rt, &self.kind, capacity).await;
                Violation::check_eq(
                    "a bounded queue holds at most its capacity",
                    capacity,
                    filled,
                )?;
            }
            Ok(())
        })
    }
}

/// The bench of a round over `kind` with a case's parameters: what `tcs_queue` and every
/// runtime's `native_channel` build.
///
/// # Errors
///
/// A missing or invalid parameter.
pub fn bench<R: Runtime, K: QueueKind>(
    rt: &R,
    kind: K,
    params: &Params,
) -> Result<BoxBench, BuildError> {
    Ok(Box::new(ProducerConsumerBench::new(rt, kind, params)?))
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    match case.variant.as_str() {
        "tcs_queue" => bench(rt, tcs_queue::TcsQueue, &case.params),
        other => Err(BuildError::Unsupported(format!(
            "producer_consumer/{other} is native"
        ))),
    }
}
