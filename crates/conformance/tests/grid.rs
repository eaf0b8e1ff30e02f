//! Every case of the default grid (big parameters capped, see `PARAM_CAPS`) builds with
//! the runtime crate's `build`, runs and is verified on every configuration - except the
//! native variants a runtime lacks, which are skipped with a reason.

use tapbench_conformance::{capped_grid, measure_case, rt_test, tiny_plan, RtConfig, PARAM_CAPS};
use tapbench_core::{catalogue, BuildError, CellError, ParamValue};

/// `(family, workload, variant)`: native variants a runtime family has no implementation
/// of. Anything else that is not built is a failure.
const KNOWN_SKIPS: [(&str, &str, &str); 1] = [("smol", "when_all", "native")];

rt_test! {
    fn every_grid_case_runs_verified() {
        let grid = capped_grid();
        let mut skipped = Vec::new();
        for case in &grid {
            let expect_skip = KNOWN_SKIPS
                .contains(&(Cfg::FAMILY, case.workload.as_str(), case.variant.as_str()));
            match measure_case::<Cfg>(case, tiny_plan()) {
                Ok(m) => {
                    assert!(!expect_skip, "{case} on {}: expected a skip, but it ran", Cfg::ID);
                    assert_eq!(m.sample_ns_per_op.len(), tiny_plan().samples, "{case}");
                    // At least one warm-up batch, then every sample: all checked.
                    assert!(m.batches_checked > tiny_plan().samples as u64, "{case}: {m:?}");
                    assert!(m.sample_ns_per_op.iter().all(|ns| *ns > 0.0), "{case}: {m:?}");
                }
                Err(CellError::Build(BuildError::Unsupported(reason))) if expect_skip => {
                    assert!(!reason.trim().is_empty(), "{case}: a skip needs a reason");
                    skipped.push(case.to_string());
                }
                Err(err) => panic!("{case} on {}: {err}", Cfg::ID),
            }
        }
        let expected_skips = grid
            .iter()
            .filter(|c| {
                KNOWN_SKIPS.contains(&(Cfg::FAMILY, c.workload.as_str(), c.variant.as_str()))
            })
            .count();
        assert_eq!(skipped.len(), expected_skips, "skipped on {}: {skipped:?}", Cfg::ID);
    }
}

/// The capped grid still covers every workload and variant of the catalogue, and caps
/// every integer parameter it knows of.
#[test]
fn the_capped_grid_covers_the_catalogue() {
    let grid = capped_grid();
    for spec in catalogue() {
        for variant in spec.variants {
            assert!(
                grid.iter()
                    .any(|c| c.workload == spec.id && c.variant == variant.id),
                "{}/{} is missing from the grid",
                spec.id,
                variant.id
            );
        }
    }
    for case in &grid {
        for (name, cap) in PARAM_CAPS {
            if let Some(ParamValue::Int(v)) = case.params.get(name) {
                assert!(*v <= cap, "{case}: {name} above {cap}");
            }
        }
    }
    // when_all/native with op=sleep_1ms and n=1000 is in it: the concurrency check runs.
    assert!(grid
        .iter()
        .any(|c| c.to_string() == "when_all/native/n=1000,op=sleep_1ms"));
}

/// `when_all/native` through `measure_everywhere`: measured and verified on tokio, skipped
/// with a reason on smol.
#[test]
fn when_all_native_runs_on_tokio_and_is_skipped_on_smol() {
    let case = tapbench_core::Case::new(
        "when_all",
        "native",
        tapbench_core::Params::from_pairs([
            ("n", ParamValue::Int(100)),
            ("op", ParamValue::Text("yield".into())),
        ]),
    );
    let outcomes = tapbench_conformance::measure_everywhere(&case, tiny_plan());
    let ids: Vec<_> = outcomes.iter().map(|o| o.runtime).collect();
    assert_eq!(ids, ["tokio-mt", "tokio-ct", "smol-mt", "smol-local"]);
    for outcome in outcomes {
        match (outcome.runtime, &outcome.outcome) {
            ("tokio-mt" | "tokio-ct", Ok(m)) => assert!(m.batches_checked > 1),
            ("smol-mt" | "smol-local", Err(CellError::Build(BuildError::Unsupported(why)))) => {
                assert!(why.contains("smol"), "an unclear reason: {why}")
            }
            (runtime, other) => panic!("{runtime}: {other:?}"),
        }
    }
}
