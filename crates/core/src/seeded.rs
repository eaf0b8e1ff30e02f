//! Seeded sequences the workloads share: a 64-bit mixer, and a chance that decides from a
//! hash whether something happens, so that every runtime makes exactly the same choices.

/// SplitMix64's finaliser: spreads every bit of `x` over the whole result.
#[inline]
pub fn mix64(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The golden-ratio increment of SplitMix64 (2^64 / phi).
pub const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The term of `value` at `position` in a position-weighted digest: `value * (2 position +
/// 1)`, wrapping. Summed over a sequence, the digest changes when a value is wrong, missing,
/// repeated or in another position (an odd weight never maps a non-zero difference to 0
/// modulo 2^64 on its own), which a plain sum would miss for reorderings.
#[inline]
pub fn digest_term(position: u64, value: u64) -> u64 {
    value.wrapping_mul(position.wrapping_mul(2).wrapping_add(1))
}

/// A probability `p` as a threshold on uniformly spread 64-bit draws: a draw below it
/// happens, so a share `p` of the draws does; `p = 1` always happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chance {
    threshold: u64,
    always: bool,
}

impl Chance {
    /// The chance `p`, clamped to `0..=1`.
    pub fn new(p: f64) -> Self {
        let p = p.clamp(0.0, 1.0);
        Chance {
            threshold: (p * u64::MAX as f64) as u64,
            always: p >= 1.0,
        }
    }

    /// Whether `draw` (a uniformly spread 64-bit number) happens.
    #[inline]
    pub fn happens(&self, draw: u64) -> bool {
        self.always || draw < self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_of_terms_sees_a_swap_that_a_sum_misses() {
        let digest = |values: &[u64]| {
            (0u64..)
                .zip(values)
                .fold(0u64, |d, (i, v)| d.wrapping_add(digest_term(i, *v)))
        };
        assert_eq!(digest_term(0, 7), 7);
        assert_eq!(digest_term(3, 7), 49);
        assert_ne!(digest(&[1, 2, 3]), digest(&[2, 1, 3]));
        assert_ne!(digest(&[1, 2, 3]), digest(&[1, 2, 3, 0]).wrapping_add(1));
    }

    #[test]
    fn a_chance_happens_in_its_share_of_draws() {
        for p in [0.0, 0.25, 0.5, 0.9, 1.0] {
            let chance = Chance::new(p);
            let share =
                (0..20_000u64).filter(|i| chance.happens(mix64(*i))).count() as f64 / 20_000.0;
            assert!((share - p).abs() < 0.01, "p {p}: {share}");
        }
        assert!(Chance::new(1.0).happens(u64::MAX));
        assert!(!Chance::new(0.0).happens(0));
    }
}
