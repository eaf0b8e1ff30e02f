//! One request of the `service` workload and what it must come to: the backend latencies
//! and values (seeded), the request's own work (a cache lookup, then a WhenAll of three
//! backend calls raced against a timeout), its slot (where it writes its timestamps and its
//! reply, lock-free) and the check of one request's record after the clock.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join3;

use crate::runtime::Runtime;
use crate::seeded::{digest_term, mix64, GOLDEN};
use crate::spec::Violation;
use crate::workloads::cache::{self, AsyncCache, Factory, KeySequence, ReadyCache};
use crate::workloads::timeout::{SelectSleep, TimedOut, Timeout};

/// Backend calls of one request (the WhenAll's width).
pub const CALLS: u32 = 3;

/// The longest backend latency drawn, whatever the distribution's tail says: one hour.
const MAX_BACKEND_S: f64 = 3600.0;

/// The distribution of one backend call's latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// Always the scale.
    Fixed,
    /// Exponential with the scale as its mean.
    Exp,
    /// Pareto with shape 2 and the scale as its minimum: `P(X > t) = (scale / t)^2`.
    Pareto,
}

/// The simulated backend: how long call `c` of request `i` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backend {
    /// The latency distribution.
    pub distribution: Distribution,
    /// Its scale (the fixed latency, the exponential's mean, the Pareto minimum).
    pub scale: Duration,
}

/// A number uniformly spread over `(0, 1]`, drawn from a hash of `(i, call)`.
#[inline]
fn uniform(i: u64, call: u32) -> f64 {
    let draw = mix64(
        i.wrapping_mul(GOLDEN)
            .wrapping_add(u64::from(call).wrapping_mul(0xD1B5_4A32_D192_ED03))
            .wrapping_add(0xBAC_CE11),
    ) >> 11;
    (draw + 1) as f64 / (1u64 << 53) as f64
}

impl Backend {
    /// The latency of call `call` of request `i` (seeded: the same on every runtime).
    pub fn latency(&self, i: u64, call: u32) -> Duration {
        let factor = match self.distribution {
            Distribution::Fixed => return self.scale,
            Distribution::Exp => -uniform(i, call).ln(),
            Distribution::Pareto => 1.0 / uniform(i, call).sqrt(),
        };
        Duration::from_secs_f64((self.scale.as_secs_f64() * factor).min(MAX_BACKEND_S))
    }

    /// The slowest of request `i`'s calls: the least an answered request can take.
    pub fn slowest(&self, i: u64) -> Duration {
        (0..CALLS)
            .map(|c| self.latency(i, c))
            .max()
            .unwrap_or_default()
    }
}

/// What call `call` of request `i` returns.
#[inline]
pub fn backend_value(i: u64, call: u32) -> u64 {
    mix64(i.wrapping_mul(GOLDEN) ^ (u64::from(call) + 1).wrapping_mul(0x005E_41CE_00BA_CE4D))
}

/// What a cache lookup that failed contributes to a reply (the bench's factory never
/// fails, so a reply built from it is wrong).
const LOOKUP_FAILED: u64 = 0xFA11_ED00_CAC4_E000;

/// The reply of a request whose lookup returned `cached` and whose calls returned
/// `calls`: a position-weighted digest of the four.
#[inline]
pub fn reply_value(cached: u64, calls: [u64; CALLS as usize]) -> u64 {
    calls
        .iter()
        .zip(1..)
        .fold(digest_term(0, cached), |d, (v, k)| d.wrapping_add(digest_term(k, *v)))
}

/// The reply request `i` must give: its key's cached value and its calls' values.
pub fn expected_reply(keys: &KeySequence, i: u64) -> u64 {
    reply_value(
        cache::value(keys.key(i)),
        [0, 1, 2].map(|c| backend_value(i, c)),
    )
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Every backend call returned in time: the reply's value.
    Answered(u64),
    /// The timeout fired first: "timed out".
    TimedOut,
}

