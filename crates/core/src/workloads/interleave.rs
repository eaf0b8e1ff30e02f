//! `interleave` (the seed's `Interleaved` combinator): start `n` operations and process every
//! result as it completes, in completion order.
//!
//! One operation is one whole interleaving of `n` results. The `n` operations complete one
//! at a time in a fixed, seeded order (a permutation of `0..n`, the same on every runtime):
//! a backend, polled in the same task as the consumer, completes the next operation only
//! once the consumer has processed the previous result. So every WhenAny of the consumer
//! first finds nothing complete - it polls every remaining operation, registering its
//! waker, and the task is suspended - and is then woken by exactly one completion, through
//! the runtime's scheduler. That is the situation the seed warns about:
//!
//! - `repeated_select` is the naive loop, `WhenAny` over the remaining set again and again
//!   (`futures::future::select_all`): each call polls every remaining operation, so the
//!   whole interleaving costs O(n^2) polls;
//! - `futures_unordered` keeps the set in a `futures::stream::FuturesUnordered`, which polls
//!   only the operation that was woken: O(n) for the whole.
//!
//! The operations are plain futures on a shared completion board (a waker slot per
//! operation, reused from one interleaving to the next), so they allocate nothing:
//! `repeated_select` allocates its one `Vec` of `n` operations per interleaving (later
//! calls reuse it), `futures_unordered` one task node per operation plus its ready queue.
//!
//! Every result is folded into a position-weighted digest and checked against its rank in
//! the seeded order as it is processed; after the clock stops the digest, the count and the
//! number of results processed out of completion order (which must be 0) are checked.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures::future::{join, poll_fn, select_all};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::task::AtomicWaker;
use tapbench_measure::{BatchFuture, BatchRunner, LatencyRecorder};

use crate::params::{ParamKind, ParamSpec, ParamValue};
use crate::runtime::Runtime;
use crate::seeded::{digest_term, mix64, GOLDEN};
use crate::spec::{BoxBench, BuildError, Case, VariantSpec, Violation, WorkloadSpec};

/// `n`: operations interleaved by one operation of the workload.
pub const PARAM_N: ParamSpec = ParamSpec {
    name: "n",
    doc: "operations whose results one interleaving processes in completion order",
    kind: ParamKind::Int {
        min: 1,
        max: 1_000_000,
    },
};

/// The catalogue entry.
pub const SPEC: WorkloadSpec = WorkloadSpec {
    id: "interleave",
    tap: "Interleaved (WhenAny in a loop vs processing in completion order)",
    op_unit: "one interleaving: n results processed in completion order",
    variants: &[
        VariantSpec {
            id: "repeated_select",
            doc: "WhenAny over the remaining set in a loop (futures::future::select_all): O(n^2) polls; allocates one Vec of the n operations per interleaving",
            native: false,
        },
        VariantSpec {
            id: "futures_unordered",
            doc: "futures::stream::FuturesUnordered, polling only what was woken: O(n); allocates a task node per operation plus the set's ready queue",
            native: false,
        },
    ],
    params: &[PARAM_N],
    cases: || {
        let n: Vec<ParamValue> = [100, 1000, 10_000]
            .into_iter()
            .map(ParamValue::Int)
            .collect();
        super::grid(
            "interleave",
            &["repeated_select", "futures_unordered"],
            &[("n", &n)],
        )
    },
    // A waker slot and an order entry per operation, plus a futures_unordered task node.
    memory_bytes: |p| p.int("n").unwrap_or(0).saturating_mul(256),
    normalize: |_| {},
    views: &[],
};

/// The result operation `j` completes with.
#[inline]
pub fn result_value(j: u32) -> u64 {
    mix64(u64::from(j).wrapping_add(0x1417))
}

