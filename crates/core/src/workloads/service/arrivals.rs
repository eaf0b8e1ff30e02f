//! Where `service`'s open-loop requests come from: a generator thread outside the runtime,
//! as a network would be. It is started once per bench and waits for schedules; for each
//! schedule it releases request `i` at the request's intended time `t0 +`
//! [`intended_ns`] (a seeded point of the request's slot `[i / rate, (i + 1) / rate)`,
//! computed from `t0`, never as a period since the previous release, so a generator that
//! wakes late releases everything already due at once), sleeping the OS thread in between
//! (`std::thread::sleep`: no spinning, the runtime's workers keep the cores).
//!
//! An arrival carries nothing but its number, and requests arrive in order, so what the
//! generator hands the runtime is a count: [`Released`], the number of requests released
//! so far and a waker (`futures`' `AtomicWaker`), which the acceptor inside the runtime
//! waits on, as a task waits on a socket's readiness. Releasing is a store and a wake,
//! waiting registers the acceptor's waker: neither blocks nor allocates (a channel such as
//! `async_channel`'s would allocate a listener each time its receiver waits).
//!
//! The generator stops a schedule early when the acceptor has let go of it, and exits
//! when its [`Arrivals`] is dropped, which joins it.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::task::Poll;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::task::AtomicWaker;

use crate::seeded::mix64;

/// Nanoseconds from a schedule's start to request `i`'s intended start at `rate` requests
/// per second: a seeded point, uniformly drawn, inside the request's own slot
/// `[i / rate, (i + 1) / rate)`. One request per slot keeps the rate exact over any window
/// (no Poisson bursts, whose queueing would mix burstiness into the rate), and intended
/// times stay in order; the draw keeps the arrivals from lining up with a runtime's timer
/// tick. On an exact grid (`i / rate`) at 2000 per second every arrival fell on one of two
/// phases of tokio's 1 ms timer wheel, and the p50 of the same program read 1.14 ms or
/// 1.60 ms depending only on where the schedule started against the wheel.
#[inline]
pub fn intended_ns(rate: u64, i: u64) -> u64 {
    // A fraction of a slot in 1/2^32 steps, from a hash of the request's number.
    let within = u128::from(mix64(i ^ ARRIVAL_SEED) >> 32);
    let scaled = (u128::from(i) << 32) + within;
    let ns = scaled * 1_000_000_000 / (u128::from(rate.max(1)) << 32);
    u64::try_from(ns).unwrap_or(u64::MAX)
}

/// Seeds the arrivals' draws (apart from the backends' and the keys').
const ARRIVAL_SEED: u64 = 0xA771_FA15_0000_0001;

/// What the generator has released of one schedule, shared with the acceptor.
#[derive(Debug, Default)]
pub struct Released {
    count: AtomicU64,
    ended: AtomicBool,
    waker: AtomicWaker,
}

impl Released {
    /// Releases requests up to `count` (exclusive) and wakes the acceptor.
    fn release(&self, count: u64) {
        self.count.store(count, Ordering::Release);
        self.waker.wake();
    }

