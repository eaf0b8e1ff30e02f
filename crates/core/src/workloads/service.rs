//! `service` (an open-loop composite of the TAP patterns): requests arrive on a schedule at
//! a fixed rate; a server handles each one on a task of its own: a cache lookup, then a
//! WhenAll of three backend calls raced against a timeout, then the reply.
//!
//! One operation is one request. One iteration is one schedule of `duration_ms`: `rate *
//! duration_ms / 1000` requests (at least one); a batch of `iters` iterations is one
//! schedule of `iters` times as many requests, back to back, request `i` due at a seeded
//! point of its own slot `[t0 + i / rate, t0 + (i + 1) / rate)` (`t0`: the batch's start;
//! see [`arrivals::intended_ns`]: one request per slot keeps the rate exact, the seeded
//! point keeps arrivals off any timer tick's grid).
//!
//! Each request is spawned as a task (its join handle kept in a vector reserved before the
//! clock and awaited at the end of the batch). The task:
//! - looks its key up in a `ready_fast_path` cache ([`ReadyCache`] of the `cache`
//!   workload) of [`KEYS`] keys, Zipf-skewed as `cache` draws them ([`KeySequence`],
//!   exponent [`SKEW`]), whose factory yields once and returns the key's value. The cache
//!   lives as long as the bench, across batches: after the first requests of a key, its
//!   lookups are hits (no allocation, ready at the first poll);
//! - calls three simulated backends at once (`futures::future::join3` of the runtime's
//!   sleeps, inline: WhenAll), each sleeping a seeded latency drawn from `backend`
//!   (`fixed`, `exp` or `pareto`, scale `backend_us`) and returning a seeded value, the
//!   WhenAll raced against the runtime's sleep of `timeout_ms` with
//!   `futures::future::select` (the `timeout` workload's `select_sleep`: the same code on
//!   every runtime);
//! - replies: the digest of its cached value and its three results, or "timed out".
//!
//! Variants:
//! - `open_loop`: requests arrive from outside the runtime, as a server's requests arrive
//!   from the network: a generator OS thread, started with the bench and joined when it is
//!   dropped ([`Arrivals`]), releases request `i` at its intended time (in its slot),
//!   computed from `t0`, never as a period since the previous release (it sleeps its
//!   thread in between, and a generator that wakes late releases everything already due
//!   at once). A release is a count and a waker ([`Released`]): it never makes the
//!   generator wait and allocates nothing. The measured task is the acceptor, inside the
//!   runtime: it takes `t0`, hands the schedule to the generator, spawns each request as
//!   it is released (its send time: when it was accepted), then awaits every request. A
//!   release wakes the acceptor from another thread, as a socket's readiness does.
//!   Latency is measured from each request's intended time to its reply
//!   (coordinated-omission safe): the runtime's own timer does not pace the arrivals, so
//!   its granularity is not counted, while a stalled runtime cannot accept, its released
//!   requests wait, and their latencies show the stall.
//! - `closed_loop`: the same requests sent by `clients` client tasks, client `c` sending
//!   requests `c, c + clients, ...`, each no earlier than its intended time, but only once
//!   the client's previous reply has arrived; latency is measured from the actual send, as
//!   most load generators do. The clients pace with the runtime's sleep, inside the
//!   runtime; a late wake-up does not enter the latency, which starts at the actual send.
//!   Behind a late reply the next request goes out late, at once, and its latency does not
//!   count the wait: the schedule slips, and a stall hides (coordinated omission). The
//!   cells show the two measurements side by side.
//!
//! `stall_ms` (0 in the catalogue's cases) makes call 0 of the middle request of every
//! schedule block its thread for that long (`std::thread::sleep`) before it sleeps: a
//! stalled runtime, for the coordinated-omission demonstration.
//!
//! Each request writes its send, start and reply times and its reply into its own slot
//! ([`Slot`], atomics in a vector allocated before the clock and reused while big enough):
//! a request takes no lock. After the clock, the check wants as many requests sent as the
//! batch has operations, and every slot written (a request neither answered nor timed out
//! is lost); each answer must be its key's value and its three calls' values (checked per
//! request), each answer must have taken at least its slowest call (start to reply) and each
//! timed-out request at least the timeout; the cache must have run each key's factory at
//! most once (single flight, across batches). The latencies of all replies, timed-out ones
//! included, then go into the cell's histogram, and the batch's load (requests, answered,
//! timed out, the span between the first and the last request's start) into
//! [`BatchRunner::load`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder, LoadBatch};

