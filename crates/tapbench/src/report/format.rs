//! How reports and the CLI write numbers, durations, counts, ratios, parameters and HTML text.

use tapbench_core::Params;

/// `v` rounded to `digits` significant digits.
pub fn round_sig(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(digits - 1 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

/// `v` with `digits` significant digits, trailing zeros kept unless `trim`.
pub fn sig(v: f64, digits: i32, trim: bool) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let v = round_sig(v, digits);
    let decimals = (digits - 1 - v.abs().log10().floor() as i32).max(0) as usize;
    let mut s = format!("{v:.decimals$}");
    if trim && s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    s
}

/// The unit a duration of `ns` nanoseconds is written in: its size in nanoseconds and its
/// symbol.
fn duration_unit(ns: f64) -> (f64, &'static str) {
    let ns = ns.abs();
    if ns < 1e3 {
        (1.0, "ns")
    } else if ns < 1e6 {
        (1e3, "\u{b5}s")
    } else if ns < 1e9 {
        (1e6, "ms")
    } else {
        (1e9, "s")
    }
}

/// A duration in nanoseconds with three significant digits and a unit (`388 µs`), for
/// chart labels; `trim` drops trailing zeros, for axis ticks (`1 µs`).
pub fn format_duration_ns(ns: f64, trim: bool) -> String {
    if !ns.is_finite() {
        return "-".into();
    }
    if ns == 0.0 {
        return "0".into();
    }
    let rounded = round_sig(ns, 3);
    let (size, unit) = duration_unit(rounded);
    format!("{} {unit}", sig(rounded / size, 3, trim))
}

/// A duration in nanoseconds with four significant digits (at most three decimals) and a
/// unit, for tables and prose (`379.1 ns`, `15.53 µs`, `48.04 ms`, `5.580 s`).
pub fn format_time(ns: f64) -> String {
    if !ns.is_finite() {
        return "-".into();
    }
    let (size, unit) = duration_unit(round_sig(ns, 4));
    let value = ns / size;
    let shown = round_sig(value, 4);
    let decimals = if shown == 0.0 {
        3
    } else {
        (3 - shown.abs().log10().floor() as i32).clamp(0, 3) as usize
    };
    format!("{value:.decimals$} {unit}")
}

/// Nanoseconds as a bare number with a precision that suits their size (`0.415`, `379.1`,
/// `48036795`), for the command line's tables.
pub fn format_ns(ns: f64) -> String {
    if ns < 10.0 {
        format!("{ns:.3}")
    } else if ns < 1000.0 {
        format!("{ns:.1}")
    } else {
        format!("{ns:.0}")
    }
}

/// A count (allocations) with three significant digits and `k`/`M` for thousands and
/// millions; `trim` drops trailing zeros.
pub fn format_count(v: f64, trim: bool) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let r = round_sig(v, 3);
    if r.abs() < 1e3 {
        sig(r, 3, trim)
    } else if r.abs() < 1e6 {
        format!("{} k", sig(r / 1e3, 3, trim))
    } else {
        format!("{} M", sig(r / 1e6, 3, trim))
    }
}

/// Operations per second in engineering notation (`1.23 M`).
pub fn format_rate(per_s: f64) -> String {
    let (value, unit) = if per_s >= 1e9 {
        (per_s / 1e9, " G")
    } else if per_s >= 1e6 {
        (per_s / 1e6, " M")
    } else if per_s >= 1e3 {
        (per_s / 1e3, " k")
    } else {
        (per_s, " ")
    };
    format!("{value:.2}{unit}").trim_end().to_string()
}

/// `value` with `decimals` decimals, `-` when there is none.
pub fn format_fixed(value: Option<f64>, decimals: usize) -> String {
    value
        .map(|v| format!("{v:.decimals$}"))
        .unwrap_or_else(|| "-".into())
}

/// How many times one value is another (`5.65x`, `30.2x`).
pub fn format_times(ratio: f64) -> String {
    if !ratio.is_finite() {
        return "-".into();
    }
    format!("{}x", sig(ratio, 3, false))
}

/// Parameters as `n=1000, op=yield` (empty when there are none).
pub fn format_params(params: &Params) -> String {
    params
        .0
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` with the characters that mean something in HTML (text or attribute values)
/// replaced by entities.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_durations_and_counts_read_like_a_person_wrote_them() {
        assert_eq!(format_duration_ns(0.415_316, false), "0.415 ns");
        assert_eq!(format_duration_ns(388_076.57, false), "388 \u{b5}s");
        assert_eq!(format_duration_ns(999.7, false), "1.00 \u{b5}s");
        assert_eq!(format_duration_ns(48_036_794.0, false), "48.0 ms");
        assert_eq!(format_duration_ns(5.5e9, false), "5.50 s");
        assert_eq!(format_duration_ns(1000.0, true), "1 \u{b5}s");
        assert_eq!(format_duration_ns(0.1, true), "0.1 ns");
        assert_eq!(format_duration_ns(0.0, false), "0");
        assert_eq!(format_count(0.0, false), "0");
        assert_eq!(format_count(0.032_251, false), "0.0323");
        assert_eq!(format_count(2.0, false), "2.00");
        assert_eq!(format_count(100_034.0, false), "100 k");
        assert_eq!(format_count(1e6, true), "1 M");
        assert_eq!(format_count(f64::NAN, false), "-");
    }

    #[test]
    fn table_durations_have_four_significant_digits() {
        assert_eq!(format_time(379.07), "379.1 ns");
        assert_eq!(format_time(1520.3), "1.520 \u{b5}s");
        assert_eq!(format_time(15_523.0), "15.52 \u{b5}s");
        assert_eq!(format_time(48_036_794.0), "48.04 ms");
        assert_eq!(format_time(6.7021), "6.702 ns");
        assert_eq!(format_time(0.415_316), "0.415 ns");
        assert_eq!(format_time(5.58e9), "5.580 s");
        // Rounding that reaches the next unit is written in it.
        assert_eq!(format_time(999.97), "1.000 \u{b5}s");
        assert_eq!(format_time(0.0), "0.000 ns");
        assert_eq!(format_time(f64::NAN), "-");
    }

    #[test]
    fn bare_nanoseconds_rates_and_ratios() {
        assert_eq!(format_ns(0.415_316), "0.415");
        assert_eq!(format_ns(379.07), "379.1");
        assert_eq!(format_ns(48_036_794.4), "48036794");
        assert_eq!(format_rate(2_637_823.0), "2.64 M");
        assert_eq!(format_rate(20.8), "20.80");
        assert_eq!(format_fixed(Some(1.0), 2), "1.00");
        assert_eq!(format_fixed(None, 2), "-");
        assert_eq!(format_times(5.654), "5.65x");
        assert_eq!(format_times(30.24), "30.2x");
        assert_eq!(format_times(f64::INFINITY), "-");
    }

    #[test]
    fn escape_replaces_markup() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
