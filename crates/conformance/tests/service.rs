//! `service` (open-loop requests: a cache lookup and a WhenAll of three backend calls under
//! a timeout) on every configuration, both variants: every request is answered or timed
//! out, with its right value, no sooner than physics allows; a lost request, a wrong reply
//! or a missing send is caught by the same check the bench runs; timeouts fire when the
//! backend is slower than the deadline and only then; and a stalled runtime raises the
//! open loop's tail far above what the closed loop reports (coordinated omission).

use std::time::{Duration, Instant};

use tapbench_conformance::{rt_test, run_case};
use tapbench_core::workloads::service::{
    Backend, Distribution, Reply, ServiceBench, ServiceConfig, Variant,
};
use tapbench_core::{Case, ParamValue, Params, Runtime};
use tapbench_measure::{BatchRunner, LatencySummary, LoadBatch};

const VARIANTS: [Variant; 2] = [Variant::OpenLoop, Variant::ClosedLoop];

/// Small parameters: 2000 requests per second for 50 ms, 100 requests per schedule.
fn config(distribution: Distribution, backend_us: u64, timeout_ms: u64) -> ServiceConfig {
    ServiceConfig {
        rate: 2000,
        duration: Duration::from_millis(50),
        backend: Backend {
            distribution,
            scale: Duration::from_micros(backend_us),
        },
        timeout: Duration::from_millis(timeout_ms),
        clients: 16,
        stall: Duration::ZERO,
    }
}

/// What one checked batch of `iters` schedules came to: its latencies, its load and its
/// shortest latency.
struct Checked {
    latency: LatencySummary,
    load: LoadBatch,
    shortest: Duration,
}

/// Runs `iters` schedules of `bench` and checks them, panicking on a violation.
async fn checked<R: Runtime>(bench: &mut ServiceBench<R>, iters: u64) -> Checked {
    bench.run_batch(iters).await.expect("a batch runs");
    let recorded = bench
        .check_batch(iters)
        .unwrap_or_else(|v| panic!("violation: {v}"))
        .expect("the bench records latencies");
    Checked {
        latency: recorded.summary().expect("latencies recorded"),
        load: bench.load().expect("the bench reports its load"),
        shortest: bench.shortest_latency().expect("a shortest latency"),
    }
}

/// Drops the reply of request 7 (lost).
fn loses_7(i: u64, reply: Reply) -> Option<Reply> {
    (i != 7).then_some(reply)
}

/// Answers request 7 with a wrong value.
fn corrupts_7(i: u64, reply: Reply) -> Option<Reply> {
    Some(match reply {
        Reply::Answered(v) if i == 7 => Reply::Answered(v ^ 1),
        other => other,
    })
}

/// The catalogue case of `variant` with these parameters.
fn case(variant: &str, pairs: &[(&str, ParamValue)]) -> Case {
    let mut params = Params::from_pairs([
        ("rate", ParamValue::Int(2000)),
        ("duration_ms", ParamValue::Int(50)),
        ("backend", ParamValue::Text("pareto".into())),
        ("backend_us", ParamValue::Int(200)),
        ("timeout_ms", ParamValue::Int(5)),
        ("clients", ParamValue::Int(64)),
        ("stall_ms", ParamValue::Int(0)),
    ]);
    for (name, value) in pairs {
        params.0.insert(name.to_string(), value.clone());
    }
    Case::new("service", variant, params)
}

/// The coordinated-omission schedule: 1000 requests per second for 500 ms, a fixed 200 us
/// backend, a 50 ms timeout, 64 clients; `stall` blocks the thread of the middle request's
/// first backend call.
fn stalled(stall_ms: u64) -> ServiceConfig {
    ServiceConfig {
        rate: 1000,
        duration: Duration::from_millis(500),
        backend: Backend {
            distribution: Distribution::Fixed,
            scale: Duration::from_micros(200),
        },
        timeout: Duration::from_millis(50),
        clients: 64,
        stall: Duration::from_millis(stall_ms),
    }
}

/// One schedule of each variant with `stall_ms`: the open loop's and the closed loop's
/// latencies.
async fn latencies<R: Runtime>(rt: &R, stall_ms: u64) -> [LatencySummary; 2] {
    let mut out = Vec::new();
    for variant in VARIANTS {
        let c = checked(&mut ServiceBench::new(rt, variant, stalled(stall_ms)), 1).await;
        assert_eq!(c.load.requests, 500);
        out.push(c.latency);
    }
    [out[0], out[1]]
}

