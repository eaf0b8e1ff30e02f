//! The load a request-driven workload offered and what the runtime achieved: requests
//! issued on a schedule at an offered rate (open loop: at their intended start times,
//! whatever happened before; closed loop: each client waits for its answer before its
//! next request), how many were answered, how many timed out, and the rate at which the
//! runtime started them.
//!
//! A workload reports one [`LoadBatch`] per batch through
//! [`BatchRunner::load`](crate::BatchRunner::load); the sampling loop adds up the sampled
//! batches' into a [`LoadTally`] (warm-up batches are left out, like their latencies).

/// What one batch of a request-driven workload offered and achieved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadBatch {
    /// Whether requests were issued at their intended start times whatever happened before
    /// (open loop) or each client waited for its answer before its next request (closed
    /// loop).
    pub open_loop: bool,
    /// The rate the schedule asked for, in requests per second.
    pub offered_per_s: f64,
    /// Requests issued.
    pub requests: u64,
    /// Requests answered in time.
    pub answered: u64,
    /// Requests answered with "timed out".
    pub timed_out: u64,
    /// Nanoseconds from the moment the first request started running to the moment the
    /// last one did: `requests - 1` intervals at the achieved rate.
    pub started_span_ns: u64,
}

impl LoadBatch {
    /// Requests that neither answered nor timed out: lost, which the workload's own check
    /// must have refused.
    pub fn lost(&self) -> u64 {
        self.requests
            .saturating_sub(self.answered)
            .saturating_sub(self.timed_out)
    }
}

/// The load of every sampled batch of a cell, added up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadTally {
    /// As [`LoadBatch::open_loop`].
    pub open_loop: bool,
    /// As [`LoadBatch::offered_per_s`] (the last batch's, all batches of a cell share it).
    pub offered_per_s: f64,
    /// Requests issued in all batches.
    pub requests: u64,
    /// Requests answered in time.
    pub answered: u64,
    /// Requests answered with "timed out".
    pub timed_out: u64,
    /// Intervals between request starts, summed over batches (`requests - 1` per batch).
    pub intervals: u64,
    /// Their nanoseconds, summed over batches.
    pub started_span_ns: u64,
}

impl LoadTally {
    /// The tally of one batch.
    pub fn of(batch: &LoadBatch) -> Self {
        LoadTally {
            open_loop: batch.open_loop,
            offered_per_s: batch.offered_per_s,
            requests: batch.requests,
            answered: batch.answered,
            timed_out: batch.timed_out,
            intervals: batch.requests.saturating_sub(1),
            started_span_ns: batch.started_span_ns,
        }
    }

    /// Adds one more batch.
    pub fn add(&mut self, batch: &LoadBatch) {
        let other = LoadTally::of(batch);
        self.open_loop = other.open_loop;
        self.offered_per_s = other.offered_per_s;
        self.requests += other.requests;
        self.answered += other.answered;
        self.timed_out += other.timed_out;
        self.intervals += other.intervals;
        self.started_span_ns += other.started_span_ns;
    }

    /// Requests started per second: the intervals between request starts over their
    /// time. `None` when fewer than two requests started in any batch, or no time passed.
    pub fn achieved_per_s(&self) -> Option<f64> {
        (self.intervals > 0 && self.started_span_ns > 0)
            .then(|| self.intervals as f64 * 1e9 / self.started_span_ns as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(requests: u64, span_ms: u64) -> LoadBatch {
        LoadBatch {
            open_loop: true,
            offered_per_s: 1000.0,
            requests,
            answered: requests - 1,
            timed_out: 1,
            started_span_ns: span_ms * 1_000_000,
        }
    }

    #[test]
    fn the_achieved_rate_counts_intervals_between_starts() {
        // 101 requests started 100 ms apart in all: 100 intervals of 1 ms.
        let mut tally = LoadTally::of(&batch(101, 100));
        assert_eq!(tally.achieved_per_s(), Some(1000.0));
        // A second batch at half the rate: 200 intervals over 300 ms.
        tally.add(&batch(101, 200));
        let achieved = tally.achieved_per_s().unwrap();
        assert!((achieved - 666.67).abs() < 0.01, "{achieved}");
        assert_eq!(
            (tally.requests, tally.answered, tally.timed_out),
            (202, 200, 2)
        );
        assert_eq!(LoadTally::of(&batch(1, 0)).achieved_per_s(), None);
    }

    #[test]
    fn a_request_neither_answered_nor_timed_out_is_lost() {
        let mut b = batch(10, 1);
        assert_eq!(b.lost(), 0);
        b.answered = 7;
        assert_eq!(b.lost(), 2);
    }
}
