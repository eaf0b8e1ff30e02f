//! `producer_consumer` on every configuration, for the seed's `tcs_queue` and the runtime's
//! native channel (built from its family's native table): every item is consumed exactly
//! once, each producer's items keep their order for a single consumer, and a bounded queue
//! never holds more than its capacity.
//!
//! The negative tests run rounds through deliberately broken queues (an item lost,
//! duplicated or reordered, a capacity ignored) to show that the checks do fail; the checks
//! look only at what consumers saw, so they are the same whatever the queue.

use std::any::Any;
use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::FutureExt;

use tapbench_conformance::{rt_test, run_case};
use tapbench_core::workloads::producer_consumer::tcs_queue::TcsQueue;
use tapbench_core::workloads::producer_consumer::{
    check_rounds, fill_without_consumer, round, Closed, Config, ConsumerState, Item,
    ProducerConsumerBench, QueueKind, QueueReceiver, QueueSender,
};
use tapbench_core::{BuildError, Case, CellError, ParamValue, Params, Runtime, Violation};
use tapbench_measure::BatchRunner;

/// `(producers, consumers)` of the catalogue's grid.
const SHAPES: [(u32, u32); 3] = [(1, 1), (4, 1), (4, 4)];

/// Unbounded, a capacity small enough that producers wait all the time, and the grid's.
const CAPACITIES: [Option<usize>; 3] = [None, Some(2), Some(64)];

/// Items per producer per round.
const ITEMS: u32 = 500;

fn config(producers: u32, consumers: u32, capacity: Option<usize>) -> Config {
    Config {
        producers,
        consumers,
        items: ITEMS,
        capacity,
    }
}

/// Runs `rounds` rounds of `config` over `kind`, checking each one like the bench does (per
/// producer order is checked when there is a single consumer).
async fn run_rounds<R: Runtime, K: QueueKind>(
    rt: &R,
    kind: &K,
    config: &Config,
    rounds: usize,
) -> Result<(), Violation> {
    let ordered = config.consumers == 1;
    let mut states: Vec<_> = (0..config.consumers)
        .map(|_| ConsumerState::new(config, ordered))
        .collect();
    let base = Instant::now();
    for _ in 0..rounds {
        states = round(rt, kind, config, states, base).await?;
    }
    // Checked after the rounds, as the bench checks a batch after its clock stops.
    check_rounds(config, &mut states)
}

/// The `native_channel` case of a round of `config`.
fn native_case(config: &Config) -> Case {
    let mut params = Params::from_pairs([
        ("producers", ParamValue::Int(config.producers.into())),
        ("consumers", ParamValue::Int(config.consumers.into())),
        ("items", ParamValue::Int(config.items.into())),
        ("bounded", ParamValue::Bool(config.capacity.is_some())),
    ]);
    if let Some(capacity) = config.capacity {
        params
            .0
            .insert("capacity".into(), ParamValue::Int(capacity as u64));
    }
    Case::new("producer_consumer", "native_channel", params)
}

/// Whether a family's native channel cannot keep `config`'s capacity: futures' mpsc gives
/// every sender a slot of its own, so it cannot hold fewer items than it has producers.
fn native_cannot_keep(family: &str, config: &Config) -> bool {
    family == "futures"
        && config
            .capacity
            .is_some_and(|c| c < config.producers as usize)
}

async fn every_item_once<R: Runtime, K: QueueKind>(rt: &R, kind: &K, id: &str) {
    for (producers, consumers) in SHAPES {
        for capacity in CAPACITIES {
            let config = config(producers, consumers, capacity);
            if let Err(violation) = run_rounds(rt, kind, &config, 2).await {
                panic!("{} on {id}, {config:?}: {violation}", kind.name());
            }
        }
    }
}

/// An item of a round: `(producer, seq)`.
type Target = (u32, u32);

/// What a [`Faulty`] queue does wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// This item is dropped.
    Lose(Target),
    /// This item is delivered twice.
    Duplicate(Target),
    /// This item is held back and delivered after its producer's next one.
    Swap(Target),
    /// This item is replaced by a copy of its producer's next one: as many items as sent,
    /// but one of them twice and this one never.
    Replace(Target),
    /// The queue is unbounded whatever capacity is asked for.
    IgnoreCapacity,
}

