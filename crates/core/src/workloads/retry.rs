//! `retry` (RetryOnFault, RetryOnFaultWithDelay): an asynchronous operation that fails with
//! probability `p` on each try is retried up to `max_tries` times; when every try fails,
//! the last try's error is returned.
//!
//! One operation is one call of the combinator: all its tries, and with `delayed` the
//! runtime's sleep of `delay_ms` between them (`await retryWhen()` in the seed, a
//! `Task.Delay`). Each try suspends once (a yield) and then succeeds or fails as a fixed,
//! seeded sequence says, so every runtime makes exactly the same tries. The bench counts
//! the tries the operation really saw and folds every call's outcome into a digest; after
//! the clock stops both are compared with the sequence, so a combinator that tries once too
//! often or too few, or returns the first error instead of the last, fails the cell.

use std::future::Future;
use std::time::Duration;

use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::params::{ParamKind, ParamSpec, ParamValue, Params};
use crate::runtime::Runtime;
use crate::seeded::{digest_term, mix64, Chance, GOLDEN};
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// `p`: the probability that one try fails.
pub const PARAM_P: ParamSpec = ParamSpec {
    name: "p",
    doc: "probability that one try fails (a seeded sequence decides which)",
    kind: ParamKind::Float { min: 0.0, max: 1.0 },
};

/// `max_tries`: the most tries of one operation.
pub const PARAM_MAX_TRIES: ParamSpec = ParamSpec {
    name: "max_tries",
    doc: "tries of one operation before its last error is returned",
    kind: ParamKind::Int { min: 1, max: 1000 },
};

/// `delay_ms`: the sleep between two tries (`delayed`).
pub const PARAM_DELAY_MS: ParamSpec = ParamSpec {
    name: "delay_ms",
    doc: "sleep between two tries, milliseconds (delayed)",
    kind: ParamKind::Int { min: 0, max: 60_000 },
};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "retry",
    tap: "RetryOnFault, RetryOnFaultWithDelay",
    op_unit: "one operation, tried until it succeeds or has used max_tries",
    variants: &[
        VariantSpec {
            id: "immediate",
            doc: "retry at once (RetryOnFault)",
            native: false,
        },
        VariantSpec {
            id: "delayed",
            doc: "sleep delay_ms with the runtime's timer between tries (RetryOnFaultWithDelay)",
            native: false,
        },
    ],
    params: &[PARAM_P, PARAM_MAX_TRIES, PARAM_DELAY_MS],
    cases: || {
        let ps: Vec<ParamValue> = [0.0, 0.5, 0.9].into_iter().map(ParamValue::Float).collect();
        let tries = [ParamValue::Int(3)];
        let mut cases = super::grid(
            "retry",
            &["immediate"],
            &[("p", &ps), ("max_tries", &tries)],
        );
        cases.extend(super::grid(
            "retry",
            &["delayed"],
            &[
                ("p", &ps),
                ("max_tries", &tries),
                ("delay_ms", &[ParamValue::Int(1)]),
            ],
        ));
        cases
    },
    memory_bytes: |_| super::TASK_BYTES,
    normalize: |_| {},
    views: &[],
};

/// Which tries fail: try `t` of operation `i` fails when a hash of `(i, t)` falls below
/// `p` of the hash range, so the sequence is fixed (seeded) and the same on every runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailurePattern(Chance);

impl FailurePattern {
    /// The pattern for a failure probability `p` in `0..=1`.
    pub fn new(p: f64) -> Self {
        FailurePattern(Chance::new(p))
    }

    /// Whether try `t` of operation `i` fails.
    #[inline]
    pub fn fails(&self, i: u64, t: u32) -> bool {
        self.0.happens(mix(i, t))
    }

