//! The trees of tasks `cancel` builds and cancels: their [`Shape`], the two ways of
//! cancelling them ([`TokenTree`] over a [`Signal`], and [`DropHandles`]), and the tasks.
//!
//! Every task is a node of the tree. Node `id` at level `level` (the measured task is node 0
//! at level 0) spawns, when `level < depth`, its `width` children `id * width + 1 ..= id *
//! width + width`, keeping their join handles in a `Vec`; then it waits on its work, a
//! [`WORK`]-long sleep on the runtime's timer that no operation lets finish. The nodes of a
//! tree are numbered `1..=tasks` this way, each once.

use std::future::Future;
use std::marker::PhantomData;
use std::ops::Range;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{select, Either};

use super::probe::{Probe, TaskGuard};
use crate::runtime::Runtime;

/// How long a task's work would take: far longer than any operation, so a work that
/// completes is a task that was never cancelled.
pub const WORK: Duration = Duration::from_secs(60);

/// The most tasks one tree may have.
pub const MAX_TASKS: u64 = 1_000_000;

/// A tree: every node has `width` children, down to `depth` levels of tasks below the
/// measured task, so it has `width + width^2 + ... + width^depth` tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Children of every node above the last level.
    pub width: u64,
    /// Levels of tasks below the measured task.
    pub depth: u32,
}

impl Shape {
    /// Tasks in the tree, or `None` past `u64`.
    pub fn checked_tasks(&self) -> Option<u64> {
        let mut level = 1u64;
        let mut total = 0u64;
        for _ in 0..self.depth {
            level = level.checked_mul(self.width)?;
            total = total.checked_add(level)?;
        }
        Some(total)
    }

    /// Tasks in the tree (saturating).
    pub fn tasks(&self) -> u64 {
        self.checked_tasks().unwrap_or(u64::MAX)
    }

    /// Tasks that spawn children (every level but the last), each holding a `Vec` of their
    /// handles.
    pub fn parents(&self) -> u64 {
        Shape {
            depth: self.depth.saturating_sub(1),
            ..*self
        }
        .tasks()
    }

    /// The ids of the children of node `id` at `level` (none on the last level).
    pub fn children(&self, id: u64, level: u32) -> Range<u64> {
        if level < self.depth {
            let first = id * self.width + 1;
            first..first + self.width
        } else {
            0..0
        }
    }
}

/// A cancellation signal for a tree of tasks: the canceller holds the source, every task a
/// token. The `token` variant's native form: each runtime family supplies its own.
pub trait Signal: Send + Sync + 'static {
    /// What the canceller holds.
    type Source: Send + 'static;
    /// What each task holds.
    type Token: Send + 'static;

    /// A new signal, not cancelled.
    fn source() -> Self::Source;

    /// The token of a task at the first level.
    fn token(source: &Self::Source) -> Self::Token;

    /// The token of a child of the task holding `parent`: cancelled when `parent` is (a
    /// child token where the family has them, the same signal shared otherwise).
    fn child(parent: &Self::Token) -> Self::Token;

    /// Cancels every token of the signal.
    fn cancel(source: Self::Source);

    /// Completes once `token` is cancelled.
    fn cancelled(token: &mut Self::Token) -> impl Future<Output = ()> + Send + '_;
}

/// One way of cancelling a tree: build it, then cancel it from its root.
pub trait CancelTree<R: Runtime>: Send + Sync + 'static {
    /// Whether the tasks stop by observing a token (and return), rather than by being
    /// dropped.
    const OBSERVES_TOKEN: bool;

    /// What the measured task holds of the tree: the first level's handles, the signal.
    type Root: Send;

    /// Spawns the tree of `shape`, its tasks reporting to `probe`, and returns its root.
    fn build(&self, rt: &R, shape: Shape, probe: &Arc<Probe>) -> Self::Root;

    /// Cancels the tree (without waiting for its tasks to stop).
    fn cancel(&self, root: &mut Self::Root);
}

/// `token`: every task races its work against its token ([`futures::future::select`],
/// the token polled first) and returns when it observes the cancel, after awaiting its
/// children's handles; the canceller cancels the signal at the root.
pub struct TokenTree<S>(PhantomData<fn() -> S>);

impl<S> TokenTree<S> {
    /// The tree over signal `S`.
    pub const fn new() -> Self {
        TokenTree(PhantomData)
    }
}

impl<S> Default for TokenTree<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> std::fmt::Debug for TokenTree<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenTree")
    }
}

/// The root of a [`TokenTree`]: the signal's source and the first level's handles.
#[derive(Debug)]
pub struct TokenRoot<Src, H> {
    source: Option<Src>,
    // Held, not read: dropping the root drops them (after the operation, once every task
    // has returned).
    _handles: Vec<H>,
}

impl<R: Runtime, S: Signal> CancelTree<R> for TokenTree<S> {
    const OBSERVES_TOKEN: bool = true;

    type Root = TokenRoot<S::Source, R::JoinHandle<()>>;