/// The seeded completion order of `n` operations: `order[t]` is the operation that
/// completes `t`-th (a Fisher-Yates shuffle driven by SplitMix64).
pub fn completion_order(n: u32) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n).collect();
    let mut state = 0x5EED_u64 ^ u64::from(n);
    for i in (1..order.len()).rev() {
        state = state.wrapping_add(GOLDEN);
        let j = (mix64(state) % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// Where the `n` operations of an interleaving complete, one at a time, in the seeded
/// order: how many have completed, how many results the consumer has processed, and a
/// waker slot per operation and for the backend.
#[derive(Debug)]
pub struct Board {
    order: Vec<u32>,
    rank: Vec<u32>,
    completed: AtomicU64,
    processed: AtomicU64,
    wakers: Vec<AtomicWaker>,
    backend: AtomicWaker,
}

impl Board {
    /// A board for `n` operations completing in [`completion_order`]`(n)`.
    pub fn new(n: u32) -> Self {
        Board::with_order(completion_order(n))
    }

    /// A board whose operations complete in `order` (a permutation of `0..order.len()`).
    ///
    /// # Panics
    ///
    /// When `order` is not a permutation.
    pub fn with_order(order: Vec<u32>) -> Self {
        let n = order.len();
        let mut rank = vec![u32::MAX; n];
        for (t, j) in order.iter().enumerate() {
            assert!(
                rank[*j as usize] == u32::MAX,
                "completion order is not a permutation"
            );
            rank[*j as usize] = t as u32;
        }
        Board {
            order,
            rank,
            completed: AtomicU64::new(0),
            processed: AtomicU64::new(0),
            wakers: (0..n).map(|_| AtomicWaker::new()).collect(),
            backend: AtomicWaker::new(),
        }
    }

    /// Operations on the board.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the board has no operations.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The seeded completion order.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// When operation `j` completes: its position in the completion order.
    pub fn rank(&self, j: u32) -> u32 {
        self.rank[j as usize]
    }

    /// Starts a new interleaving: nothing completed, nothing processed.
    fn reset(&self) {
        self.completed.store(0, Ordering::Release);
        self.processed.store(0, Ordering::Release);
    }

    /// Operation `j`, pending until its turn in the completion order.
    pub fn operation(&self, j: u32) -> Operation<'_> {
        Operation { board: self, j }
    }

    /// The consumer has processed one more result: the backend may complete the next.
    pub fn processed_one(&self) {
        self.processed.fetch_add(1, Ordering::AcqRel);
        self.backend.wake();
    }

    /// The backend: completes the operations one at a time in the seeded order, each once
    /// the consumer has processed the result before it; ends when all have completed.
    fn backend(&self) -> impl Future<Output = ()> + Send + '_ {
        poll_fn(move |cx| loop {
            let completed = self.completed.load(Ordering::Acquire);
            if completed as usize == self.order.len() {
                return Poll::Ready(());
            }
            if self.processed.load(Ordering::Acquire) < completed {
                self.backend.register(cx.waker());
                if self.processed.load(Ordering::Acquire) < completed {
                    return Poll::Pending;
                }
                continue;
            }
            self.completed.store(completed + 1, Ordering::Release);
            self.wakers[self.order[completed as usize] as usize].wake();
        })
    }
}

/// One of the `n` operations: completes with [`result_value`]`(j)` once the board has
/// reached its turn. A plain, `Unpin` future of two words: it allocates nothing.
#[derive(Debug)]
pub struct Operation<'a> {
    board: &'a Board,
    j: u32,
}

impl Operation<'_> {
    fn is_complete(&self) -> bool {
        u64::from(self.board.rank[self.j as usize]) < self.board.completed.load(Ordering::Acquire)
    }
}

impl Future for Operation<'_> {
    type Output = (u32, u64);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(u32, u64)> {
        if self.is_complete() {
            return Poll::Ready((self.j, result_value(self.j)));
        }
        self.board.wakers[self.j as usize].register(cx.waker());
        if self.is_complete() {
            Poll::Ready((self.j, result_value(self.j)))
        } else {
            Poll::Pending
        }
    }
}

/// What processing results came to: how many, how many out of completion order, and a
/// position-weighted digest of the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Results processed.
    pub processed: u64,
    /// Results processed at another position than their completion.
    pub out_of_order: u64,
    /// Position-weighted sum of the results.
    pub digest: u64,
}

impl Tally {
    /// Processes result `(j, value)` of `board` as the one at `position` (from 0) of the
    /// consumer's sequence.
    #[inline]
    pub fn process(&mut self, board: &Board, position: u64, (j, value): (u32, u64)) {
        if u64::from(board.rank(j)) != position {
            self.out_of_order += 1;
        }
        self.processed += 1;
        self.digest = self
            .digest
            .wrapping_add(digest_term(position, value));
    }

    /// What `ops` interleavings of `board` come to when every result is processed once,
    /// in completion order.
    pub fn expected(board: &Board, ops: u64) -> Tally {
        let mut one = Tally::default();
        for (t, j) in board.order().iter().enumerate() {
            one.process(board, t as u64, (*j, result_value(*j)));
        }
        Tally {
            processed: one.processed * ops,
            out_of_order: 0,
            digest: one.digest.wrapping_mul(ops),
        }
    }

    fn merge(&mut self, other: Tally) {
        self.processed += other.processed;
        self.out_of_order += other.out_of_order;
        self.digest = self.digest.wrapping_add(other.digest);
    }
}

/// A way of processing the results of `n` operations in completion order.
pub trait Interleave: Send + Sync + 'static {
    /// Processes the results of every operation of `board` as they complete.
    fn consume<'a>(&'a self, board: &'a Board) -> impl Future<Output = Tally> + Send + 'a;
}

