//! How charts look: page width, colours, fonts, line looks and text measured to fit.

use std::sync::OnceLock;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::{FontDesc, FontFamily, FontStyle};

/// The font text is measured with, embedded so that layout never depends on the fonts of
/// the machine rendering the report (Bitstream Vera license, see `assets/`).
static FONT_BYTES: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");

/// Width the charts are laid out for (CSS scales them down on narrower windows).
pub(super) const WIDTH: i32 = 1180;
/// Outer margin.
pub(super) const PAD: i32 = 12;
/// Height of one line of label text.
pub(super) const LINE_H: i32 = 15;

/// Text and strong lines.
pub(super) const INK: RGBColor = RGBColor(0x1f, 0x23, 0x28);
/// Secondary text.
pub(super) const MUTED: RGBColor = RGBColor(0x5c, 0x63, 0x6e);
/// Grid lines at labelled ticks.
pub(super) const GRID_MAJOR: RGBColor = RGBColor(0xc8, 0xcd, 0xd3);
/// Grid lines between labelled ticks.
pub(super) const GRID_MINOR: RGBColor = RGBColor(0xe9, 0xec, 0xef);
/// Background of every other group of bars.
pub(super) const ZEBRA: RGBColor = RGBColor(0xf3, 0xf5, 0xf8);
/// Frames and axis lines.
pub(super) const FRAME: RGBColor = RGBColor(0x9a, 0xa1, 0xa9);

/// A runtime's colour from the registry (Okabe-Ito colours, safe for colour-blind
/// readers: a family shares a hue, its multi-threaded configuration is the darker shade);
/// a runtime this build does not know gets a grey-brown of its own.
pub(super) fn runtime_color(id: &str) -> RGBColor {
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

/// The shape drawn at each point of a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
}

/// A line's dash pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Dash {
    Solid,
    Dashed,
    Dotted,
}

/// How a line looks apart from its colour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Look {
    /// The marker at each point.
    pub(super) marker: Marker,
    /// The line's dash pattern.
    pub(super) dash: Dash,
}

/// The look of the `index`th variant: marker and dash both change, so lines stay apart in
/// grey print too.
pub(super) fn variant_look(index: usize) -> Look {
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

/// A text style of the embedded font.
#[derive(Debug, Clone, Copy)]
pub(super) struct Font {
    /// Size in pixels.
    pub(super) px: f64,
    /// Bold face.
    pub(super) bold: bool,
    /// Italic face.
    pub(super) italic: bool,
}

/// Chart titles.
pub(super) const F_TITLE: Font = Font {
    px: 15.0,
    bold: true,
    italic: false,
};
/// Panel and group headings.
pub(super) const F_HEAD: Font = Font {
    px: 12.5,
    bold: true,
    italic: false,
};
/// Labels and legends.
pub(super) const F_LABEL: Font = Font {
    px: 11.5,
    bold: false,
    italic: false,
};
/// Tick labels and values.
pub(super) const F_SMALL: Font = Font {
    px: 11.0,
    bold: false,
    italic: false,
};
/// Notes in place of a measurement.
pub(super) const F_NOTE: Font = Font {
    px: 11.0,
    bold: false,
    italic: true,
};

/// Registers the embedded font once (plotters keeps a process-wide table).
pub(super) fn ensure_font() -> Result<()> {
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
pub(super) fn font_desc(f: Font) -> FontDesc<'static> {
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
pub(super) fn text_width(f: Font, text: &str) -> i32 {
    let measured = font_desc(f)
        .box_size(text)
        .map(|(w, _)| f64::from(w))
        .unwrap_or_else(|_| text.chars().count() as f64 * f.px * 0.62);
    let w = if f.bold { measured * 1.08 } else { measured };
    w.ceil() as i32
}

/// `text`, shortened with an ellipsis until it fits in `max` pixels.
pub(super) fn fit(f: Font, text: &str, max: i32) -> String {
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
pub(super) fn wrap(f: Font, pieces: &[String], max: i32) -> Vec<String> {
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

/// The colour of the `index`th variant where lines are coloured by variant.
pub(super) fn variant_color(index: usize) -> RGBColor {
    VARIANT_COLORS[index % VARIANT_COLORS.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
