//! Scales and their ticks: log decades, round linear steps, parameter values, categories.

/// Where values lie along an axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Scale {
    /// Decades `10^lo ..= 10^hi`.
    Log { lo: i32, hi: i32 },
    /// `lo ..= hi`.
    Linear { lo: f64, hi: f64 },
}

impl Scale {
    /// Bounds around data values with a margin, for an axis ticked at the values.
    pub(super) fn padded_of(values: &[f64]) -> Scale {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (min, max) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if min > max {
            return Scale::Linear { lo: 0.0, hi: 1.0 };
        }
        if max - min < 1e-12 {
            return Scale::Linear {
                lo: min - 1.0,
                hi: max + 1.0,
            };
        }
        let margin = (max - min) * 0.04;
        Scale::Linear {
            lo: min - margin,
            hi: max + margin,
        }
    }

    /// Where `v` lies, 0 at the start of the axis and 1 at its end; `None` when it cannot
    /// be drawn (zero or negative on a log axis).
    pub(super) fn frac(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        match *self {
            Scale::Log { lo, hi } => {
                (v > 0.0).then(|| (v.log10() - f64::from(lo)) / f64::from(hi - lo))
            }
            Scale::Linear { lo, hi } => Some((v - lo) / (hi - lo)),
        }
    }

    /// Whether an axis `pixels` long has room for unlabelled light grid lines between its
    /// decades (at least 80 pixels per decade).
    pub(super) fn roomy(&self, pixels: i32) -> bool {
        match *self {
            Scale::Log { lo, hi } => pixels >= 80 * (hi - lo),
            Scale::Linear { .. } => true,
        }
    }

    /// Pixel of `v` on an axis from pixel `a` (start) to `b` (end).
    pub(super) fn px(&self, v: f64, a: i32, b: i32) -> Option<i32> {
        self.frac(v).map(|f| {
            let f = f.clamp(-0.05, 1.05);
            (f64::from(a) + f * f64::from(b - a)).round() as i32
        })
    }
}

/// The decades `10^lo ..= 10^hi` around the positive values (at least one decade).
fn log_bounds(values: &[f64]) -> (i32, i32) {
    let positive = values.iter().copied().filter(|v| v.is_finite() && *v > 0.0);
    let (min, max) = positive.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if max <= 0.0 {
        return (0, 1);
    }
    let lo = (min.log10().floor() as i32).clamp(-15, 20);
    let hi = (max.log10().ceil() as i32).clamp(-15, 20);
    (lo, hi.max(lo + 1))
}

/// Round bounds around the finite values (and zero, when `with_zero`), never empty.
fn linear_bounds(values: &[f64], with_zero: bool) -> (f64, f64) {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (mut min, mut max) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if min > max {
        return (0.0, 1.0);
    }
    if with_zero {
        min = min.min(0.0);
        max = max.max(0.0);
    }
    if max - min < 1e-12 {
        max = min + if min == 0.0 { 1.0 } else { min.abs() };
    }
    let step = nice_step((max - min) / 5.0);
    ((min / step).floor() * step, (max / step).ceil() * step)
}

/// 1, 2, 2.5 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let m = raw / power;
    let nice = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 2.5 {
        2.5
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// A grid line of an axis, labelled or not.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tick {
    pub(super) value: f64,
    pub(super) label: Option<String>,
    pub(super) major: bool,
}

/// A scale with its ticks.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Axis {
    pub(super) scale: Scale,
    pub(super) ticks: Vec<Tick>,
}

impl Axis {
    /// A log axis ticked at every decade (with 2 and 5 labelled when it spans few decades,
    /// light grid lines at 2..9 when it spans a handful), labels by `fmt`.
    pub(super) fn log(values: &[f64], fmt: fn(f64, bool) -> String) -> Axis {
        let (lo, hi) = log_bounds(values);
        let scale = Scale::Log { lo, hi };
        let decades = hi - lo;
        let mut ticks = Vec::new();
        for e in lo..=hi {
            let base = 10f64.powi(e);
            ticks.push(Tick {
                value: base,
                label: Some(fmt(base, true)),
                major: true,
            });
            if e == hi {
                break;
            }
            for m in 2..=9 {
                let labelled = decades <= 2 && (m == 2 || m == 5);
                if decades <= 6 || labelled {
                    let value = base * f64::from(m);
                    let label = labelled.then(|| fmt(value, true));
                    ticks.push(Tick {
                        value,
                        label,
                        major: false,
                    });
                }
            }
        }
        Axis { scale, ticks }
    }

