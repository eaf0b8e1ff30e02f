//! `ping_pong` (the TaskCompletionSource round trip): two tasks exchange a message back and
//! forth, so every step is one task waking the other.
//!
//! One operation is one round trip: the measured task (the pinger) sends sequence number
//! `i` to a task it spawned at the start of the batch (the ponger), which answers with
//! [`echo`]`(i)`; the pinger waits for the answer before it sends `i + 1`. A batch of
//! `iters` operations is `iters` round trips with one ponger (its spawn, and its end when
//! the pinger drops its side, are part of the batch).
//!
//! - `oneshot`: a fresh one-shot channel each way per round trip (`futures::channel::oneshot`,
//!   the runtime-neutral TaskCompletionSource): the request carries the sender of its reply,
//!   and the reply carries the sender of the next request, so each side awaits a completion
//!   made for that one message. 2 allocations per round trip by construction (one shared
//!   state per one-shot channel).
//! - `channel`: two bounded channels of capacity 1, one each way, made once per batch
//!   (`async-channel` on every runtime: the channel smol and async-std re-export, so the
//!   cells compare the schedulers' wake-ups, not channel implementations). The workload
//!   allocates nothing per round trip; async-channel's `event-listener` boxes a listener
//!   each time a side finds its channel empty and waits, so up to 2 per round trip.
//!
//! The pinger reads the clock once per round trip and records the time since the previous
//! reading (the round trip's latency: send, the ponger's wake-up and answer, the pinger's
//! wake-up) into the cell's latency histogram, which exists before the clock starts, so
//! recording allocates nothing. It folds each answer into a position-weighted digest and
//! counts them; the ponger counts what it served. After the clock stops the check wants
//! `iters` answers, `iters` requests served, and the digest of `echo(0..iters)` in order: an
//! answer to the wrong request, out of order, or missing fails the cell.

use std::future::Future;
use std::time::Instant;

use futures::channel::oneshot;
use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::runtime::Runtime;
use crate::seeded::{digest_term, mix64, GOLDEN};
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

pub use super::producer_consumer::Closed;

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "ping_pong",
    tap: "TaskCompletionSource round trip between two tasks",
    op_unit: "one round trip: a message to another task and its answer back",
    variants: &[
        VariantSpec {
            id: "oneshot",
            doc: "a fresh futures::channel::oneshot each way per round trip (a \
                  TaskCompletionSource per message). Allocates 2 per round trip (each \
                  one-shot's shared state)",
            native: false,
        },
        VariantSpec {
            id: "channel",
            doc: "two async-channel bounded channels of capacity 1, one each way, made once \
                  per batch. Allocates nothing itself; event-listener boxes a listener each \
                  time a side waits (up to 2 per round trip)",
            native: false,
        },
    ],
    params: &[],
    cases: || super::grid("ping_pong", &["oneshot", "channel"], &[]),
    memory_bytes: |_| super::TASK_BYTES + LATENCY_BYTES,
    normalize: |_| {},
    views: &[],
};

/// About what one [`LatencyRecorder`] holds (3 significant digits up to one minute).
const LATENCY_BYTES: u64 = 256 * 1024;

/// The answer to request `seq`.
#[inline]
pub fn echo(seq: u64) -> u64 {
    mix64(seq.wrapping_mul(GOLDEN) ^ 0x0050_4F4E_4750_4F4E)
}

/// How the ponger answers request `seq`: `Some(answer)`, or `None` to stop answering (it
/// then drops its side). The bench uses [`answer`]; tests use faulty ones.
pub type Responder = fn(u64) -> Option<u64>;

/// The ponger's rule: every request `seq` gets [`echo`]`(seq)`.
pub fn answer(seq: u64) -> Option<u64> {
    Some(echo(seq))
}

/// One side of an exchange: sends a number, receives a number.
pub trait Side: Send + 'static {
    /// Sends `value` to the other side.
    fn send(&mut self, value: u64) -> impl Future<Output = Result<(), Closed>> + Send + '_;

    /// The other side's next message, or `None` once the other side is gone.
    fn recv(&mut self) -> impl Future<Output = Option<u64>> + Send + '_;
}

/// A way of connecting two tasks.
pub trait Exchange: Send + Sync + 'static {
    /// The pinger's side.
    type Ping: Side;
    /// The ponger's side.
    type Pong: Side;

    /// A new connection.
    fn pair(&self) -> (Self::Ping, Self::Pong);
}

