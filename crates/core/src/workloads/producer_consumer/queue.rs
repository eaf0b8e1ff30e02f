//! What a queue must offer to run `producer_consumer`: a kind that makes channels, their
//! senders and receivers. Implemented by the hand-built [`super::tcs_queue`], by
//! [`super::async_channel`] and by each runtime's own channel in its runtime crate.

use std::future::Future;

/// The queue was closed (every receiver is gone) while sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// The sending side of a queue: cloned once per producer.
pub trait QueueSender<T>: Clone + Send + Sync + 'static {
    /// Sends `item`, waiting for room in a bounded queue.
    fn send(&mut self, item: T) -> impl Future<Output = Result<(), Closed>> + Send + '_;
}

/// The receiving side of a queue: one per consumer.
pub trait QueueReceiver<T>: Send + 'static {
    /// The next item, or `None` once every sender is gone and the queue is empty.
    fn recv(&mut self) -> impl Future<Output = Option<T>> + Send + '_;
}

/// A kind of async queue.
pub trait QueueKind: Send + Sync + 'static {
    /// Sending side.
    type Sender<T: Send + 'static>: QueueSender<T>;
    /// Receiving side.
    type Receiver<T: Send + 'static>: QueueReceiver<T>;

    /// What the queue is, for reports.
    fn name(&self) -> &'static str;

    /// A new queue (bounded when `capacity` is set) with one receiver per consumer. The
    /// sender will be cloned once per producer and only the clones send: a channel whose
    /// bound grows with its senders (futures' mpsc gives every sender a slot of its own)
    /// uses `producers` to hold `capacity` items at most.
    fn channel<T: Send + 'static>(
        &self,
        capacity: Option<usize>,
        producers: usize,
        consumers: usize,
    ) -> (Self::Sender<T>, Vec<Self::Receiver<T>>);
}
