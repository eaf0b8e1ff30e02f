//! The conformance suite's support code: [`rt_test!`] writes a test body once and expands it
//! into one `#[test]` per runtime configuration of the registry (`tapbench-runtimes`),
//! [`measure_case`] runs a catalogue case through the real measurement path on a
//! configuration, and [`run_case`] runs one from inside a test body.
//!
//! The tests themselves live in `tests/`, one file per workload, each asserting the
//! invariants of `WORKLOADS.md` on every configuration.
//!
//! ```
//! use tapbench_conformance::{measure_case, tiny_plan};
//! use tapbench_core::{BuildError, Case, CellError, Params};
//! use tapbench_runtimes::family::{smol::SmolLocal, tokio::TokioMt};
//!
//! let noop = Case::new("noop", "batch", Params::default());
//! let measured = measure_case::<TokioMt>(&noop, tiny_plan()).unwrap();
//! assert_eq!(measured.sample_ns_per_op.len(), 2);
//!
//! // smol has no task set: the cell is skipped, with the reason its native table gives.
//! let native = Case::new("when_all", "native", Params::default());
//! let skipped = measure_case::<SmolLocal>(&native, tiny_plan()).unwrap_err();
//! assert!(matches!(skipped, CellError::Build(BuildError::Unsupported(_))));
//! ```

pub mod grid;
pub mod harness;

pub use grid::{
    capped_grid, measure_case, measure_case_on, measure_everywhere, run_case, tiny_plan,
    ConfigOutcome, PARAM_CAPS,
};
pub use harness::{host, run, run_on, BODY_TIME_LIMIT, MT_THREADS};

#[doc(hidden)]
pub use tapbench_runtimes::for_each_config as __for_each_config;

/// Writes tests once and expands them for every runtime configuration of the registry, in
/// the spirit of tokio's `tests/rt_common.rs`.
///
/// The macro generates one module per configuration - `tokio_mt`, `tokio_ct`, `async_std`,
/// `smol_mt`, `smol_local`, `futures_pool`, `futures_local`: the registry's names - each
/// holding one `#[test]` per test written, so `cargo test async_std` runs the suite on one
/// configuration. Each module imports `super::*` and defines `type Cfg` as its
/// configuration (a [`tapbench_core::Config`], whose trait is in scope there), so a body
/// can read `Cfg::INFO.id` or name the handle type as `tapbench_core::RtOf<Cfg>`.
/// Multi-threaded configurations run with [`MT_THREADS`] workers.
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
///         assert!(measure_case::<Cfg>(&case, tiny_plan()).is_ok(), "on {}", Cfg::INFO.id);
///     }
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! rt_test {
    ($($tests:tt)*) => {
        $crate::__for_each_config! { $crate::__rt_test_modules { { $($tests)* } } }
    };
}

/// The modules of [`rt_test!`], one per configuration of the registry.
#[doc(hidden)]
#[macro_export]
macro_rules! __rt_test_modules {
    ({ $tests:tt } $($module:ident: $config:path),* $(,)?) => {
        $($crate::__rt_test_module! { $module, $config, $tests })*
    };
}

/// One configuration's module of [`rt_test!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __rt_test_module {
    ($module:ident, $config:path, { $($tests:tt)* }) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use tapbench_core::Config as _;

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
