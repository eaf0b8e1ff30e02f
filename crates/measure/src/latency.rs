//! Per-operation latency recording into HDR histograms.
//!
//! Each task that observes latencies owns a [`LatencyRecorder`] (no locks on the hot path);
//! recorders are merged with [`LatencyRecorder::merge`] once the tasks are done. A recorder
//! travels between processes in HdrHistogram's own interchange format
//! ([`LatencyRecorder::encode`]), so the launches of a cell, each a process of its own, can
//! be merged into one distribution.

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

/// The largest latency a recorder tracks exactly: one minute. Larger values are clamped.
pub const MAX_TRACKED_NS: u64 = 60_000_000_000;

/// An HDR histogram of latencies in nanoseconds, three significant digits.
#[derive(Debug, Clone)]
pub struct LatencyRecorder {
    histogram: Histogram<u64>,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyRecorder {
    /// An empty recorder tracking 1 ns to [`MAX_TRACKED_NS`] with three significant digits.
    ///
    /// Allocates its buckets here, once: recording never allocates.
    pub fn new() -> Self {
        let histogram = Histogram::new_with_bounds(1, MAX_TRACKED_NS, 3)
            .expect("static histogram bounds are valid");
        LatencyRecorder { histogram }
    }

    /// Records one latency in nanoseconds (clamped to the tracked range).
    #[inline]
    pub fn record_ns(&mut self, latency_ns: u64) {
        self.histogram.saturating_record(latency_ns.max(1));
    }

    /// Adds every value of `other` to `self`.
    pub fn merge(&mut self, other: &LatencyRecorder) {
        // Both histograms share the same bounds, so `add` cannot fail; saturate to be safe.
        if self.histogram.add(&other.histogram).is_err() {
            for value in other.histogram.iter_recorded() {
                self.histogram
                    .saturating_record_n(value.value_iterated_to(), value.count_at_value());
            }
        }
    }

    /// Forgets every value, keeping the buckets allocated.
    pub fn reset(&mut self) {
        self.histogram.reset();
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The recorder in the HdrHistogram V2 compressed format, base64-encoded: the form
    /// HdrHistogram's interval logs use, readable by its implementations in other
    /// languages.
    ///
    /// # Errors
    ///
    /// The histogram cannot be serialised (a count beyond what the format holds).
    pub fn encode(&self) -> Result<String, LatencyCodecError> {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&self.histogram, &mut bytes)
            .map_err(|e| LatencyCodecError(format!("cannot serialise the histogram: {e:?}")))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// A recorder from the text [`encode`](Self::encode) wrote.
    ///
    /// # Errors
    ///
    /// The text is not base64, or not a V2 histogram.
    pub fn decode(text: &str) -> Result<Self, LatencyCodecError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| LatencyCodecError(format!("not base64: {e}")))?;
        let histogram: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| LatencyCodecError(format!("not an HDR histogram: {e:?}")))?;
        Ok(LatencyRecorder { histogram })
    }

    /// Percentiles of the recorded values, or `None` when nothing was recorded.
    pub fn summary(&self) -> Option<LatencySummary> {
        if self.histogram.is_empty() {
            return None;
        }
        let h = &self.histogram;
        Some(LatencySummary {
            p50_ns: h.value_at_quantile(0.50),
            p90_ns: h.value_at_quantile(0.90),
            p99_ns: h.value_at_quantile(0.99),
            p999_ns: h.value_at_quantile(0.999),
            max_ns: h.max(),
            count: h.len(),
        })
    }
}

/// A latency histogram could not be written or read in its interchange format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LatencyCodecError(String);

/// Latency percentiles in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencySummary {
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest recorded value.
    pub max_ns: u64,
    /// Number of recorded values.
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_uniform_range() {
        let mut r = LatencyRecorder::new();
        for v in 1..=1000 {
            r.record_ns(v * 1000);
        }
        let s = r.summary().unwrap();
        assert_eq!(s.count, 1000);
        assert!((499_000..=501_000).contains(&s.p50_ns), "{s:?}");
        assert!((989_000..=991_000).contains(&s.p99_ns), "{s:?}");
        assert!((999_000..=1_001_000).contains(&s.max_ns), "{s:?}");
    }

    #[test]
    fn a_recorder_survives_its_interchange_format() {
        let mut r = LatencyRecorder::new();
        for v in 1..=10_000u64 {
            r.record_ns(v * 37);
        }
        r.record_ns(MAX_TRACKED_NS);
        let text = r.encode().unwrap();
        // Compressed: far smaller than the buckets.
        assert!(text.len() < 40_000, "{}", text.len());
        let back = LatencyRecorder::decode(&text).unwrap();
        assert_eq!(back.summary(), r.summary());
        // A decoded recorder merges with a fresh one (same bounds).
        let mut fresh = LatencyRecorder::new();
        fresh.record_ns(5);
        fresh.merge(&back);
        assert_eq!(fresh.count(), r.count() + 1);
        assert!(LatencyRecorder::decode("not base64!").is_err());
        assert!(LatencyRecorder::decode("aGVsbG8=").is_err());
    }

    #[test]
    fn merge_adds_counts_and_reset_empties() {
        let mut a = LatencyRecorder::new();
        let mut b = LatencyRecorder::new();
        a.record_ns(10);
        b.record_ns(1_000_000);
        b.record_ns(u64::MAX);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert!(a.summary().unwrap().max_ns >= MAX_TRACKED_NS - MAX_TRACKED_NS / 1000);
        a.reset();
        assert!(a.summary().is_none());
    }
}