/// How the server sends a request's reply: `Some(reply)` to send it (perhaps changed), or
/// `None` to send nothing (the request is lost). The bench uses [`send`]; tests use faulty
/// ones.
pub type Responder = fn(u64, Reply) -> Option<Reply>;

/// The server's rule: every request's reply is sent as it is.
pub fn send(_request: u64, reply: Reply) -> Option<Reply> {
    Some(reply)
}

/// What a slot's outcome byte says.
const EMPTY: u8 = 0;
const ANSWERED: u8 = 1;
const TIMED_OUT: u8 = 2;

/// Where one request writes what it did: nanoseconds since the schedule's start `t0` of
/// its send (when the generator or client spawned it), of its start (its task's first
/// poll) and of its reply, and the reply. Written by the request's task only, read after
/// every task has finished, with no lock.
#[derive(Debug, Default)]
pub struct Slot {
    sent_ns: AtomicU64,
    start_ns: AtomicU64,
    done_ns: AtomicU64,
    value: AtomicU64,
    outcome: AtomicU8,
}

/// What a slot held: one request's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// When it was sent (spawned), nanoseconds since `t0`.
    pub sent_ns: u64,
    /// When its task first ran.
    pub start_ns: u64,
    /// When it replied.
    pub done_ns: u64,
    /// Its reply.
    pub reply: Reply,
}

impl Slot {
    /// Notes the request sent at `sent_ns`.
    #[inline]
    pub fn sent(&self, sent_ns: u64) {
        self.sent_ns.store(sent_ns, Ordering::Relaxed);
    }

    /// Writes the request's start, reply time and reply.
    fn reply(&self, start_ns: u64, done_ns: u64, reply: Reply) {
        self.start_ns.store(start_ns, Ordering::Relaxed);
        self.done_ns.store(done_ns, Ordering::Relaxed);
        let outcome = match reply {
            Reply::Answered(value) => {
                self.value.store(value, Ordering::Relaxed);
                ANSWERED
            }
            Reply::TimedOut => TIMED_OUT,
        };
        self.outcome.store(outcome, Ordering::Release);
    }

    /// The record, if the request replied, and empties the slot for the next batch.
    pub fn take(&self) -> Option<Record> {
        let reply = match self.outcome.swap(EMPTY, Ordering::Acquire) {
            ANSWERED => Reply::Answered(self.value.load(Ordering::Relaxed)),
            TIMED_OUT => Reply::TimedOut,
            _ => return None,
        };
        Some(Record {
            sent_ns: self.sent_ns.load(Ordering::Relaxed),
            start_ns: self.start_ns.load(Ordering::Relaxed),
            done_ns: self.done_ns.load(Ordering::Relaxed),
            reply,
        })
    }
}

/// The server: what every request shares, for the life of the bench (its cache persists
/// across batches).
pub struct Server<R> {
    /// The runtime.
    pub rt: R,
    /// The cache every request looks its key up in.
    pub cache: ReadyCache,
    /// The cache's factory (one yield, then the key's value).
    pub factory: Factory<R>,
    /// The key of each request.
    pub keys: KeySequence,
    /// The backend.
    pub backend: Backend,
    /// The deadline of each request's WhenAll.
    pub timeout: Duration,
    /// How long call 0 of the middle request of each schedule blocks its thread.
    pub stall: Duration,
    /// Requests of one schedule.
    pub per_schedule: u64,
    /// How replies are sent.
    pub respond: Responder,
}

impl<R: Runtime> Server<R> {
    /// Whether request `i` is the one whose call 0 stalls its thread.
    #[inline]
    pub fn stalls(&self, i: u64) -> bool {
        !self.stall.is_zero() && i % self.per_schedule == self.per_schedule / 2
    }