/// A queue kind that wraps a correct one and breaks it in one way.
struct Faulty<K> {
    inner: K,
    fault: Fault,
}

struct FaultySender<S, T> {
    inner: S,
    fault: Fault,
    /// The item a [`Fault::Swap`] holds back (one slot per producer's clone).
    held: Mutex<Option<T>>,
}

impl<S: Clone, T> Clone for FaultySender<S, T> {
    fn clone(&self) -> Self {
        FaultySender {
            inner: self.inner.clone(),
            fault: self.fault,
            held: Mutex::new(None),
        }
    }
}

/// `item` as an [`Item`]: the queue is generic, but the workload sends `Item`s.
fn as_item<T: 'static>(item: &T) -> Item {
    *(item as &dyn Any)
        .downcast_ref::<Item>()
        .expect("the workload sends `Item`s")
}

/// A copy of `item`.
fn copy_of<T: 'static>(item: &T) -> T {
    let copy: Box<dyn Any> = Box::new(as_item(item));
    *copy.downcast::<T>().expect("T is Item")
}

impl<S: QueueSender<T>, T: Send + 'static> QueueSender<T> for FaultySender<S, T> {
    async fn send(&mut self, item: T) -> Result<(), Closed> {
        let Item { producer, seq, .. } = as_item(&item);
        let this = (producer, seq);
        match self.fault {
            Fault::Lose(target) if target == this => return Ok(()),
            Fault::Duplicate(target) if target == this => {
                self.inner.send(copy_of(&item)).await?;
            }
            Fault::Swap(target) if target == this => {
                *self.held.lock().unwrap() = Some(item);
                return Ok(());
            }
            Fault::Replace(target) if target == this => {
                let mut next = as_item(&item);
                next.seq += 1;
                let boxed: Box<dyn Any> = Box::new(next);
                let next = *boxed.downcast::<T>().expect("T is Item");
                return self.inner.send(next).await;
            }
            _ => {}
        }
        self.inner.send(item).await?;
        let held = self.held.lock().unwrap().take();
        match held {
            Some(held) => self.inner.send(held).await,
            None => Ok(()),
        }
    }
}

impl<K: QueueKind> QueueKind for Faulty<K> {
    type Sender<T: Send + 'static> = FaultySender<K::Sender<T>, T>;
    type Receiver<T: Send + 'static> = K::Receiver<T>;

    fn name(&self) -> &'static str {
        "a deliberately broken queue"
    }

    fn channel<T: Send + 'static>(
        &self,
        capacity: Option<usize>,
        producers: usize,
        consumers: usize,
    ) -> (Self::Sender<T>, Vec<Self::Receiver<T>>) {
        let capacity = if self.fault == Fault::IgnoreCapacity {
            None
        } else {
            capacity
        };
        let (inner, receivers) = self.inner.channel(capacity, producers, consumers);
        let sender = FaultySender {
            inner,
            fault: self.fault,
            held: Mutex::new(None),
        };
        (sender, receivers)
    }
}

/// The violation a round through a queue with `fault` produces (`Ok` if none is found).
async fn faulty_round<R: Runtime, K: QueueKind>(
    rt: &R,
    inner: K,
    fault: Fault,
    config: &Config,
) -> Result<(), Violation> {
    run_rounds(rt, &Faulty { inner, fault }, config, 1).await
}