    /// Says no more requests will be released and wakes the acceptor.
    fn end(&self) {
        self.ended.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// How many are released when more than `accepted` are, or `None` when the schedule
    /// has ended with no more.
    fn poll_more(&self, accepted: u64) -> Poll<Option<u64>> {
        // `ended` first: once it is seen, the last release is seen too.
        let ended = self.ended.load(Ordering::Acquire);
        let count = self.count.load(Ordering::Acquire);
        if count > accepted {
            Poll::Ready(Some(count))
        } else if ended {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }

    /// Waits until more than `accepted` requests are released; returns how many are, or
    /// `None` when the schedule ended before.
    pub async fn more(&self, accepted: u64) -> Option<u64> {
        poll_fn(|cx| match self.poll_more(accepted) {
            Poll::Pending => {
                self.waker.register(cx.waker());
                self.poll_more(accepted)
            }
            ready => ready,
        })
        .await
    }
}

/// One schedule for the generator: requests `0..total` at `rate` per second from `t0`,
/// released into `released`. Dropping it (when it is done, stopped, or never taken) ends
/// the releases.
#[derive(Debug)]
pub struct Schedule {
    /// The schedule's start.
    pub t0: Instant,
    /// Requests of the schedule.
    pub total: u64,
    /// Requests per second.
    pub rate: u64,
    /// Where the releases go.
    pub released: Arc<Released>,
}

impl Drop for Schedule {
    fn drop(&mut self) {
        self.released.end();
    }
}

/// The generator thread, owned by a bench: started by [`Arrivals::start`], stopped and
/// joined on drop.
#[derive(Debug)]
pub struct Arrivals {
    commands: Option<SyncSender<Schedule>>,
    thread: Option<JoinHandle<()>>,
}

impl Arrivals {
    /// Starts the generator thread, idle until it is given a schedule.
    ///
    /// # Panics
    ///
    /// When the operating system refuses to start a thread.
    pub fn start() -> Self {
        // One schedule at a time: a batch gives one and takes all its arrivals before the
        // next, so the command's slot is always free when a batch starts.
        let (commands, schedules) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("service-arrivals".into())
            .spawn(move || generate(&schedules))
            .expect("the arrivals thread starts");
        Arrivals {
            commands: Some(commands),
            thread: Some(thread),
        }
    }

    /// Hands `schedule` to the generator. When the generator cannot take it (it is gone,
    /// or busy with an earlier schedule), the schedule is dropped: it ends with nothing
    /// released.
    pub fn run(&self, schedule: Schedule) {
        if let Some(commands) = &self.commands {
            match commands.try_send(schedule) {
                Ok(()) => {}
                Err(TrySendError::Full(s) | TrySendError::Disconnected(s)) => drop(s),
            }
        }
    }

    /// Whether the generator thread has exited.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for Arrivals {
    fn drop(&mut self) {
        // Closing the command channel ends the generator's loop once its current schedule
        // (if any) is done or let go of.
        drop(self.commands.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The generator thread: runs each schedule it is given until its bench drops the
/// command channel.
fn generate(schedules: &Receiver<Schedule>) {
    while let Ok(schedule) = schedules.recv() {
        send_schedule(&schedule);
    }
}

/// Releases each request of `schedule` at its intended time, or at once when it is due
/// already; stops early when the acceptor has let go of the schedule.
fn send_schedule(schedule: &Schedule) {
    for i in 0..schedule.total {
        if Arc::strong_count(&schedule.released) == 1 {
            return;
        }
        let due = schedule.t0 + Duration::from_nanos(intended_ns(schedule.rate, i));
        loop {
            let now = Instant::now();
            if now >= due {
                break;
            }
            std::thread::sleep(due - now);
        }
        schedule.released.release(i + 1);
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;

    /// Runs `f` on a thread of its own and says whether it returned within `limit`.
    fn returns_within(limit: Duration, f: impl FnOnce() + Send + 'static) -> bool {
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            f();
            let _ = done.send(());
        });
        finished.recv_timeout(limit).is_ok()
    }

    /// A schedule of `total` at `rate` from `t0`, and what it releases.
    fn schedule(t0: Instant, total: u64, rate: u64) -> (Schedule, Arc<Released>) {
        let released = Arc::new(Released::default());
        let released_ = Arc::clone(&released);
        let schedule = Schedule {
            t0,
            total,
            rate,
            released: released_,
        };
        (schedule, released)
    }

    #[test]
    fn each_request_is_due_inside_its_own_slot_at_a_seeded_point() {
        for rate in [1, 1000, 2000, 3_000_000] {
            let slot = 1e9 / rate as f64;
            let mut previous = None;
            for i in 0..10_000u64 {
                let due = intended_ns(rate, i) as f64;
                assert!(due >= (i as f64 * slot).floor() - 1.0, "rate {rate} request {i}");
                assert!(due < (i + 1) as f64 * slot, "rate {rate} request {i}");
                assert!(previous.is_none_or(|p| p <= due as u64), "out of order at {i}");
                previous = Some(due as u64);
            }
            assert_eq!(intended_ns(rate, 7), intended_ns(rate, 7));
        }
        // The points are spread over the slot: at 2000 per second (0.5 ms slots) every
        // phase of a 1 ms timer tick is hit about equally often.
        let mut quarters = [0u32; 4];
        for i in 0..40_000u64 {
            quarters[(intended_ns(2000, i) % 1_000_000 / 250_000) as usize] += 1;
        }
        assert!(quarters.iter().all(|q| (9_000..11_000).contains(q)), "{quarters:?}");
    }

    #[test]
    fn a_schedule_is_released_in_order_and_on_time() {
        let arrivals = Arrivals::start();
        let t0 = Instant::now();
        let (s, released) = schedule(t0, 20, 1000);
        arrivals.run(s);
        let mut accepted = 0;
        while let Some(count) = block_on(released.more(accepted)) {
            assert!(count > accepted && count <= 20, "{count} after {accepted}");
            let due = Duration::from_nanos(intended_ns(1000, count - 1));
            assert!(t0.elapsed() >= due, "request {} released early", count - 1);
            accepted = count;
        }
        // The schedule ended once all 20 were released.
        assert_eq!(accepted, 20);
    }

    #[test]
    fn a_late_generator_releases_everything_due_at_once() {
        let arrivals = Arrivals::start();
        // Started 50 ms ago at 1000 per second: all ten are due.
        let (s, released) = schedule(Instant::now() - Duration::from_millis(50), 10, 1000);
        arrivals.run(s);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(block_on(released.more(0)), Some(10));
        assert_eq!(block_on(released.more(10)), None);
    }

    #[test]
    fn the_thread_stops_when_dropped_idle_or_mid_schedule() {
        let idle = Arrivals::start();
        assert!(!idle.is_finished());
        assert!(returns_within(Duration::from_secs(5), move || drop(idle)));
        // A schedule of 100 s that the acceptor lets go of: the generator notices at its
        // next release (within 1 / rate) and the drop joins it.
        let busy = Arrivals::start();
        let (s, released) = schedule(Instant::now(), 1000, 10);
        busy.run(s);
        assert_eq!(block_on(released.more(0)), Some(1));
        drop(released);
        assert!(returns_within(Duration::from_secs(5), move || drop(busy)));
    }

    #[test]
    fn a_schedule_the_generator_cannot_take_ends_with_nothing_released() {
        let mut arrivals = Arrivals::start();
        drop(arrivals.commands.take());
        let (s, released) = schedule(Instant::now(), 1, 10);
        arrivals.run(s);
        assert_eq!(block_on(released.more(0)), None);
    }
}
