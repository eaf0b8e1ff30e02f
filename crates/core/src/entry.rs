//! A runtime configuration as data: what the binary's plan, child dispatch, listing and
//! reports use, made from a [`Config`] type by [`RuntimeEntry::of`].

use std::fmt;

use tapbench_measure::{Measurement, SamplingPlan};

use crate::cell::{run_cell, CellError};
use crate::native::NativeInfo;
use crate::runtime::{Config, RtOf, Runtime, RuntimeInfo};
use crate::spec::Case;

/// Runs one cell in this process: `(threads, case, plan)`.
type RunCell = fn(usize, &Case, SamplingPlan) -> Result<Measurement, CellError>;

/// One configuration of the registry, with its runtime types erased.
#[derive(Clone, Copy)]
pub struct RuntimeEntry {
    /// What the configuration is.
    pub info: RuntimeInfo,
    run_cell: RunCell,
    natives: fn() -> Vec<NativeInfo>,
}

impl RuntimeEntry {
    /// The entry of configuration `C`.
    pub fn of<C: Config>() -> Self {
        RuntimeEntry {
            info: C::INFO,
            run_cell: run_cell::<C>,
            natives: || RtOf::<C>::natives().iter().map(|n| n.info()).collect(),
        }
    }

    /// Runs one cell on this configuration in this process (see [`run_cell`]).
    ///
    /// # Errors
    ///
    /// As [`run_cell`].
    pub fn run_cell(
        &self,
        threads: usize,
        case: &Case,
        plan: SamplingPlan,
    ) -> Result<Measurement, CellError> {
        (self.run_cell)(threads, case, plan)
    }

    /// The family's native table: what it uses for each native variant, or why it skips it.
    pub fn natives(&self) -> Vec<NativeInfo> {
        (self.natives)()
    }
}

impl fmt::Debug for RuntimeEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeEntry")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}
