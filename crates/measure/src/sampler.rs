//! The sampling loop: warm up, calibrate the iterations per sample, then take a fixed number
//! of timed samples, counting allocations over every thread and merging latency recorders.
//!
//! [`sample`] is an `async fn` and never blocks: spawn it as a task on the runtime under test
//! so that the timed loop runs on a worker, not behind a cross-thread `block_on`.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::alloc::{self, AllocSnapshot};
use crate::latency::LatencyRecorder;
use crate::load::{LoadBatch, LoadTally};
use crate::probe::Probe;

/// The future of one batch of iterations.
pub type BatchFuture<'a, E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'a>>;

/// A workload prepared for measurement: runs batches of iterations and checks their answers.
///
/// The future returned by [`run_batch`](BatchRunner::run_batch) is created before the clock
/// starts, so its boxing is not timed; [`check_batch`](BatchRunner::check_batch) runs after
/// the clock stops, so verification is not timed either.
pub trait BatchRunner: Send {
    /// Why a batch's answer was wrong.
    type Error;

    /// Operations performed by one iteration (for example the items of one round).
    fn ops_per_iter(&self) -> u64;

    /// Runs `iters` iterations, keeping whatever [`check_batch`](Self::check_batch) needs.
    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Self::Error>;

    /// Verifies the batch just run and hands back the latencies it recorded, if any.
    ///
    /// # Errors
    ///
    /// Returns the workload's error when the batch's answer violates an invariant.
    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Self::Error>;

    /// A one-off, untimed check of invariants that timed batches cannot observe (for
    /// example that a bounded queue refuses to hold more than its capacity). [`sample`] runs
    /// it once before warm-up. The default checks nothing.
    fn verify_once(&mut self) -> BatchFuture<'_, Self::Error> {
        Box::pin(async { Ok(()) })
    }

    /// The load the batch just run offered and achieved, for workloads that issue
    /// requests on a schedule (see [`LoadBatch`]); [`sample`] calls it after
    /// [`check_batch`](Self::check_batch) of every sampled batch and adds the answers up
    /// into [`Measurement::load`]. The default: not a request-driven workload.
    fn load(&mut self) -> Option<LoadBatch> {
        None
    }
}

impl<B: BatchRunner + ?Sized> BatchRunner for Box<B> {
    type Error = B::Error;
    fn ops_per_iter(&self) -> u64 {
        (**self).ops_per_iter()
    }
    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Self::Error> {
        (**self).run_batch(iters)
    }
    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Self::Error> {
        (**self).check_batch(iters)
    }
    fn verify_once(&mut self) -> BatchFuture<'_, Self::Error> {
        (**self).verify_once()
    }
    fn load(&mut self) -> Option<LoadBatch> {
        (**self).load()
    }
}

/// How long to warm up and how to size and count samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingPlan {
    /// Time spent running (and checking) batches before sampling.
    pub warmup: Duration,
    /// Target duration of one sample; the iterations per sample are calibrated to reach it.
    pub sample_target: Duration,
    /// Number of timed samples.
    pub samples: usize,
    /// Sampling stops early, after at least `min_samples`, once the samples have taken
    /// longer than this in total (so a cell whose single operation takes seconds does not
    /// take minutes). `None`: always take `samples`.
    pub max_sampling_time: Option<Duration>,
    /// The fewest samples taken, whatever `max_sampling_time` says.
    pub min_samples: usize,
    /// Extra cost added to every operation on purpose, to calibrate a performance gate.
    pub inject: Injection,
}

/// A known regression, added to every timed batch: `delay_ns_per_op` nanoseconds of busy
/// spinning and `allocs_per_op` heap allocations for each operation of the batch, inside
/// the timed region. It exists so a user can prove what size of regression a gate catches.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Injection {
    /// Nanoseconds of busy spinning per operation; fractions are kept, since the spin
    /// covers a whole batch (0.2 ns per operation of a 5,000-operation batch is 1 us).
    pub delay_ns_per_op: f64,
    /// Heap allocations per operation.
    pub allocs_per_op: u64,
}

impl Injection {
    /// Whether nothing is injected.
    pub fn is_none(&self) -> bool {
        self.delay_ns_per_op <= 0.0 && self.allocs_per_op == 0
    }

    /// Adds the injected cost of `ops` operations: allocations first, then the spin.
    pub fn apply(&self, ops: u64) {
        for i in 0..ops.saturating_mul(self.allocs_per_op) {
            drop(std::hint::black_box(Box::new(i)));
        }
        let spin = Duration::from_nanos((ops as f64 * self.delay_ns_per_op).round() as u64);
        let start = Instant::now();
        while start.elapsed() < spin {
            std::hint::spin_loop();
        }
    }
}

