//! `async-channel` as a [`QueueKind`]: a multi-producer multi-consumer channel whose
//! receivers are cloned per consumer. It is the native channel of two runtime families
//! (smol re-exports it as `smol::channel`, async-std as `async_std::channel`), so it lives
//! here once; it depends on no runtime.

use async_channel::{self as channel, Receiver, Sender};

use super::queue::{Closed, QueueKind, QueueReceiver, QueueSender};

/// async-channel as a [`QueueKind`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncChannel;

/// Sending side.
#[derive(Debug)]
pub struct ChannelSender<T>(Sender<T>);

impl<T> Clone for ChannelSender<T> {
    fn clone(&self) -> Self {
        ChannelSender(self.0.clone())
    }
}

/// Receiving side (one clone per consumer).
#[derive(Debug)]
pub struct ChannelReceiver<T>(Receiver<T>);

impl<T: Send + 'static> QueueSender<T> for ChannelSender<T> {
    async fn send(&mut self, item: T) -> Result<(), Closed> {
        self.0.send(item).await.map_err(|_| Closed)
    }
}

impl<T: Send + 'static> QueueReceiver<T> for ChannelReceiver<T> {
    async fn recv(&mut self) -> Option<T> {
        self.0.recv().await.ok()
    }
}

impl QueueKind for AsyncChannel {
    type Sender<T: Send + 'static> = ChannelSender<T>;
    type Receiver<T: Send + 'static> = ChannelReceiver<T>;

    fn name(&self) -> &'static str {
        "async-channel"
    }

    fn channel<T: Send + 'static>(
        &self,
        capacity: Option<usize>,
        _producers: usize,
        consumers: usize,
    ) -> (ChannelSender<T>, Vec<ChannelReceiver<T>>) {
        let (tx, rx) = match capacity {
            Some(capacity) => channel::bounded(capacity),
            None => channel::unbounded(),
        };
        let receivers = (0..consumers.max(1))
            .map(|_| ChannelReceiver(rx.clone()))
            .collect();
        (ChannelSender(tx), receivers)
    }
}
