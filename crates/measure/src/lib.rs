//! The tapbench measurement engine: a runtime-agnostic sampling loop, a counting global
//! allocator whose counts cover every thread, HDR latency recording and statistics.
//!
//! Nothing here touches files or prints; nothing here depends on an async runtime. The
//! sampling loop is an `async fn` so that it runs *inside* whatever runtime drives it.
//!
//! ```
//! use std::time::Duration;
//! use tapbench_measure::{sample, BatchFuture, BatchRunner, LatencyRecorder, SamplingPlan};
//!
//! /// Sums `0..iters`; the check recomputes the sum the closed-form way.
//! struct Sum(u64);
//!
//! impl BatchRunner for Sum {
//!     type Error = String;
//!     fn ops_per_iter(&self) -> u64 {
//!         1
//!     }
//!     fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, String> {
//!         Box::pin(async move {
//!             self.0 = (0..iters).map(std::hint::black_box).sum();
//!             Ok(())
//!         })
//!     }
//!     fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, String> {
//!         let expected = iters * iters.saturating_sub(1) / 2;
//!         if self.0 == expected { Ok(None) } else { Err(format!("sum {} != {expected}", self.0)) }
//!     }
//! }
//!
//! let plan = SamplingPlan::fixed(Duration::from_millis(5), Duration::from_millis(1), 3);
//! let m = futures_lite::future::block_on(sample(&plan, &mut Sum(0))).unwrap();
//! assert_eq!(m.sample_ns_per_op.len(), 3);
//! ```

pub mod alloc;
pub mod latency;
pub mod load;
pub mod probe;
pub mod sampler;
pub mod stats;

pub use alloc::{AllocSnapshot, CountingAlloc};
pub use latency::{LatencyCodecError, LatencyRecorder, LatencySummary};
pub use load::{LoadBatch, LoadTally};
pub use sampler::{
    sample, set_turn_gate, BatchFuture, BatchRunner, Injection, Measurement, SamplingPlan,
};
pub use stats::{Summary, TimeStats};
