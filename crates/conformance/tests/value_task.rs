//! `value_task` (Task vs ValueTask) on every configuration: every variant makes the same
//! calls, so the sum of their results is identical across variants and equals
//! `expected_sum`, for every share of synchronous completions.

use tapbench_conformance::rt_test;
use tapbench_core::workloads::value_task::{expected_sum, run_calls, SyncPattern, Variant};

const VARIANTS: [Variant; 4] = [
    Variant::Inline,
    Variant::Boxed,
    Variant::DynTrait,
    Variant::Spawned,
];

const SYNC_RATIOS: [f64; 4] = [0.0, 0.5, 0.9, 1.0];

/// Calls per run: enough for every ratio to mix synchronous and yielding calls.
const CALLS: u64 = 1000;

rt_test! {
    async fn every_variant_sums_to_the_expected_value(rt) {
        let expected = expected_sum(CALLS);
        for ratio in SYNC_RATIOS {
            let pattern = SyncPattern::new(ratio);
            for variant in VARIANTS {
                let sum = run_calls(&rt, variant, pattern, CALLS).await;
                assert_eq!(sum, expected, "{variant:?}, sync_ratio={ratio}");
            }
        }
    }

    /// A run of fewer calls gives a different sum: the check would see a lost call.
    async fn a_missing_call_changes_the_sum(rt) {
        for variant in VARIANTS {
            let sum = run_calls(&rt, variant, SyncPattern::new(0.5), CALLS - 1).await;
            assert_ne!(sum, expected_sum(CALLS), "{variant:?}");
        }
    }
}