rt_test! {
    async fn tcs_queue_consumes_every_item_exactly_once(rt) {
        every_item_once(&rt, &TcsQueue, Cfg::INFO.id).await;
    }

    /// Two rounds of every shape, plus the bench's one-off capacity check for bounded
    /// queues: what a measured cell checks.
    async fn native_channel_consumes_every_item_exactly_once(rt) {
        for (producers, consumers) in SHAPES {
            for capacity in CAPACITIES {
                let config = config(producers, consumers, capacity);
                let outcome = run_case(&rt, &native_case(&config), 2).await;
                match outcome {
                    Ok(()) => assert!(!native_cannot_keep(Cfg::INFO.family, &config)),
                    Err(CellError::Build(BuildError::Unsupported(why)))
                        if native_cannot_keep(Cfg::INFO.family, &config) =>
                    {
                        assert!(why.contains("slot of its own"), "{why}");
                    }
                    Err(err) => panic!("native_channel on {}, {config:?}: {err}", Cfg::INFO.id),
                }
            }
        }
    }

    /// Many short rounds through a queue of capacity 1 or 2, where producers wait all the
    /// time: a lost wake-up of a waiting producer shows up as a hung round.
    async fn tcs_queue_with_a_tiny_capacity_never_hangs(rt) {
        for (producers, consumers, capacity) in [(4, 1, 1), (4, 4, 1), (2, 1, 1), (4, 2, 2)] {
            let config = Config { producers, consumers, items: 50, capacity: Some(capacity) };
            if let Err(violation) = run_rounds(&rt, &TcsQueue, &config, 40).await {
                panic!("tcs_queue on {}, {config:?}: {violation}", Cfg::INFO.id);
            }
        }
    }

    /// A producer that nobody consumes from is stopped at exactly the capacity (for the
    /// native channel, the bench's `verify_once` makes this check before anything runs).
    async fn a_bounded_queue_holds_at_most_its_capacity(rt) {
        for capacity in [1, 4, 64] {
            let filled = fill_without_consumer(&rt, &TcsQueue, capacity).await;
            assert_eq!(filled, capacity, "tcs_queue on {}", Cfg::INFO.id);
            let native = native_case(&config(1, 1, Some(capacity)));
            if let Err(err) = run_case(&rt, &native, 1).await {
                panic!("native_channel, capacity {capacity} on {}: {err}", Cfg::INFO.id);
            }
        }
    }

    /// The harness's own wrapper is transparent when it has nothing to break.
    async fn a_fault_that_never_fires_passes(rt) {
        let config = config(4, 4, Some(8));
        faulty_round(&rt, TcsQueue, Fault::Lose((0, ITEMS)), &config).await.unwrap();
    }

    /// A producer's last item lost: no gap in any sequence shows it, only the count.
    async fn check_rounds_catches_a_lost_item(rt) {
        for (producers, consumers) in SHAPES {
            let config = config(producers, consumers, Some(8));
            let fault = Fault::Lose((producers - 1, ITEMS - 1));
            let found = faulty_round(&rt, TcsQueue, fault, &config).await;
            let violation = found.expect_err("a lost item went unnoticed");
            assert_eq!(violation.what, "every item is consumed exactly once", "{violation}");
            let left = config.items_per_round() - 1;
            assert_eq!(violation.seen, format!("{left} received"), "{violation}");
        }
    }

    /// An item lost in the middle of a stream: a single consumer sees the gap.
    async fn check_rounds_catches_a_gap(rt) {
        for (producers, consumers) in SHAPES {
            let config = config(producers, consumers, None);
            let found = faulty_round(&rt, TcsQueue, Fault::Lose((0, 17)), &config).await;
            let violation = found.expect_err("a lost item went unnoticed");
            if consumers == 1 {
                assert_eq!(
                    violation.to_string(),
                    "a single consumer sees each producer's items in order: expected producer 0 \
                     item 17, saw item 18"
                );
            } else {
                assert_eq!(violation.what, "every item is consumed exactly once", "{violation}");
            }
        }
    }

    async fn check_rounds_catches_a_duplicated_item(rt) {
        for (producers, consumers) in SHAPES {
            let config = config(producers, consumers, None);
            let fault = Fault::Duplicate((producers - 1, 17));
            let found = faulty_round(&rt, TcsQueue, fault, &config).await;
            let violation = found.expect_err("a duplicated item went unnoticed");
            assert_eq!(violation.what, "every item is consumed exactly once", "{violation}");
        }
    }

    /// An item replaced by its neighbour keeps the count: with one consumer the order shows
    /// it, with several only the fingerprints do - over several rounds too.
    async fn check_rounds_catches_an_item_replaced_by_another(rt) {
        for (producers, consumers) in SHAPES {
            let config = config(producers, consumers, Some(8));
            let faulty = Faulty { inner: TcsQueue, fault: Fault::Replace((0, 17)) };
            let found = run_rounds(&rt, &faulty, &config, 3).await;
            let violation = found.expect_err("a replaced item went unnoticed");
            if consumers == 1 {
                assert_eq!(
                    violation.what,
                    "a single consumer sees each producer's items in order",
                    "{violation}"
                );
            } else {
                assert_eq!(violation.what, "every item is consumed exactly once", "{violation}");
                let sent = 3 * config.items_per_round();
                assert!(
                    violation.seen.starts_with(&format!("{sent} received, not those")),
                    "{violation}"
                );
            }
        }
    }

    /// The measurement rule: a batch is checked after its clock stops. The timed part
    /// (`run_batch`) of a batch through a broken queue completes; `check_batch`, which the
    /// sampler calls after reading the clock, finds what went wrong in every round.
    async fn rounds_are_checked_after_the_timed_batch(rt) {
        let config = config(4, 4, Some(8));
        let faulty = Faulty { inner: TcsQueue, fault: Fault::Duplicate((3, 17)) };
        let params = native_case(&config).params;
        let mut bench = ProducerConsumerBench::new(&rt, faulty, &params).unwrap();
        bench.run_batch(3).await.expect("the timed batch does not check");
        let violation = bench.check_batch(3).expect_err("the check after the clock");
        assert_eq!(violation.what, "every item is consumed exactly once", "{violation}");
        let sent = 3 * config.items_per_round();
        assert_eq!(violation.seen, format!("{} received", sent + 3), "{violation}");
        // A correct queue passes the same two steps, and the next batch starts afresh.
        let mut bench = ProducerConsumerBench::new(&rt, TcsQueue, &params).unwrap();
        for _ in 0..2 {
            bench.run_batch(3).await.unwrap();
            bench.check_batch(3).unwrap();
        }
    }

    /// With one consumer, a producer's items out of order are caught; with several
    /// consumers order is not an invariant, and nothing is lost.
    async fn check_rounds_catches_items_out_of_order(rt) {
        for (producers, consumers) in SHAPES {
            let config = config(producers, consumers, Some(8));
            let found = faulty_round(&rt, TcsQueue, Fault::Swap((0, 17)), &config).await;
            if consumers == 1 {
                let violation = found.expect_err("a reordering went unnoticed");
                assert_eq!(
                    violation.what,
                    "a single consumer sees each producer's items in order",
                    "{violation}"
                );
            } else {
                assert!(found.is_ok(), "{consumers} consumers: {found:?}");
            }
        }
    }

    async fn fill_without_consumer_catches_an_ignored_capacity(rt) {
        let faulty = Faulty { inner: TcsQueue, fault: Fault::IgnoreCapacity };
        assert_eq!(fill_without_consumer(&rt, &faulty, 4).await, 8);
    }
}