    /// What operation `i` must come to with `max_tries`: how many tries it takes, and its
    /// outcome (the value, or the last try's error).
    pub fn expected(&self, i: u64, max_tries: u32) -> (u32, Result<u64, TryFailed>) {
        let max_tries = max_tries.max(1);
        for t in 0..max_tries {
            if !self.fails(i, t) {
                return (t + 1, Ok(value(i)));
            }
        }
        (
            max_tries,
            Err(TryFailed {
                op: i,
                attempt: max_tries - 1,
            }),
        )
    }
}

/// The seeded sequence: `(i, t)` mixed by SplitMix64's finaliser.
#[inline]
fn mix(i: u64, t: u32) -> u64 {
    mix64(
        i.wrapping_mul(GOLDEN)
            .wrapping_add(u64::from(t).wrapping_mul(0xD1B5_4A32_D192_ED03))
            .wrapping_add(0x5EED),
    )
}

/// The value operation `i` returns when a try succeeds.
#[inline]
pub fn value(i: u64) -> u64 {
    i.wrapping_mul(3) ^ 0xA5A5
}

/// A failed try: which operation, which try (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryFailed {
    /// The operation.
    pub op: u64,
    /// The try, from 0.
    pub attempt: u32,
}

impl TryFailed {
    /// A number that tells this error apart from every value and every other error, for
    /// the digest of outcomes.
    fn code(self) -> u64 {
        mix(self.op ^ 0xFA11, self.attempt.wrapping_add(0x1000))
    }
}

/// One try of operation `i`: suspends once, then succeeds or fails as `pattern` says.
pub async fn attempt<R: Runtime>(
    rt: &R,
    pattern: FailurePattern,
    i: u64,
    t: u32,
) -> Result<u64, TryFailed> {
    rt.yield_now().await;
    if pattern.fails(i, t) {
        Err(TryFailed { op: i, attempt: t })
    } else {
        Ok(value(i))
    }
}

/// RetryOnFaultWithDelay: calls `function(t)` for tries `t = 0, 1, ...` until one succeeds
/// or `max_tries` have failed (at least one try is made), awaiting `retry_when()` between
/// two tries; returns the first success or the last try's error. RetryOnFault is this with
/// a `retry_when` that is ready at once.
pub async fn retry_on_fault<T, E, F, Fut, W, WFut>(
    mut function: F,
    max_tries: u32,
    mut retry_when: W,
) -> Result<T, E>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    W: FnMut() -> WFut,
    WFut: Future<Output = ()>,
{
    let mut t = 0;
    loop {
        match function(t).await {
            Ok(value) => return Ok(value),
            Err(error) if t + 1 >= max_tries => return Err(error),
            Err(_) => {}
        }
        retry_when().await;
        t += 1;
    }
}

/// The variant being measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Retry at once.
    Immediate,
    /// Sleep this long between tries.
    Delayed(Duration),
}

/// What a run of operations came to: the tries the operations saw, the operations that
/// returned an error, and a digest of every outcome (values and errors, position-weighted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcomes {
    /// Tries made, counted by the operation itself.
    pub tries: u64,
    /// Operations whose every try failed.
    pub failed: u64,
    /// Position-weighted sum of the outcomes.
    pub digest: u64,
}

impl Outcomes {
    fn add(&mut self, i: u64, outcome: Result<u64, TryFailed>) {
        let code = match outcome {
            Ok(value) => value,
            Err(error) => {
                self.failed += 1;
                error.code()
            }
        };
        self.digest = self
            .digest
            .wrapping_add(digest_term(i, code));
    }

    /// What operations `0..ops` must come to under `pattern` with `max_tries`.
    pub fn expected(pattern: FailurePattern, max_tries: u32, ops: u64) -> Outcomes {
        let mut out = Outcomes::default();
        for i in 0..ops {
            let (tries, outcome) = pattern.expected(i, max_tries);
            out.tries += u64::from(tries);
            out.add(i, outcome);
        }
        out
    }
}