use crate::params::{ParamError, ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};
use crate::workloads::cache::{Factory, FactoryWait, KeySequence, ReadyCache, SEQUENCE_LEN};

pub mod arrivals;
pub mod request;

pub use arrivals::{Arrivals, Released, Schedule};

pub use request::{
    backend_value, expected_reply, reply_value, send, Backend, Batch, Distribution, Expect,
    Record, Reply, Responder, Server, Slot,
};

/// `rate`: requests per second.
pub const PARAM_RATE: ParamSpec = ParamSpec {
    name: "rate",
    doc: "requests per second of the schedule",
    kind: ParamKind::Int {
        min: 10,
        max: 10_000_000,
    },
};

/// `duration_ms`: the length of one schedule (one iteration).
pub const PARAM_DURATION_MS: ParamSpec = ParamSpec {
    name: "duration_ms",
    doc: "length of one schedule (one iteration), milliseconds",
    kind: ParamKind::Int {
        min: 1,
        max: 60_000,
    },
};

/// `backend`: the latency distribution of one backend call.
pub const PARAM_BACKEND: ParamSpec = ParamSpec {
    name: "backend",
    doc: "latency of one backend call: fixed (backend_us), exp (exponential, mean \
          backend_us), pareto (shape 2, minimum backend_us: a heavy tail)",
    kind: ParamKind::Choice(&["fixed", "exp", "pareto"]),
};

/// `backend_us`: the scale of the backend latency.
pub const PARAM_BACKEND_US: ParamSpec = ParamSpec {
    name: "backend_us",
    doc: "scale of the backend latency, microseconds",
    kind: ParamKind::Int {
        min: 0,
        max: 10_000_000,
    },
};

/// `timeout_ms`: the deadline of the WhenAll.
pub const PARAM_TIMEOUT_MS: ParamSpec = ParamSpec {
    name: "timeout_ms",
    doc: "deadline of each request's WhenAll of backend calls, milliseconds",
    kind: ParamKind::Int {
        min: 1,
        max: 60_000,
    },
};

/// `clients`: the client tasks of `closed_loop`.
pub const PARAM_CLIENTS: ParamSpec = ParamSpec {
    name: "clients",
    doc: "client tasks of closed_loop, each waiting for its reply before its next request \
          (open_loop ignores it)",
    kind: ParamKind::Int {
        min: 1,
        max: 100_000,
    },
};

/// `stall_ms`: how long one backend call per schedule blocks its thread.
pub const PARAM_STALL_MS: ParamSpec = ParamSpec {
    name: "stall_ms",
    doc: "call 0 of the middle request of each schedule blocks its thread this long \
          (a stalled runtime; 0: never)",
    kind: ParamKind::Int {
        min: 0,
        max: 60_000,
    },
};

/// Keys of the cache.
pub const KEYS: u64 = 1000;

