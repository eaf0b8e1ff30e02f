//! The workload catalogue: one module per workload, each exporting its spec (`SPEC`), its
//! runtime-generic implementations, its invariant checks and `build`, which turns a case of
//! a non-native variant into a bench on any [`Runtime`].
//!
//! The registry below is the only list of workloads: adding one is its module, one line
//! here and its conformance test file. Native variants come from each runtime family's
//! native table (see [`crate::native`]), not from here.

use crate::runtime::Runtime;
use crate::spec::{BoxBench, BuildError, Case, WorkloadSpec};

/// Declares the workload modules and generates the catalogue and the generic build
/// dispatch from one list.
macro_rules! registry {
    (catalogue: [$($workload:ident),* $(,)?], test_only: [$($test:ident),* $(,)?] $(,)?) => {
        $(pub mod $workload;)*
        $(pub mod $test;)*

        static CATALOGUE: &[WorkloadSpec] = &[$($workload::SPEC),*];

        static TEST_WORKLOADS: &[WorkloadSpec] = &[$($test::SPEC),*];

        /// Builds a non-native variant. The case is assumed checked by
        /// [`crate::cell::build_bench`].
        pub(crate) fn build_generic<R: Runtime>(
            rt: &R,
            case: &Case,
        ) -> Result<BoxBench, BuildError> {
            $(if case.workload == $workload::SPEC.id {
                return $workload::build(rt, case);
            })*
            $(if case.workload == $test::SPEC.id {
                return $test::build(rt, case);
            })*
            Err(BuildError::UnknownWorkload(case.workload.clone()))
        }
    };
}

registry! {
    // In catalogue order: the harness's own `noop` first.
    catalogue: [
        noop,
        when_all,
        when_all_errors,
        when_any,
        timeout,
        interleave,
        throttle,
        retry,
        cache,
        producer_consumer,
        yield_loop,
        value_task,
        spawn,
        cancel,
        ping_pong,
        service,
    ],
    // Workloads that exist only to test the harness (see `fault`); not in the catalogue.
    test_only: [fault],
}

/// Every workload, in catalogue order (the harness's own `noop` first).
pub fn catalogue() -> &'static [WorkloadSpec] {
    CATALOGUE
}

/// Workloads that exist only to test the harness (see [`fault`]); not in the catalogue.
pub fn test_workloads() -> &'static [WorkloadSpec] {
    TEST_WORKLOADS
}

/// The workload named `id`, in the catalogue or among the test workloads.
pub fn find_workload(id: &str) -> Option<&'static WorkloadSpec> {
    CATALOGUE.iter().chain(TEST_WORKLOADS).find(|w| w.id == id)
}

/// A generous estimate of the heap one spawned task (or one pending leaf future) holds: its
/// header, its future, its join handle and its result slot. Used by the memory estimates.
pub const TASK_BYTES: u64 = 512;

/// The cartesian product of `variants` and the values of each named parameter.
pub(crate) fn grid(
    workload: &str,
    variants: &[&str],
    axes: &[(&str, &[crate::params::ParamValue])],
) -> Vec<Case> {
    let mut combos: Vec<crate::params::Params> = vec![crate::params::Params::default()];
    for (name, values) in axes {
        combos = combos
            .into_iter()
            .flat_map(|p| {
                values.iter().map(move |v| {
                    let mut p = p.clone();
                    p.0.insert(name.to_string(), v.clone());
                    p
                })
            })
            .collect();
    }
    variants
        .iter()
        .flat_map(|variant| {
            combos
                .iter()
                .map(move |p| Case::new(workload, variant, p.clone()))
        })
        .collect()
}
