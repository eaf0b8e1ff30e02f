//! tapbench workloads: the .NET Task-based Asynchronous Pattern re-created as Rust async
//! code, written once against the [`Runtime`] trait and checked against its invariants.
//!
//! This crate depends on no async runtime. Runtime families implement [`Runtime`],
//! [`Host`] and one [`Config`] per configuration in crates of their own, and declare the
//! variants that only they can express in a native table ([`native`]).
//!
//! ```
//! use tapbench_core::{catalogue, find_workload};
//!
//! let when_all = find_workload("when_all").unwrap();
//! assert!(when_all.variant("join_all").is_some());
//! assert!(catalogue().iter().any(|w| w.id == "value_task"));
//! ```

pub mod cell;
pub mod drop_tally;
pub mod entry;
pub mod native;
pub mod params;
pub mod runtime;
pub mod seeded;
pub mod spec;
pub mod workloads;

pub use cell::{build_bench, check_case, measure_on, run_cell, CellError};
pub use entry::RuntimeEntry;
pub use native::{Native, NativeInfo};
pub use params::{ParamError, ParamKind, ParamSpec, ParamValue, Params};
pub use runtime::{Config, ConfigVisitor, Host, RtOf, Runtime, RuntimeInfo};
pub use spec::{
    Beside, BoxBench, BuildError, Case, PivotView, VariantSpec, View, Violation, WorkloadSpec,
};
pub use workloads::{catalogue, find_workload};
