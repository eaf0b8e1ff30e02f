//! From a case to a measurement: build the bench for a runtime (native variants from the
//! runtime family's table, the rest from the workload registry), then sample it inside the
//! runtime.

use tapbench_measure::{sample, Measurement, SamplingPlan};

use crate::native::{self, NativeImpl};
use crate::params::Params;
use crate::runtime::{Config, Host, Runtime};
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};
use crate::workloads;

/// Builds the bench for `case` on `rt`: a native variant from the runtime family's native
/// table, any other variant from the workload's own (runtime-generic) code.
///
/// # Errors
///
/// Unknown workload or variant, invalid parameters, or [`BuildError::Unsupported`] (with
/// the family's reason) for a native variant the family has no idiom for.
pub fn build_bench<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    let (spec, variant) = check_case(case)?;
    if variant.native {
        build_native(rt, spec.id, variant.id, &case.params)
    } else {
        workloads::build_generic(rt, case)
    }
}

/// Builds the native variant `workload/variant` on `rt` from its family's table: the
/// family's reason when it declares the variant missing, a generic reason when its table
/// does not mention it.
fn build_native<R: Runtime>(
    rt: &R,
    workload: &str,
    variant: &str,
    params: &Params,
) -> Result<BoxBench, BuildError> {
    match native::find(R::natives(), workload, variant).map(|n| &n.imp) {
        Some(NativeImpl::Built { build, .. }) => build(rt, params),
        Some(NativeImpl::Missing { reason }) => Err(BuildError::Unsupported((*reason).into())),
        None => Err(BuildError::Unsupported(format!(
            "{} declares no native implementation of {workload}/{variant}",
            rt.id()
        ))),
    }
}

/// Looks up the workload and variant of `case` and checks its parameters.
///
/// # Errors
///
/// Unknown workload or variant, or an unknown or invalid parameter.
pub fn check_case(
    case: &Case,
) -> Result<(&'static WorkloadSpec, &'static VariantSpec), BuildError> {
    let spec = workloads::find_workload(&case.workload)
        .ok_or_else(|| BuildError::UnknownWorkload(case.workload.clone()))?;
    let variant = spec
        .variant(&case.variant)
        .ok_or_else(|| BuildError::UnknownVariant {
            workload: spec.id.to_string(),
            variant: case.variant.clone(),
            known: spec
                .variants
                .iter()
                .map(|v| v.id)
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    spec.check_params(&case.params)?;
    Ok((spec, variant))
}

/// Why a cell produced no measurement.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CellError {
    /// The case could not be built on this runtime (bad input or unsupported).
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The workload's answer was wrong.
    #[error("invariant violated: {0}")]
    Violation(#[from] Violation),
    /// The runtime itself could not be started.
    #[error("runtime could not start: {0}")]
    Runtime(String),
}

/// Measures `bench` on `host`: the sampling loop is spawned as a task, so it runs on a
/// runtime worker, and the calling thread only waits for its result.
///
/// The task is spawned from inside [`Host::block_on`], because single-threaded runtimes
/// (`smol-local`) can only spawn there.
///
/// # Errors
///
/// The first invariant violation seen by any checked batch.
pub fn measure_on<H: Host>(
    host: &H,
    bench: BoxBench,
    plan: SamplingPlan,
) -> Result<Measurement, Violation> {
    let rt = host.runtime();
    host.block_on(async move {
        let task = rt.spawn(async move {
            let mut bench = bench;
            sample(&plan, &mut bench).await
        });
        task.await
    })
}

/// Runs one cell on configuration `C`: builds the runtime with `threads` workers (untimed),
/// builds the bench, and measures it inside the runtime.
///
/// # Errors
///
/// A runtime that cannot start, a case that cannot be built, or a violated invariant.
pub fn run_cell<C: Config>(
    threads: usize,
    case: &Case,
    plan: SamplingPlan,
) -> Result<Measurement, CellError> {
    let host = C::host(threads).map_err(CellError::Runtime)?;
    let bench = build_bench(&host.runtime(), case)?;
    Ok(measure_on(&host, bench, plan)?)
}
