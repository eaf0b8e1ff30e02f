//! `when_all/native` and `when_any/native`: tokio's [`JoinSet`].

use std::future::Future;
use std::sync::Arc;

use tapbench_core::drop_tally::DropTally;
use tapbench_core::workloads::when_all::{Leaf, WhenAll};
use tapbench_core::workloads::when_any::{replicas, WhenAny, Won};
use tokio::task::JoinSet;

use crate::rt::TokioRt;

/// WhenAll with a [`JoinSet`]: spawn every leaf into the set, collect with `join_next` in
/// completion order, and put each result back at its input index.
#[derive(Debug, Clone, Copy, Default)]
pub struct JoinSetWhenAll;

impl WhenAll<TokioRt> for JoinSetWhenAll {
    fn when_all<L: Leaf<TokioRt>>(
        &self,
        rt: &TokioRt,
        n: u64,
    ) -> impl Future<Output = Vec<u64>> + Send {
        let mut set = JoinSet::new();
        for i in 0..n {
            let leaf = L::leaf(rt, i);
            set.spawn_on(async move { (i, leaf.await) }, &rt.handle);
        }
        async move {
            let mut results = vec![0u64; set.len()];
            while let Some(joined) = set.join_next().await {
                match joined {
                    Ok((i, value)) => results[i as usize] = value,
                    Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                    Err(err) => panic!("a JoinSet task was cancelled: {err}"),
                }
            }
            results
        }
    }
}

/// WhenAny with a [`JoinSet`]: spawn the `k` replicas into the set, take the first
/// `join_next`, then drop the set, which aborts every replica still running (tokio drops
/// an aborted task's future later, on its worker).
#[derive(Debug, Clone, Copy, Default)]
pub struct JoinSetWhenAny;

impl WhenAny<TokioRt> for JoinSetWhenAny {
    fn when_any<L: Leaf<TokioRt>>(
        &self,
        rt: &TokioRt,
        i: u64,
        k: u32,
        tally: &Arc<DropTally>,
    ) -> impl Future<Output = Won> + Send {
        let mut set = JoinSet::new();
        for replica in replicas::<TokioRt, L>(rt, i, k, tally) {
            set.spawn_on(replica, &rt.handle);
        }
        async move {
            let won = match set.join_next().await {
                Some(Ok(won)) => won,
                Some(Err(err)) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Some(Err(err)) => panic!("a JoinSet replica was cancelled: {err}"),
                None => panic!("a race of k >= 1 replicas yields a first result"),
            };
            drop(set);
            won
        }
    }
}
