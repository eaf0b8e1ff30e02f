//! `cancel/token`: a [`oneshot`] channel made [`Shared`], the futures crate's own
//! broadcast of a one-time event.

use futures::channel::oneshot;
use futures::future::{FutureExt, Shared};
use tapbench_core::workloads::cancel::Signal;

/// The tree's signal as users of the futures crate write it: the receiver of a
/// [`oneshot`] channel turned into a [`Shared`] future, a clone per task; the canceller's
/// `send(())` completes it and wakes every clone. One signal for the whole tree (no child
/// scopes): a task's children get clones of its own.
///
/// Allocates the one-shot's state, the `Shared` future's state and its notifier, and the
/// notifier's slab of wakers (a `Vec` grown as the tasks register).
#[derive(Debug, Clone, Copy, Default)]
pub struct SharedOneshot;

impl Signal for SharedOneshot {
    type Source = (oneshot::Sender<()>, Shared<oneshot::Receiver<()>>);
    type Token = Shared<oneshot::Receiver<()>>;

    fn source() -> Self::Source {
        let (sender, receiver) = oneshot::channel();
        (sender, receiver.shared())
    }

    fn token(source: &Self::Source) -> Self::Token {
        source.1.clone()
    }

    fn child(parent: &Self::Token) -> Self::Token {
        parent.clone()
    }

    fn cancel(source: Self::Source) {
        // Every receiver is a clone of `source.1`, dropped only after the cancel: the send
        // cannot find the channel closed.
        let _sent = source.0.send(());
    }

    async fn cancelled(token: &mut Self::Token) {
        let _sent = token.await;
    }
}