/// `oneshot`: a fresh one-shot channel for every message.
#[derive(Debug, Clone, Copy, Default)]
pub struct Oneshot;

/// A request: its sequence number and the sender of its answer.
#[derive(Debug)]
pub struct Request {
    seq: u64,
    reply: oneshot::Sender<Reply>,
}

/// An answer, and the sender of the next request.
#[derive(Debug)]
pub struct Reply {
    value: u64,
    next: oneshot::Sender<Request>,
}

/// The pinger's side of [`Oneshot`]: where the next request goes, where the answer comes.
#[derive(Debug)]
pub struct OneshotPing {
    next: Option<oneshot::Sender<Request>>,
    reply: Option<oneshot::Receiver<Reply>>,
}

/// The ponger's side of [`Oneshot`]: where the next request comes, where its answer goes.
#[derive(Debug)]
pub struct OneshotPong {
    request: Option<oneshot::Receiver<Request>>,
    reply: Option<oneshot::Sender<Reply>>,
}

impl Side for OneshotPing {
    fn send(&mut self, seq: u64) -> impl Future<Output = Result<(), Closed>> + Send + '_ {
        let (reply, answer) = oneshot::channel();
        self.reply = Some(answer);
        let sent = match self.next.take() {
            Some(next) => next.send(Request { seq, reply }).map_err(|_| Closed),
            None => Err(Closed),
        };
        std::future::ready(sent)
    }

    async fn recv(&mut self) -> Option<u64> {
        let reply = self.reply.as_mut()?.await.ok()?;
        self.reply = None;
        self.next = Some(reply.next);
        Some(reply.value)
    }
}

impl Side for OneshotPong {
    fn send(&mut self, value: u64) -> impl Future<Output = Result<(), Closed>> + Send + '_ {
        let (next, request) = oneshot::channel();
        self.request = Some(request);
        let sent = match self.reply.take() {
            Some(reply) => reply.send(Reply { value, next }).map_err(|_| Closed),
            None => Err(Closed),
        };
        std::future::ready(sent)
    }

    async fn recv(&mut self) -> Option<u64> {
        let request = self.request.as_mut()?.await.ok()?;
        self.request = None;
        self.reply = Some(request.reply);
        Some(request.seq)
    }
}

impl Exchange for Oneshot {
    type Ping = OneshotPing;
    type Pong = OneshotPong;

    fn pair(&self) -> (OneshotPing, OneshotPong) {
        let (next, request) = oneshot::channel();
        (
            OneshotPing {
                next: Some(next),
                reply: None,
            },
            OneshotPong {
                request: Some(request),
                reply: None,
            },
        )
    }
}

/// `channel`: two `async-channel` bounded channels of capacity 1, one each way.
#[derive(Debug, Clone, Copy, Default)]
pub struct BoundedPair;

/// Either side of [`BoundedPair`].
#[derive(Debug)]
pub struct ChannelSide {
    tx: async_channel::Sender<u64>,
    rx: async_channel::Receiver<u64>,
}

impl Side for ChannelSide {
    async fn send(&mut self, value: u64) -> Result<(), Closed> {
        self.tx.send(value).await.map_err(|_| Closed)
    }

    async fn recv(&mut self) -> Option<u64> {
        self.rx.recv().await.ok()
    }
}

impl Exchange for BoundedPair {
    type Ping = ChannelSide;
    type Pong = ChannelSide;

    fn pair(&self) -> (ChannelSide, ChannelSide) {
        let (to_pong, from_ping) = async_channel::bounded(1);
        let (to_ping, from_pong) = async_channel::bounded(1);
        (
            ChannelSide {
                tx: to_pong,
                rx: from_pong,
            },
            ChannelSide {
                tx: to_ping,
                rx: from_ping,
            },
        )
    }
}

/// The ponger: answers every request as `respond` says until the pinger is gone (or
/// `respond` stops), and returns how many requests it answered.
pub async fn serve<S: Side>(mut side: S, respond: Responder) -> u64 {
    let mut served = 0;
    while let Some(seq) = side.recv().await {
        let Some(value) = respond(seq) else { break };
        if side.send(value).await.is_err() {
            break;
        }
        served += 1;
    }
    served
}

