//! Every case of the default grid (big parameters capped, see `PARAM_CAPS`) builds, runs
//! and is verified on every configuration - except the native variants a runtime family
//! declares missing in its native table, which are skipped with that reason.

use tapbench_conformance::{capped_grid, measure_case, rt_test, tiny_plan, PARAM_CAPS};
use tapbench_core::native::{self, NativeInfo};
use tapbench_core::{catalogue, BuildError, Case, CellError, ParamValue, RtOf};

/// Why runtime `R` skips `case`, if it does: a native variant its family's table declares
/// missing.
fn declared_skip<R: tapbench_core::Runtime>(case: &Case) -> Option<&'static str> {
    let entry = native::find(R::natives(), &case.workload, &case.variant)?;
    entry.info().provided.err()
}

rt_test! {
    fn every_grid_case_runs_verified() {
        let grid = capped_grid();
        let mut skipped = Vec::new();
        for case in &grid {
            let expect_skip = declared_skip::<RtOf<Cfg>>(case);
            match measure_case::<Cfg>(case, tiny_plan()) {
                Ok(m) => {
                    assert!(expect_skip.is_none(), "{case} on {}: expected a skip, but it ran", Cfg::INFO.id);
                    assert_eq!(m.sample_ns_per_op.len(), tiny_plan().samples, "{case}");
                    // At least one warm-up batch, then every sample: all checked.
                    assert!(m.batches_checked > tiny_plan().samples as u64, "{case}: {m:?}");
                    assert!(m.sample_ns_per_op.iter().all(|ns| *ns > 0.0), "{case}: {m:?}");
                }
                Err(CellError::Build(BuildError::Unsupported(reason))) if expect_skip.is_some() => {
                    assert_eq!(Some(reason.as_str()), expect_skip, "{case}");
                    skipped.push(case.to_string());
                }
                Err(err) => panic!("{case} on {}: {err}", Cfg::INFO.id),
            }
        }
        let expected_skips = grid.iter().filter(|c| declared_skip::<RtOf<Cfg>>(c).is_some()).count();
        assert_eq!(skipped.len(), expected_skips, "skipped on {}: {skipped:?}", Cfg::INFO.id);
    }

    /// Every native variant of the catalogue is in the family's table, built or declared
    /// missing with a reason, and the table names nothing else.
    fn the_native_table_declares_every_native_variant() {
        let table: Vec<NativeInfo> = <RtOf<Cfg> as tapbench_core::Runtime>::natives()
            .iter()
            .map(|n| n.info())
            .collect();
        for spec in catalogue() {
            for variant in spec.variants.iter().filter(|v| v.native) {
                let entry = table
                    .iter()
                    .find(|n| n.workload == spec.id && n.variant == variant.id)
                    .unwrap_or_else(|| panic!("{}: {}/{} undeclared", Cfg::INFO.id, spec.id, variant.id));
                let text = match entry.provided {
                    Ok(uses) => uses,
                    Err(reason) => reason,
                };
                assert!(text.len() > 10, "{}: {entry:?} says too little", Cfg::INFO.id);
            }
        }
        for entry in &table {
            let native = tapbench_core::find_workload(entry.workload)
                .and_then(|w| w.variant(entry.variant))
                .is_some_and(|v| v.native);
            assert!(native, "{}: {entry:?} is not a native variant", Cfg::INFO.id);
        }
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
/// with a reason everywhere else (no other runtime has a task-set type).
#[test]
fn when_all_native_runs_on_tokio_and_is_skipped_elsewhere() {
    let case = Case::new(
        "when_all",
        "native",
        tapbench_core::Params::from_pairs([
            ("n", ParamValue::Int(100)),
            ("op", ParamValue::Text("yield".into())),
        ]),
    );
    let outcomes = tapbench_conformance::measure_everywhere(&case, tiny_plan());
    let ids: Vec<_> = outcomes.iter().map(|o| o.runtime).collect();
    let registry: Vec<_> = tapbench_runtimes::all().iter().map(|r| r.info.id).collect();
    assert_eq!(ids, registry);
    for outcome in outcomes {
        match (outcome.runtime, &outcome.outcome) {
            ("tokio-mt" | "tokio-ct", Ok(m)) => assert!(m.batches_checked > 1),
            (runtime, Err(CellError::Build(BuildError::Unsupported(why))))
                if !runtime.starts_with("tokio") =>
            {
                assert!(why.contains("no task-set type"), "an unclear reason: {why}")
            }
            (runtime, other) => panic!("{runtime}: {other:?}"),
        }
    }
}