/// Zipf exponent of the requests' keys.
pub const SKEW: f64 = 1.0;

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "service",
    tap: "a server: requests at a fixed rate, each a cache lookup and a WhenAll of three \
          backend calls under a timeout",
    op_unit: "one request: a spawned task doing a cache lookup, a WhenAll of three backend \
              sleeps raced against a timeout, and its reply",
    variants: &[
        VariantSpec {
            id: "open_loop",
            doc: "requests arrive from a generator thread outside the runtime, each at its \
                  intended time whatever happened before, and an acceptor task spawns them; \
                  latency from the intended time (coordinated-omission safe). Per request: \
                  its task and the runtime's four timers (3 backend calls, 1 timeout); its \
                  handle in a vector reserved before the clock; an arrival (a count and a \
                  waker shared with the generator) and a cache hit allocate nothing. About 2 \
                  allocations per request on tokio, 8 on the futures executors, 11-12 on \
                  smol, 22-23 on async-std (async-io timers)",
            native: false,
        },
        VariantSpec {
            id: "closed_loop",
            doc: "the same requests sent by `clients` client tasks, each waiting for its \
                  reply before its next request; latency from the actual send (what most \
                  load generators measure: a stall hides). Per request as open_loop, plus a \
                  pacing sleep of its client (the runtime's timer) for every request, and \
                  the clients' tasks once per batch: \
                  about 2 allocations per request on tokio, 9-10 on the futures executors, \
                  21-41 on smol and async-std",
            native: false,
        },
    ],
    params: &[
        PARAM_RATE,
        PARAM_DURATION_MS,
        PARAM_BACKEND,
        PARAM_BACKEND_US,
        PARAM_TIMEOUT_MS,
        PARAM_CLIENTS,
        PARAM_STALL_MS,
    ],
    cases: || {
        super::grid(
            "service",
            &["open_loop", "closed_loop"],
            &[
                ("rate", &[ParamValue::Int(2000)]),
                ("duration_ms", &[ParamValue::Int(200)]),
                ("backend", &[ParamValue::Text("pareto".into())]),
                ("backend_us", &[ParamValue::Int(200)]),
                ("timeout_ms", &[ParamValue::Int(5)]),
                ("clients", &[ParamValue::Int(64)]),
                ("stall_ms", &[ParamValue::Int(0)]),
            ],
        )
    },
    memory_bytes: |p| {
        let requests = ServiceConfig::from_params(p).map_or(0, |c| c.per_schedule());
        requests
            .saturating_mul(REQUEST_BYTES)
            .saturating_add(KEYS * KEY_BYTES + SEQUENCE_LEN as u64 * 4 + LATENCY_BYTES)
    },
    normalize: |_| {},
    views: &[],
};

/// A generous estimate of one request's heap: its slot, its handle and its task (with four
/// timers inline), all of which can be alive at once when the runtime falls behind.
const REQUEST_BYTES: u64 = 64 + 16 + 4 * super::TASK_BYTES;

/// A generous estimate of one cached key.
const KEY_BYTES: u64 = 128;

/// About what one [`LatencyRecorder`] holds (3 significant digits up to one minute).
const LATENCY_BYTES: u64 = 256 * 1024;

/// The parameters of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Requests per second.
    pub rate: u64,
    /// Length of one schedule.
    pub duration: Duration,
    /// The backend.
    pub backend: Backend,
    /// The deadline of each request's WhenAll.
    pub timeout: Duration,
    /// Client tasks of `closed_loop`.
    pub clients: u64,
    /// How long call 0 of each schedule's middle request blocks its thread.
    pub stall: Duration,
}

impl ServiceConfig {
    /// The configuration a case's parameters give.
    ///
    /// # Errors
    ///
    /// A missing or invalid parameter.
    pub fn from_params(params: &Params) -> Result<Self, ParamError> {
        let distribution = match params.text("backend")? {
            "fixed" => Distribution::Fixed,
            "exp" => Distribution::Exp,
            "pareto" => Distribution::Pareto,
            other => return Err(PARAM_BACKEND.parse(other).unwrap_err()),
        };
        Ok(ServiceConfig {
            rate: params.int("rate")?.max(1),
            duration: Duration::from_millis(params.int("duration_ms")?),
            backend: Backend {
                distribution,
                scale: Duration::from_micros(params.int("backend_us")?),
            },
            timeout: Duration::from_millis(params.int("timeout_ms")?),
            clients: params.int("clients")?.max(1),
            stall: Duration::from_millis(params.int("stall_ms")?),
        })
    }

