//! Measuring catalogue cases on every configuration through the real path: the bench
//! built by [`tapbench_core::build_bench`] (native variants from the runtime family's
//! table), then [`tapbench_core::measure_on`] with a tiny [`SamplingPlan`].

use std::time::Duration;

use tapbench_core::{
    build_bench, catalogue, measure_on, Case, CellError, Config, ConfigVisitor, Host, ParamValue,
    Runtime,
};
use tapbench_measure::{Measurement, SamplingPlan};

use crate::harness::host;

/// A plan that checks answers rather than measuring well: 1 ms of warm-up, then exactly two
/// samples of about 1 ms. Every batch is still verified.
pub fn tiny_plan() -> SamplingPlan {
    SamplingPlan::fixed(Duration::from_millis(1), Duration::from_millis(1), 2)
}

/// Upper bounds applied by [`capped_grid`] to integer parameters, so that the default grid
/// stays fast in a debug build: `(parameter, largest value kept)`.
pub const PARAM_CAPS: [(&str, u64); 5] = [
    ("n", 1000),
    ("items", 1000),
    ("work", 1000),
    ("depth", 10),
    ("duration_ms", 50),
];

/// Builds the bench for `case` on a fresh runtime of configuration `C`, and measures it
/// inside the runtime with `plan`.
///
/// # Errors
///
/// [`CellError::Build`] when the case cannot be built on `C` (for a native variant the
/// runtime lacks, [`tapbench_core::BuildError::Unsupported`] with the reason the cell is
/// skipped), and [`CellError::Violation`] when a batch's answer broke an invariant.
pub fn measure_case<C: Config>(case: &Case, plan: SamplingPlan) -> Result<Measurement, CellError> {
    measure_case_on(&host::<C>(), case, plan)
}

/// [`measure_case`] on an existing runtime.
///
/// # Errors
///
/// As [`measure_case`].
pub fn measure_case_on<H: Host>(
    host: &H,
    case: &Case,
    plan: SamplingPlan,
) -> Result<Measurement, CellError> {
    let bench = build_bench(&host.runtime(), case)?;
    Ok(measure_on(host, bench, plan)?)
}

/// Builds the bench of `case` on `rt` and runs it from inside a test body: the one-off
/// checks first (`verify_once`, for example a bounded queue's capacity), then `iters`
/// iterations, then the batch check - the same checks a measured cell makes.
///
/// # Errors
///
/// The build error (a skipped native variant included) or the first violation.
pub async fn run_case<R: Runtime>(rt: &R, case: &Case, iters: u64) -> Result<(), CellError> {
    let mut bench = build_bench(rt, case)?;
    bench.verify_once().await?;
    bench.run_batch(iters).await?;
    bench.check_batch(iters)?;
    Ok(())
}

/// One configuration's outcome for a case.
#[derive(Debug)]
pub struct ConfigOutcome {
    /// The configuration id.
    pub runtime: &'static str,
    /// What [`measure_case`] returned.
    pub outcome: Result<Measurement, CellError>,
}

/// [`measure_case`] on every configuration of the registry, in registry order.
pub fn measure_everywhere(case: &Case, plan: SamplingPlan) -> Vec<ConfigOutcome> {
    struct Everywhere<'a> {
        case: &'a Case,
        plan: SamplingPlan,
        outcomes: Vec<ConfigOutcome>,
    }
    impl ConfigVisitor for Everywhere<'_> {
        fn visit<C: Config>(&mut self) {
            self.outcomes.push(ConfigOutcome {
                runtime: C::INFO.id,
                outcome: measure_case::<C>(self.case, self.plan),
            });
        }
    }
    let mut everywhere = Everywhere {
        case,
        plan,
        outcomes: Vec::new(),
    };
    tapbench_runtimes::visit(&mut everywhere);
    everywhere.outcomes
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