    fn build(&self, rt: &R, shape: Shape, probe: &Arc<Probe>) -> Self::Root {
        let source = S::source();
        let handles = shape
            .children(0, 0)
            .map(|id| spawn_token_node::<R, S>(rt, shape, id, 1, S::token(&source), probe))
            .collect();
        TokenRoot {
            source: Some(source),
            _handles: handles,
        }
    }

    fn cancel(&self, root: &mut Self::Root) {
        if let Some(source) = root.source.take() {
            S::cancel(source);
        }
    }
}

fn spawn_token_node<R: Runtime, S: Signal>(
    rt: &R,
    shape: Shape,
    id: u64,
    level: u32,
    token: S::Token,
    probe: &Arc<Probe>,
) -> R::JoinHandle<()> {
    let guard = TaskGuard::new(probe, id);
    rt.spawn(token_node::<R, S>(rt.clone(), shape, level, token, guard))
}

/// A task of a [`TokenTree`]: spawns its children, races its work against its token, and
/// once it has observed the cancel awaits its children (so that they too stop by their
/// token, not by the drop of their handles).
async fn token_node<R: Runtime, S: Signal>(
    rt: R,
    shape: Shape,
    level: u32,
    mut token: S::Token,
    mut guard: TaskGuard,
) {
    let children: Vec<R::JoinHandle<()>> = shape
        .children(guard.id(), level)
        .map(|id| {
            let child = S::child(&token);
            spawn_token_node::<R, S>(&rt, shape, id, level + 1, child, guard.probe())
        })
        .collect();
    let work = rt.sleep(WORK);
    // From here on the task holds only its children's handles, its work and its token.
    drop(rt);
    let cancelled = pin!(S::cancelled(&mut token));
    let work = pin!(work);
    match guard.park(select(cancelled, work)).await {
        Either::Left(((), _work)) => guard.observe(),
        Either::Right(((), _cancelled)) => guard.complete(),
    }
    for child in children {
        child.await;
    }
    // Counted before the task's output is handed to its join handle.
    drop(guard);
}

/// `drop_handles`: every task awaits its work holding its children's join handles; the
/// canceller drops the first level's handles, which cancels those tasks, and each dropped
/// task drops its children's handles in turn. A task observes the cancel when its future
/// is dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct DropHandles;

impl<R: Runtime> CancelTree<R> for DropHandles {
    const OBSERVES_TOKEN: bool = false;

    type Root = Vec<R::JoinHandle<()>>;

    fn build(&self, rt: &R, shape: Shape, probe: &Arc<Probe>) -> Self::Root {
        shape
            .children(0, 0)
            .map(|id| spawn_drop_node(rt, shape, id, 1, probe))
            .collect()
    }

    fn cancel(&self, root: &mut Self::Root) {
        // Drops every handle (the Vec itself is freed with the root, after the operation).
        root.clear();
    }
}

fn spawn_drop_node<R: Runtime>(
    rt: &R,
    shape: Shape,
    id: u64,
    level: u32,
    probe: &Arc<Probe>,
) -> R::JoinHandle<()> {
    let guard = TaskGuard::new(probe, id);
    rt.spawn(drop_node(rt.clone(), shape, level, guard))
}

/// A task of [`DropHandles`]: spawns its children and awaits its work; dropped while it
/// waits, it drops its children's handles, and its guard counts the observation.
async fn drop_node<R: Runtime>(rt: R, shape: Shape, level: u32, mut guard: TaskGuard) {
    let children: Vec<R::JoinHandle<()>> = shape
        .children(guard.id(), level)
        .map(|id| spawn_drop_node(&rt, shape, id, level + 1, guard.probe()))
        .collect();
    let work = rt.sleep(WORK);
    // From here on the task holds only its children's handles, its work and its token.
    drop(rt);
    guard.park(work).await;
    guard.complete();
    for child in children {
        child.await;
    }
    // Counted before the task's output is handed to its join handle.
    drop(guard);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shape_numbers_its_nodes_once_each() {
        for (width, depth) in [(10, 1), (4, 3), (1, 5), (3, 4)] {
            let shape = Shape { width, depth };
            let mut ids: Vec<u64> = Vec::new();
            let mut level_ids = vec![0u64];
            for level in 0..depth {
                let next: Vec<u64> = level_ids
                    .iter()
                    .flat_map(|id| shape.children(*id, level))
                    .collect();
                ids.extend(&next);
                level_ids = next;
            }
            assert!(level_ids.iter().all(|id| shape.children(*id, depth).is_empty()));
            ids.sort_unstable();
            let want: Vec<u64> = (1..=shape.tasks()).collect();
            assert_eq!(ids, want, "{shape:?}");
        }
        assert_eq!(Shape { width: 4, depth: 3 }.tasks(), 84);
        assert_eq!(Shape { width: 4, depth: 3 }.parents(), 20);
        assert_eq!(Shape { width: 10, depth: 1 }.parents(), 0);
        assert_eq!(Shape { width: 1000, depth: 20 }.checked_tasks(), None);
    }
}