    /// Requests of one schedule: `rate * duration`, at least one.
    pub fn per_schedule(&self) -> u64 {
        let n = u128::from(self.rate) * self.duration.as_millis() / 1000;
        u64::try_from(n).unwrap_or(u64::MAX).max(1)
    }

    /// Nanoseconds from the schedule's start to request `i`'s intended start.
    #[inline]
    pub fn intended_ns(&self, i: u64) -> u64 {
        arrivals::intended_ns(self.rate, i)
    }
}

/// How the requests are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Requests arrive from a generator thread outside the runtime, each at its intended
    /// time, and an acceptor task spawns them; latency from the intended time.
    OpenLoop,
    /// Client tasks, each waiting for its reply; latency from the actual send.
    ClosedLoop,
}

/// Waits until request `i`'s intended time (at once when it is due already), with the
/// runtime's sleep: the pacing of a closed-loop client.
async fn pace<R: Runtime>(rt: &R, config: &ServiceConfig, t0: Instant, i: u64) {
    let due = t0 + Duration::from_nanos(config.intended_ns(i));
    let now = Instant::now();
    if due > now {
        rt.sleep(due - now).await;
    }
}

/// The open loop's acceptor: hands the schedule of `total` requests from `t0` to the
/// generator thread, spawns each request as it is released into `released` (made before
/// the clock), its handle going into `handles` (empty, reserved), then awaits them all.
/// Returns the requests sent (fewer than `total` only when the releases stop early).
async fn open_loop<R: Runtime>(
    batch: &Arc<Batch<R>>,
    (arrivals, released): (&Arrivals, Arc<Released>),
    config: &ServiceConfig,
    (t0, total): (Instant, u64),
    handles: &mut Vec<R::JoinHandle<()>>,
) -> u64 {
    let rt = &batch.server.rt;
    arrivals.run(Schedule {
        t0,
        total,
        rate: config.rate,
        released: Arc::clone(&released),
    });
    let mut accepted = 0;
    while accepted < total {
        let Some(count) = released.more(accepted).await else {
            break;
        };
        // Everything released since the last wake-up, at once.
        for i in accepted..count.min(total) {
            if let Some(slot) = batch.slots.get(i as usize) {
                slot.sent(request::since(t0));
            }
            handles.push(rt.spawn(request::request(Arc::clone(batch), i, t0)));
        }
        accepted = count;
    }
    let sent = handles.len() as u64;
    for handle in handles.drain(..) {
        handle.await;
    }
    sent
}

/// Client `c` of `clients`: sends requests `c, c + clients, ...` below `total`, each no
/// earlier than its intended time and only after the previous one's reply. Returns the
/// requests it sent.
async fn client<R: Runtime>(
    batch: Arc<Batch<R>>,
    config: ServiceConfig,
    (c, clients): (u64, u64),
    total: u64,
    t0: Instant,
) -> u64 {
    let rt = batch.server.rt.clone();
    let mut sent = 0;
    let mut i = c;
    while i < total {
        pace(&rt, &config, t0, i).await;
        if let Some(slot) = batch.slots.get(i as usize) {
            slot.sent(request::since(t0));
        }
        rt.spawn(request::request(Arc::clone(&batch), i, t0)).await;
        sent += 1;
        i += clients;
    }
    sent
}

