//! `when_all/native`: tokio's [`JoinSet`].

use std::future::Future;

use tapbench_core::workloads::when_all::{Leaf, WhenAll};
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
