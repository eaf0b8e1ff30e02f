//! `producer_consumer/native_channel` on the futures executors: [`futures::channel::mpsc`].
//!
//! futures' bounded channel holds `buffer` items plus one per sender (every sender may
//! always place one item), so a queue of `capacity` for `producers` senders is made with
//! `buffer = capacity - producers`. The receiver is single-consumer: with several consumers
//! they share it behind a [`futures::lock::Mutex`], as users of futures do.
//!
//! A send is `SinkExt::feed`, which returns once the item is queued, as the other runtimes'
//! sends do. (`SinkExt::send` also flushes, and a flush of this channel waits until there is
//! room for the sender's *next* item: a full queue would then hold one item whose send has
//! not returned.)

use std::sync::Arc;

use futures::channel::mpsc;
use futures::lock::Mutex;
use futures::{SinkExt, StreamExt};
use tapbench_core::workloads::producer_consumer::{Closed, QueueKind, QueueReceiver, QueueSender};

/// futures mpsc as a [`QueueKind`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FuturesMpsc;

/// Sending side: a bounded or unbounded mpsc sender.
#[derive(Debug)]
pub enum MpscSender<T> {
    /// `mpsc::channel(buffer)`.
    Bounded(mpsc::Sender<T>),
    /// `mpsc::unbounded()`.
    Unbounded(mpsc::UnboundedSender<T>),
}

impl<T> Clone for MpscSender<T> {
    fn clone(&self) -> Self {
        match self {
            MpscSender::Bounded(s) => MpscSender::Bounded(s.clone()),
            MpscSender::Unbounded(s) => MpscSender::Unbounded(s.clone()),
        }
    }
}

/// Receiving side: owned by the only consumer, or shared behind a mutex.
#[derive(Debug)]
pub enum MpscReceiver<T> {
    /// The receiver of a bounded channel, one consumer.
    Bounded(mpsc::Receiver<T>),
    /// The receiver of an unbounded channel, one consumer.
    Unbounded(mpsc::UnboundedReceiver<T>),
    /// A bounded receiver shared by several consumers.
    SharedBounded(Arc<Mutex<mpsc::Receiver<T>>>),
    /// An unbounded receiver shared by several consumers.
    SharedUnbounded(Arc<Mutex<mpsc::UnboundedReceiver<T>>>),
}

impl<T: Send + 'static> QueueSender<T> for MpscSender<T> {
    async fn send(&mut self, item: T) -> Result<(), Closed> {
        match self {
            MpscSender::Bounded(s) => s.feed(item).await.map_err(|_| Closed),
            MpscSender::Unbounded(s) => s.unbounded_send(item).map_err(|_| Closed),
        }
    }
}

impl<T: Send + 'static> QueueReceiver<T> for MpscReceiver<T> {
    async fn recv(&mut self) -> Option<T> {
        match self {
            MpscReceiver::Bounded(r) => r.next().await,
            MpscReceiver::Unbounded(r) => r.next().await,
            MpscReceiver::SharedBounded(r) => r.lock().await.next().await,
            MpscReceiver::SharedUnbounded(r) => r.lock().await.next().await,
        }
    }
}

/// `consumers` handles on one receiver: the receiver itself for a single consumer, else
/// clones of it behind a mutex.
fn receivers<T, R>(
    rx: R,
    consumers: usize,
    own: fn(R) -> MpscReceiver<T>,
    shared: fn(Arc<Mutex<R>>) -> MpscReceiver<T>,
) -> Vec<MpscReceiver<T>> {
    if consumers <= 1 {
        vec![own(rx)]
    } else {
        let rx = Arc::new(Mutex::new(rx));
        (0..consumers).map(|_| shared(Arc::clone(&rx))).collect()
    }
}

impl QueueKind for FuturesMpsc {
    type Sender<T: Send + 'static> = MpscSender<T>;
    type Receiver<T: Send + 'static> = MpscReceiver<T>;

    fn name(&self) -> &'static str {
        "futures::channel::mpsc (receiver shared behind futures::lock::Mutex when consumers > 1)"
    }

    fn channel<T: Send + 'static>(
        &self,
        capacity: Option<usize>,
        producers: usize,
        consumers: usize,
    ) -> (MpscSender<T>, Vec<MpscReceiver<T>>) {
        match capacity {
            Some(capacity) => {
                let (tx, rx) = mpsc::channel(capacity.saturating_sub(producers.max(1)));
                let rxs = receivers(
                    rx,
                    consumers,
                    MpscReceiver::Bounded,
                    MpscReceiver::SharedBounded,
                );
                (MpscSender::Bounded(tx), rxs)
            }
            None => {
                let (tx, rx) = mpsc::unbounded();
                let rxs = receivers(
                    rx,
                    consumers,
                    MpscReceiver::Unbounded,
                    MpscReceiver::SharedUnbounded,
                );
                (MpscSender::Unbounded(tx), rxs)
            }
        }
    }
}
