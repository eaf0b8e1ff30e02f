//! The conformance suite's support code: [`rt_test!`] writes a test body once and expands it
//! into one `#[test]` per runtime configuration, and [`measure_case`] runs a catalogue case
//! through the real measurement path on a configuration.
//!
//! The tests themselves live in `tests/`, one file per workload, each asserting the
//! invariants of `WORKLOADS.md` on every configuration.
//!
//! ```
//! use tapbench_conformance::{measure_case, SmolLocal, TokioMt, tiny_plan};
//! use tapbench_core::{BuildError, Case, CellError, Params};
//!
//! let noop = Case::new("noop", "batch", Params::default());
//! let measured = measure_case::<TokioMt>(&noop, tiny_plan()).unwrap();
//! assert_eq!(measured.sample_ns_per_op.len(), 2);
//!
//! // smol has no task set: the cell is skipped, with its reason.
//! let native = Case::new("when_all", "native", Params::default());
//! let skipped = measure_case::<SmolLocal>(&native, tiny_plan()).unwrap_err();
//! assert!(matches!(skipped, CellError::Build(BuildError::Unsupported(_))));
//! ```

pub mod config;
pub mod grid;
pub mod harness;

pub use config::{RtConfig, SmolLocal, SmolMt, TokioCt, TokioMt, MT_THREADS};
pub use grid::{
    capped_grid, measure_case, measure_case_on, measure_everywhere, tiny_plan, ConfigOutcome,
    PARAM_CAPS,
};
pub use harness::{run, run_on, BODY_TIME_LIMIT};

/// Writes tests once and expands them for every runtime configuration, in the spirit of
/// tokio's `tests/rt_common.rs`.
///
/// The macro generates four modules - `tokio_mt` ([`TokioMt`], [`MT_THREADS`] workers),
/// `tokio_ct` ([`TokioCt`]), `smol_mt` ([`SmolMt`], [`MT_THREADS`] threads) and
/// `smol_local` ([`SmolLocal`]) - each holding one `#[test]` per test written. Each module
/// imports `super::*` and defines `type Cfg` as its configuration (an [`RtConfig`], whose
/// trait is in scope there), so a body can call `Cfg::build(&rt, &case)`, read `Cfg::ID` or
/// name the handle type as `<Cfg as RtConfig>::Rt`.
///
/// Two forms of test are accepted, each with any attributes (`#[should_panic]`,
/// `#[ignore]`, doc comments):
///
/// - `async fn name(rt) { .. }`: the body is async code that runs *inside* the runtime, as
///   a spawned task (on a worker thread of the multi-threaded configurations, like the
///   measured loops), with `rt` the runtime's handle (an implementation of
///   [`tapbench_core::Runtime`]). The test thread builds a fresh runtime, spawns the body
///   and blocks on its handle (see [`run`]); a panic in the body fails the test, and a body
///   that has not finished after [`BODY_TIME_LIMIT`] fails it as hung.
/// - `fn name() { .. }`: a plain test on the test thread, for host-side checks that need the
///   configuration but must not run inside a runtime (for example [`measure_case`]`::<Cfg>`,
///   which builds its own runtime and blocks on it).
///
/// ```
/// use tapbench_conformance::{measure_case, rt_test, tiny_plan};
/// use tapbench_core::{Case, Params, Runtime};
///
/// rt_test! {
///     /// A spawned task's value arrives.
///     async fn spawn_returns_its_value(rt) {
///         assert_eq!(rt.spawn(async { 6 * 7 }).await, 42);
///     }
///
///     #[should_panic(expected = "body failed")]
///     async fn a_failing_body_fails_the_test(_rt) {
///         panic!("body failed");
///     }
///
///     fn noop_measures() {
///         let case = Case::new("noop", "batch", Params::default());
///         assert!(measure_case::<Cfg>(&case, tiny_plan()).is_ok(), "on {}", Cfg::ID);
///     }
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! rt_test {
    ($($tests:tt)*) => {
        $crate::__rt_test_module! { tokio_mt, $crate::config::TokioMt, $($tests)* }
        $crate::__rt_test_module! { tokio_ct, $crate::config::TokioCt, $($tests)* }
        $crate::__rt_test_module! { smol_mt, $crate::config::SmolMt, $($tests)* }
        $crate::__rt_test_module! { smol_local, $crate::config::SmolLocal, $($tests)* }
    };
}

/// One configuration's module of [`rt_test!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __rt_test_module {
    ($module:ident, $config:ty, $($tests:tt)*) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::config::RtConfig as _;

            /// The configuration this module's tests run on.
            #[allow(dead_code)]
            type Cfg = $config;

            $crate::__rt_test_fns! { $($tests)* }
        }
    };
}

/// The tests of one [`rt_test!`] module, one at a time.
#[doc(hidden)]
#[macro_export]
macro_rules! __rt_test_fns {
    () => {};
    ($(#[$meta:meta])* async fn $name:ident($rt:ident) $body:block $($rest:tt)*) => {
        #[test]
        $(#[$meta])*
        fn $name() {
            $crate::run::<Cfg, _, _>(|$rt| async move $body)
        }
        $crate::__rt_test_fns! { $($rest)* }
    };
    ($(#[$meta:meta])* fn $name:ident() $body:block $($rest:tt)*) => {
        #[test]
        $(#[$meta])*
        fn $name() $body
        $crate::__rt_test_fns! { $($rest)* }
    };
}
