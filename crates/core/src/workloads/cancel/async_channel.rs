//! The shutdown channel as a [`Signal`]: an `async-channel` whose receivers every task
//! awaits and whose close wakes them all. It is how smol's own documentation stops its
//! executor threads (`smol::channel`), and async-std re-exports the same crate
//! (`async_std::channel`), so both families use it, written once here.

use async_channel::{Receiver, Sender};

use super::tree::Signal;

/// An unbounded `async-channel` of `()` that nobody sends on: each task holds a clone of
/// the receiver and awaits `recv()`, which fails once the canceller closes the channel.
/// One signal for the whole tree (async-channel has no child scopes): a task's children
/// get clones of its receiver.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChannelSignal;

impl Signal for ChannelSignal {
    type Source = (Sender<()>, Receiver<()>);
    type Token = Receiver<()>;

    fn source() -> Self::Source {
        async_channel::unbounded()
    }

    fn token(source: &Self::Source) -> Receiver<()> {
        source.1.clone()
    }

    fn child(parent: &Receiver<()>) -> Receiver<()> {
        parent.clone()
    }

    fn cancel(source: Self::Source) {
        source.0.close();
    }

    async fn cancelled(token: &mut Receiver<()>) {
        // Nothing is ever sent: `recv` returns only when the channel is closed.
        let _closed = token.recv().await;
    }
}
