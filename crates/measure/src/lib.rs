//! The tapbench measurement engine: a runtime-agnostic sampling loop, a counting global
//! allocator whose counts cover every thread, HDR latency recording and statistics.
//!
//! Nothing here touches files or prints; nothing here depends on an async runtime. The
//! sampling loop is an `async fn` so that it runs *inside* whatever runtime drives it.
//!
//! ```
//! use tapbench_measure::{sample, BatchRunner, SamplingPlan};
//! use std::time::Duration;
//!
//! struct Sum(u64);
//! impl BatchRunner for Sum {
//!     type Output = u64;
//!     type Error = std::convert::Infallible;
//!     fn ops_per_iter(&self) -> u64 { 1 }
//!     async fn run_batch(&mut self, iters: u64) -> Result<u64, Self::Error> {
//!         Ok((0..iters).map(std::hint::black_box).sum())
//!     }
//!     fn check_batch(&mut self, iters: u64, out: u64) -> Result<Option<tapbench_measure::LatencyRecorder>, Self::Error> {
//!         assert_eq!(out, iters * (iters.saturating_sub(1)) / 2);
//!         Ok(None)
//!     }
//! }
//!
//! let plan = SamplingPlan { warmup: Duration::from_millis(5), sample_target: Duration::from_millis(1), samples: 3 };
//! let m = futures_lite::future::block_on(sample(&plan, &mut Sum(0))).unwrap();
//! assert_eq!(m.sample_ns_per_op.len(), 3);
//! ```

pub mod alloc;
pub mod latency;
pub mod sampler;
pub mod stats;

pub use alloc::{AllocSnapshot, CountingAlloc};
pub use latency::{LatencyRecorder, LatencySummary};
pub use sampler::{sample, BatchFuture, BatchRunner, Measurement, SamplingPlan};
pub use stats::{Summary, TimeStats};
