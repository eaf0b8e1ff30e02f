//! Measuring catalogue cases on every configuration through the real path: the runtime
//! crate's `build` (native variants included), then [`tapbench_core::measure_on`] with a
//! tiny [`SamplingPlan`].

use std::time::Duration;

use tapbench_core::{catalogue, measure_on, Case, CellError, Host, ParamValue};
use tapbench_measure::{Measurement, SamplingPlan};

use crate::config::{RtConfig, SmolLocal, SmolMt, TokioCt, TokioMt};

/// A plan that checks answers rather than measuring well: 1 ms of warm-up, then exactly two
/// samples of about 1 ms. Every batch is still verified.
pub fn tiny_plan() -> SamplingPlan {
    SamplingPlan::fixed(Duration::from_millis(1), Duration::from_millis(1), 2)
}

/// Upper bounds applied by [`capped_grid`] to integer parameters, so that the default grid
/// stays fast in a debug build: `(parameter, largest value kept)`.
pub const PARAM_CAPS: [(&str, u64); 4] =
    [("n", 1000), ("items", 1000), ("work", 1000), ("depth", 10)];

/// Builds the bench for `case` on a fresh runtime of configuration `C` with the runtime
/// crate's `build`, and measures it inside the runtime with `plan`.
///
/// # Errors
///
/// [`CellError::Build`] when the case cannot be built on `C` (for a native variant the
/// runtime lacks, [`tapbench_core::BuildError::Unsupported`] with the reason the cell is
/// skipped), and [`CellError::Violation`] when a batch's answer broke an invariant.
pub fn measure_case<C: RtConfig>(
    case: &Case,
    plan: SamplingPlan,
) -> Result<Measurement, CellError> {
    measure_case_on::<C>(&C::host(), case, plan)
}

/// [`measure_case`] on an existing runtime of configuration `C`.
///
/// # Errors
///
/// As [`measure_case`].
pub fn measure_case_on<C: RtConfig>(
    host: &C::Host,
    case: &Case,
    plan: SamplingPlan,
) -> Result<Measurement, CellError> {
    let bench = C::build(&host.runtime(), case)?;
    Ok(measure_on(host, bench, plan)?)
}

/// One configuration's outcome for a case.
#[derive(Debug)]
pub struct ConfigOutcome {
    /// The configuration id.
    pub runtime: &'static str,
    /// What [`measure_case`] returned.
    pub outcome: Result<Measurement, CellError>,
}

/// [`measure_case`] on every configuration, in the order `tokio-mt`, `tokio-ct`, `smol-mt`,
/// `smol-local`.
pub fn measure_everywhere(case: &Case, plan: SamplingPlan) -> Vec<ConfigOutcome> {
    fn one<C: RtConfig>(case: &Case, plan: SamplingPlan) -> ConfigOutcome {
        ConfigOutcome {
            runtime: C::ID,
            outcome: measure_case::<C>(case, plan),
        }
    }
    vec![
        one::<TokioMt>(case, plan),
        one::<TokioCt>(case, plan),
        one::<SmolMt>(case, plan),
        one::<SmolLocal>(case, plan),
    ]
}

/// The default grid of every workload of the catalogue, with integer parameters capped by
/// [`PARAM_CAPS`] and the duplicates that capping creates removed (first occurrence kept).
pub fn capped_grid() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for spec in catalogue() {
        for mut case in (spec.cases)() {
            for (name, cap) in PARAM_CAPS {
                if let Some(ParamValue::Int(value)) = case.params.0.get_mut(name) {
                    *value = (*value).min(cap);
                }
            }
            if !cases.contains(&case) {
                cases.push(case);
            }
        }
    }
    cases
}
