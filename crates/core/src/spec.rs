//! The catalogue's vocabulary: workload and variant specs, cases (one cell's workload,
//! variant and parameters), invariant violations and build errors.

use std::fmt;

use tapbench_measure::BatchRunner;

use crate::params::{ParamError, ParamSpec, Params};

/// A workload prepared for measurement on one runtime.
pub type BoxBench = Box<dyn BatchRunner<Error = Violation>>;

/// One way of writing a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantSpec {
    /// Variant id, for example `join_all`.
    pub id: &'static str,
    /// What the variant does, in one sentence.
    pub doc: &'static str,
    /// Whether each runtime family provides its own implementation (a runtime without one
    /// records the cell as skipped, with its reason).
    pub native: bool,
}

/// A workload of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct WorkloadSpec {
    /// Workload id, for example `when_all`.
    pub id: &'static str,
    /// The .NET TAP counterpart.
    pub tap: &'static str,
    /// What one operation is (the unit of `time_ns_per_op`).
    pub op_unit: &'static str,
    /// The variants.
    pub variants: &'static [VariantSpec],
    /// Every parameter any variant takes.
    pub params: &'static [ParamSpec],
    /// The default parameter grid: every case run by `tapbench run`.
    pub cases: fn() -> Vec<Case>,
    /// A generous estimate of the peak heap one iteration needs with these parameters (the
    /// variant is not considered: the most demanding one counts), so that sizes that cannot
    /// fit in memory are refused before anything runs.
    pub memory_bytes: fn(&Params) -> u64,
    /// Makes parameters that depend on each other consistent after a user override (for
    /// example a queue made bounded by `--param bounded=true` gets the default capacity).
    pub normalize: fn(&mut Params),
    /// What the reports show of this workload besides its table and its charts, in order
    /// (empty for most workloads).
    pub views: &'static [View],
}

/// A view of a workload's results that the reports render besides its table and charts:
/// declared with the workload, so that renderers know no workload by name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum View {
    /// Some variants contrasted against the values of one parameter.
    Pivot(PivotView),
}

/// Time and allocations per operation of contrasted variants against the values of one
/// parameter: a table with a column per value, a chart with a line per variant, and for
/// each runtime which variant is fastest at the lowest and the highest value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PivotView {
    /// The parameter pivoted on (its values become columns), for example `sync_ratio`.
    pub param: &'static str,
    /// The variants contrasted, by id; empty contrasts every variant.
    pub contrast: &'static [&'static str],
    /// The view's heading, for example `Task vs ValueTask`.
    pub title: &'static str,
    /// One paragraph on what the view shows (Markdown code spans allowed).
    pub description: &'static str,
    /// Cells of other workloads that answer the same question, shown under the pivot
    /// (empty for most views).
    pub beside: &'static [Beside],
}

/// Cells of another workload shown beside a view: the same contrast asked of another
/// pattern (the cache hit path beside `value_task`'s Task vs ValueTask pivot). The cells
/// are those of `workload` whose parameter `param` has the value `value`, one row per
/// variant of `contrast` and runtime, with their time and allocations per operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beside {
    /// The other workload's id.
    pub workload: &'static str,
    /// The parameter that selects its cells, for example `lookups`.
    pub param: &'static str,
    /// The value it must have, as written on the command line, for example `hit`.
    pub value: &'static str,
    /// The variants shown, by id, in this order.
    pub contrast: &'static [&'static str],
    /// The table's heading, for example `The cache hit path`.
    pub title: &'static str,
    /// One paragraph on what the rows show and how they map onto the view's contrast.
    pub description: &'static str,
}

impl Beside {
    /// Checks that `workload` is the workload this names and has its parameter, value and
    /// variants.
    ///
    /// # Errors
    ///
    /// What does not match, described.
    pub fn check(&self, workload: &WorkloadSpec) -> Result<(), String> {
        if workload.id != self.workload {
            return Err(format!(
                "`{}` names workload `{}`, not `{}`",
                self.title, self.workload, workload.id
            ));
        }
        let param = workload.param(self.param).ok_or_else(|| {
            format!(
                "`{}`: workload `{}` has no parameter `{}`",
                self.title, self.workload, self.param
            )
        })?;
        param.parse(self.value).map_err(|e| {
            format!(
                "`{}`: `{}={}` is not a value of `{}`: {e}",
                self.title, self.param, self.value, self.workload
            )
        })?;
        if let Some(unknown) = self.contrast.iter().find(|v| workload.variant(v).is_none()) {
            return Err(format!(
                "`{}`: workload `{}` has no variant `{unknown}`",
                self.title, self.workload
            ));
        }
        Ok(())
    }
}

impl PivotView {
    /// Whether the view contrasts `variant`.
    pub fn contrasts(&self, variant: &str) -> bool {
        self.contrast.is_empty() || self.contrast.contains(&variant)
    }
}

