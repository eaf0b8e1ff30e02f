//! Native variants: the table in which a runtime family declares the catalogue variants it
//! writes with an idiom of its own (tokio's `JoinSet` for `when_all/native`, its `mpsc` for
//! `producer_consumer/native_channel`), and why it has none for the others.
//!
//! A variant marked `native` in the catalogue is built from the family's table
//! ([`Runtime::natives`](crate::Runtime::natives), by [`build_bench`](crate::build_bench)); a
//! family that declares it [`Native::missing`] records the cell as skipped with that reason.
//! The conformance suite checks that every family declares every native variant one way or
//! the other.
//!
//! A table is a slice, so adding a native variant is one entry: a `static` for one handle
//! type, or an associated constant when a family shares its table between handle types.
//!
//! ```
//! use std::marker::PhantomData;
//!
//! use tapbench_core::native::Native;
//! use tapbench_core::Runtime;
//!
//! struct Natives<R>(PhantomData<R>);
//!
//! impl<R: Runtime> Natives<R> {
//!     const TABLE: &'static [Native<R>] =
//!         &[Native::missing("when_all", "native", "this runtime has no task-set type")];
//! }
//! ```

use std::fmt;

use crate::params::Params;
use crate::spec::{BoxBench, BuildError};

/// Builds a native variant's bench from the case's parameters.
pub type NativeBuild<R> = fn(&R, &Params) -> Result<BoxBench, BuildError>;

/// One entry of a runtime family's native table.
pub struct Native<R> {
    /// Workload id.
    pub workload: &'static str,
    /// Variant id (a variant marked `native` in the catalogue).
    pub variant: &'static str,
    /// How the family provides it.
    pub imp: NativeImpl<R>,
}

/// How a family provides a native variant.
pub enum NativeImpl<R> {
    /// Written with the family's own idiom.
    Built {
        /// What it uses, for `tapbench list` and the report (for example
        /// `tokio::task::JoinSet`).
        uses: &'static str,
        /// Builds the bench.
        build: NativeBuild<R>,
    },
    /// The family has no idiom for it: the cell is skipped with this reason.
    Missing {
        /// Why, in one line.
        reason: &'static str,
    },
}

impl<R> Native<R> {
    /// A variant the family writes with `uses`, built by `build`.
    pub const fn built(
        workload: &'static str,
        variant: &'static str,
        uses: &'static str,
        build: NativeBuild<R>,
    ) -> Self {
        Native {
            workload,
            variant,
            imp: NativeImpl::Built { uses, build },
        }
    }

    /// A variant the family has no idiom for, skipped with `reason`.
    pub const fn missing(
        workload: &'static str,
        variant: &'static str,
        reason: &'static str,
    ) -> Self {
        Native {
            workload,
            variant,
            imp: NativeImpl::Missing { reason },
        }
    }

    /// What the entry says, without the builder.
    pub fn info(&self) -> NativeInfo {
        NativeInfo {
            workload: self.workload,
            variant: self.variant,
            provided: match self.imp {
                NativeImpl::Built { uses, .. } => Ok(uses),
                NativeImpl::Missing { reason } => Err(reason),
            },
        }
    }
}

impl<R> fmt::Debug for Native<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.info(), f)
    }
}

/// A native table entry as data: for listings and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeInfo {
    /// Workload id.
    pub workload: &'static str,
    /// Variant id.
    pub variant: &'static str,
    /// `Ok(what it uses)` or `Err(why it is skipped)`.
    pub provided: Result<&'static str, &'static str>,
}

/// The entry of `table` for `workload/variant` (a family's table is
/// `Runtime::natives()`).
pub fn find<R>(
    table: &'static [Native<R>],
    workload: &str,
    variant: &str,
) -> Option<&'static Native<R>> {
    table
        .iter()
        .find(|n| n.workload == workload && n.variant == variant)
}