impl SamplingPlan {
    /// A plan taking exactly `samples` samples of about `sample_target` after `warmup`.
    pub fn fixed(warmup: Duration, sample_target: Duration, samples: usize) -> Self {
        SamplingPlan {
            warmup,
            sample_target,
            samples,
            max_sampling_time: None,
            min_samples: samples,
            inject: Injection::default(),
        }
    }
}

/// Everything measured for one cell.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Iterations per sample after calibration (the first sample runs twice as many).
    pub iters_per_sample: u64,
    /// Operations per sample (`iters_per_sample * ops_per_iter`; the first sample runs
    /// twice as many).
    pub ops_per_sample: u64,
    /// Nanoseconds per operation, one value per sample, in the order taken.
    pub sample_ns_per_op: Vec<f64>,
    /// Allocations per operation over all samples and all threads (`None` when the counting
    /// allocator is not installed).
    pub allocs_per_op: Option<f64>,
    /// Bytes allocated per operation over all samples and all threads.
    pub bytes_per_op: Option<f64>,
    /// Allocations per operation of each sample, in the order taken (empty when the counting
    /// allocator is not installed): equal values mean the workload allocates
    /// deterministically.
    pub sample_allocs_per_op: Vec<f64>,
    /// Allocations that one more operation adds: the first sample runs twice the
    /// iterations of the others, and this is the difference of its count and the others'
    /// mean, divided by the difference in operations. Unlike [`allocs_per_op`]
    /// (an average, which spreads allocations made once per batch over however many
    /// operations calibration chose) it does not depend on the batch size. `None` without
    /// the counting allocator or with fewer than two samples.
    ///
    /// [`allocs_per_op`]: Measurement::allocs_per_op
    pub marginal_allocs_per_op: Option<f64>,
    /// Nanoseconds of one run of the machine-speed [`Probe`], timed just before each
    /// sample, in the order taken: how fast the machine ran while the samples were taken.
    pub probe_ns: Vec<f64>,
    /// Latencies recorded during the samples (warm-up excluded), merged.
    pub latency: Option<LatencyRecorder>,
    /// The load offered and achieved over the samples (warm-up excluded), for workloads
    /// that issue requests on a schedule.
    pub load: Option<LoadTally>,
    /// Iterations run during warm-up and calibration.
    pub warmup_iters: u64,
    /// Batches whose answers were checked (warm-up and samples).
    pub batches_checked: u64,
}

/// The process's turn gate (see [`set_turn_gate`]).
static TURN_GATE: OnceLock<Box<dyn Fn() + Send + Sync>> = OnceLock::new();

/// Installs `wait` as this process's turn gate: [`sample`] calls it before its warm-up and
/// before every sample and runs that phase when it returns. Two processes measuring in
/// lock-step - the baseline's build and this build, each in a process of its own - block
/// in it until their parent gives them the turn, so that they take their samples
/// alternately, one running while the other waits, and every sample of one has a
/// neighbour of the other taken a few milliseconds away. Returns `false` (and installs
/// nothing) when a gate was installed before.
pub fn set_turn_gate(wait: impl Fn() + Send + Sync + 'static) -> bool {
    TURN_GATE.set(Box::new(wait)).is_ok()
}

/// Waits for this process's turn, when a turn gate is installed.
fn wait_turn() {
    if let Some(wait) = TURN_GATE.get() {
        wait();
    }
}

/// Upper bound on the iterations of one sample, whatever the calibration says.
const MAX_ITERS_PER_SAMPLE: u64 = 1 << 40;