rt_test! {
    /// Every request of two schedules is answered or timed out with its right value, no
    /// sooner than its backend or deadline allows (the bench's check), with both variants;
    /// one latency is recorded per request, and the load adds up.
    async fn every_request_is_answered_or_timed_out(rt) {
        for variant in VARIANTS {
            for distribution in [Distribution::Fixed, Distribution::Exp, Distribution::Pareto] {
                let mut bench = ServiceBench::new(&rt, variant, config(distribution, 200, 5));
                let c = checked(&mut bench, 2).await;
                assert_eq!(c.latency.count, 200, "{variant:?}");
                assert_eq!(c.load.requests, 200);
                assert_eq!(c.load.answered + c.load.timed_out, 200);
                assert_eq!(c.load.lost(), 0);
                assert_eq!(c.load.open_loop, variant == Variant::OpenLoop);
                // 200 requests started over about 100 ms (a lower bound only).
                assert!(c.load.started_span_ns >= 90_000_000, "{:?}", c.load);
                // The cache persists: a second batch is checked the same way.
                checked(&mut bench, 1).await;
            }
        }
    }

    /// The catalogue's cases, capped to 50 ms schedules, pass their check through the
    /// bench built from parameters.
    async fn the_bench_runs_both_variants(rt) {
        for variant in ["open_loop", "closed_loop"] {
            run_case(&rt, &case(variant, &[]), 1).await.expect(variant);
        }
    }

    /// A request whose reply never comes, a wrong reply, and a batch with fewer requests
    /// sent than its operations all fail the check.
    async fn lost_wrong_and_missing_requests_are_caught(rt) {
        for variant in VARIANTS {
            let cfg = config(Distribution::Pareto, 200, 5);
            let mut lost = ServiceBench::with_responder(&rt, variant, cfg, loses_7);
            lost.run_batch(1).await.expect("a batch runs");
            let violation = lost.check_batch(1).expect_err("a lost request passed");
            assert!(violation.what.contains("none lost"), "{violation}");
            assert!(violation.expected.contains("request 7"), "{violation}");
            // The bench goes on: the next batch's slots are clean.
            let mut wrong = ServiceBench::with_responder(&rt, variant, cfg, corrupts_7);
            wrong.run_batch(1).await.expect("a batch runs");
            let violation = wrong.check_batch(1).expect_err("a wrong reply passed");
            assert!(violation.what.contains("answer"), "{violation}");
            // One schedule sent, two checked: requests are missing.
            let mut short = ServiceBench::new(&rt, variant, cfg);
            short.run_batch(1).await.expect("a batch runs");
            assert!(short.check_batch(2).is_err(), "a missing schedule passed");
        }
    }

    /// A backend slower than the deadline times every request out, each no sooner than
    /// the deadline; a backend far faster than it times none out.
    async fn timeouts_fire_when_the_backend_is_too_slow(rt) {
        for variant in VARIANTS {
            let slow = config(Distribution::Fixed, 20_000, 5);
            let c = checked(&mut ServiceBench::new(&rt, variant, slow), 1).await;
            assert_eq!((c.load.timed_out, c.load.answered), (100, 0), "{variant:?}");
            assert!(c.shortest >= Duration::from_millis(5), "{:?}", c.shortest);
            let fast = config(Distribution::Fixed, 100, 2000);
            let c = checked(&mut ServiceBench::new(&rt, variant, fast), 1).await;
            assert_eq!((c.load.timed_out, c.load.answered), (0, 100), "{variant:?}");
            assert!(c.shortest >= Duration::from_micros(100), "{:?}", c.shortest);
        }
    }

    /// The open loop's generator thread lives as long as its bench: dropping the bench
    /// joins it, idle after a batch or in the middle of one (a batch abandoned after 20 ms
    /// of a 10 s schedule), promptly (a generator that did not stop would hang the drop).
    async fn dropping_the_bench_stops_its_generator(rt) {
        let cfg = config(Distribution::Fixed, 200, 5);
        let mut idle = ServiceBench::new(&rt, Variant::OpenLoop, cfg);
        checked(&mut idle, 1).await;
        let start = Instant::now();
        drop(idle);
        assert!(start.elapsed() < Duration::from_secs(1), "{:?}", start.elapsed());
        let mut busy = ServiceBench::new(&rt, Variant::OpenLoop, cfg);
        {
            let batch = busy.run_batch(200);
            let cut = rt.sleep(Duration::from_millis(20));
            futures::pin_mut!(cut);
            let abandoned = futures::future::select(batch, cut).await;
            assert!(matches!(abandoned, futures::future::Either::Right(_)));
        }
        let start = Instant::now();
        drop(busy);
        assert!(start.elapsed() < Duration::from_secs(1), "{:?}", start.elapsed());
    }

    /// Coordinated omission: one backend call that blocks its thread for 100 ms raises
    /// the open loop's p99 above 50 ms, while the closed loop, whose clients wait behind
    /// the stall and then send late without counting the wait, reports less than a third
    /// of it.
    ///
    /// That holds on the single-threaded configurations (tokio-ct, smol-local,
    /// futures-local), where the stall stops the acceptor, or the clients, with
    /// everything else: the ~100 requests the generator thread releases during the stall
    /// (a fifth of the schedule) are accepted up to 100 ms late, and the open loop counts
    /// the delay (p99 95.7-97.4 ms in three runs of each), the closed loop does not
    /// (0.4-2.4 ms). On the multi-threaded ones (tokio-mt, async-std, smol-mt,
    /// futures-pool, 2 workers here) the stalled worker's peer keeps running the acceptor
    /// or the clients and the other requests, so only the stalled request, and the few
    /// queued behind it on its worker, are late: both p99s stay at a few milliseconds
    /// (0.5-5 ms in three runs of each), and the comparison is not asserted there. On
    /// every configuration the stalled request itself replies no sooner than the stall, in
    /// both variants.
    ///
    /// Without the stall both p99s are a few milliseconds or less in the same runs (0.5-2.3
    /// ms open, 0.3-3.4 ms closed): no upper bound is asserted, since a loaded machine can
    /// deschedule the generator thread or the acceptor for longer.
    async fn a_stall_shows_in_the_open_loop_tail_only(rt) {
        let [open, closed] = latencies(&rt, 100).await;
        for summary in [open, closed] {
            assert!(summary.max_ns >= 100_000_000, "the stall was not seen: {summary:?}");
        }
        if rt.threads() == 1 {
            let (open, closed) = (open.p99_ns, closed.p99_ns);
            assert!(open > 50_000_000, "open-loop p99 {open} ns");
            assert!(closed < open / 3, "closed-loop p99 {closed} ns, open-loop {open} ns");
        }
    }
}
