//! `producer_consumer/native_channel`: [`tokio::sync::mpsc`].
//!
//! tokio's channel has a single receiver. With one consumer the receiver is used directly;
//! with several, they share it behind a [`tokio::sync::Mutex`], as users of tokio do when
//! they need several consumers on one mpsc channel.

use std::sync::Arc;

use tapbench_core::workloads::producer_consumer::{Closed, QueueKind, QueueReceiver, QueueSender};
use tokio::sync::{mpsc, Mutex};

/// tokio mpsc as a [`QueueKind`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioMpsc;

/// Sending side: a bounded or unbounded mpsc sender.
#[derive(Debug)]
pub enum MpscSender<T> {
    /// `mpsc::channel(capacity)`.
    Bounded(mpsc::Sender<T>),
    /// `mpsc::unbounded_channel()`.
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
            MpscSender::Bounded(s) => s.send(item).await.map_err(|_| Closed),
            MpscSender::Unbounded(s) => s.send(item).map_err(|_| Closed),
        }
    }
}

impl<T: Send + 'static> QueueReceiver<T> for MpscReceiver<T> {
    async fn recv(&mut self) -> Option<T> {
        match self {
            MpscReceiver::Bounded(r) => r.recv().await,
            MpscReceiver::Unbounded(r) => r.recv().await,
            MpscReceiver::SharedBounded(r) => r.lock().await.recv().await,
            MpscReceiver::SharedUnbounded(r) => r.lock().await.recv().await,
        }
    }
}

impl QueueKind for TokioMpsc {
    type Sender<T: Send + 'static> = MpscSender<T>;
    type Receiver<T: Send + 'static> = MpscReceiver<T>;

    fn name(&self) -> &'static str {
        "tokio::sync::mpsc (receiver shared behind tokio::sync::Mutex when consumers > 1)"
    }

    fn channel<T: Send + 'static>(
        &self,
        capacity: Option<usize>,
        _producers: usize,
        consumers: usize,
    ) -> (MpscSender<T>, Vec<MpscReceiver<T>>) {
        let consumers = consumers.max(1);
        match capacity {
            Some(capacity) => {
                let (tx, rx) = mpsc::channel(capacity);
                let rxs = if consumers == 1 {
                    vec![MpscReceiver::Bounded(rx)]
                } else {
                    let shared = Arc::new(Mutex::new(rx));
                    (0..consumers)
                        .map(|_| MpscReceiver::SharedBounded(shared.clone()))
                        .collect()
                };
                (MpscSender::Bounded(tx), rxs)
            }
            None => {
                let (tx, rx) = mpsc::unbounded_channel();
                let rxs = if consumers == 1 {
                    vec![MpscReceiver::Unbounded(rx)]
                } else {
                    let shared = Arc::new(Mutex::new(rx));
                    (0..consumers)
                        .map(|_| MpscReceiver::SharedUnbounded(shared.clone()))
                        .collect()
                };
                (MpscSender::Unbounded(tx), rxs)
            }
        }
    }
}
