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