impl WorkloadSpec {
    /// The variant named `id`.
    pub fn variant(&self, id: &str) -> Option<&'static VariantSpec> {
        self.variants.iter().find(|v| v.id == id)
    }

    /// The parameter named `name`.
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Checks that every view names a parameter and variants of this workload.
    ///
    /// # Errors
    ///
    /// The first view that names an unknown parameter or variant, described.
    pub fn check_views(&self) -> Result<(), String> {
        for view in self.views {
            match view {
                View::Pivot(pivot) => {
                    if self.param(pivot.param).is_none() {
                        return Err(format!(
                            "{}: view `{}` pivots on unknown parameter `{}`",
                            self.id, pivot.title, pivot.param
                        ));
                    }
                    if let Some(unknown) = pivot.contrast.iter().find(|v| self.variant(v).is_none())
                    {
                        return Err(format!(
                            "{}: view `{}` contrasts unknown variant `{unknown}`",
                            self.id, pivot.title
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks that every parameter of `params` exists and has an accepted value.
    ///
    /// # Errors
    ///
    /// The first unknown or invalid parameter.
    pub fn check_params(&self, params: &Params) -> Result<(), ParamError> {
        for (name, value) in &params.0 {
            let spec = self.param(name).ok_or_else(|| ParamError::Unknown {
                workload: self.id.to_string(),
                name: name.clone(),
                known: self
                    .params
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            spec.check(value)?;
        }
        Ok(())
    }
}

/// One workload variant with its parameters: a row of the matrix, before a runtime is chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Workload id.
    pub workload: String,
    /// Variant id.
    pub variant: String,
    /// Parameters.
    pub params: Params,
}

impl Case {
    /// A case of `workload`/`variant` with `params`.
    pub fn new(workload: &str, variant: &str, params: Params) -> Self {
        Case {
            workload: workload.to_string(),
            variant: variant.to_string(),
            params,
        }
    }
}

impl fmt::Display for Case {
    /// `workload/variant/params`, the runtime-free part of a cell id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.workload, self.variant)?;
        if !self.params.0.is_empty() {
            write!(f, "/{}", self.params)?;
        }
        Ok(())
    }
}

/// A workload's answer broke one of its invariants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: expected {expected}, saw {seen}")]
pub struct Violation {
    /// Which invariant.
    pub what: String,
    /// What the invariant requires.
    pub expected: String,
    /// What the run produced.
    pub seen: String,
}

impl Violation {
    /// A violation of `what`.
    pub fn new(what: impl Into<String>, expected: impl ToString, seen: impl ToString) -> Self {
        Violation {
            what: what.into(),
            expected: expected.to_string(),
            seen: seen.to_string(),
        }
    }

    /// `Err` unless `expected == seen`.
    ///
    /// # Errors
    ///
    /// The violation of `what`, quoting both values.
    pub fn check_eq<T: PartialEq + fmt::Debug>(
        what: &str,
        expected: T,
        seen: T,
    ) -> Result<(), Violation> {
        if expected == seen {
            Ok(())
        } else {
            Err(Violation::new(
                what,
                format!("{expected:?}"),
                format!("{seen:?}"),
            ))
        }
    }
}

/// Why a case could not be turned into a measurable bench on a runtime.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    /// No such workload.
    #[error("unknown workload `{0}`")]
    UnknownWorkload(String),
    /// No such variant of the workload.
    #[error("workload `{workload}` has no variant `{variant}` (it has: {known})")]
    UnknownVariant {
        /// Workload id.
        workload: String,
        /// Variant given.
        variant: String,
        /// Variants the workload has.
        known: String,
    },
    /// A parameter problem.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The runtime cannot run this variant; the cell is skipped with this reason.
    #[error("{0}")]
    Unsupported(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ParamKind;

    fn spec_with(views: &'static [View]) -> WorkloadSpec {
        WorkloadSpec {
            id: "w",
            tap: "(test)",
            op_unit: "one call",
            variants: &[VariantSpec {
                id: "a",
                doc: "the only variant",
                native: false,
            }],
            params: &[ParamSpec {
                name: "n",
                doc: "a size",
                kind: ParamKind::Int { min: 1, max: 10 },
            }],
            cases: Vec::new,
            memory_bytes: |_| 0,
            normalize: |_| {},
            views,
        }
    }

    const fn pivot(param: &'static str, contrast: &'static [&'static str]) -> View {
        View::Pivot(PivotView {
            param,
            contrast,
            title: "t",
            description: "d",
            beside: &[],
        })
    }

    #[test]
    fn beside_must_name_a_parameter_value_and_variants_of_its_workload() {
        let other = spec_with(&[]);
        let beside = |workload, param, value, contrast| Beside {
            workload,
            param,
            value,
            contrast,
            title: "b",
            description: "d",
        };
        assert_eq!(beside(other.id, "n", "10", &["a"]).check(&other), Ok(()));
        for wrong in [
            beside("elsewhere", "n", "10", &["a"]),
            beside(other.id, "m", "10", &["a"]),
            beside(other.id, "n", "ten", &["a"]),
            beside(other.id, "n", "10", &["a", "z"]),
        ] {
            assert!(wrong.check(&other).is_err(), "{wrong:?} must be refused");
        }
    }

    #[test]
    fn views_must_name_parameters_and_variants_of_their_workload() {
        const KNOWN: &[View] = &[pivot("n", &["a"])];
        const UNKNOWN_PARAM: &[View] = &[pivot("m", &[])];
        const UNKNOWN_VARIANT: &[View] = &[pivot("n", &["a", "b"])];
        assert_eq!(spec_with(&[]).check_views(), Ok(()));
        assert_eq!(spec_with(KNOWN).check_views(), Ok(()));
        assert!(spec_with(UNKNOWN_PARAM)
            .check_views()
            .unwrap_err()
            .contains("unknown parameter `m`"));
        assert!(spec_with(UNKNOWN_VARIANT)
            .check_views()
            .unwrap_err()
            .contains("unknown variant `b`"));
        let View::Pivot(every) = pivot("n", &[]);
        assert!(every.contrasts("anything"));
    }
}
