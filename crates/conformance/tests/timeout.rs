//! `timeout` (WhenAny with Task.Delay) on every configuration: a fast operation returns its
//! value, a slow one returns "timed out" no sooner than its deadline and is dropped
//! unfinished, with the generic `select_sleep` and with the family's own timeout
//! (`runtime_timeout`, skipped on the futures executors, which have none). A timeout that
//! keeps its abandoned operation, or fires before the deadline, is caught by the same check
//! the bench runs.

use std::future::Future;
use std::pin::pin;
use std::time::{Duration, Instant};

use futures::future::{select, Either};
use tapbench_conformance::{rt_test, run_case};
use tapbench_core::native::{self, NativeImpl};
use tapbench_core::workloads::timeout::{
    run_ops, OpCounters, OpKind, Outcomes, Race, SelectSleep, TimedOut, Timeout,
};
use tapbench_core::{BuildError, Case, CellError, ParamValue, Params, RtOf, Runtime};
use tapbench_measure::LatencyRecorder;

/// The longest wait for drops in the tests of correct timeouts.
const SECOND: Duration = Duration::from_secs(1);

/// The deadline of slow operations.
const DEADLINE: Duration = Duration::from_millis(1);

/// The deadline of fast operations: far above the stalls of a loaded machine's scheduler
/// (a thread descheduled between arming the timer and the operation's next poll would see
/// a short deadline pass).
const FAST_DEADLINE: Duration = Duration::from_secs(1);

fn deadline(kind: OpKind) -> Duration {
    match kind {
        OpKind::Fast => FAST_DEADLINE,
        OpKind::Slow => DEADLINE,
    }
}

/// A race of `kind` against its deadline, waiting at most `drop_wait` for drops.
fn race(kind: OpKind, drop_wait: Duration) -> Race {
    Race {
        kind,
        deadline: deadline(kind),
        drop_wait,
    }
}

fn case(variant: &str, kind: OpKind) -> Case {
    let op = match kind {
        OpKind::Fast => "fast",
        OpKind::Slow => "slow",
    };
    Case::new(
        "timeout",
        variant,
        Params::from_pairs([
            ("op", ParamValue::Text(op.into())),
            (
                "deadline_us",
                ParamValue::Int(deadline(kind).as_micros() as u64),
            ),
        ]),
    )
}

/// A timeout that never drops the operation it abandons (it leaks it).
struct Leaky;

impl<R: Runtime> Timeout<R> for Leaky {
    fn timeout<F>(
        &self,
        rt: &R,
        deadline: Duration,
        op: F,
    ) -> impl Future<Output = Result<F::Output, TimedOut>> + Send
    where
        F: Future + Send,
        F::Output: Send,
    {
        let sleep = rt.sleep(deadline);
        async move {
            let mut op = Box::pin(op);
            match select(op.as_mut(), pin!(sleep)).await {
                Either::Left((output, _)) => Ok(output),
                Either::Right(((), _)) => {
                    std::mem::forget(op);
                    Err(TimedOut)
                }
            }
        }
    }
}

/// A timeout that does not wait for its deadline: it gives up at the first yield.
struct Impatient;

impl<R: Runtime> Timeout<R> for Impatient {
    fn timeout<F>(
        &self,
        rt: &R,
        _deadline: Duration,
        op: F,
    ) -> impl Future<Output = Result<F::Output, TimedOut>> + Send
    where
        F: Future + Send,
        F::Output: Send,
    {
        let give_up = rt.yield_now();
        async move {
            match select(pin!(op), pin!(give_up)).await {
                Either::Left((output, _)) => Ok(output),
                Either::Right(((), _)) => Err(TimedOut),
            }
        }
    }
}

/// Runs `ops` operations of `kind` through `imp`, with their deadline and `drop_wait`;
/// returns the outcomes and the lateness histogram.
async fn race_ops<R: Runtime, T: Timeout<R>>(
    rt: &R,
    imp: &T,
    kind: OpKind,
    ops: u64,
    drop_wait: Duration,
) -> (Outcomes, LatencyRecorder) {
    let (counters, mut lateness) = (OpCounters::default(), LatencyRecorder::new());
    let out = run_ops(
        rt,
        imp,
        race(kind, drop_wait),
        ops,
        &counters,
        &mut lateness,
    )
    .await;
    (out, lateness)
}