/// The lost wake-up of `tcs_queue`, step by step: a producer waiting for room must not stay
/// asleep once the queue is empty and a consumer waits. (Before the fix, the adder woken by
/// a take handed its item straight to the next waiting taker, the queue stayed empty and
/// the other adder slept forever: rounds with small capacities hung on multi-threaded
/// runtimes.)
#[test]
fn tcs_queue_wakes_a_waiting_producer_when_a_consumer_waits() {
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    let (tx, mut receivers) = TcsQueue.channel::<u32>(Some(1), 1, 1);
    let mut rx = receivers.pop().unwrap();
    let (mut a, mut b) = (tx.clone(), tx.clone());
    drop(tx);

    assert_eq!(a.send(1).now_or_never(), Some(Ok(())), "room for one");
    let mut a2 = Box::pin(a.send(2));
    assert!(
        a2.as_mut().poll(&mut cx).is_pending(),
        "full: producer a waits"
    );
    let mut b1 = Box::pin(b.send(10));
    assert!(
        b1.as_mut().poll(&mut cx).is_pending(),
        "full: producer b waits"
    );
    // The take wakes a; before a runs, the consumer waits for the next item.
    assert_eq!(rx.recv().now_or_never(), Some(Some(1)));
    {
        let mut take = pin!(rx.recv());
        assert!(take.as_mut().poll(&mut cx).is_pending());
        assert!(
            a2.as_mut().poll(&mut cx).is_ready(),
            "a hands its item over"
        );
        assert_eq!(take.as_mut().poll(&mut cx), Poll::Ready(Some(2)));
    }
    drop(a2);
    drop(a);
    // The queue is empty and the consumer waits again: b must get through.
    let mut take = pin!(rx.recv());
    let taken = take.as_mut().poll(&mut cx);
    assert!(
        b1.as_mut().poll(&mut cx).is_ready(),
        "producer b sleeps with the queue empty"
    );
    let taken = if taken.is_pending() {
        take.as_mut().poll(&mut cx)
    } else {
        taken
    };
    assert_eq!(taken, Poll::Ready(Some(10)));
}