/// The closed loop: `config.clients` client tasks (at most one per request), whose
/// handles go into `handles` (empty, reserved); returns the requests they sent.
async fn closed_loop<R: Runtime>(
    batch: &Arc<Batch<R>>,
    config: &ServiceConfig,
    total: u64,
    t0: Instant,
    handles: &mut Vec<R::JoinHandle<u64>>,
) -> u64 {
    let clients = config.clients.clamp(1, total.max(1));
    for c in 0..clients {
        let client = client(Arc::clone(batch), *config, (c, clients), total, t0);
        handles.push(batch.server.rt.spawn(client));
    }
    let mut sent = 0;
    for handle in handles.drain(..) {
        sent += handle.await;
    }
    sent
}

/// The measured form of one variant.
pub struct ServiceBench<R: Runtime> {
    variant: Variant,
    config: ServiceConfig,
    batch: Arc<Batch<R>>,
    /// The open loop's generator thread (started with the bench, joined when it drops).
    arrivals: Option<Arrivals>,
    requests: Vec<R::JoinHandle<()>>,
    clients: Vec<R::JoinHandle<u64>>,
    sent: u64,
    latency: LatencyRecorder,
    shortest: Option<Duration>,
    load: Option<LoadBatch>,
}

impl<R: Runtime> ServiceBench<R> {
    /// The bench of `variant` with `config`, its cache empty, sending replies as they are.
    pub fn new(rt: &R, variant: Variant, config: ServiceConfig) -> Self {
        Self::with_responder(rt, variant, config, send)
    }

    /// [`ServiceBench::new`], sending replies as `respond` says (tests use faulty
    /// responders).
    pub fn with_responder(
        rt: &R,
        variant: Variant,
        config: ServiceConfig,
        respond: Responder,
    ) -> Self {
        let server = Server {
            rt: rt.clone(),
            cache: ReadyCache::with_capacity(KEYS as usize),
            factory: Factory::new(rt, FactoryWait::Yield, KEYS),
            keys: KeySequence::zipf(KEYS, SKEW),
            backend: config.backend,
            timeout: config.timeout,
            stall: config.stall,
            per_schedule: config.per_schedule(),
            respond,
        };
        ServiceBench {
            variant,
            config,
            batch: Arc::new(Batch {
                server: Arc::new(server),
                slots: Box::default(),
            }),
            arrivals: (variant == Variant::OpenLoop).then(Arrivals::start),
            requests: Vec::new(),
            clients: Vec::new(),
            sent: 0,
            latency: LatencyRecorder::new(),
            shortest: None,
            load: None,
        }
    }

    /// The shortest latency the last checked batch recorded.
    pub fn shortest_latency(&self) -> Option<Duration> {
        self.shortest
    }

    /// Gives every request of a batch of `total` a slot (a new, larger vector only when the
    /// last one is too small: the requests of an earlier batch may still hold the old one),
    /// and for the open loop returns where the batch's arrivals will be released.
    fn make_room(&mut self, total: u64) -> Option<Arc<Released>> {
        let total = usize::try_from(total).unwrap_or(usize::MAX);
        if self.batch.slots.len() < total {
            self.batch = Arc::new(Batch {
                server: Arc::clone(&self.batch.server),
                slots: (0..total).map(|_| Slot::default()).collect(),
            });
        }
        match self.variant {
            Variant::OpenLoop => {
                self.requests.reserve(total);
                Some(Arc::default())
            }
            Variant::ClosedLoop => {
                self.clients.reserve(self.config.clients as usize);
                None
            }
        }
    }
}