/// Runs operations `0..ops` through the combinator of `variant`.
pub async fn run_ops<R: Runtime>(
    rt: &R,
    variant: Variant,
    pattern: FailurePattern,
    max_tries: u32,
    ops: u64,
) -> Outcomes {
    let mut out = Outcomes::default();
    for i in 0..ops {
        let mut tries = 0u64;
        let function = |t: u32| {
            tries += 1;
            attempt(rt, pattern, i, t)
        };
        let outcome = match variant {
            Variant::Immediate => {
                retry_on_fault(function, max_tries, || std::future::ready(())).await
            }
            Variant::Delayed(delay) => {
                retry_on_fault(function, max_tries, || rt.sleep(delay)).await
            }
        };
        out.tries += tries;
        out.add(i, outcome);
    }
    out
}

/// The measured form of one variant.
pub struct RetryBench<R> {
    rt: R,
    variant: Variant,
    pattern: FailurePattern,
    max_tries: u32,
    outcomes: Outcomes,
}

impl<R: Runtime> BatchRunner for RetryBench<R> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            self.outcomes =
                run_ops(&self.rt, self.variant, self.pattern, self.max_tries, iters).await;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        let want = Outcomes::expected(self.pattern, self.max_tries, iters);
        let got = self.outcomes;
        Violation::check_eq(
            "retry makes exactly the tries the failure sequence calls for",
            want.tries,
            got.tries,
        )?;
        Violation::check_eq(
            "retry returns an error only when every try failed",
            want.failed,
            got.failed,
        )?;
        Violation::check_eq(
            "retry returns each success, or the last try's error",
            want.digest,
            got.digest,
        )?;
        Ok(None)
    }
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    let params = &case.params;
    let variant = match case.variant.as_str() {
        "immediate" => Variant::Immediate,
        "delayed" => Variant::Delayed(Duration::from_millis(delay_ms(params)?)),
        other => return Err(BuildError::Unsupported(format!("retry/{other}"))),
    };
    Ok(Box::new(RetryBench {
        rt: rt.clone(),
        variant,
        pattern: FailurePattern::new(params.float("p")?),
        max_tries: u32::try_from(params.int("max_tries")?).unwrap_or(u32::MAX),
        outcomes: Outcomes::default(),
    }))
}

fn delay_ms(params: &Params) -> Result<u64, BuildError> {
    Ok(params.int("delay_ms")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failure_sequence_hits_its_probability() {
        for p in [0.0, 0.5, 0.9, 1.0] {
            let pattern = FailurePattern::new(p);
            let fails = (0..10_000).filter(|i| pattern.fails(*i, 0)).count() as f64 / 10_000.0;
            assert!((fails - p).abs() < 0.02, "p {p}: {fails}");
            // Tries of one operation are independent draws, not one draw repeated.
            let both = (0..10_000)
                .filter(|i| pattern.fails(*i, 0) && pattern.fails(*i, 1))
                .count() as f64
                / 10_000.0;
            assert!((both - p * p).abs() < 0.02, "p {p}: {both}");
        }
    }

    #[test]
    fn expected_outcomes_follow_the_sequence() {
        let pattern = FailurePattern::new(0.5);
        for i in 0..200 {
            let (tries, outcome) = pattern.expected(i, 3);
            match outcome {
                Ok(v) => {
                    assert_eq!(v, value(i));
                    assert!(!pattern.fails(i, tries - 1));
                    assert!((0..tries - 1).all(|t| pattern.fails(i, t)));
                }
                Err(e) => {
                    assert_eq!((tries, e), (3, TryFailed { op: i, attempt: 2 }));
                    assert!((0..3).all(|t| pattern.fails(i, t)));
                }
            }
        }
        // Everything fails at p = 1: every operation returns its last try's error.
        let all = Outcomes::expected(FailurePattern::new(1.0), 4, 10);
        assert_eq!((all.tries, all.failed), (40, 10));
        // The first error instead of the last changes the digest.
        let mut first = Outcomes::default();
        for i in 0..10 {
            first.add(i, Err(TryFailed { op: i, attempt: 0 }));
        }
        assert_ne!(first.digest, all.digest);
    }
}