    /// Call `call` of request `i`: (for the stalled request's call 0, blocks its thread
    /// first, then) sleeps its seeded latency with the runtime's timer and returns its
    /// value.
    fn call(&self, i: u64, call: u32) -> impl Future<Output = u64> + Send + 'static {
        let stall = (call == 0 && self.stalls(i)).then_some(self.stall);
        let sleep = self.rt.sleep(self.backend.latency(i, call));
        async move {
            if let Some(stall) = stall {
                // A stalled runtime: the thread does nothing else meanwhile.
                std::thread::sleep(stall);
            }
            sleep.await;
            backend_value(i, call)
        }
    }

    /// The reply to request `i`: the cache lookup of its key, then the WhenAll of its three
    /// calls raced against the timeout.
    async fn serve(&self, i: u64) -> Reply {
        let cached = self
            .cache
            .get(self.keys.key(i), &self.factory)
            .await
            .unwrap_or(LOOKUP_FAILED);
        let calls = join3(self.call(i, 0), self.call(i, 1), self.call(i, 2));
        match SelectSleep.timeout(&self.rt, self.timeout, calls).await {
            Ok((a, b, c)) => Reply::Answered(reply_value(cached, [a, b, c])),
            Err(TimedOut) => Reply::TimedOut,
        }
    }
}

/// What the requests of one batch share: the server and the batch's slots (one per
/// request, allocated before the clock and reused while big enough).
pub struct Batch<R> {
    /// The server.
    pub server: Arc<Server<R>>,
    /// One slot per request of the batch (or more).
    pub slots: Box<[Slot]>,
}

/// Nanoseconds since `t0`.
#[inline]
pub fn since(t0: Instant) -> u64 {
    t0.elapsed().as_nanos() as u64
}

/// Request `i` of a schedule started at `t0`, as its own task: notes its start, serves
/// it, and writes its reply into its slot (unless the responder drops it).
pub async fn request<R: Runtime>(batch: Arc<Batch<R>>, i: u64, t0: Instant) {
    let start_ns = since(t0);
    let server = &batch.server;
    let reply = server.serve(i).await;
    let done_ns = since(t0);
    if let (Some(reply), Some(slot)) = ((server.respond)(i, reply), batch.slots.get(i as usize)) {
        slot.reply(start_ns, done_ns, reply);
    }
}

/// What the check of a request needs to know: its key sequence, backend and timeout.
#[derive(Debug, Clone)]
pub struct Expect<'a> {
    /// The keys of the requests.
    pub keys: &'a KeySequence,
    /// The backend.
    pub backend: Backend,
    /// The deadline of each WhenAll.
    pub timeout: Duration,
}

