//! The runtime configurations the suite runs on, as types: one [`RtConfig`] per
//! configuration id of the catalogue that this workspace implements.

use futures::future::BoxFuture;
use tapbench_core::workloads::producer_consumer::QueueKind;
use tapbench_core::workloads::when_all::{LeafOp, WhenAll};
use tapbench_core::{BoxBench, BuildError, Case, Host, Runtime};
use tapbench_rt_smol::{AsyncChannel, SmolLocalHost, SmolMtHost};
use tapbench_rt_tokio::{Flavor, JoinSetWhenAll, TokioHost, TokioMpsc, TokioRt};

/// Worker threads of the multi-threaded configurations (`tokio-mt`, `smol-mt`).
pub const MT_THREADS: usize = 2;

/// One runtime configuration: how to build its host, and its runtime crate's entry points
/// (the bench builder that adds the native variants, and the native types themselves).
///
/// Implemented by the marker types [`TokioMt`], [`TokioCt`], [`SmolMt`] and [`SmolLocal`];
/// [`rt_test!`](crate::rt_test) names the one under test `Cfg` in each generated module.
pub trait RtConfig: 'static {
    /// The configuration id of the catalogue, for example `tokio-mt`.
    const ID: &'static str;

    /// The runtime family (one runtime crate per family), for example `tokio`.
    const FAMILY: &'static str;

    /// Whether tasks run on worker threads rather than on the thread calling
    /// [`Host::block_on`].
    const MULTI_THREADED: bool;

    /// The handle workloads use.
    type Rt: Runtime;

    /// The owner of a runtime instance.
    type Host: Host<Runtime = Self::Rt>;

    /// The runtime's own channel, used by `producer_consumer/native_channel`.
    type NativeChannel: QueueKind + Default;

    /// Builds a fresh runtime ([`MT_THREADS`] workers when multi-threaded).
    ///
    /// # Panics
    ///
    /// When the runtime cannot start (for example when threads cannot be created): a test
    /// cannot go on without it.
    fn host() -> Self::Host;

    /// The runtime crate's `build`: the bench for `case`, native variants included.
    ///
    /// # Errors
    ///
    /// Unknown ids, invalid parameters, or [`BuildError::Unsupported`] for a native variant
    /// this runtime has no implementation of.
    fn build(rt: &Self::Rt, case: &Case) -> Result<BoxBench, BuildError>;

    /// `when_all/native` on this runtime, or `None` when the runtime has no task-set type.
    ///
    /// Like the generic variants, the operations may be spawned before the first poll, so
    /// call it from inside the runtime (on single-threaded runtimes, spawning outside
    /// [`Host::block_on`] panics).
    fn native_when_all(rt: &Self::Rt, n: u64, op: LeafOp) -> Option<BoxFuture<'_, Vec<u64>>>;
}

/// `JoinSetWhenAll` by reference with a `'static` lifetime, so that the future it returns
/// borrows only the runtime handle.
static JOIN_SET: JoinSetWhenAll = JoinSetWhenAll;

/// `tokio-mt`: tokio's multi-thread scheduler with [`MT_THREADS`] workers.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioMt;

impl RtConfig for TokioMt {
    const ID: &'static str = "tokio-mt";
    const FAMILY: &'static str = "tokio";
    const MULTI_THREADED: bool = true;
    type Rt = TokioRt;
    type Host = TokioHost;
    type NativeChannel = TokioMpsc;

    fn host() -> TokioHost {
        TokioHost::new(Flavor::MultiThread, MT_THREADS).expect("tokio-mt runtime starts")
    }

    fn build(rt: &TokioRt, case: &Case) -> Result<BoxBench, BuildError> {
        tapbench_rt_tokio::build(rt, case)
    }

    fn native_when_all(rt: &TokioRt, n: u64, op: LeafOp) -> Option<BoxFuture<'_, Vec<u64>>> {
        Some(Box::pin(JOIN_SET.when_all(rt, n, op)))
    }
}

/// `tokio-ct`: tokio's current-thread scheduler.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioCt;

impl RtConfig for TokioCt {
    const ID: &'static str = "tokio-ct";
    const FAMILY: &'static str = "tokio";
    const MULTI_THREADED: bool = false;
    type Rt = TokioRt;
    type Host = TokioHost;
    type NativeChannel = TokioMpsc;

    fn host() -> TokioHost {
        TokioHost::new(Flavor::CurrentThread, 1).expect("tokio-ct runtime starts")
    }

    fn build(rt: &TokioRt, case: &Case) -> Result<BoxBench, BuildError> {
        tapbench_rt_tokio::build(rt, case)
    }

    fn native_when_all(rt: &TokioRt, n: u64, op: LeafOp) -> Option<BoxFuture<'_, Vec<u64>>> {
        Some(Box::pin(JOIN_SET.when_all(rt, n, op)))
    }
}

/// `smol-mt`: a `smol::Executor` driven by [`MT_THREADS`] threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolMt;

impl RtConfig for SmolMt {
    const ID: &'static str = "smol-mt";
    const FAMILY: &'static str = "smol";
    const MULTI_THREADED: bool = true;
    type Rt = tapbench_rt_smol::SmolMt;
    type Host = SmolMtHost;
    type NativeChannel = AsyncChannel;

    fn host() -> SmolMtHost {
        SmolMtHost::new(MT_THREADS).expect("smol-mt executor threads start")
    }

    fn build(rt: &Self::Rt, case: &Case) -> Result<BoxBench, BuildError> {
        tapbench_rt_smol::build(rt, case)
    }

    fn native_when_all(_: &Self::Rt, _: u64, _: LeafOp) -> Option<BoxFuture<'_, Vec<u64>>> {
        None
    }
}

/// `smol-local`: a `smol::LocalExecutor` on the thread calling `block_on`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolLocal;

impl RtConfig for SmolLocal {
    const ID: &'static str = "smol-local";
    const FAMILY: &'static str = "smol";
    const MULTI_THREADED: bool = false;
    type Rt = tapbench_rt_smol::SmolLocal;
    type Host = SmolLocalHost;
    type NativeChannel = AsyncChannel;

    fn host() -> SmolLocalHost {
        SmolLocalHost::new()
    }

    fn build(rt: &Self::Rt, case: &Case) -> Result<BoxBench, BuildError> {
        tapbench_rt_smol::build(rt, case)
    }

    fn native_when_all(_: &Self::Rt, _: u64, _: LeafOp) -> Option<BoxFuture<'_, Vec<u64>>> {
        None
    }
}
