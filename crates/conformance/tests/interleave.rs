//! `interleave` on every configuration: both variants process every result exactly once and
//! in completion order (a seeded order, not the input order), whatever `n`; a consumer that
//! loses or repeats a result is caught by the check the bench runs.

use futures::stream::{FuturesUnordered, StreamExt};
use tapbench_conformance::{rt_test, run_case};
use tapbench_core::workloads::interleave::{
    check, interleave, Board, Interleave, RepeatedSelect, Tally, Unordered,
};
use tapbench_core::{Case, ParamValue, Params};

/// Processes every result, and the first one a second time.
struct RepeatsOne;

impl Interleave for RepeatsOne {
    async fn consume(&self, board: &Board) -> Tally {
        let mut tally = Tally::default();
        let mut set: FuturesUnordered<_> = (0..board.len() as u32)
            .map(|j| board.operation(j))
            .collect();
        while let Some(result) = set.next().await {
            if tally.processed == 0 {
                tally.process(board, 0, result);
            }
            tally.process(board, tally.processed, result);
            board.processed_one();
        }
        tally
    }
}

/// Stops before the last result.
struct LosesOne;

impl Interleave for LosesOne {
    async fn consume(&self, board: &Board) -> Tally {
        let mut tally = Tally::default();
        let mut set: FuturesUnordered<_> = (0..board.len() as u32)
            .map(|j| board.operation(j))
            .collect();
        while tally.processed + 1 < board.len() as u64 {
            let Some(result) = set.next().await else {
                break;
            };
            tally.process(board, tally.processed, result);
            board.processed_one();
        }
        board.processed_one();
        tally
    }
}

rt_test! {
    async fn every_result_is_processed_once_in_completion_order(rt) {
        let _ = &rt;
        for n in [1, 2, 100, 1000] {
            let board = Board::new(n);
            // The board is reused from one interleaving to the next, as in the bench.
            for _ in 0..2 {
                check(&board, 1, interleave(&RepeatedSelect, &board).await)
                    .unwrap_or_else(|v| panic!("repeated_select, n={n}: {v}"));
                check(&board, 1, interleave(&Unordered, &board).await)
                    .unwrap_or_else(|v| panic!("futures_unordered, n={n}: {v}"));
            }
        }
    }

    async fn a_lost_or_repeated_result_is_caught(rt) {
        let _ = &rt;
        let board = Board::new(100);
        assert!(check(&board, 1, interleave(&RepeatsOne, &board).await).is_err());
        assert!(check(&board, 1, interleave(&LosesOne, &board).await).is_err());
    }

    /// The completion order is the board's seeded order, not the input order.
    async fn results_arrive_in_the_seeded_order_not_the_input_order(rt) {
        let _ = &rt;
        let board = Board::new(100);
        let input_order: Vec<u32> = (0..100).collect();
        assert_ne!(board.order(), &input_order[..]);
        let mut tally = Tally::default();
        for (t, j) in input_order.iter().enumerate() {
            tally.process(&board, t as u64, (*j, 0));
        }
        assert!(tally.out_of_order > 90, "{tally:?}");
    }

    /// The real path: the bench built from the catalogue, checked after every batch.
    async fn the_catalogue_cases_run_verified(rt) {
        for variant in ["repeated_select", "futures_unordered"] {
            let case = Case::new(
                "interleave",
                variant,
                Params::from_pairs([("n", ParamValue::Int(300))]),
            );
            run_case(&rt, &case, 3).await.unwrap_or_else(|e| panic!("{case}: {e}"));
        }
    }
}