/// Runs `plan` against `runner`.
///
/// Warm-up runs batches of 1, 2, 4, ... iterations until `plan.warmup` has passed (at least
/// one batch); the last, largest batch gives the time per iteration used to size samples so
/// that each lasts about `plan.sample_target`. Every batch, warm-up included, is checked.
///
/// # Errors
///
/// The first error returned by [`BatchRunner::check_batch`] or by a batch itself.
pub async fn sample<B: BatchRunner + ?Sized>(
    plan: &SamplingPlan,
    runner: &mut B,
) -> Result<Measurement, B::Error> {
    let ops_per_iter = runner.ops_per_iter().max(1);
    let counting = alloc::is_counting();
    wait_turn();
    runner.verify_once().await?;
    let mut batches_checked = 0;

    // Warm-up and calibration.
    let warmup_start = Instant::now();
    let mut iters = 1u64;
    let mut warmup_iters = 0u64;
    let per_iter_ns = loop {
        let (elapsed, _) = timed_batch(runner, iters, plan.inject).await?;
        runner.check_batch(iters)?;
        // A warm-up batch's load is not the cell's, like its latencies.
        let _ = runner.load();
        batches_checked += 1;
        warmup_iters += iters;
        let per_iter = elapsed.as_nanos() as f64 / iters as f64;
        // Stop once warm-up time is spent and the batch was long enough to calibrate from
        // (a tenth of a sample), or when one more doubling would overshoot a sample.
        let spent = warmup_start.elapsed() >= plan.warmup;
        let long_enough = elapsed * 10 >= plan.sample_target || iters >= MAX_ITERS_PER_SAMPLE;
        if spent && long_enough {
            break per_iter;
        }
        if elapsed >= plan.sample_target {
            // Already a full sample per batch; keep iterating at this size until warm.
            if spent {
                break per_iter;
            }
            continue;
        }
        iters = (iters * 2).min(MAX_ITERS_PER_SAMPLE);
    };

    let target_ns = plan.sample_target.as_nanos() as f64;
    let iters_per_sample = if per_iter_ns <= 0.0 {
        MAX_ITERS_PER_SAMPLE
    } else {
        ((target_ns / per_iter_ns).ceil() as u64).clamp(1, MAX_ITERS_PER_SAMPLE)
    };
    let ops_per_sample = iters_per_sample.saturating_mul(ops_per_iter);

    let mut sample_ns_per_op = Vec::with_capacity(plan.samples);
    let mut sample_allocs_per_op = Vec::with_capacity(plan.samples);
    let mut probe = Probe::new();
    let mut probe_ns = Vec::with_capacity(plan.samples);
    // Allocations of the first (double) sample and of the others, for the marginal count.
    let mut first_allocs = 0u64;
    let mut allocs = AllocSnapshot::default();
    let mut total_ops = 0u64;
    let mut latency: Option<LatencyRecorder> = None;
    let mut load: Option<LoadTally> = None;
    let sampling_start = Instant::now();
    for taken in 0..plan.samples.max(1) {
        let over_budget = plan
            .max_sampling_time
            .is_some_and(|max| sampling_start.elapsed() >= max);
        if taken >= plan.min_samples.max(1) && over_budget {
            break;
        }
        wait_turn();
        probe_ns.push(probe.run_ns());
        // The first sample runs twice the iterations: the allocations of two batch sizes
        // give the marginal count.
        let iters = if taken == 0 {
            iters_per_sample.saturating_mul(2)
        } else {
            iters_per_sample
        };
        let ops = iters.saturating_mul(ops_per_iter);
        let (elapsed, batch_allocs) = timed_batch(runner, iters, plan.inject).await?;
        let recorded = runner.check_batch(iters)?;
        batches_checked += 1;
        if let Some(batch) = runner.load() {
            match load.as_mut() {
                Some(total) => total.add(&batch),
                None => load = Some(LoadTally::of(&batch)),
            }
        }
        sample_ns_per_op.push(elapsed.as_nanos() as f64 / ops as f64);
        if counting {
            sample_allocs_per_op.push(batch_allocs.allocs as f64 / ops as f64);
        }
        if taken == 0 {
            first_allocs = batch_allocs.allocs;
        }
        total_ops = total_ops.saturating_add(ops);
        allocs.allocs += batch_allocs.allocs;
        allocs.bytes += batch_allocs.bytes;
        if let Some(recorded) = recorded {
            match latency.as_mut() {
                Some(total) => total.merge(&recorded),
                None => latency = Some(recorded),
            }
        }
    }
    let others = sample_ns_per_op.len().saturating_sub(1) as f64;
    let marginal_allocs_per_op = (counting && others > 0.0).then(|| {
        let others_mean = (allocs.allocs - first_allocs) as f64 / others;
        (first_allocs as f64 - others_mean) / ops_per_sample as f64
    });
    let total_ops = total_ops as f64;
    Ok(Measurement {
        iters_per_sample,
        ops_per_sample,
        sample_ns_per_op,
        allocs_per_op: counting.then(|| allocs.allocs as f64 / total_ops),
        bytes_per_op: counting.then(|| allocs.bytes as f64 / total_ops),
        sample_allocs_per_op,
        marginal_allocs_per_op,
        probe_ns,
        latency,
        load,
        warmup_iters,
        batches_checked,
    })
}

