//! A machine-speed probe: a fixed piece of work, timed before every sample, that shows how
//! fast the machine was running while the cell was measured.
//!
//! On a shared machine the whole machine switches, for seconds at a time, between a fast
//! and a slow state (a neighbour on the same physical core, say): every cell measured in
//! the slow state is 1.3-1.6x slower, whatever its code. Launches of a cell measured at
//! different times then differ by that factor, and no statistic of one launch can tell a
//! slow machine from slow code. The probe can: its work never changes, so its time moves
//! only with the machine. Judging a single launch against another, the gate divides each
//! side's time by its probe time (see `tapbench` `gate`).
//!
//! The probe mixes the two kinds of work the workloads do: dependent loads through a
//! buffer that fits in the L2 cache (a random cycle, as a pointer chase) and integer
//! arithmetic. It allocates only when built, never when run, so it does not disturb the
//! allocation counts of the samples it sits between.
//!
//! ```
//! use tapbench_measure::probe::Probe;
//!
//! let mut probe = Probe::new();
//! let ns = probe.run_ns();
//! assert!(ns > 0.0);
//! ```

use std::time::Instant;

/// Entries of the pointer-chase buffer: 32 Ki `u32`s, 128 KiB.
const ENTRIES: usize = 1 << 15;

/// Steps of one probe run: about 100-300 microseconds on current machines.
pub const STEPS: u32 = 100_000;

/// The probe: its buffer is built once, so every run does exactly the same work.
#[derive(Debug, Clone)]
pub struct Probe {
    next: Vec<u32>,
}

impl Default for Probe {
    fn default() -> Self {
        Self::new()
    }
}

impl Probe {
    /// Builds the buffer: one cycle through every entry in a fixed pseudo-random order
    /// (Sattolo's shuffle with a fixed seed), so that the hardware prefetcher cannot guess
    /// the next load.
    pub fn new() -> Self {
        let mut order: Vec<u32> = (0..ENTRIES as u32).collect();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for i in (1..ENTRIES).rev() {
            // xorshift64*: a fixed, reproducible sequence.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
            let j = (r % i as u64) as usize;
            order.swap(i, j);
        }
        let mut next = vec![0u32; ENTRIES];
        for w in 0..ENTRIES {
            next[order[w] as usize] = order[(w + 1) % ENTRIES];
        }
        Probe { next }
    }

    /// Runs the fixed work once and returns how long it took, in nanoseconds.
    pub fn run_ns(&mut self) -> f64 {
        let start = Instant::now();
        let mut at = 0u32;
        let mut acc = 0u64;
        for _ in 0..STEPS {
            at = self.next[at as usize];
            acc = acc.rotate_left(5).wrapping_mul(0x9E37_79B9) ^ u64::from(at);
        }
        std::hint::black_box(acc);
        start.elapsed().as_nanos() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_is_one_cycle_through_every_entry() {
        let probe = Probe::new();
        let mut seen = vec![false; ENTRIES];
        let mut at = 0usize;
        for _ in 0..ENTRIES {
            assert!(!seen[at], "entry {at} visited twice: the cycle is shorter");
            seen[at] = true;
            at = probe.next[at] as usize;
        }
        assert_eq!(at, 0, "the walk does not come back to its start");
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn every_probe_does_the_same_work() {
        assert_eq!(Probe::new().next, Probe::new().next);
    }
}
