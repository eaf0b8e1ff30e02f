//! The SVG charts of the HTML report, drawn by plotters' SVG backend into strings.
//!
//! Every chart is a pure function of the report [`Model`](super::Model): no I/O, no clock.
//! Layout is computed here rather than left to plotters' automatic label placement: text is
//! measured with the DejaVu Sans font embedded in the binary (the font the page's CSS asks
//! the browser for, with metrics-compatible fallbacks), so label columns are as wide as their
//! longest label, tick labels that would collide are thinned, and no text overlaps another.
//! Shapes and text are then drawn with plotters elements in pixel coordinates.
//!
//! Charts:
//! - [`bar_charts`]: per workload, horizontal grouped bars - one group per variant and
//!   parameters, one bar per runtime, every bar labelled - of median time per operation
//!   (with its 95% interval) beside allocations per operation, both on log axes. Workloads
//!   with many cases are split into panels by one parameter (`op` of `when_all`, ...).
//! - [`latency_chart`]: small multiples of latency percentiles (p50 .. max), one panel per
//!   case, one line per runtime.
//! - [`sweep_charts`]: cost against a swept parameter (`n`, `sync_ratio`, `threads`, ...),
//!   log-log for sizes, one line per runtime x variant, with growth exponents.
//! - [`value_task_chart`]: Task vs ValueTask, time and allocations per call against
//!   `sync_ratio`, one panel per runtime, one line per variant.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, FontTransform};
use tapbench_core::{ParamKind, ParamValue, WorkloadSpec};

use super::{case_key, runtime_label, Section};
use crate::results::CellResult;

/// The font text is measured with, embedded so that layout never depends on the fonts of
/// the machine rendering the report (Bitstream Vera license, see `assets/`).
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// A chart ready for the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// What the chart shows, one line of plain text (the page escapes it).
    pub caption: String,
    /// An inline `<svg>` element (no XML prolog, no namespace URL: HTML5 puts inline SVG in
    /// the SVG namespace by itself), with `role="img"` and the caption as its `<title>`.
    pub svg: String,
}

/// The growth of one line of a sweep on log-log axes: cost proportional to `param^exponent`.
#[derive(Debug, Clone, PartialEq)]
pub struct Growth {
    /// Runtime id.
    pub runtime: String,
    /// Variant id.
    pub variant: String,
    /// The other parameters of the line (`op=yield`), empty when there are none.
    pub others: String,
    /// Smallest and largest parameter values of the line.
    pub from_x: f64,
    /// See `from_x`.
    pub to_x: f64,
    /// Median time per operation at `from_x`, nanoseconds.
    pub from_ns: f64,
    /// Median time per operation at `to_x`, nanoseconds.
    pub to_ns: f64,
    /// Log-log slope from the first to the last point.
    pub exponent: f64,
    /// Log-log slope between the last two points (the growth at the largest sizes).
    pub last_step: f64,
}

/// A chart of cost against one swept parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepChart {
    /// The swept parameter.
    pub param: String,
    /// Whether the parameter axis is logarithmic (a size).
    pub log_x: bool,
    /// The chart.
    pub chart: Chart,
    /// Growth exponents of every line with two points or more, steepest last step first
    /// (log axes only; empty on a linear parameter axis).
    pub growth: Vec<Growth>,
}

// ---------------------------------------------------------------------------------------
// Style
// ---------------------------------------------------------------------------------------

/// Width the charts are laid out for (CSS scales them down on narrower windows).
const WIDTH: i32 = 1180;
/// Outer margin.
const PAD: i32 = 12;
/// Most cases one bar panel holds before the workload is split by a parameter.
const MAX_GROUPS_PER_PANEL: usize = 12;

const INK: RGBColor = RGBColor(0x1f, 0x23, 0x28);
const MUTED: RGBColor = RGBColor(0x5c, 0x63, 0x6e);
const GRID_MAJOR: RGBColor = RGBColor(0xc8, 0xcd, 0xd3);
const GRID_MINOR: RGBColor = RGBColor(0xe9, 0xec, 0xef);
const ZEBRA: RGBColor = RGBColor(0xf3, 0xf5, 0xf8);
const FRAME: RGBColor = RGBColor(0x9a, 0xa1, 0xa9);

/// A runtime's colour from the registry (Okabe-Ito colours, safe for colour-blind
/// readers: a family shares a hue, its multi-threaded configuration is the darker shade);
/// a runtime this build does not know gets a grey-brown of its own.
fn runtime_color(id: &str) -> RGBColor {
    match tapbench_runtimes::find(id) {
        Some(entry) => {
            let [_, r, g, b] = entry.info.colour.to_be_bytes();
            RGBColor(r, g, b)
        }
        None => {
            let other = id;
            const MORE: [RGBColor; 4] = [
                RGBColor(0x00, 0x9e, 0x73),
                RGBColor(0xcc, 0x79, 0xa7),
                RGBColor(0x55, 0x55, 0x55),
                RGBColor(0x8c, 0x56, 0x4b),
            ];
            let hash = other
                .bytes()
                .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
            MORE[hash % MORE.len()]
        }
    }
}

/// Colours of variants where lines are coloured by variant (Task vs ValueTask), distinct
/// from the runtime colours.
const VARIANT_COLORS: [RGBColor; 6] = [
    RGBColor(0x1b, 0x9e, 0x77),
    RGBColor(0xe7, 0x29, 0x8a),
    RGBColor(0x75, 0x70, 0xb3),
    RGBColor(0x66, 0x66, 0x66),
    RGBColor(0xa6, 0x76, 0x1d),
    RGBColor(0x66, 0xa6, 0x1e),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dash {
    Solid,
    Dashed,
    Dotted,
}

/// How a line looks apart from its colour.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Look {
    marker: Marker,
    dash: Dash,
}

/// The look of the `index`th variant: marker and dash both change, so lines stay apart in
/// grey print too.
fn variant_look(index: usize) -> Look {
    const LOOKS: [Look; 5] = [
        Look {
            marker: Marker::Circle,
            dash: Dash::Solid,
        },
        Look {
            marker: Marker::Square,
            dash: Dash::Dashed,
        },
        Look {
            marker: Marker::Triangle,
            dash: Dash::Dotted,
        },
        Look {
            marker: Marker::Diamond,
            dash: Dash::Solid,
        },
        Look {
            marker: Marker::Cross,
            dash: Dash::Dashed,
        },
    ];
    LOOKS[index % LOOKS.len()]
}

#[derive(Debug, Clone, Copy)]
struct Font {
    px: f64,
    bold: bool,
    italic: bool,
}

const F_TITLE: Font = Font {
    px: 15.0,
    bold: true,
    italic: false,
};
const F_HEAD: Font = Font {
    px: 12.5,
    bold: true,
    italic: false,
};
const F_LABEL: Font = Font {
    px: 11.5,
    bold: false,
    italic: false,
};
const F_SMALL: Font = Font {
    px: 11.0,
    bold: false,
    italic: false,
};
const F_NOTE: Font = Font {
    px: 11.0,
    bold: false,
    italic: true,
};

/// Registers the embedded font once (plotters keeps a process-wide table).
fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the embedded chart font could not be read"))
    }
}

/// plotters writes `font-size` as its size / 1.24; this asks for `px` pixels.
fn font_desc(f: Font) -> FontDesc<'static> {
    let style = if f.bold {
        FontStyle::Bold
    } else if f.italic {
        FontStyle::Italic
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FontFamily::SansSerif, f.px * 1.24, style)
}

/// Width of `text` in pixels, slightly generous (bold is measured with the regular face).
fn text_width(f: Font, text: &str) -> i32 {
    let measured = font_desc(f)
        .box_size(text)
        .map(|(w, _)| f64::from(w))
        .unwrap_or_else(|_| text.chars().count() as f64 * f.px * 0.62);
    let w = if f.bold { measured * 1.08 } else { measured };
    w.ceil() as i32
}

/// `text`, shortened with an ellipsis until it fits in `max` pixels.
fn fit(f: Font, text: &str, max: i32) -> String {
    if text_width(f, text) <= max {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>() + "\u{2026}";
        if text_width(f, &candidate) <= max {
            return candidate;
        }
    }
    String::new()
}

