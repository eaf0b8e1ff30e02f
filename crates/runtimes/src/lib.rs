//! The registry of runtime configurations: the one list of the configurations this build
//! runs, which the CLI's listing and plan, the child-process dispatch, the conformance
//! suite's `rt_test!`, the criterion benches and the reports all iterate.
//!
//! The list is [`for_each_config!`]: one line per runtime family, one entry per
//! configuration. A new configuration of an existing family is its marker type (a
//! [`Config`]) in the family's crate plus one entry there; a new family is its crate plus
//! one line there (and the crate in this crate's `Cargo.toml`).
//!
//! ```
//! let ids: Vec<_> = tapbench_runtimes::all().iter().map(|r| r.info.id).collect();
//! assert_eq!(
//!     ids,
//!     ["tokio-mt", "tokio-ct", "async-std", "smol-mt", "smol-local", "futures-pool", "futures-local"]
//! );
//! assert!(tapbench_runtimes::find("async-std").unwrap().info.legacy);
//! ```

use std::sync::OnceLock;

use tapbench_core::{Config, ConfigVisitor, RuntimeEntry};

/// The runtime family crates, by family.
pub mod family {
    pub use tapbench_rt_async_std as async_std;
    pub use tapbench_rt_futures as futures;
    pub use tapbench_rt_smol as smol;
    pub use tapbench_rt_tokio as tokio;
}

/// Calls `callback! { { args } module: ConfigType, ... }` with every configuration of the
/// registry, in report order: a module-friendly name and the [`Config`] type of each.
///
/// This is the registry itself: everything else here, and the conformance suite's
/// `rt_test!`, is generated from it.
///
/// The callback is invoked in item position:
///
/// ```
/// use tapbench_core::Config;
///
/// macro_rules! ids {
///     ({} $($module:ident: $config:path),* $(,)?) => {
///         const IDS: &[&str] = &[$(<$config as Config>::INFO.id),*];
///     };
/// }
/// tapbench_runtimes::for_each_config!(ids {});
/// assert_eq!(IDS.len(), 7);
/// assert_eq!(IDS[2], "async-std");
/// ```
#[macro_export]
macro_rules! for_each_config {
    ($callback:path { $($args:tt)* }) => {
        $callback! {
            { $($args)* }
            tokio_mt: $crate::family::tokio::TokioMt, tokio_ct: $crate::family::tokio::TokioCt,
            async_std: $crate::family::async_std::AsyncStd,
            smol_mt: $crate::family::smol::SmolMt, smol_local: $crate::family::smol::SmolLocal,
            futures_pool: $crate::family::futures::FuturesPool, futures_local: $crate::family::futures::FuturesLocal,
        }
    };
}

/// Generates [`visit`] from the registry.
macro_rules! visit_fn {
    ({} $($module:ident: $config:path),* $(,)?) => {
        /// Hands every configuration, as a type, to `visitor`, in registry order: how
        /// generic code (tests, benches) is instantiated for each configuration.
        pub fn visit<V: ConfigVisitor>(visitor: &mut V) {
            $(visitor.visit::<$config>();)*
        }
    };
}

for_each_config!(visit_fn {});

/// Every configuration, in registry (report) order.
pub fn all() -> &'static [RuntimeEntry] {
    struct Collect(Vec<RuntimeEntry>);
    impl ConfigVisitor for Collect {
        fn visit<C: Config>(&mut self) {
            self.0.push(RuntimeEntry::of::<C>());
        }
    }
    static ALL: OnceLock<Vec<RuntimeEntry>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut collect = Collect(Vec::new());
        visit(&mut collect);
        collect.0
    })
}

/// The configuration named `id`.
pub fn find(id: &str) -> Option<&'static RuntimeEntry> {
    all().iter().find(|r| r.info.id == id)
}

/// The runtime families, in registry order.
pub fn families() -> Vec<&'static str> {
    let mut families: Vec<&'static str> = Vec::new();
    for entry in all() {
        if !families.contains(&entry.info.family) {
            families.push(entry.info.family);
        }
    }
    families
}

/// The crates every configuration is made of, without repeats, in registry order: whose
/// versions a results file records.
pub fn crates() -> Vec<&'static str> {
    let mut crates: Vec<&'static str> = Vec::new();
    for entry in all() {
        for name in entry.info.crates {
            if !crates.contains(name) {
                crates.push(name);
            }
        }
    }
    crates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_families_are_grouped() {
        let ids: Vec<_> = all().iter().map(|r| r.info.id).collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        // A family's configurations are listed together (report order groups them).
        let families: Vec<_> = all().iter().map(|r| r.info.family).collect();
        let mut seen = Vec::new();
        for (i, family) in families.iter().enumerate() {
            if i > 0 && families[i - 1] != *family {
                assert!(!seen.contains(family), "{family} is split in {families:?}");
            }
            seen.push(*family);
        }
        assert_eq!(super::families(), ["tokio", "async-std", "smol", "futures"]);
    }

    #[test]
    fn every_configuration_is_fully_described() {
        let mut colours = Vec::new();
        for entry in all() {
            let info = entry.info;
            assert!(!info.doc.is_empty() && !info.crates.is_empty(), "{info:?}");
            assert_eq!(
                info.multi_threaded,
                !info.worker_thread.is_empty(),
                "{}: multi-threaded configurations name their worker threads",
                info.id
            );
            for primitive in ["join handle", "timer", "yield", "blocking"] {
                assert!(
                    info.uses.iter().any(|(what, _)| *what == primitive),
                    "{}: says nothing of its {primitive}",
                    info.id
                );
            }
            assert!(!colours.contains(&info.colour), "{}: colour taken", info.id);
            colours.push(info.colour);
        }
        assert!(crates().contains(&"async-std") && crates().contains(&"futures-timer"));
    }
}
