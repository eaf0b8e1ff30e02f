//! The workload catalogue: one module per workload, each exporting its spec, its
//! implementations and its invariant checks.

pub mod fault;
pub mod noop;
pub mod producer_consumer;
pub mod spawn;
pub mod value_task;
pub mod when_all;

use crate::cell::BoxBench;
use crate::runtime::Runtime;
use crate::spec::{BuildError, Case, WorkloadSpec};

static CATALOGUE: [WorkloadSpec; 5] = [
    noop::SPEC,
    when_all::SPEC,
    producer_consumer::SPEC,
    value_task::SPEC,
    spawn::SPEC,
];

/// Every workload, in catalogue order (the harness's own `noop` first).
pub fn catalogue() -> &'static [WorkloadSpec] {
    &CATALOGUE
}

/// A generous estimate of the heap one spawned task (or one pending leaf future) holds: its
/// header, its future, its join handle and its result slot. Used by the memory estimates.
pub const TASK_BYTES: u64 = 512;

static TEST_WORKLOADS: [WorkloadSpec; 1] = [fault::SPEC];

/// Workloads that exist only to test the harness (see [`fault`]); not in the catalogue.
pub fn test_workloads() -> &'static [WorkloadSpec] {
    &TEST_WORKLOADS
}

/// The workload named `id`, in the catalogue or among the test workloads.
pub fn find_workload(id: &str) -> Option<&'static WorkloadSpec> {
    CATALOGUE.iter().chain(&TEST_WORKLOADS).find(|w| w.id == id)
}

/// Builds a non-native variant. The case is assumed checked by [`crate::cell::build_bench`].
pub(crate) fn build_generic<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    match case.workload.as_str() {
        "noop" => noop::build(case),
        "fault" => fault::build(case),
        "when_all" => when_all::build(rt, case),
        "producer_consumer" => producer_consumer::build(rt, case),
        "value_task" => value_task::build(rt, case),
        "spawn" => spawn::build(rt, case),
        other => Err(BuildError::UnknownWorkload(other.to_string())),
    }
}

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