/// Splits `pieces` into lines no wider than `max` pixels, joined with ", ".
fn wrap(f: Font, pieces: &[String], max: i32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for piece in pieces {
        let candidate = if current.is_empty() {
            piece.clone()
        } else {
            format!("{current}, {piece}")
        };
        if current.is_empty() || text_width(f, &candidate) <= max {
            current = candidate;
        } else {
            lines.push(format!("{current},"));
            current = piece.clone();
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines.into_iter().map(|l| fit(f, &l, max)).collect()
}

// ---------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------

/// `v` rounded to `digits` significant digits.
fn round_sig(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(digits - 1 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

/// `v` with `digits` significant digits, trailing zeros kept unless `trim`.
fn sig(v: f64, digits: i32, trim: bool) -> String {
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

/// A duration in nanoseconds with a unit (`388 µs`); `trim` for axis ticks (`1 µs`).
pub fn format_duration_ns(ns: f64, trim: bool) -> String {
    if !ns.is_finite() {
        return "-".into();
    }
    if ns == 0.0 {
        return "0".into();
    }
    let r = round_sig(ns, 3);
    let (value, unit) = if r.abs() < 1e3 {
        (r, "ns")
    } else if r.abs() < 1e6 {
        (r / 1e3, "\u{b5}s")
    } else if r.abs() < 1e9 {
        (r / 1e6, "ms")
    } else {
        (r / 1e9, "s")
    };
    format!("{} {unit}", sig(value, 3, trim))
}

/// A count (allocations) with `k`/`M` for thousands and millions.
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

/// A parameter value as a number, when it is one.
fn param_number(v: &ParamValue) -> Option<f64> {
    match v {
        ParamValue::Int(i) => Some(*i as f64),
        ParamValue::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Axes
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scale {
    /// Decades `10^lo ..= 10^hi`.
    Log { lo: i32, hi: i32 },
    /// `lo ..= hi`.
    Linear { lo: f64, hi: f64 },
}

impl Scale {
    /// Bounds around data values with a margin, for an axis ticked at the values.
    fn padded_of(values: &[f64]) -> Scale {
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
    fn frac(&self, v: f64) -> Option<f64> {
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
    fn roomy(&self, pixels: i32) -> bool {
        match *self {
            Scale::Log { lo, hi } => pixels >= 80 * (hi - lo),
            Scale::Linear { .. } => true,
        }
    }

    /// Pixel of `v` on an axis from pixel `a` (start) to `b` (end).
    fn px(&self, v: f64, a: i32, b: i32) -> Option<i32> {
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

#[derive(Debug, Clone, PartialEq)]
struct Tick {
    value: f64,
    label: Option<String>,
    major: bool,
}

/// A scale with its ticks.
#[derive(Debug, Clone, PartialEq)]
struct Axis {
    scale: Scale,
    ticks: Vec<Tick>,
}

impl Axis {
    /// A log axis ticked at every decade (with 2 and 5 labelled when it spans few decades,
    /// light grid lines at 2..9 when it spans a handful), labels by `fmt`.
    fn log(values: &[f64], fmt: fn(f64, bool) -> String) -> Axis {
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
    fn linear(values: &[f64], with_zero: bool, fmt: fn(f64, bool) -> String) -> Axis {
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
    fn at_values(values: &[f64], log: bool, fmt: impl Fn(f64) -> String) -> Axis {
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
    fn categories(names: &[&str]) -> Axis {
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

// ---------------------------------------------------------------------------------------
// Drawing primitives
// ---------------------------------------------------------------------------------------

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Draws a `width` x `height` chart with `draw` and returns it ready for the page.
fn render(
    width: i32,
    height: i32,
    caption: &str,
    draw: impl FnOnce(&Area<'_>) -> Drawn,
) -> Result<Chart> {
    ensure_font()?;
    let (w, h) = (width.max(1) as u32, height.max(1) as u32);
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| anyhow!("drawing the chart \"{caption}\": {e}"))?;
        draw(&root).map_err(|e| anyhow!("drawing the chart \"{caption}\": {e}"))?;
        root.present()
            .map_err(|e| anyhow!("drawing the chart \"{caption}\": {e}"))?;
    }
    // Replace plotters' opening tag (which names the SVG namespace by URL) with one for
    // inline use.
    let body = match buf.find('>') {
        Some(end) if buf.starts_with("<svg") => &buf[end + 1..],
        _ => {
            return Err(anyhow!(
                "drawing the chart \"{caption}\": unexpected SVG output"
            ))
        }
    };
    let title = super::html::escape(caption);
    let svg = format!(
        "<svg class=\"chart\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         role=\"img\" aria-label=\"{title}\">\n<title>{title}</title>{body}"
    );
    Ok(Chart {
        caption: caption.to_string(),
        svg,
    })
}

fn text(
    area: &Area<'_>,
    s: &str,
    (x, y): (i32, i32),
    f: Font,
    color: RGBColor,
    h: HPos,
    v: VPos,
) -> Drawn {
    if s.is_empty() {
        return Ok(());
    }
    let style = font_desc(f).color(&color).pos(Pos::new(h, v));
    area.draw(&Text::new(s, (x, y), style))
}

fn rotated_text(area: &Area<'_>, s: &str, (x, y): (i32, i32), f: Font, color: RGBColor) -> Drawn {
    let style = font_desc(f)
        .transform(FontTransform::Rotate270)
        .color(&color)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(s, (x, y), style))
}

fn fill_rect(
    area: &Area<'_>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    color: RGBColor,
) -> Drawn {
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], color.filled()))
}

fn outline_rect(
    area: &Area<'_>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    color: RGBColor,
) -> Drawn {
    area.draw(&Rectangle::new(
        [(x0, y0), (x1, y1)],
        ShapeStyle::from(&color).stroke_width(1),
    ))
}

fn line(area: &Area<'_>, points: Vec<(i32, i32)>, color: RGBColor, width: u32) -> Drawn {
    area.draw(&PathElement::new(
        points,
        ShapeStyle::from(&color).stroke_width(width),
    ))
}

fn styled_line(area: &Area<'_>, points: &[(i32, i32)], color: RGBColor, dash: Dash) -> Drawn {
    if points.len() < 2 {
        return Ok(());
    }
    let style = ShapeStyle::from(&color).stroke_width(2);
    match dash {
        Dash::Solid => area.draw(&PathElement::new(points.to_vec(), style)),
        Dash::Dashed => area.draw(&DashedPathElement::new(points.iter().copied(), 7, 4, style)),
        Dash::Dotted => area.draw(&DashedPathElement::new(points.iter().copied(), 2, 3, style)),
    }
}

fn marker(area: &Area<'_>, (x, y): (i32, i32), m: Marker, color: RGBColor) -> Drawn {
    let fill = color.filled();
    match m {
        Marker::Circle => area.draw(&Circle::new((x, y), 4, fill)),
        Marker::Square => area.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], fill)),
        Marker::Triangle => area.draw(&Polygon::new(
            vec![(x, y - 5), (x + 5, y + 4), (x - 5, y + 4)],
            fill,
        )),
        Marker::Diamond => area.draw(&Polygon::new(
            vec![(x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y)],
            fill,
        )),
        Marker::Cross => {
            let style = ShapeStyle::from(&color).stroke_width(2);
            area.draw(&PathElement::new(
                vec![(x - 4, y - 4), (x + 4, y + 4)],
                style,
            ))?;
            area.draw(&PathElement::new(
                vec![(x - 4, y + 4), (x + 4, y - 4)],
                style,
            ))
        }
    }
}

/// Vertical grid lines of `axis` over `x0..x1`, from `top` to `bottom`, with labels above
/// `top` and below `bottom` (labels that would collide with the previous one are left out).
fn x_grid(
    area: &Area<'_>,
    axis: &Axis,
    (x0, x1): (i32, i32),
    (top, bottom): (i32, i32),
    labels_above: bool,
    labels_below: bool,
) -> Drawn {
    let light_lines = axis.scale.roomy(x1 - x0);
    for tick in &axis.ticks {
        if let Some(x) = axis.scale.px(tick.value, x0, x1) {
            if !tick.major && tick.label.is_none() && !light_lines {
                continue;
            }
            let color = if tick.major { GRID_MAJOR } else { GRID_MINOR };
            line(area, vec![(x, top), (x, bottom)], color, 1)?;
        }
    }
    let mut last_right = i32::MIN;
    for tick in &axis.ticks {
        let (Some(x), Some(label)) = (axis.scale.px(tick.value, x0, x1), &tick.label) else {
            continue;
        };
        let w = text_width(F_SMALL, label);
        if x - w / 2 < last_right + 5 {
            continue;
        }
        last_right = x + w / 2;
        let color = if tick.major { MUTED } else { FRAME };
        if labels_above {
            text(
                area,
                label,
                (x, top - 4),
                F_SMALL,
                color,
                HPos::Center,
                VPos::Bottom,
            )?;
        }
        if labels_below {
            text(
                area,
                label,
                (x, bottom + 4),
                F_SMALL,
                color,
                HPos::Center,
                VPos::Top,
            )?;
        }
    }
    Ok(())
}

/// Horizontal grid lines of `axis` over `y0` (bottom) ..`y1` (top), labels left of `x0`.
fn y_grid(area: &Area<'_>, axis: &Axis, (x0, x1): (i32, i32), (y0, y1): (i32, i32)) -> Drawn {
    let light_lines = axis.scale.roomy((y0 - y1).abs());
    for tick in &axis.ticks {
        if let Some(y) = axis.scale.px(tick.value, y0, y1) {
            if !tick.major && tick.label.is_none() && !light_lines {
                continue;
            }
            let color = if tick.major { GRID_MAJOR } else { GRID_MINOR };
            line(area, vec![(x0, y), (x1, y)], color, 1)?;
        }
    }
    let mut last_top = i32::MAX;
    for tick in &axis.ticks {
        let (Some(y), Some(label)) = (axis.scale.px(tick.value, y0, y1), &tick.label) else {
            continue;
        };
        if y + 7 > last_top {
            continue;
        }
        last_top = y - 7;
        let color = if tick.major { MUTED } else { FRAME };
        text(
            area,
            label,
            (x0 - 5, y),
            F_SMALL,
            color,
            HPos::Right,
            VPos::Center,
        )?;
    }
    Ok(())
}

/// Width of the widest tick label of `axis`.
fn tick_label_width(axis: &Axis) -> i32 {
    axis.ticks
        .iter()
        .filter_map(|t| t.label.as_ref())
        .map(|l| text_width(F_SMALL, l))
        .max()
        .unwrap_or(0)
}

/// A legend entry: a colour block (runtimes) or a line sample (variants).
#[derive(Debug, Clone)]
enum Swatch {
    Block(RGBColor),
    Line(RGBColor, Look),
}

const SWATCH_W: i32 = 26;

fn legend_item_width(label: &str) -> i32 {
    SWATCH_W + 6 + text_width(F_LABEL, label) + 18
}

/// Height of a legend laid out in rows within `width`.
fn legend_height(items: &[(Swatch, String)], width: i32) -> i32 {
    if items.is_empty() {
        return 0;
    }
    let mut rows = 1;
    let mut x = 0;
    for (_, label) in items {
        let w = legend_item_width(label);
        if x > 0 && x + w > width {
            rows += 1;
            x = 0;
        }
        x += w;
    }
    rows * 20
}

fn draw_legend(
    area: &Area<'_>,
    items: &[(Swatch, String)],
    (x0, y0): (i32, i32),
    width: i32,
) -> Drawn {
    let (mut x, mut y) = (x0, y0);
    for (swatch, label) in items {
        let w = legend_item_width(label);
        if x > x0 && x + w > x0 + width {
            x = x0;
            y += 20;
        }
        let cy = y + 9;
        match swatch {
            Swatch::Block(color) => fill_rect(area, (x, cy - 6), (x + SWATCH_W, cy + 6), *color)?,
            Swatch::Line(color, look) => {
                styled_line(area, &[(x, cy), (x + SWATCH_W, cy)], *color, look.dash)?;
                marker(area, (x + SWATCH_W / 2, cy), look.marker, *color)?;
            }
        }
        text(
            area,
            label,
            (x + SWATCH_W + 6, cy),
            F_LABEL,
            INK,
            HPos::Left,
            VPos::Center,
        )?;
        x += w;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Cases, runtimes, parameters
// ---------------------------------------------------------------------------------------

fn runtime_rank(id: &str) -> usize {
    tapbench_runtimes::all()
        .iter()
        .position(|r| r.info.id == id)
        .unwrap_or(usize::MAX)
}

/// The runtimes of `cells`, in report order.
fn runtimes_of<'a>(cells: impl Iterator<Item = &'a CellResult>) -> Vec<&'a str> {
    let mut ids: Vec<&str> = Vec::new();
    for c in cells {
        if !ids.contains(&c.runtime.as_str()) {
            ids.push(&c.runtime);
        }
    }
    ids.sort_by(|a, b| runtime_rank(a).cmp(&runtime_rank(b)).then_with(|| a.cmp(b)));
    ids
}

/// The variants of `cells`, in catalogue order.
fn variants_of<'a>(
    spec: Option<&WorkloadSpec>,
    cells: impl Iterator<Item = &'a CellResult>,
) -> Vec<&'a str> {
    let mut ids: Vec<&str> = Vec::new();
    for c in cells {
        if !ids.contains(&c.variant.as_str()) {
            ids.push(&c.variant);
        }
    }
    let rank = |v: &str| {
        spec.and_then(|s| s.variants.iter().position(|x| x.id == v))
            .unwrap_or(usize::MAX)
    };
    ids.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    ids
}

/// Parameters with one and the same value in every one of `cases` (shown once, in the
/// chart's caption, instead of on every label).
fn constant_params(cases: &[&CellResult]) -> BTreeMap<String, ParamValue> {
    let Some(first) = cases.first() else {
        return BTreeMap::new();
    };
    first
        .params
        .0
        .iter()
        .filter(|(k, v)| cases.iter().all(|c| c.params.get(k) == Some(v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `name=value` of the parameters of `cell` except those in `skip`.
fn param_pieces(cell: &CellResult, skip: &dyn Fn(&str) -> bool) -> Vec<String> {
    cell.params
        .0
        .iter()
        .filter(|(k, _)| !skip(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

fn constants_text(constants: &BTreeMap<String, ParamValue>) -> String {
    constants
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The order in which values of parameter `name` are shown: the catalogue's order for
/// choices (`ready`, `yield`, `sleep_1ms`), numeric order for numbers, text order otherwise
/// (numbers first). A total order even for a hand-edited file that mixes types.
fn compare_values(
    spec: Option<&WorkloadSpec>,
    name: &str,
    a: &ParamValue,
    b: &ParamValue,
) -> Ordering {
    let choices: &[&str] = match spec.and_then(|s| s.param(name)).map(|p| p.kind) {
        Some(ParamKind::Choice(names)) => names,
        _ => &[],
    };
    let rank = |v: &ParamValue| match v {
        ParamValue::Text(t) => choices.iter().position(|c| c == t).unwrap_or(usize::MAX),
        _ => 0,
    };
    rank(a)
        .cmp(&rank(b))
        .then_with(|| match (param_number(a), param_number(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.to_string().cmp(&b.to_string()),
        })
}

/// Orders cases by variant (catalogue order), then by [`compare_params`].
fn compare_cases(spec: Option<&WorkloadSpec>, a: &CellResult, b: &CellResult) -> Ordering {
    let variant_rank = |v: &str| {
        spec.and_then(|s| s.variants.iter().position(|x| x.id == v))
            .unwrap_or(usize::MAX)
    };
    variant_rank(&a.variant)
        .cmp(&variant_rank(&b.variant))
        .then_with(|| a.variant.cmp(&b.variant))
        .then_with(|| compare_params(spec, a, b, &|_| false))
}

/// Orders cases by their parameters, by name, each parameter's values as
/// [`compare_values`] does; parameters for which `skip` is true are ignored.
fn compare_params(
    spec: Option<&WorkloadSpec>,
    a: &CellResult,
    b: &CellResult,
    skip: &dyn Fn(&str) -> bool,
) -> Ordering {
    let names: BTreeSet<&String> = a.params.0.keys().chain(b.params.0.keys()).collect();
    for name in names.into_iter().filter(|n| !skip(n)) {
        let ord = match (a.params.get(name), b.params.get(name)) {
            (Some(x), Some(y)) => compare_values(spec, name, x, y),
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// The parameter to split `cases` into panels by, when there are too many for one panel:
/// one every case has, with 2 to 6 values; names (`op`) and flags before numbers, fewer
/// values first.
fn split_param(
    spec: Option<&WorkloadSpec>,
    cases: &[&CellResult],
) -> Option<(String, Vec<ParamValue>)> {
    if cases.len() <= MAX_GROUPS_PER_PANEL {
        return None;
    }
    let first = cases.first()?;
    let mut best: Option<(bool, usize, String, Vec<ParamValue>)> = None;
    for name in first.params.0.keys() {
        if !cases.iter().all(|c| c.params.get(name).is_some()) {
            continue;
        }
        let mut values: Vec<ParamValue> = Vec::new();
        for c in cases {
            if let Some(v) = c.params.get(name) {
                if !values.contains(v) {
                    values.push(v.clone());
                }
            }
        }
        if !(2..=6).contains(&values.len()) {
            continue;
        }
        let numeric = values.iter().any(|v| param_number(v).is_some());
        let better = match &best {
            None => true,
            Some((b_numeric, b_len, _, _)) => (numeric, values.len()) < (*b_numeric, *b_len),
        };
        if better {
            values.sort_by(|a, b| compare_values(spec, name, a, b));
            best = Some((numeric, values.len(), name.clone(), values));
        }
    }
    best.map(|(_, _, name, values)| (name, values))
}

// ---------------------------------------------------------------------------------------
// Bar charts: time and allocations per operation
// ---------------------------------------------------------------------------------------

/// One runtime's row in a group of bars.
struct BarRow {
    runtime_id: String,
    runtime: String,
    time_ns: Option<f64>,
    ci_ns: Option<(f64, f64)>,
    allocs: Option<f64>,
    /// Why there is no measurement (`skipped: ...`), for cells that did not end `ok`.
    note: Option<String>,
}

/// One case: a variant with its parameters, a row per runtime.
struct BarGroup {
    variant: String,
    params: Vec<String>,
    rows: Vec<BarRow>,
}

/// The rows of every case of a workload, `ok` cells and the others (shown with their status),
/// in the order of the model's rows.
fn cases_of<'a>(section: &Section<'a>, problems: &[&'a CellResult]) -> Vec<&'a CellResult> {
    let mut keys: Vec<String> = Vec::new();
    let mut cases: Vec<&CellResult> = Vec::new();
    let own_problems = problems
        .iter()
        .copied()
        .filter(|c| c.workload == section.workload);
    for cell in section.rows.iter().map(|r| r.cell).chain(own_problems) {
        let key = case_key(cell);
        if !keys.contains(&key) {
            keys.push(key);
            cases.push(cell);
        }
    }
    cases.sort_by(|a, b| compare_cases(section.spec, a, b));
    cases
}

/// The bar charts of a workload: median time per operation (with its 95% interval) beside
/// allocations per operation, one group of bars per case, one bar per runtime; split into
/// panels by one parameter when the workload has many cases. Cells that did not end `ok`
/// (`problems`) appear in their group with their status instead of a bar.
///
/// # Errors
///
/// A chart that could not be drawn.
pub fn bar_charts(section: &Section<'_>, problems: &[&CellResult]) -> Result<Vec<Chart>> {
    // Layout measures text: the font must be there before the first measurement.
    ensure_font()?;
    let cases = cases_of(section, problems);
    if section.rows.is_empty() || cases.is_empty() {
        return Ok(Vec::new());
    }
    let own_problems: Vec<&CellResult> = problems
        .iter()
        .copied()
        .filter(|c| c.workload == section.workload)
        .collect();
    let runtimes = runtimes_of(
        section
            .rows
            .iter()
            .map(|r| r.cell)
            .chain(own_problems.iter().copied()),
    );
    let constants = constant_params(&cases);
    let split = split_param(section.spec, &cases);

    // Shared axes, so that panels of one workload compare directly.
    let times: Vec<f64> = section
        .rows
        .iter()
        .filter_map(|r| r.cell.time_ns_per_op.as_ref())
        .flat_map(|t| [t.median, t.ci95_low, t.ci95_high])
        .collect();
    let allocs: Vec<f64> = section
        .rows
        .iter()
        .filter_map(|r| r.cell.allocs_per_op)
        .collect();
    let time_axis = Axis::log(&times, format_duration_ns);
    let alloc_axis = Axis::log(&allocs, format_count);

    let group_of = |case: &CellResult, skip: &dyn Fn(&str) -> bool| {
        let key = case_key(case);
        let rows = runtimes
            .iter()
            .filter_map(|rt| {
                let ok = section
                    .rows
                    .iter()
                    .find(|r| r.cell.runtime == *rt && case_key(r.cell) == key);
                if let Some(row) = ok {
                    let t = row.cell.time_ns_per_op.as_ref();
                    return Some(BarRow {
                        runtime_id: row.cell.runtime.clone(),
                        runtime: row.runtime_label(),
                        time_ns: t.map(|t| t.median),
                        ci_ns: t.map(|t| (t.ci95_low, t.ci95_high)),
                        allocs: row.cell.allocs_per_op,
                        note: None,
                    });
                }
                own_problems
                    .iter()
                    .find(|c| c.runtime == *rt && case_key(c) == key)
                    .map(|c| {
                        let reason = c
                            .error
                            .as_deref()
                            .unwrap_or("")
                            .lines()
                            .next()
                            .unwrap_or("");
                        BarRow {
                            runtime_id: c.runtime.clone(),
                            runtime: runtime_label(&c.runtime),
                            time_ns: None,
                            ci_ns: None,
                            allocs: None,
                            note: Some(if reason.is_empty() {
                                c.status.as_str().to_string()
                            } else {
                                format!("{}: {reason}", c.status.as_str())
                            }),
                        }
                    })
            })
            .collect();
        BarGroup {
            variant: case.variant.clone(),
            params: param_pieces(case, skip),
            rows,
        }
    };

    let workload = &section.workload;
    let fixed = constants_text(&constants);
    let mut charts = Vec::new();
    match split {
        None => {
            let skip = |k: &str| constants.contains_key(k);
            let groups: Vec<BarGroup> = cases.iter().map(|c| group_of(c, &skip)).collect();
            let mut caption = format!("{workload}: median time and allocations per operation");
            if !fixed.is_empty() {
                caption.push_str(&format!(" ({fixed})"));
            }
            charts.push(bar_chart(&caption, &groups, &time_axis, &alloc_axis)?);
        }
        Some((name, values)) => {
            for value in &values {
                let skip = |k: &str| k == name || constants.contains_key(k);
                let groups: Vec<BarGroup> = cases
                    .iter()
                    .filter(|c| c.params.get(&name) == Some(value))
                    .map(|c| group_of(c, &skip))
                    .collect();
                let mut caption = format!(
                    "{workload}, {name}={value}: median time and allocations per operation"
                );
                if !fixed.is_empty() {
                    caption.push_str(&format!(" ({fixed})"));
                }
                charts.push(bar_chart(&caption, &groups, &time_axis, &alloc_axis)?);
            }
        }
    }
    Ok(charts)
}

const ROW_H: i32 = 16;
const GROUP_PAD: i32 = 5;
const LINE_H: i32 = 15;
const LABEL_MAX: i32 = 300;

fn bar_chart(caption: &str, groups: &[BarGroup], time: &Axis, allocs: &Axis) -> Result<Chart> {
    // Label lines of every group: the variant, then its parameters wrapped.
    let labels: Vec<Vec<(String, Font)>> = groups
        .iter()
        .map(|g| {
            let mut lines = vec![(fit(F_HEAD, &g.variant, LABEL_MAX), F_HEAD)];
            lines.extend(
                wrap(F_LABEL, &g.params, LABEL_MAX)
                    .into_iter()
                    .map(|l| (l, F_LABEL)),
            );
            lines
        })
        .collect();
    let label_w = labels
        .iter()
        .flatten()
        .map(|(l, f)| text_width(*f, l))
        .max()
        .unwrap_or(0)
        .max(60);
    let runtime_w = groups
        .iter()
        .flat_map(|g| &g.rows)
        .map(|r| text_width(F_SMALL, &r.runtime))
        .max()
        .unwrap_or(0);
    let time_values: Vec<String> = groups
        .iter()
        .flat_map(|g| &g.rows)
        .filter_map(|r| r.time_ns.map(|v| format_duration_ns(v, false)))
        .collect();
    let alloc_values: Vec<String> = groups
        .iter()
        .flat_map(|g| &g.rows)
        .filter_map(|r| r.allocs.map(|v| format_count(v, false)))
        .collect();
    let widest = |v: &[String]| v.iter().map(|s| text_width(F_SMALL, s)).max().unwrap_or(0);
    let time_value_w = widest(&time_values) + 14;
    let alloc_value_w = widest(&alloc_values) + 14;

    let x_runtime_right = PAD + label_w + 14 + runtime_w;
    let t0 = x_runtime_right + 8;
    let facet_gap = 30;
    let alloc_plot_w = 250;
    let fixed = t0 + time_value_w + facet_gap + alloc_plot_w + alloc_value_w + PAD;
    let time_plot_w = (WIDTH - fixed).max(320);
    let t1 = t0 + time_plot_w;
    let a0 = t1 + time_value_w + facet_gap;
    let a1 = a0 + alloc_plot_w;
    let width = a1 + alloc_value_w + PAD;

    // Vertical layout.
    let title_h = 24;
    let facet_title_y = PAD + title_h;
    let plot_top = facet_title_y + 20 + 18;
    let mut heights = Vec::with_capacity(groups.len());
    for (g, l) in groups.iter().zip(&labels) {
        let rows_h = g.rows.len().max(1) as i32 * ROW_H;
        let label_h = l.len() as i32 * LINE_H;
        heights.push(rows_h.max(label_h) + 2 * GROUP_PAD);
    }
    let plot_bottom = plot_top + heights.iter().sum::<i32>();
    let height = plot_bottom + 22 + PAD;

    render(width, height, caption, |area| {
        text(
            area,
            &fit(F_TITLE, caption, width - 2 * PAD),
            (PAD, PAD),
            F_TITLE,
            INK,
            HPos::Left,
            VPos::Top,
        )?;
        text(
            area,
            "median time per operation, 95% interval (log scale)",
            (t0, facet_title_y + 4),
            F_HEAD,
            INK,
            HPos::Left,
            VPos::Top,
        )?;
        text(
            area,
            "allocations per operation (log scale)",
            (a0, facet_title_y + 4),
            F_HEAD,
            INK,
            HPos::Left,
            VPos::Top,
        )?;
        // Zebra stripes, one per other group.
        let mut y = plot_top;
        for (i, h) in heights.iter().enumerate() {
            if i % 2 == 1 {
                fill_rect(area, (PAD - 4, y), (width - PAD + 4, y + h), ZEBRA)?;
            }
            y += h;
        }
        x_grid(area, time, (t0, t1), (plot_top, plot_bottom), true, true)?;
        x_grid(area, allocs, (a0, a1), (plot_top, plot_bottom), true, true)?;
        line(area, vec![(t0, plot_top), (t0, plot_bottom)], FRAME, 1)?;
        line(area, vec![(a0, plot_top), (a0, plot_bottom)], FRAME, 1)?;

        let mut y = plot_top;
        for ((group, lines), h) in groups.iter().zip(&labels).zip(&heights) {
            let rows_h = group.rows.len() as i32 * ROW_H;
            let label_h = lines.len() as i32 * LINE_H;
            let rows_top = y + GROUP_PAD + (h - 2 * GROUP_PAD - rows_h) / 2;
            let label_top = y + GROUP_PAD + (h - 2 * GROUP_PAD - label_h) / 2;
            for (i, (l, f)) in lines.iter().enumerate() {
                let color = if f.bold { INK } else { MUTED };
                let ly = label_top + i as i32 * LINE_H + LINE_H / 2;
                text(area, l, (PAD, ly), *f, color, HPos::Left, VPos::Center)?;
            }
            for (i, row) in group.rows.iter().enumerate() {
                let ry = rows_top + i as i32 * ROW_H;
                let cy = ry + ROW_H / 2;
                text(
                    area,
                    &row.runtime,
                    (x_runtime_right, cy),
                    F_SMALL,
                    MUTED,
                    HPos::Right,
                    VPos::Center,
                )?;
                let color = runtime_color(&row.runtime_id);
                if let Some(note) = &row.note {
                    let note = fit(F_NOTE, note, t1 + time_value_w - t0 - 8);
                    text(
                        area,
                        &note,
                        (t0 + 6, cy),
                        F_NOTE,
                        MUTED,
                        HPos::Left,
                        VPos::Center,
                    )?;
                    text(
                        area,
                        "-",
                        (a0 + 6, cy),
                        F_SMALL,
                        MUTED,
                        HPos::Left,
                        VPos::Center,
                    )?;
                    continue;
                }
                bar(
                    area,
                    time,
                    (t0, t1),
                    (ry, cy),
                    row.time_ns,
                    row.ci_ns,
                    color,
                    format_duration_ns,
                )?;
                bar(
                    area,
                    allocs,
                    (a0, a1),
                    (ry, cy),
                    row.allocs,
                    None,
                    color,
                    format_count,
                )?;
            }
            y += h;
        }
        Ok(())
    })
}

/// One bar from the start of the axis to `value`, its interval as a whisker, and its value
/// after it; zero (which a log axis cannot show) and missing values are written instead.
#[allow(clippy::too_many_arguments)]
fn bar(
    area: &Area<'_>,
    axis: &Axis,
    (x0, x1): (i32, i32),
    (row_top, cy): (i32, i32),
    value: Option<f64>,
    interval: Option<(f64, f64)>,
    color: RGBColor,
    fmt: fn(f64, bool) -> String,
) -> Drawn {
    let Some(v) = value else {
        return text(
            area,
            "-",
            (x0 + 6, cy),
            F_SMALL,
            MUTED,
            HPos::Left,
            VPos::Center,
        );
    };
    let Some(end) = axis.scale.px(v, x0, x1) else {
        // Zero (or below the axis): no bar, the value written at the axis.
        return text(
            area,
            &fmt(v, false),
            (x0 + 6, cy),
            F_SMALL,
            INK,
            HPos::Left,
            VPos::Center,
        );
    };
    let end = end.clamp(x0 + 1, x1);
    fill_rect(area, (x0, row_top + 2), (end, row_top + ROW_H - 2), color)?;
    let mut label_x = end + 5;
    if let Some((lo, hi)) = interval {
        if let (Some(a), Some(b)) = (axis.scale.px(lo, x0, x1), axis.scale.px(hi, x0, x1)) {
            let (a, b) = (a.clamp(x0, x1), b.clamp(x0, x1));
            if b - a >= 3 {
                line(area, vec![(a, cy), (b, cy)], INK, 1)?;
                line(area, vec![(a, cy - 3), (a, cy + 3)], INK, 1)?;
                line(area, vec![(b, cy - 3), (b, cy + 3)], INK, 1)?;
                label_x = label_x.max(b + 5);
            }
        }
    }
    text(
        area,
        &fmt(v, false),
        (label_x, cy),
        F_SMALL,
        INK,
        HPos::Left,
        VPos::Center,
    )
}

// ---------------------------------------------------------------------------------------
// Line panels: latency percentiles, sweeps, Task vs ValueTask
// ---------------------------------------------------------------------------------------

struct Series {
    color: RGBColor,
    look: Look,
    /// `(x, y)` in axis units, in drawing order.
    points: Vec<(f64, f64)>,
}

struct LinePanel {
    title: String,
    subtitle: Vec<String>,
    series: Vec<Series>,
}

/// Layout shared by the panels of a grid.
struct PanelAxes<'a> {
    x: &'a Axis,
    y: &'a Axis,
    x_title: &'a str,
    y_title: &'a str,
}

/// Height of a panel's title block.
fn panel_header_h(panels: &[&LinePanel]) -> i32 {
    let lines = panels.iter().map(|p| p.subtitle.len()).max().unwrap_or(0) as i32;
    18 + lines * LINE_H + 4
}

fn draw_line_panel(
    area: &Area<'_>,
    panel: &LinePanel,
    (x, y, w, h): (i32, i32, i32, i32),
    header_h: i32,
    axes: &PanelAxes<'_>,
) -> Drawn {
    text(
        area,
        &fit(F_HEAD, &panel.title, w),
        (x, y),
        F_HEAD,
        INK,
        HPos::Left,
        VPos::Top,
    )?;
    for (i, l) in panel.subtitle.iter().enumerate() {
        text(
            area,
            l,
            (x, y + 18 + i as i32 * LINE_H),
            F_LABEL,
            MUTED,
            HPos::Left,
            VPos::Top,
        )?;
    }
    let px0 = x + 16 + tick_label_width(axes.y) + 8;
    let px1 = x + w - 8;
    let py0 = y + header_h + 8;
    let py1 = y + h - 36;
    if px1 - px0 < 20 || py1 - py0 < 20 {
        return Ok(());
    }
    y_grid(area, axes.y, (px0, px1), (py1, py0))?;
    x_grid(area, axes.x, (px0, px1), (py0, py1), false, true)?;
    outline_rect(area, (px0, py0), (px1, py1), FRAME)?;
    rotated_text(area, axes.y_title, (x + 6, (py0 + py1) / 2), F_SMALL, MUTED)?;
    text(
        area,
        axes.x_title,
        ((px0 + px1) / 2, py1 + 20),
        F_SMALL,
        MUTED,
        HPos::Center,
        VPos::Top,
    )?;
    for s in &panel.series {
        // Lines break where a point cannot be drawn (zero on a log axis).
        let mut run: Vec<(i32, i32)> = Vec::new();
        let mut points = Vec::new();
        for &(vx, vy) in &s.points {
            match (axes.x.scale.px(vx, px0, px1), axes.y.scale.px(vy, py1, py0)) {
                (Some(px), Some(py)) => {
                    run.push((px, py));
                    points.push((px, py));
                }
                _ => {
                    styled_line(area, &run, s.color, s.look.dash)?;
                    run.clear();
                }
            }
        }
        styled_line(area, &run, s.color, s.look.dash)?;
        for p in points {
            marker(area, p, s.look.marker, s.color)?;
        }
    }
    Ok(())
}

/// A grid of line panels under a title and a legend.
fn panel_grid(
    caption: &str,
    legend: &[(Swatch, String)],
    panels: &[LinePanel],
    columns: usize,
    panel_h: i32,
    axes: &PanelAxes<'_>,
) -> Result<Chart> {
    let columns = columns.clamp(1, panels.len().max(1)) as i32;
    let gap = 28;
    let panel_w = (WIDTH - 2 * PAD - (columns - 1) * gap) / columns;
    let legend_h = legend_height(legend, WIDTH - 2 * PAD);
    let top = PAD + 26 + legend_h + if legend_h > 0 { 10 } else { 0 };
    let rows = (panels.len() as i32 + columns - 1) / columns;
    let refs: Vec<&LinePanel> = panels.iter().collect();
    let header_h = panel_header_h(&refs);
    let height = top + rows * (panel_h + header_h) + (rows - 1).max(0) * 16 + PAD;
    render(WIDTH, height, caption, |area| {
        text(
            area,
            &fit(F_TITLE, caption, WIDTH - 2 * PAD),
            (PAD, PAD),
            F_TITLE,
            INK,
            HPos::Left,
            VPos::Top,
        )?;
        draw_legend(area, legend, (PAD, PAD + 26), WIDTH - 2 * PAD)?;
        for (i, panel) in panels.iter().enumerate() {
            let (col, row) = (i as i32 % columns, i as i32 / columns);
            let x = PAD + col * (panel_w + gap);
            let y = top + row * (panel_h + header_h + 16);
            draw_line_panel(
                area,
                panel,
                (x, y, panel_w, panel_h + header_h),
                header_h,
                axes,
            )?;
        }
        Ok(())
    })
}

fn runtime_legend(runtimes: &[&str]) -> Vec<(Swatch, String)> {
    runtimes
        .iter()
        .map(|r| (Swatch::Block(runtime_color(r)), runtime_label(r)))
        .collect()
}

const PERCENTILES: [&str; 5] = ["p50", "p90", "p99", "p99.9", "max"];

/// Latency percentiles (p50, p90, p99, p99.9, max) of the cells of `section` that measured
/// latency: one panel per case, one line per runtime, a shared log axis. `None` when no cell
/// has latency.
///
/// # Errors
///
/// A chart that could not be drawn.
pub fn latency_chart(section: &Section<'_>) -> Result<Option<Chart>> {
    // Layout measures text: the font must be there before the first measurement.
    ensure_font()?;
    let rows: Vec<&CellResult> = section
        .rows
        .iter()
        .map(|r| r.cell)
        .filter(|c| c.latency_ns.is_some())
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    let mut cases: Vec<&CellResult> = Vec::new();
    for c in &rows {
        if !cases.iter().any(|k| case_key(k) == case_key(c)) {
            cases.push(c);
        }
    }
    let constants = constant_params(&cases);
    let runtimes = runtimes_of(rows.iter().copied());
    let values: Vec<f64> = rows
        .iter()
        .filter_map(|c| c.latency_ns.as_ref())
        .flat_map(|l| [l.p50, l.p90, l.p99, l.p999, l.max])
        .map(|v| v as f64)
        .collect();
    let y = Axis::log(&values, format_duration_ns);
    let x = Axis::categories(&PERCENTILES);
    let columns = 3.min(cases.len());
    let panel_w = (WIDTH - 2 * PAD - (columns as i32 - 1) * 28) / columns.max(1) as i32;
    let panels: Vec<LinePanel> = cases
        .iter()
        .map(|case| {
            let key = case_key(case);
            let series = runtimes
                .iter()
                .filter_map(|rt| {
                    let cell = rows
                        .iter()
                        .find(|c| c.runtime == *rt && case_key(c) == key)?;
                    let l = cell.latency_ns.as_ref()?;
                    let ys = [l.p50, l.p90, l.p99, l.p999, l.max];
                    Some(Series {
                        color: runtime_color(rt),
                        look: variant_look(0),
                        points: ys
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (i as f64, *v as f64))
                            .collect(),
                    })
                })
                .collect();
            let pieces = param_pieces(case, &|k| constants.contains_key(k));
            LinePanel {
                title: case.variant.clone(),
                subtitle: wrap(F_LABEL, &pieces, panel_w),
                series,
            }
        })
        .collect();
    let mut caption = format!("{}: latency percentiles per operation", section.workload);
    let fixed = constants_text(&constants);
    if !fixed.is_empty() {
        caption.push_str(&format!(" ({fixed})"));
    }
    let axes = PanelAxes {
        x: &x,
        y: &y,
        x_title: "percentile",
        y_title: "latency (log scale)",
    };
    panel_grid(
        &caption,
        &runtime_legend(&runtimes),
        &panels,
        columns,
        230,
        &axes,
    )
    .map(Some)
}

/// A line of a sweep: runtime, variant, the other parameters.
type LineKey<'a> = (&'a str, &'a str, String);

/// Parameters of `section` worth a sweep chart: numbers with three values or more,
/// `sync_ratio` and `threads` with two or more; with whether each is a size (log axis).
fn sweep_params(section: &Section<'_>) -> Vec<(String, bool)> {
    let mut values: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut all_ints: BTreeMap<&str, bool> = BTreeMap::new();
    for row in &section.rows {
        for (k, v) in &row.cell.params.0 {
            if let Some(x) = param_number(v) {
                let list = values.entry(k).or_default();
                if !list.contains(&x) {
                    list.push(x);
                }
                let int = all_ints.entry(k).or_insert(true);
                *int &= matches!(v, ParamValue::Int(_));
            }
        }
    }
    values
        .into_iter()
        .filter(|(k, v)| v.len() >= 3 || (matches!(*k, "sync_ratio" | "threads") && v.len() >= 2))
        .map(|(k, v)| {
            let size = all_ints.get(k).copied().unwrap_or(false) && v.iter().all(|x| *x > 0.0);
            (k.to_string(), size)
        })
        .collect()
}

/// Cost against each swept parameter of `section` (see [`SweepChart`]): one panel per
/// combination of the other parameters (per variant when that leaves one crowded panel),
/// one line per runtime x variant, a shared log axis of time per operation.
///
/// # Errors
///
/// A chart that could not be drawn.
pub fn sweep_charts(section: &Section<'_>) -> Result<Vec<SweepChart>> {
    // Layout measures text: the font must be there before the first measurement.
    ensure_font()?;
    let mut out = Vec::new();
    let variants = variants_of(section.spec, section.rows.iter().map(|r| r.cell));
    let runtimes = runtimes_of(section.rows.iter().map(|r| r.cell));
    for (param, log_x) in sweep_params(section) {
        let cells: Vec<&CellResult> = section
            .rows
            .iter()
            .map(|r| r.cell)
            .filter(|c| c.params.get(&param).and_then(param_number).is_some())
            .filter(|c| c.time_ns_per_op.is_some())
            .collect();
        let constants = constant_params(&cells);
        let others_of = |c: &CellResult| {
            param_pieces(c, &|k| k == param || constants.contains_key(k)).join(", ")
        };
        // Lines: (runtime, variant, others) -> points.
        let mut lines: Vec<(LineKey<'_>, Vec<(f64, f64)>)> = Vec::new();
        for c in &cells {
            let (Some(x), Some(t)) = (
                c.params.get(&param).and_then(param_number),
                &c.time_ns_per_op,
            ) else {
                continue;
            };
            let key = (c.runtime.as_str(), c.variant.as_str(), others_of(c));
            match lines.iter_mut().find(|(k, _)| *k == key) {
                Some((_, points)) => points.push((x, t.median)),
                None => lines.push((key, vec![(x, t.median)])),
            }
        }
        for (_, points) in &mut lines {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        lines.retain(|(_, p)| p.len() >= 2);
        if lines.is_empty() {
            continue;
        }
        // Panels by the other parameters, or by variant when that is one crowded panel.
        let mut panel_cells: Vec<(String, &CellResult)> = Vec::new();
        for c in &cells {
            let others = others_of(c);
            if lines.iter().any(|(k, _)| k.2 == others)
                && !panel_cells.iter().any(|(o, _)| *o == others)
            {
                panel_cells.push((others, c));
            }
        }
        panel_cells.sort_by(|(_, a), (_, b)| compare_params(section.spec, a, b, &|k| k == param));
        let panel_keys: Vec<String> = panel_cells.into_iter().map(|(o, _)| o).collect();
        let by_variant = panel_keys.len() == 1 && lines.len() > 8;
        let panel_of = |(_, variant, others): &(&str, &str, String)| {
            if by_variant {
                (*variant).to_string()
            } else {
                others.clone()
            }
        };
        let panel_names: Vec<String> = if by_variant {
            variants
                .iter()
                .filter(|v| lines.iter().any(|(k, _)| k.1 == **v))
                .map(|v| v.to_string())
                .collect()
        } else {
            panel_keys
        };
        let xs: Vec<f64> = lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|(x, _)| *x))
            .collect();
        let ys: Vec<f64> = lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|(_, y)| *y))
            .collect();
        let x_axis = Axis::at_values(&xs, log_x, |v| format_count(v, true));
        let y_axis = Axis::log(&ys, format_duration_ns);
        let columns = match panel_names.len() {
            0 | 1 => 1,
            2 | 4 => 2,
            _ => 3,
        };
        let panel_w = (WIDTH - 2 * PAD - (columns as i32 - 1) * 28) / columns as i32;
        let panels: Vec<LinePanel> = panel_names
            .iter()
            .map(|name| {
                let series = lines
                    .iter()
                    .filter(|(k, _)| panel_of(k) == *name)
                    .map(|((rt, variant, _), points)| {
                        let index = variants.iter().position(|v| v == variant).unwrap_or(0);
                        Series {
                            color: runtime_color(rt),
                            look: variant_look(index),
                            points: points
                                .iter()
                                .map(|(x, y)| (if log_x { x.log10() } else { *x }, *y))
                                .collect(),
                        }
                    })
                    .collect();
                let (title, subtitle) = if by_variant {
                    (name.clone(), Vec::new())
                } else if name.is_empty() {
                    ("all cases".to_string(), Vec::new())
                } else {
                    let pieces: Vec<String> = name.split(", ").map(str::to_string).collect();
                    (
                        fit(F_HEAD, &pieces[0], panel_w),
                        wrap(F_LABEL, &pieces[1..], panel_w),
                    )
                };
                LinePanel {
                    title,
                    subtitle,
                    series,
                }
            })
            .collect();
        let mut legend = runtime_legend(&runtimes);
        let line_variants: Vec<&str> = variants
            .iter()
            .copied()
            .filter(|v| lines.iter().any(|(k, _)| k.1 == *v))
            .collect();
        for v in &line_variants {
            let index = variants.iter().position(|x| x == v).unwrap_or(0);
            legend.push((Swatch::Line(INK, variant_look(index)), (*v).to_string()));
        }
        let scale_note = if log_x { "log-log" } else { "log time" };
        let mut caption = format!(
            "{}: median time per operation against {param} ({scale_note})",
            section.workload
        );
        let fixed = constants_text(&constants);
        if !fixed.is_empty() {
            caption.push_str(&format!(", {fixed}"));
        }
        let x_title = if log_x {
            format!("{param} (log scale)")
        } else {
            param.clone()
        };
        let axes = PanelAxes {
            x: &x_axis,
            y: &y_axis,
            x_title: &x_title,
            y_title: "time per op (log)",
        };
        let panel_h = if columns == 1 { 320 } else { 270 };
        let chart = panel_grid(&caption, &legend, &panels, columns, panel_h, &axes)?;
        let mut growth: Vec<Growth> = if log_x {
            lines
                .iter()
                .filter_map(|((rt, variant, others), points)| {
                    let positive: Vec<(f64, f64)> = points
                        .iter()
                        .copied()
                        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
                        .collect();
                    let (&first, &last) = (positive.first()?, positive.last()?);
                    let before = positive.get(positive.len().checked_sub(2)?)?;
                    let slope = |a: (f64, f64), b: (f64, f64)| {
                        (b.1.ln() - a.1.ln()) / (b.0.ln() - a.0.ln())
                    };
                    (last.0 > first.0).then(|| Growth {
                        runtime: (*rt).to_string(),
                        variant: (*variant).to_string(),
                        others: others.clone(),
                        from_x: first.0,
                        to_x: last.0,
                        from_ns: first.1,
                        to_ns: last.1,
                        exponent: slope(first, last),
                        last_step: slope(*before, last),
                    })
                })
                .filter(|g| g.exponent.is_finite() && g.last_step.is_finite())
                .collect()
        } else {
            Vec::new()
        };
        growth.sort_by(|a, b| b.last_step.total_cmp(&a.last_step));
        out.push(SweepChart {
            param,
            log_x,
            chart,
            growth,
        });
    }
    Ok(out)
}

/// The Task vs ValueTask chart: time (log) and allocations (linear) per call against
/// `sync_ratio`, one column of panels per runtime, one line per variant (`inline`, `boxed`,
/// `dyn_trait`, `spawned`). `None` without `value_task` cells.
///
/// # Errors
///
/// A chart that could not be drawn.
pub fn value_task_chart(sections: &[Section<'_>]) -> Result<Option<Chart>> {
    // Layout measures text: the font must be there before the first measurement.
    ensure_font()?;
    let Some(section) = sections.iter().find(|s| s.workload == "value_task") else {
        return Ok(None);
    };
    let ratio_of = |c: &CellResult| c.params.get("sync_ratio").and_then(param_number);
    let cells: Vec<&CellResult> = section
        .rows
        .iter()
        .map(|r| r.cell)
        .filter(|c| ratio_of(c).is_some())
        .collect();
    if cells.is_empty() {
        return Ok(None);
    }
    let runtimes = runtimes_of(cells.iter().copied());
    let variants = variants_of(section.spec, cells.iter().copied());
    let ratios: Vec<f64> = cells.iter().filter_map(|c| ratio_of(c)).collect();
    let times: Vec<f64> = cells
        .iter()
        .filter_map(|c| c.time_ns_per_op.as_ref().map(|t| t.median))
        .collect();
    let allocs: Vec<f64> = cells.iter().filter_map(|c| c.allocs_per_op).collect();
    let x = Axis::at_values(&ratios, false, |v| sig(v, 3, true));
    let y_time = Axis::log(&times, format_duration_ns);
    let y_alloc = Axis::linear(&allocs, true, format_count);
    let series = |rt: &str, value: &dyn Fn(&CellResult) -> Option<f64>| -> Vec<Series> {
        variants
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let mut points: Vec<(f64, f64)> = cells
                    .iter()
                    .filter(|c| c.runtime == rt && c.variant == *v)
                    .filter_map(|c| Some((ratio_of(c)?, value(c)?)))
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                (!points.is_empty()).then(|| Series {
                    color: VARIANT_COLORS[i % VARIANT_COLORS.len()],
                    look: variant_look(i),
                    points,
                })
            })
            .collect()
    };
    let time_panels: Vec<LinePanel> = runtimes
        .iter()
        .map(|rt| LinePanel {
            title: format!("{}: time per call", runtime_label(rt)),
            subtitle: Vec::new(),
            series: series(rt, &|c| c.time_ns_per_op.as_ref().map(|t| t.median)),
        })
        .collect();
    let alloc_panels: Vec<LinePanel> = runtimes
        .iter()
        .map(|rt| LinePanel {
            title: format!("{}: allocations per call", runtime_label(rt)),
            subtitle: Vec::new(),
            series: series(rt, &|c| c.allocs_per_op),
        })
        .collect();
    let legend: Vec<(Swatch, String)> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let color = VARIANT_COLORS[i % VARIANT_COLORS.len()];
            (Swatch::Line(color, variant_look(i)), (*v).to_string())
        })
        .collect();
    let columns = runtimes.len().clamp(1, 4) as i32;
    let rows_per_kind = (runtimes.len() as i32 + columns - 1) / columns;
    let gap = 24;
    let panel_w = (WIDTH - 2 * PAD - (columns - 1) * gap) / columns;
    let panel_h = 230;
    let header_h = panel_header_h(&[]);
    let legend_h = legend_height(&legend, WIDTH - 2 * PAD);
    let top = PAD + 26 + legend_h + 10;
    let block = rows_per_kind * (panel_h + header_h + 14);
    let height = top + 2 * block + PAD;
    let caption = "Task vs ValueTask: time and allocations per call against sync_ratio";
    let time_axes = PanelAxes {
        x: &x,
        y: &y_time,
        x_title: "sync_ratio",
        y_title: "time per call (log)",
    };
    let alloc_axes = PanelAxes {
        x: &x,
        y: &y_alloc,
        x_title: "sync_ratio",
        y_title: "allocations per call",
    };
    render(WIDTH, height, caption, |area| {
        text(
            area,
            caption,
            (PAD, PAD),
            F_TITLE,
            INK,
            HPos::Left,
            VPos::Top,
        )?;
        draw_legend(area, &legend, (PAD, PAD + 26), WIDTH - 2 * PAD)?;
        for (k, (panels, axes)) in [(&time_panels, &time_axes), (&alloc_panels, &alloc_axes)]
            .into_iter()
            .enumerate()
        {
            for (i, panel) in panels.iter().enumerate() {
                let (col, row) = (i as i32 % columns, i as i32 / columns);
                let px = PAD + col * (panel_w + gap);
                let py = top + k as i32 * block + row * (panel_h + header_h + 14);
                draw_line_panel(
                    area,
                    panel,
                    (px, py, panel_w, panel_h + header_h),
                    header_h,
                    axes,
                )?;
            }
        }
        Ok(())
    })
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::build_model;
    use crate::results::ResultsFile;

    const FIXTURE: &str = include_str!("../../tests/fixtures/small-results.json");

    fn fixture() -> ResultsFile {
        serde_json::from_str(FIXTURE).expect("the fixture is a valid results file")
    }

    fn assert_svg(chart: &Chart) {
        assert!(
            chart.svg.starts_with("<svg class=\"chart\""),
            "{}",
            &chart.svg[..60]
        );
        assert!(chart.svg.trim_end().ends_with("</svg>"));
        assert!(!chart.svg.contains("http"));
        assert!(chart.svg.contains("<rect") && chart.svg.contains("<text"));
    }

    #[test]
    fn durations_and_counts_read_like_a_person_wrote_them() {
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

    #[test]
    fn labels_are_fitted_and_wrapped_to_their_width() {
        ensure_font().unwrap();
        let long = "bounded=true, capacity=64, consumers=4, items=1000, producers=4";
        assert!(text_width(F_LABEL, long) > text_width(F_LABEL, "n=10"));
        let fitted = fit(F_LABEL, long, 120);
        assert!(fitted.ends_with('\u{2026}') && text_width(F_LABEL, &fitted) <= 120);
        let pieces: Vec<String> = long.split(", ").map(str::to_string).collect();
        let lines = wrap(F_LABEL, &pieces, 200);
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| text_width(F_LABEL, l) <= 200));
        assert_eq!(
            lines.join(" ").replace(", ", ",").replace(' ', ""),
            long.replace(", ", ",").replace(' ', "")
        );
    }

    #[test]
    fn the_fixture_gets_every_kind_of_chart() {
        let results = fixture();
        let model = build_model(&results, "tokio-mt");
        let when_all = model
            .sections
            .iter()
            .find(|s| s.workload == "when_all")
            .unwrap();
        let bars = bar_charts(when_all, &model.problems).unwrap();
        assert_eq!(bars.len(), 1, "five cases fit one panel");
        assert_svg(&bars[0]);
        // The skipped smol cell shows in its group, with its reason.
        assert!(bars[0].svg.contains("skipped: smol has no task-set type"));
        assert!(latency_chart(when_all).unwrap().is_none());

        let sweeps = sweep_charts(when_all).unwrap();
        assert_eq!(sweeps.len(), 1);
        assert_eq!(sweeps[0].param, "n");
        assert!(sweeps[0].log_x);
        assert_svg(&sweeps[0].chart);
        // join_all with op=yield on three runtimes, n = 10, 1000, 100000; steepest first.
        assert_eq!(sweeps[0].growth.len(), 3);
        assert!(sweeps[0]
            .growth
            .windows(2)
            .all(|w| w[0].last_step >= w[1].last_step));
        assert!(sweeps[0]
            .growth
            .iter()
            .all(|g| g.exponent > 0.5 && g.exponent < 1.5));

        let pc = model
            .sections
            .iter()
            .find(|s| s.workload == "producer_consumer")
            .unwrap();
        let latency = latency_chart(pc)
            .unwrap()
            .expect("producer_consumer measures latency");
        assert_svg(&latency);
        assert!(latency.svg.contains("p99.9"));
        assert!(sweep_charts(pc).unwrap().is_empty());

        let vt = model
            .sections
            .iter()
            .find(|s| s.workload == "value_task")
            .unwrap();
        let sweeps = sweep_charts(vt).unwrap();
        assert_eq!(sweeps.len(), 1);
        assert_eq!(sweeps[0].param, "sync_ratio");
        assert!(!sweeps[0].log_x && sweeps[0].growth.is_empty());
        let chart = value_task_chart(&model.sections).unwrap().unwrap();
        assert_svg(&chart);
        for label in ["inline", "boxed", "time per call", "allocations per call"] {
            assert!(chart.svg.contains(label), "{label}");
        }
    }

    #[test]
    fn many_cases_are_split_into_panels_by_a_named_parameter() {
        let mut results = fixture();
        let template = results
            .cells
            .iter()
            .find(|c| c.workload == "when_all")
            .unwrap()
            .clone();
        results.cells.clear();
        for variant in ["join_all", "spawn_join", "native"] {
            for n in [10u64, 1000, 100_000] {
                for op in ["sleep_1ms", "yield", "ready"] {
                    for rt in ["tokio-mt", "smol-mt"] {
                        let mut c = template.clone();
                        c.runtime = rt.into();
                        c.variant = variant.into();
                        c.params = tapbench_core::Params::from_pairs([
                            ("n", ParamValue::Int(n)),
                            ("op", ParamValue::Text(op.into())),
                        ]);
                        c.id = format!("{rt}/{}", case_key(&c));
                        results.cells.push(c);
                    }
                }
            }
        }
        let model = build_model(&results, "tokio-mt");
        let charts = bar_charts(&model.sections[0], &model.problems).unwrap();
        let captions: Vec<&str> = charts.iter().map(|c| c.caption.as_str()).collect();
        // Split by `op`, in the catalogue's order of its values.
        assert_eq!(charts.len(), 3, "{captions:?}");
        assert!(captions[0].contains("op=ready"));
        assert!(captions[1].contains("op=yield"));
        assert!(captions[2].contains("op=sleep_1ms"));
        for c in &charts {
            assert_svg(c);
        }
        // The sweep over n has one panel per op, in the same order.
        let sweeps = sweep_charts(&model.sections[0]).unwrap();
        let svg = &sweeps[0].chart.svg;
        let at = |s: &str| svg.find(s).unwrap();
        assert!(at("op=ready") < at("op=yield") && at("op=yield") < at("op=sleep_1ms"));
    }

    #[test]
    fn charts_are_deterministic() {
        let results = fixture();
        let model = build_model(&results, "tokio-mt");
        let a = bar_charts(&model.sections[0], &model.problems).unwrap();
        let b = bar_charts(&model.sections[0], &model.problems).unwrap();
        assert_eq!(a, b);
    }
}