impl<R: Runtime> BatchRunner for ServiceBench<R> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        self.config.per_schedule()
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        let total = iters.saturating_mul(self.config.per_schedule());
        // Slots, the handles' vector and the arrivals' count are made ready here, when the
        // batch's future is created, before the clock.
        let released = self.make_room(total);
        Box::pin(async move {
            let t0 = Instant::now();
            self.sent = match self.variant {
                // The generator and the count are there for every open-loop batch; were they
                // not, nothing is sent and the check says so.
                Variant::OpenLoop => match self.arrivals.as_ref().zip(released) {
                    Some(arrivals) => {
                        let (batch, config) = (&self.batch, &self.config);
                        open_loop(batch, arrivals, config, (t0, total), &mut self.requests).await
                    }
                    None => 0,
                },
                Variant::ClosedLoop => {
                    closed_loop(&self.batch, &self.config, total, t0, &mut self.clients).await
                }
            };
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        let total = iters.saturating_mul(self.config.per_schedule());
        self.latency.reset();
        self.shortest = None;
        let server = &self.batch.server;
        let expect = Expect {
            keys: &server.keys,
            backend: server.backend,
            timeout: server.timeout,
        };
        // Every slot of the batch is read (and emptied) before a violation is returned.
        let mut first_violation = None;
        let (mut answered, mut timed_out) = (0u64, 0u64);
        let (mut first_start, mut last_start) = (u64::MAX, 0u64);
        for i in 0..total {
            let record = self.batch.slots.get(i as usize).and_then(Slot::take);
            let record = match expect.check(i, record) {
                Ok(record) => record,
                Err(violation) => {
                    first_violation.get_or_insert(violation);
                    continue;
                }
            };
            match record.reply {
                Reply::Answered(_) => answered += 1,
                Reply::TimedOut => timed_out += 1,
            }
            first_start = first_start.min(record.start_ns);
            last_start = last_start.max(record.start_ns);
            let from = match self.variant {
                Variant::OpenLoop => self.config.intended_ns(i),
                Variant::ClosedLoop => record.sent_ns,
            };
            let latency_ns = record.done_ns.saturating_sub(from);
            self.latency.record_ns(latency_ns);
            let latency = Duration::from_nanos(latency_ns);
            self.shortest = Some(self.shortest.map_or(latency, |s| s.min(latency)));
        }
        Violation::check_eq(
            "as many requests are sent as the batch has operations",
            total,
            self.sent,
        )?;
        if let Some(violation) = first_violation {
            return Err(violation);
        }
        let runs = (0..KEYS).map(|k| server.factory.runs(k));
        if let Some((key, runs)) = runs.enumerate().find(|(_, r)| *r > 1) {
            return Err(Violation::new(
                "the cache runs each key's factory at most once (single flight, kept across \
                 batches)",
                format!("key {key}: at most 1 run"),
                runs,
            ));
        }
        self.load = Some(LoadBatch {
            open_loop: self.variant == Variant::OpenLoop,
            offered_per_s: self.config.rate as f64,
            requests: total,
            answered,
            timed_out,
            started_span_ns: last_start.saturating_sub(first_start),
        });
        Ok(Some(self.latency.clone()))
    }

    fn load(&mut self) -> Option<LoadBatch> {
        self.load.take()
    }
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    let variant = match case.variant.as_str() {
        "open_loop" => Variant::OpenLoop,
        "closed_loop" => Variant::ClosedLoop,
        other => return Err(BuildError::Unsupported(format!("service/{other}"))),
    };
    let config = ServiceConfig::from_params(&case.params)?;
    Ok(Box::new(ServiceBench::new(rt, variant, config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_has_both_variants_and_each_schedule_its_requests() {
        let cases = (SPEC.cases)();
        assert_eq!(cases.len(), 2);
        for case in &cases {
            assert_eq!(SPEC.check_params(&case.params), Ok(()));
            let config = ServiceConfig::from_params(&case.params).unwrap();
            assert_eq!(config.per_schedule(), 400);
            // Request 3's slot at 2000 per second: 1.5 ms to 2 ms.
            assert!((1_500_000..2_000_000).contains(&config.intended_ns(3)));
            assert!((SPEC.memory_bytes)(&case.params) > 400 * 64);
        }
        let mut tiny = cases[0].params.clone();
        tiny.0.insert("rate".into(), ParamValue::Int(10));
        tiny.0.insert("duration_ms".into(), ParamValue::Int(1));
        assert_eq!(ServiceConfig::from_params(&tiny).unwrap().per_schedule(), 1);
    }
}