/// `repeated_select`: `select_all` over the remaining operations, again and again.
#[derive(Debug, Clone, Copy, Default)]
pub struct RepeatedSelect;

impl Interleave for RepeatedSelect {
    async fn consume(&self, board: &Board) -> Tally {
        let mut tally = Tally::default();
        let mut remaining: Vec<Operation<'_>> =
            (0..board.len() as u32).map(|j| board.operation(j)).collect();
        while !remaining.is_empty() {
            let (result, _, rest) = select_all(remaining).await;
            tally.process(board, tally.processed, result);
            board.processed_one();
            remaining = rest;
        }
        tally
    }
}

/// `futures_unordered`: one `FuturesUnordered` holding every operation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unordered;

impl Interleave for Unordered {
    async fn consume(&self, board: &Board) -> Tally {
        let mut tally = Tally::default();
        let mut set: FuturesUnordered<Operation<'_>> =
            (0..board.len() as u32).map(|j| board.operation(j)).collect();
        while let Some(result) = set.next().await {
            tally.process(board, tally.processed, result);
            board.processed_one();
        }
        tally
    }
}

/// One interleaving of `board` with `imp`: the consumer and the backend, polled together.
pub async fn interleave<I: Interleave>(imp: &I, board: &Board) -> Tally {
    board.reset();
    join(imp.consume(board), board.backend()).await.0
}

/// The measured form of an [`Interleave`] implementation.
pub struct InterleaveBench<R, I> {
    _rt: R,
    imp: I,
    board: Board,
    tally: Tally,
}

impl<R: Runtime, I: Interleave> BatchRunner for InterleaveBench<R, I> {
    type Error = Violation;

    fn ops_per_iter(&self) -> u64 {
        1
    }

    fn run_batch(&mut self, iters: u64) -> BatchFuture<'_, Violation> {
        Box::pin(async move {
            let mut tally = Tally::default();
            for _ in 0..iters {
                tally.merge(interleave(&self.imp, &self.board).await);
            }
            self.tally = tally;
            Ok(())
        })
    }

    fn check_batch(&mut self, iters: u64) -> Result<Option<LatencyRecorder>, Violation> {
        check(&self.board, iters, self.tally)?;
        Ok(None)
    }
}

/// Checks what `ops` interleavings of `board` came to.
///
/// # Errors
///
/// A violation when a result was lost, processed twice or out of completion order.
pub fn check(board: &Board, ops: u64, got: Tally) -> Result<(), Violation> {
    let want = Tally::expected(board, ops);
    Violation::check_eq(
        "interleave processes every result exactly once",
        want.processed,
        got.processed,
    )?;
    Violation::check_eq(
        "interleave processes results in completion order",
        0,
        got.out_of_order,
    )?;
    Violation::check_eq(
        "interleave processes each operation's own result",
        want.digest,
        got.digest,
    )
}

fn bench<R: Runtime, I: Interleave>(rt: &R, imp: I, n: u64) -> Result<BoxBench, BuildError> {
    let n = u32::try_from(n)
        .map_err(|_| BuildError::Unsupported(format!("interleave with n = {n}")))?;
    Ok(Box::new(InterleaveBench {
        _rt: rt.clone(),
        imp,
        board: Board::new(n),
        tally: Tally::default(),
    }))
}

pub(crate) fn build<R: Runtime>(rt: &R, case: &Case) -> Result<BoxBench, BuildError> {
    let n = case.params.int("n")?;
    match case.variant.as_str() {
        "repeated_select" => bench(rt, RepeatedSelect, n),
        "futures_unordered" => bench(rt, Unordered, n),
        other => Err(BuildError::Unsupported(format!("interleave/{other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn the_completion_order_is_a_seeded_permutation() {
        let order = completion_order(1000);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
        assert_eq!(order, completion_order(1000));
        // Not the input order, nor its reverse.
        assert!(order.windows(2).filter(|w| w[0] < w[1]).count() > 300);
        assert!(order.windows(2).filter(|w| w[0] > w[1]).count() > 300);
    }

    #[test]
    fn both_variants_process_every_result_in_completion_order() {
        let board = Board::new(200);
        for _ in 0..3 {
            check(&board, 1, block_on(interleave(&RepeatedSelect, &board))).unwrap();
            check(&board, 1, block_on(interleave(&Unordered, &board))).unwrap();
        }
    }

    /// Processing results in input order rather than completion order is caught.
    #[test]
    fn the_check_sees_results_in_input_order() {
        let board = Board::new(50);
        board.reset();
        let mut tally = Tally::default();
        for j in 0..50 {
            tally.process(&board, u64::from(j), (j, result_value(j)));
        }
        assert!(check(&board, 1, tally).is_err());
        let mut missing = Tally::expected(&board, 1);
        missing.processed -= 1;
        assert!(check(&board, 1, missing).is_err());
    }
}