/// Runs one batch: the future is built first, then the clock and allocation counters
/// bracket only its execution.
async fn timed_batch<B: BatchRunner + ?Sized>(
    runner: &mut B,
    iters: u64,
    inject: Injection,
) -> Result<(Duration, AllocSnapshot), B::Error> {
    let ops = iters.saturating_mul(runner.ops_per_iter().max(1));
    let batch = runner.run_batch(iters);
    let allocs_before = alloc::snapshot();
    let start = Instant::now();
    let outcome = batch.await;
    if !inject.is_none() {
        inject.apply(ops);
    }
    let elapsed = start.elapsed();
    let allocs = alloc::snapshot().since(allocs_before);
    outcome?;
    Ok((elapsed, allocs))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Spin {
        checked: u64,
        fail_at: Option<u64>,
    }

    impl BatchRunner for Spin {
        type Error = String;
        fn ops_per_iter(&self) -> u64 {
            4
        }
        fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, String> {
            Box::pin(async move {
                let mut x = 0u64;
                for i in 0..iters * 4 {
                    x = std::hint::black_box(x.wrapping_add(i));
                }
                std::hint::black_box(x);
                Ok(())
            })
        }
        fn check_batch(&mut self, _iters: u64) -> Result<Option<LatencyRecorder>, String> {
            self.checked += 1;
            if Some(self.checked) == self.fail_at {
                return Err(format!("wrong answer in batch {}", self.checked));
            }
            let mut r = LatencyRecorder::new();
            r.record_ns(100);
            Ok(Some(r))
        }
    }

    #[test]
    fn an_injected_delay_adds_its_time_per_operation() {
        let plan = SamplingPlan {
            inject: Injection {
                delay_ns_per_op: 2_000.0,
                allocs_per_op: 0,
            },
            ..plan()
        };
        let mut spin = Spin {
            checked: 0,
            fail_at: None,
        };
        let m = futures_lite::future::block_on(sample(&plan, &mut spin)).unwrap();
        // The spin alone guarantees at least the injected time per operation.
        assert!(
            m.sample_ns_per_op.iter().all(|ns| *ns >= 2_000.0),
            "{:?}",
            m.sample_ns_per_op
        );
    }

    fn plan() -> SamplingPlan {
        SamplingPlan::fixed(Duration::from_millis(2), Duration::from_millis(1), 5)
    }

    #[test]
    fn takes_the_planned_samples_and_checks_every_batch() {
        let mut spin = Spin {
            checked: 0,
            fail_at: None,
        };
        let m = futures_lite::future::block_on(sample(&plan(), &mut spin)).unwrap();
        assert_eq!(m.sample_ns_per_op.len(), 5);
        assert_eq!(m.ops_per_sample, m.iters_per_sample * 4);
        assert!(
            m.iters_per_sample > 1,
            "calibration should grow past one iteration"
        );
        assert_eq!(m.batches_checked, spin.checked);
        // Latency comes from the five samples only, not from warm-up.
        assert_eq!(m.latency.unwrap().count(), 5);
        // No counting allocator in this test binary.
        assert_eq!(m.allocs_per_op, None);
    }

    #[test]
    fn a_sampling_budget_stops_long_cells_after_the_minimum() {
        let mut spin = Spin {
            checked: 0,
            fail_at: None,
        };
        let plan = SamplingPlan {
            max_sampling_time: Some(Duration::ZERO),
            min_samples: 3,
            ..plan()
        };
        let m = futures_lite::future::block_on(sample(&plan, &mut spin)).unwrap();
        assert_eq!(m.sample_ns_per_op.len(), 3);
    }

    #[test]
    fn a_failed_check_ends_the_measurement() {
        let mut spin = Spin {
            checked: 0,
            fail_at: Some(1),
        };
        let err = futures_lite::future::block_on(sample(&plan(), &mut spin)).unwrap_err();
        assert_eq!(err, "wrong answer in batch 1");
    }

    /// Issues `iters` requests per batch, one of every batch timing out.
    struct Requests {
        last: Option<LoadBatch>,
    }

    impl BatchRunner for Requests {
        type Error = String;
        fn ops_per_iter(&self) -> u64 {
            1
        }
        fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, String> {
            Box::pin(async move {
                std::thread::sleep(Duration::from_micros(20 * iters));
                self.last = Some(LoadBatch {
                    open_loop: true,
                    offered_per_s: 50_000.0,
                    requests: iters,
                    answered: iters - 1,
                    timed_out: 1,
                    started_span_ns: 20_000 * (iters - 1),
                });
                Ok(())
            })
        }
        fn check_batch(&mut self, _iters: u64) -> Result<Option<LatencyRecorder>, String> {
            Ok(None)
        }
        fn load(&mut self) -> Option<LoadBatch> {
            self.last.take()
        }
    }

    #[test]
    fn the_load_of_sampled_batches_is_added_up_and_warm_up_left_out() {
        let mut requests = Requests { last: None };
        let m = futures_lite::future::block_on(sample(&plan(), &mut requests)).unwrap();
        let load = m.load.expect("a request-driven workload reports its load");
        // Five samples, the first of twice the iterations.
        assert_eq!(load.requests, 6 * m.iters_per_sample);
        assert_eq!(load.timed_out, 5);
        assert_eq!(load.answered, load.requests - 5);
        assert_eq!(load.achieved_per_s(), Some(50_000.0));
        assert!(load.open_loop);
    }
}
