//! `cancel/token`: tokio-util's [`CancellationToken`].

use std::future::Future;

use tapbench_core::workloads::cancel::Signal;
use tokio_util::sync::CancellationToken;

/// The tree's signal as tokio users write it: a [`CancellationToken`] at the root and a
/// [`child_token`](CancellationToken::child_token) for every task, so the tokens form the
/// same tree as the tasks; cancelling the root cancels every descendant (tokio-util walks
/// the token tree and wakes each token's waiters).
///
/// Allocates one token node per task and the root's (an `Arc` each), and each parent
/// token's list of children (a `Vec` grown by push).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioToken;

impl Signal for TokioToken {
    type Source = CancellationToken;
    type Token = CancellationToken;

    fn source() -> CancellationToken {
        CancellationToken::new()
    }

    fn token(source: &CancellationToken) -> CancellationToken {
        source.child_token()
    }

    fn child(parent: &CancellationToken) -> CancellationToken {
        parent.child_token()
    }

    fn cancel(source: CancellationToken) {
        source.cancel();
    }

    fn cancelled(token: &mut CancellationToken) -> impl Future<Output = ()> + Send + '_ {
        token.cancelled()
    }
}