/// Connects the calling task to a new ponger task answering as `respond` says: the
/// pinger's side, and the ponger's handle (its output: the requests it answered).
pub fn start<R: Runtime, X: Exchange>(
    rt: &R,
    exchange: &X,
    respond: Responder,
) -> (X::Ping, R::JoinHandle<u64>) {
    let (ping, pong) = exchange.pair();
    (ping, rt.spawn(serve(pong, respond)))
}

/// What a run of round trips came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcomes {
    /// Answers the pinger received.
    pub replies: u64,
    /// Requests the ponger answered.
    pub served: u64,
    /// Position-weighted sum of the answers, in the order received.
    pub digest: u64,
}

impl Outcomes {
    /// What `round_trips` round trips answered by [`answer`] come to.
    pub fn expected(round_trips: u64) -> Outcomes {
        Outcomes {
            replies: round_trips,
            served: round_trips,
            digest: (0..round_trips).fold(0u64, |d, i| d.wrapping_add(digest_term(i, echo(i)))),
        }
    }

    /// Checks these outcomes of `round_trips` round trips.
    ///
    /// # Errors
    ///
    /// The first broken invariant: an answer missing, a request not served, an answer to
    /// another request or out of order.
    pub fn check(&self, round_trips: u64) -> Result<(), Violation> {
        let want = Outcomes::expected(round_trips);
        Violation::check_eq(
            "every request is answered (answers received, requests served)",
            (want.replies, want.served),
            (self.replies, self.served),
        )?;
        Violation::check_eq(
            "every answer matches its request, in order (digest)",
            want.digest,
            self.digest,
        )
    }
}

/// Runs `round_trips` round trips through `exchange` with a new ponger answering as
/// `respond` says, recording each round trip's time into `latency`, then lets the ponger
/// finish (the pinger's side is dropped) and returns what both counted.
pub async fn run_round_trips<R: Runtime, X: Exchange>(
    rt: &R,
    exchange: &X,
    respond: Responder,
    round_trips: u64,
    latency: &mut LatencyRecorder,
) -> Outcomes {
    let (mut ping, ponger) = start(rt, exchange, respond);
    let mut out = Outcomes::default();
    let mut last = Instant::now();
    for i in 0..round_trips {
        if ping.send(i).await.is_err() {
            break;
        }
        let Some(value) = ping.recv().await else {
            break;
        };
        let now = Instant::now();
        latency.record_ns(now.duration_since(last).as_nanos() as u64);
        last = now;
        out.replies += 1;
        out.digest = out.digest.wrapping_add(digest_term(i, value));
    }
    drop(ping);
    out.served = ponger.await;
    out
}

/// The measured form of one exchange.
pub struct PingPongBench<R, X> {
    rt: R,
    exchange: X,
    latency: LatencyRecorder,
    outcomes: Outcomes,
}

impl<R: Runtime, X: Exchange> BatchRunner for PingPongBench<R, X> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            self.outcomes =
                run_round_trips(&self.rt, &self.exchange, answer, iters, &mut self.latency)
                    .await;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        let recorded = self.latency.clone();
        self.latency.reset();
        self.outcomes.check(iters)?;
        Ok(Some(recorded))
    }
}

fn bench<R: Runtime, X: Exchange>(rt: &R, exchange: X) -> BoxBench {
    Box::new(PingPongBench {
        rt: rt.clone(),
        exchange,
        latency: LatencyRecorder::new(),
        outcomes: Outcomes::default(),
    })
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    match case.variant.as_str() {
        "oneshot" => Ok(bench(rt, Oneshot)),
        "channel" => Ok(bench(rt, BoundedPair)),
        other => Err(BuildError::Unsupported(format!("ping_pong/{other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_fails_missing_and_reordered_answers() {
        let want = Outcomes::expected(10);
        assert_eq!(want.check(10), Ok(()));
        assert!(want.check(11).is_err());
        // Answers 2 and 3 swapped: same count, same sum, another order.
        let mut swapped = Outcomes {
            digest: 0,
            ..want
        };
        for i in 0..10u64 {
            let seq = if i == 2 || i == 3 { i ^ 1 } else { i };
            swapped.digest = swapped.digest.wrapping_add(digest_term(i, echo(seq)));
        }
        assert!(swapped.check(10).is_err());
        let unserved = Outcomes {
            served: 9,
            ..want
        };
        assert!(unserved.check(10).is_err());
    }
}