    /// A linear axis with round ticks.
    pub(super) fn linear(values: &[f64], with_zero: bool, fmt: fn(f64, bool) -> String) -> Axis {
        let (lo, hi) = linear_bounds(values, with_zero);
        let scale = Scale::Linear { lo, hi };
        let step = nice_step((hi - lo) / 5.0);
        let mut ticks = Vec::new();
        let mut i = 0.0;
        while lo + i * step <= hi + step * 1e-9 && ticks.len() < 50 {
            let value = lo + i * step;
            let value = if value.abs() < step * 1e-9 {
                0.0
            } else {
                value
            };
            ticks.push(Tick {
                value,
                label: Some(fmt(value, true)),
                major: true,
            });
            i += 1.0;
        }
        Axis { scale, ticks }
    }

    /// An axis ticked at the data values themselves (a parameter sweep).
    pub(super) fn at_values(values: &[f64], log: bool, fmt: impl Fn(f64) -> String) -> Axis {
        let mut distinct: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        let scale = if log {
            let positive: Vec<f64> = distinct.iter().copied().filter(|v| *v > 0.0).collect();
            match (positive.first(), positive.last()) {
                (Some(&min), Some(&max)) => {
                    let (a, b) = (min.log10(), max.log10());
                    let margin = ((b - a) * 0.04).max(0.15);
                    // Fractional decade bounds: a linear scale over log10 of the values
                    // (the caller passes log10 of its x values too).
                    Scale::Linear {
                        lo: a - margin,
                        hi: b + margin,
                    }
                }
                _ => Scale::Linear { lo: 0.0, hi: 1.0 },
            }
        } else {
            Scale::padded_of(&distinct)
        };
        let ticks = distinct
            .iter()
            .filter(|v| !log || **v > 0.0)
            .map(|v| Tick {
                value: if log { v.log10() } else { *v },
                label: Some(fmt(*v)),
                major: true,
            })
            .collect();
        Axis { scale, ticks }
    }

    /// Evenly spaced named categories at 0, 1, 2, ...
    pub(super) fn categories(names: &[&str]) -> Axis {
        let n = names.len().max(1) as f64;
        Axis {
            scale: Scale::Linear {
                lo: -0.5,
                hi: n - 0.5,
            },
            ticks: names
                .iter()
                .enumerate()
                .map(|(i, name)| Tick {
                    value: i as f64,
                    label: Some((*name).to_string()),
                    major: true,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::format::{format_count, format_duration_ns};

    #[test]
    fn log_scales_are_guarded() {
        assert_eq!(log_bounds(&[]), (0, 1));
        assert_eq!(log_bounds(&[0.0, -1.0, f64::NAN, f64::INFINITY]), (0, 1));
        assert_eq!(log_bounds(&[1.0]), (0, 1));
        assert_eq!(log_bounds(&[0.4, 0.0, 48e6]), (-1, 8));
        let s = Scale::Log { lo: 1, hi: 3 };
        assert_eq!(s.frac(0.0), None);
        assert_eq!(s.frac(100.0), Some(0.5));
        assert_eq!(s.px(100.0, 0, 200), Some(100));
        // A linear scale of one value, or none, still has a width.
        for values in [&[][..], &[3.0][..], &[0.0][..], &[f64::NAN][..]] {
            let (lo, hi) = linear_bounds(values, false);
            assert!(hi > lo, "{values:?}");
        }
    }

    #[test]
    fn log_axes_tick_every_decade() {
        let axis = Axis::log(&[300.0, 2e6], format_duration_ns);
        let labels: Vec<&str> = axis
            .ticks
            .iter()
            .filter(|t| t.major)
            .filter_map(|t| t.label.as_deref())
            .collect();
        assert_eq!(
            labels,
            [
                "100 ns",
                "1 \u{b5}s",
                "10 \u{b5}s",
                "100 \u{b5}s",
                "1 ms",
                "10 ms"
            ]
        );
        let narrow = Axis::log(&[3.0, 40.0], format_count);
        let labels: Vec<&str> = narrow
            .ticks
            .iter()
            .filter_map(|t| t.label.as_deref())
            .collect();
        assert_eq!(labels, ["1", "2", "5", "10", "20", "50", "100"]);
    }
}