/// What `rt`'s family declares for `timeout/runtime_timeout`: built or missing.
fn runtime_timeout_built<R: Runtime>() -> Option<bool> {
    native::find(R::natives(), "timeout", "runtime_timeout")
        .map(|n| matches!(n.imp, NativeImpl::Built { .. }))
}

rt_test! {
    async fn fast_operations_return_their_values(rt) {
        let ops = 300;
        let (out, lateness) = race_ops(&rt, &SelectSleep, OpKind::Fast, ops, SECOND).await;
        assert_eq!(out, Outcomes::expected(OpKind::Fast, ops));
        assert_eq!(out.check(OpKind::Fast, ops), Ok(()));
        assert_eq!(lateness.count(), 0, "fast operations record no lateness");
    }

    /// Every slow operation times out, none before its deadline (so the run lasts at least
    /// the deadlines, a lower bound only), its lateness is recorded, and the operation is
    /// dropped unfinished.
    async fn slow_operations_time_out_after_the_deadline_and_are_dropped(rt) {
        let ops = 30;
        let started = Instant::now();
        let (out, lateness) = race_ops(&rt, &SelectSleep, OpKind::Slow, ops, SECOND).await;
        let elapsed = started.elapsed();
        assert_eq!(out, Outcomes::expected(OpKind::Slow, ops));
        assert_eq!((out.timed_out, out.early, out.dropped_unfinished), (ops, 0, ops));
        assert!(elapsed >= DEADLINE * ops as u32, "{elapsed:?} for {ops} deadlines");
        assert_eq!(lateness.count(), ops);
    }

    /// The family's own timeout, through the bench and its check: fast and slow pass,
    /// and slow calls really wait for their deadlines. Skipped where the family declares
    /// it missing (the futures executors).
    async fn the_runtime_timeout_passes_the_check(rt) {
        let declared = runtime_timeout_built::<RtOf<Cfg>>();
        for op in [OpKind::Fast, OpKind::Slow] {
            let started = Instant::now();
            let outcome = run_case(&rt, &case("runtime_timeout", op), 20).await;
            match (declared, outcome) {
                (Some(true), Ok(())) => {}
                (Some(false), Err(CellError::Build(BuildError::Unsupported(why)))) => {
                    assert!(why.contains("no timeout combinator"), "{why}");
                    return;
                }
                (declared, outcome) => {
                    panic!("{} {op:?}: declared {declared:?}, {outcome:?}", Cfg::INFO.id)
                }
            }
            if op == OpKind::Slow {
                assert!(started.elapsed() >= DEADLINE * 20, "{:?}", started.elapsed());
            }
        }
        for op in [OpKind::Fast, OpKind::Slow] {
            run_case(&rt, &case("select_sleep", op), 20).await.expect("select_sleep passes");
        }
    }

    /// A timeout that keeps (here: leaks) the operation it abandoned fails the check.
    async fn a_timeout_that_drops_nothing_is_caught(rt) {
        let ops = 5;
        let (out, _) = race_ops(&rt, &Leaky, OpKind::Slow, ops, Duration::from_millis(20)).await;
        assert_eq!((out.timed_out, out.dropped_unfinished), (ops, 0));
        let violation = out.check(OpKind::Slow, ops).expect_err("a leak is caught");
        assert!(violation.what.contains("dropped"), "{violation}");
    }

    /// A timeout that fires before its deadline fails the check.
    async fn a_timeout_that_fires_early_is_caught(rt) {
        let ops = 5;
        let (out, _) = race_ops(&rt, &Impatient, OpKind::Slow, ops, SECOND).await;
        assert_eq!((out.timed_out, out.early), (ops, ops));
        let violation = out.check(OpKind::Slow, ops).expect_err("early firing is caught");
        assert!(violation.what.contains("before its deadline"), "{violation}");
    }
}
