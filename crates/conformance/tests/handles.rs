//! Join handles mean the same on every configuration, because workloads that race, time out
//! or cancel rely on it: dropping the handle of an unfinished task cancels the task - its
//! future, and everything the future owns, is dropped promptly - while a detached task runs
//! to completion. (tokio and async-std detach on drop by default; their runtime crates abort
//! instead.)

use std::future::pending;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::{select, Either};
use tapbench_conformance::rt_test;
use tapbench_core::Runtime;

/// How long a cancelled task may take to be dropped: far above the microseconds it takes,
/// so that only a task that is never dropped (a leak) fails.
const PROMPT: Duration = Duration::from_secs(2);

/// Signals when it is dropped: what a task's future owns is dropped with it.
struct DropGuard(Option<oneshot::Sender<()>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(signal) = self.0.take() {
            let _ = signal.send(());
        }
    }
}

/// A guard and the receiver that hears its drop.
fn guard() -> (DropGuard, oneshot::Receiver<()>) {
    let (tx, rx) = oneshot::channel();
    (DropGuard(Some(tx)), rx)
}

/// Whether `signal` arrives within `limit` on the runtime's timer (`false` on a time-out or
/// when its sender is dropped without sending).
async fn arrives_within<R: Runtime>(
    rt: &R,
    signal: oneshot::Receiver<()>,
    limit: Duration,
) -> bool {
    match select(signal, pin!(rt.sleep(limit))).await {
        Either::Left((received, _)) => received.is_ok(),
        Either::Right(((), _)) => false,
    }
}

rt_test! {
    /// A task that is running (it has reached a pending await) is cancelled when its
    /// handle is dropped, and never gets past that await.
    async fn dropping_the_handle_of_a_pending_task_drops_its_future(rt) {
        let (guard, dropped) = guard();
        let (started_tx, started) = oneshot::channel::<()>();
        let went_on = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&went_on);
        let handle = rt.spawn(async move {
            let _guard = guard;
            let _ = started_tx.send(());
            pending::<()>().await;
            flag.store(true, Ordering::SeqCst);
        });
        started.await.expect("the task starts");
        drop(handle);
        assert!(
            arrives_within(&rt, dropped, PROMPT).await,
            "{}: the task's drop guard did not run within {PROMPT:?} of dropping its handle",
            Cfg::INFO.id
        );
        assert!(!went_on.load(Ordering::SeqCst));
    }

    /// A task whose handle is dropped before it first runs is dropped too, unrun.
    async fn dropping_the_handle_of_an_unstarted_task_drops_its_future(rt) {
        let (guard, dropped) = guard();
        let ran = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&ran);
        let handle = rt.spawn(async move {
            let _guard = guard;
            flag.store(true, Ordering::SeqCst);
            pending::<()>().await;
        });
        drop(handle);
        assert!(
            arrives_within(&rt, dropped, PROMPT).await,
            "{}: an unstarted task was not dropped with its handle",
            Cfg::INFO.id
        );
    }

    /// A task waiting on the runtime's timer (a timeout's abandoned operation) is cancelled
    /// long before its sleep would end.
    async fn dropping_the_handle_of_a_sleeping_task_cancels_the_sleep(rt) {
        let (guard, dropped) = guard();
        let sleeper = rt.clone();
        let handle = rt.spawn(async move {
            let _guard = guard;
            sleeper.sleep(Duration::from_secs(60)).await;
        });
        rt.sleep(Duration::from_millis(1)).await;
        drop(handle);
        assert!(arrives_within(&rt, dropped, PROMPT).await, "{}", Cfg::INFO.id);
    }

    /// Fire and forget is explicit, and a detached task runs to its end after yields and a
    /// sleep, with nobody holding a handle.
    async fn a_detached_task_still_completes(rt) {
        let (done_tx, done) = oneshot::channel::<()>();
        let inner = rt.clone();
        rt.spawn_detached(async move {
            inner.yield_now().await;
            inner.sleep(Duration::from_millis(1)).await;
            inner.yield_now().await;
            let _ = done_tx.send(());
        });
        assert!(
            arrives_within(&rt, done, PROMPT).await,
            "{}: a detached task did not complete",
            Cfg::INFO.id
        );
    }

    /// A handle dropped after its task finished (output never awaited) changes nothing:
    /// the task's effects stand and its output is dropped.
    async fn dropping_a_finished_tasks_handle_is_harmless(rt) {
        let (finished_tx, finished) = oneshot::channel::<()>();
        let (guard, dropped) = guard();
        let handle = rt.spawn(async move {
            let _ = finished_tx.send(());
            guard
        });
        finished.await.expect("the task finishes");
        // Give it time to store its output, then drop the handle: the output (the guard)
        // is dropped with it.
        rt.sleep(Duration::from_millis(1)).await;
        drop(handle);
        assert!(arrives_within(&rt, dropped, PROMPT).await, "{}", Cfg::INFO.id);
    }
}

/// The checks above can fail: a guard that is never dropped is reported as such.
#[test]
fn a_leaked_guard_is_noticed() {
    let (guard, dropped) = guard();
    let leaked = futures::executor::block_on(async {
        let timer = async {
            std::thread::sleep(Duration::from_millis(20));
        };
        match select(dropped, pin!(timer)).await {
            Either::Left((received, _)) => received.is_ok(),
            Either::Right(((), _)) => false,
        }
    });
    assert!(!leaked, "a guard still alive reported as dropped");
    drop(guard);
}
