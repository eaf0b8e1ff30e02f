//! The hand-built async producer/consumer collection of the .NET seed
//! (`AsyncProducerConsumerCollection<T>`): a locked queue of items plus a queue of waiting
//! one-shot completions (`TaskCompletionSource<T>`).
//!
//! `add` hands the item straight to the oldest waiting taker if there is one, else queues
//! it; `take` returns a queued item at once, else registers a one-shot completion and awaits
//! it. The bounded form also keeps a queue of waiting adders, woken one per item taken, so
//! the queue never holds more than its capacity. Dropping the last sender completes adding:
//! waiting takers then see `None`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::channel::oneshot;

use super::queue::{Closed, QueueKind, QueueReceiver, QueueSender};

struct State<T> {
    items: VecDeque<T>,
    waiting_takers: VecDeque<oneshot::Sender<T>>,
    waiting_adders: VecDeque<oneshot::Sender<()>>,
    capacity: Option<usize>,
    senders: usize,
}

struct Shared<T> {
    state: Mutex<State<T>>,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while holding the lock cannot leave the queues half-updated (every update
        // is a single push or pop), so a poisoned lock is still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The sending side; cloning it adds a producer, dropping the last one completes adding.
pub struct TcsSender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving side; any number of consumers may share the queue.
pub struct TcsReceiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for TcsSender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        TcsSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for TcsSender<T> {
    fn drop(&mut self) {
        let takers = {
            let mut state = self.shared.lock();
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            std::mem::take(&mut state.waiting_takers)
        };
        // Dropping a waiting taker's completion resolves its `take` to `None`.
        drop(takers);
    }
}

impl<T: Send + 'static> QueueSender<T> for TcsSender<T> {
    async fn send(&mut self, item: T) -> Result<(), Closed> {
        let mut item = item;
        loop {
            let wait = {
                let mut state = self.shared.lock();
                if let Some(taker) = state.waiting_takers.pop_front() {
                    drop(state);
                    match taker.send(item) {
                        Ok(()) => return Ok(()),
                        // That taker gave up; try the next one.
                        Err(back) => {
                            item = back;
                            continue;
                        }
                    }
                }
                if state.capacity.is_none_or(|cap| state.items.len() < cap) {
                    state.items.push_back(item);
                    return Ok(());
                }
                let (wake, wait) = oneshot::channel();
                state.waiting_adders.push_back(wake);
                wait
            };
            // Woken (or the queue went away) when an item is taken; try again.
            let _ = wait.await;
        }
    }
}

impl<T: Send + 'static> QueueReceiver<T> for TcsReceiver<T> {
    async fn recv(&mut self) -> Option<T> {
        let wait = {
            let mut state = self.shared.lock();
            if let Some(item) = state.items.pop_front() {
                wake_one_adder(&mut state.waiting_adders);
                return Some(item);
            }
            if state.senders == 0 {
                return None;
            }
            let (complete, wait) = oneshot::channel();
            state.waiting_takers.push_back(complete);
            // A waiting adder can hand its item to this taker. Without this wake-up it
            // may wait forever: the adder woken by the last take may have handed its
            // item straight to a taker instead of refilling the queue, leaving the
            // queue empty, this taker waiting and the other adders asleep.
            wake_one_adder(&mut state.waiting_adders);
            wait
        };
        wait.await.ok()
    }
}

/// Wakes the oldest waiting adder that is still waiting (one whose `send` was not dropped).
fn wake_one_adder(adders: &mut VecDeque<oneshot::Sender<()>>) {
    while let Some(adder) = adders.pop_front() {
        if adder.send(()).is_ok() {
            break;
        }
    }
}

/// The seed's collection as a [`QueueKind`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TcsQueue;

impl QueueKind for TcsQueue {
    type Sender<T: Send + 'static> = TcsSender<T>;
    type Receiver<T: Send + 'static> = TcsReceiver<T>;

    fn name(&self) -> &'static str {
        "tcs_queue (Mutex<VecDeque> + queue of oneshot completions)"
    }

    fn channel<T: Send + 'static>(
        &self,
        capacity: Option<usize>,
        _producers: usize,
        consumers: usize,
    ) -> (TcsSender<T>, Vec<TcsReceiver<T>>) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity.unwrap_or(0)),
                waiting_takers: VecDeque::new(),
                waiting_adders: VecDeque::new(),
                capacity,
                senders: 1,
            }),
        });
        let receivers = (0..consumers.max(1))
            .map(|_| TcsReceiver {
                shared: Arc::clone(&shared),
            })
            .collect();
        (TcsSender { shared }, receivers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn items_come_out_in_order_and_close_ends_takes() {
        let (mut tx, mut rxs) = TcsQueue.channel::<u32>(None, 1, 1);
        block_on(async {
            for i in 0..5 {
                tx.send(i).await.unwrap();
            }
            drop(tx);
            let rx = &mut rxs[0];
            for i in 0..5 {
                assert_eq!(rx.recv().await, Some(i));
            }
            assert_eq!(rx.recv().await, None);
        });
    }

    #[test]
    fn a_waiting_taker_gets_the_item_directly() {
        let (mut tx, mut rxs) = TcsQueue.channel::<u32>(Some(1), 1, 1);
        let mut rx = rxs.pop().unwrap();
        let mut take = Box::pin(rx.recv());
        assert!(futures::FutureExt::now_or_never(&mut take).is_none());
        assert!(block_on(tx.send(7)).is_ok());
        assert_eq!(tx.shared.lock().items.len(), 0, "handed over, not queued");
        assert_eq!(block_on(take), Some(7));
    }
}
