//! `ping_pong` (the TaskCompletionSource round trip) on every configuration, with both
//! exchanges: `n` round trips are answered in order, one latency recorded per round trip;
//! a ponger that answers out of order or stops answering is caught by the same check the
//! bench runs; and the ponger is a task of its own (it answers while the pinger is not
//! polling it).

use std::time::{Duration, Instant};

use futures::FutureExt;
use tapbench_conformance::{rt_test, run_case};
use tapbench_core::workloads::ping_pong::{
    answer, echo, run_round_trips, start, BoundedPair, Exchange, Oneshot, Outcomes, Side,
};
use tapbench_core::{Case, Params, Runtime};
use tapbench_measure::LatencyRecorder;

const ROUND_TRIPS: u64 = 500;

/// Answers each pair of requests in swapped order (1 to request 0, 0 to request 1, ...).
fn swapped(seq: u64) -> Option<u64> {
    Some(echo(seq ^ 1))
}

/// Stops answering at request 5.
fn stops_at_5(seq: u64) -> Option<u64> {
    (seq != 5).then(|| echo(seq))
}

async fn correct_round_trips<R: Runtime, X: Exchange>(rt: &R, exchange: &X) {
    let mut latency = LatencyRecorder::new();
    let out = run_round_trips(rt, exchange, answer, ROUND_TRIPS, &mut latency).await;
    assert_eq!(out, Outcomes::expected(ROUND_TRIPS));
    assert_eq!(out.check(ROUND_TRIPS), Ok(()));
    assert_eq!(latency.count(), ROUND_TRIPS);
}

async fn faults_are_caught<R: Runtime, X: Exchange>(rt: &R, exchange: &X) {
    let mut latency = LatencyRecorder::new();
    let out = run_round_trips(rt, exchange, swapped, ROUND_TRIPS, &mut latency).await;
    assert_eq!((out.replies, out.served), (ROUND_TRIPS, ROUND_TRIPS));
    assert!(out.check(ROUND_TRIPS).is_err(), "reordered answers passed");
    let out = run_round_trips(rt, exchange, stops_at_5, ROUND_TRIPS, &mut latency).await;
    assert_eq!((out.replies, out.served), (5, 5));
    assert!(out.check(ROUND_TRIPS).is_err(), "missing answers passed");
}

/// Sends one request, then leaves the answer alone, only sleeping, until it has arrived:
/// a ponger run inside the pinger's own future would never answer.
async fn the_ponger_answers_on_its_own<R: Runtime, X: Exchange>(rt: &R, exchange: &X) {
    let (mut ping, ponger) = start(rt, exchange, answer);
    ping.send(0).await.expect("the ponger is there");
    let limit = Instant::now() + Duration::from_secs(5);
    let answered = loop {
        rt.sleep(Duration::from_millis(1)).await;
        if let Some(value) = ping.recv().now_or_never() {
            break value;
        }
        assert!(Instant::now() < limit, "no answer while the pinger slept");
    };
    assert_eq!(answered, Some(echo(0)));
    drop(ping);
    assert_eq!(ponger.await, 1);
}

rt_test! {
    /// n round trips, each answer matching its request in order, with both exchanges.
    async fn round_trips_are_answered_in_order(rt) {
        correct_round_trips(&rt, &Oneshot).await;
        correct_round_trips(&rt, &BoundedPair).await;
    }

    /// Answers out of order, or missing, fail the check.
    async fn reordered_and_missing_answers_are_caught(rt) {
        faults_are_caught(&rt, &Oneshot).await;
        faults_are_caught(&rt, &BoundedPair).await;
    }

    /// The ponger is a spawned task: it answers while the pinger is asleep.
    async fn the_ponger_is_a_task_of_its_own(rt) {
        the_ponger_answers_on_its_own(&rt, &Oneshot).await;
        the_ponger_answers_on_its_own(&rt, &BoundedPair).await;
    }

    /// The catalogue's cases run and pass their check through the bench.
    async fn the_bench_runs_both_variants(rt) {
        for variant in ["oneshot", "channel"] {
            let case = Case::new("ping_pong", variant, Params::default());
            run_case(&rt, &case, 200).await.expect(variant);
        }
    }
}