impl Expect<'_> {
    /// Checks request `i`'s record: it replied, an answer is its key's value and its
    /// calls' results, an answer took at least its slowest call and a timeout at least the
    /// deadline (from its start to its reply).
    ///
    /// # Errors
    ///
    /// The broken invariant: a lost request, a wrong reply, an answer faster than its
    /// backend or a timeout before its deadline.
    pub fn check(&self, i: u64, record: Option<Record>) -> Result<Record, Violation> {
        let Some(record) = record else {
            return Err(Violation::new(
                "every request is answered or timed out (none lost)",
                format!("a reply to request {i}"),
                "none",
            ));
        };
        let took = Duration::from_nanos(record.done_ns.saturating_sub(record.start_ns));
        match record.reply {
            Reply::Answered(value) => {
                let want = expected_reply(self.keys, i);
                if value != want {
                    return Err(Violation::new(
                        "each answer is its key's cached value and its backends' results",
                        format!("request {i}: {want:#x}"),
                        format!("{value:#x}"),
                    ));
                }
                let slowest = self.backend.slowest(i);
                if took < slowest {
                    return Err(Violation::new(
                        "an answered request takes at least its slowest backend call",
                        format!("request {i}: at least {slowest:?}"),
                        format!("{took:?}"),
                    ));
                }
            }
            Reply::TimedOut => {
                if took < self.timeout {
                    return Err(Violation::new(
                        "a timed-out request takes at least the timeout",
                        format!("request {i}: at least {:?}", self.timeout),
                        format!("{took:?}"),
                    ));
                }
            }
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(distribution: Distribution) -> Backend {
        Backend {
            distribution,
            scale: Duration::from_micros(200),
        }
    }

    #[test]
    fn backend_latencies_follow_their_distributions() {
        let n = 200_000u64;
        let draws = |b: Backend| (0..n).map(move |i| b.latency(i, (i % 3) as u32));
        assert!(draws(backend(Distribution::Fixed)).all(|d| d == Duration::from_micros(200)));
        let mean = draws(backend(Distribution::Exp))
            .map(|d| d.as_secs_f64())
            .sum::<f64>()
            / n as f64;
        assert!((mean - 200e-6).abs() < 4e-6, "{mean}");
        // Pareto with shape 2 and minimum 200 us: never below the minimum, and about
        // (0.2 / 5)^2 = 0.16% of the calls above 5 ms.
        let pareto = backend(Distribution::Pareto);
        assert!(draws(pareto).all(|d| d >= Duration::from_micros(200)));
        let over = draws(pareto)
            .filter(|d| *d > Duration::from_millis(5))
            .count() as f64
            / n as f64;
        assert!((over - 0.0016).abs() < 0.0003, "{over}");
        // The calls of one request are independent draws.
        assert_ne!(pareto.latency(7, 0), pareto.latency(7, 1));
    }

    fn record(start_ns: u64, done_ns: u64, reply: Reply) -> Option<Record> {
        Some(Record {
            sent_ns: start_ns,
            start_ns,
            done_ns,
            reply,
        })
    }

    #[test]
    fn the_check_catches_lost_wrong_and_impossible_replies() {
        let keys = KeySequence::zipf(100, 1.0);
        let expect = Expect {
            keys: &keys,
            backend: backend(Distribution::Pareto),
            timeout: Duration::from_millis(5),
        };
        let i = 42;
        let slowest = expect.backend.slowest(i).as_nanos() as u64;
        let right = Reply::Answered(expected_reply(&keys, i));
        assert!(expect.check(i, record(10, 10 + slowest, right)).is_ok());
        assert!(expect.check(i, None).is_err(), "a lost request passed");
        let wrong = Reply::Answered(expected_reply(&keys, i) ^ 1);
        assert!(expect.check(i, record(10, 10 + slowest, wrong)).is_err());
        // Another request's reply, or calls swapped, is wrong too.
        let other = Reply::Answered(expected_reply(&keys, i + 1));
        assert!(expect.check(i, record(10, 10 + slowest, other)).is_err());
        let swapped = reply_value(
            cache::value(keys.key(i)),
            [1, 0, 2].map(|c| backend_value(i, c)),
        );
        assert!(expect
            .check(i, record(10, 10 + slowest, Reply::Answered(swapped)))
            .is_err());
        // Faster than physics: an answer before its slowest call, a timeout before the
        // deadline.
        assert!(expect.check(i, record(10, 9 + slowest, right)).is_err());
        assert!(expect.check(i, record(0, 5_000_000, Reply::TimedOut)).is_ok());
        assert!(expect.check(i, record(0, 4_999_999, Reply::TimedOut)).is_err());
    }

    #[test]
    fn a_slot_holds_one_record_until_taken() {
        let slot = Slot::default();
        assert_eq!(slot.take(), None);
        slot.sent(1);
        slot.reply(2, 3, Reply::Answered(9));
        assert_eq!(slot.take(), record(2, 3, Reply::Answered(9)).map(|r| Record { sent_ns: 1, ..r }));
        assert_eq!(slot.take(), None);
        slot.reply(4, 5, Reply::TimedOut);
        assert_eq!(slot.take().map(|r| r.reply), Some(Reply::TimedOut));
    }
}
