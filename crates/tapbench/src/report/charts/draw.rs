//! Drawing primitives in pixel coordinates: text, shapes, lines, markers, grids and legends.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::axes::Axis;
use super::canvas::{Area, Drawn};
use super::style::{
    fit, font_desc, runtime_color, text_width, Dash, Font, Look, Marker, FRAME, F_LABEL, F_SMALL,
    F_TITLE, GRID_MAJOR, GRID_MINOR, INK, MUTED, PAD,
};
use crate::report::model::runtime_label;

/// `s` at `(x, y)`, anchored by `h` and `v`.
pub(super) fn text(
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

/// A chart's caption, top left, cut to the chart's `width`: every chart kind draws it so.
pub(super) fn chart_title(area: &Area<'_>, caption: &str, width: i32) -> Drawn {
    text(
        area,
        &fit(F_TITLE, caption, width - 2 * PAD),
        (PAD, PAD),
        F_TITLE,
        INK,
        HPos::Left,
        VPos::Top,
    )
}

/// `s` centred on `(x, y)`, read bottom to top (a y axis title).
pub(super) fn rotated_text(
    area: &Area<'_>,
    s: &str,
    (x, y): (i32, i32),
    f: Font,
    color: RGBColor,
) -> Drawn {
    let style = font_desc(f)
        .transform(FontTransform::Rotate270)
        .color(&color)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(s, (x, y), style))
}

/// A filled rectangle between two corners.
pub(super) fn fill_rect(
    area: &Area<'_>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    color: RGBColor,
) -> Drawn {
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], color.filled()))
}

/// A rectangle's outline between two corners.
pub(super) fn outline_rect(
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

/// A solid line through `points`, `width` pixels wide.
pub(super) fn line(area: &Area<'_>, points: Vec<(i32, i32)>, color: RGBColor, width: u32) -> Drawn {
    area.draw(&PathElement::new(
        points,
        ShapeStyle::from(&color).stroke_width(width),
    ))
}

/// A data line through `points` with a dash pattern (nothing for fewer than two points).
pub(super) fn styled_line(
    area: &Area<'_>,
    points: &[(i32, i32)],
    color: RGBColor,
    dash: Dash,
) -> Drawn {
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

/// A point's marker centred on `(x, y)`.
pub(super) fn marker(area: &Area<'_>, (x, y): (i32, i32), m: Marker, color: RGBColor) -> Drawn {
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
pub(super) fn x_grid(
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
pub(super) fn y_grid(
    area: &Area<'_>,
    axis: &Axis,
    (x0, x1): (i32, i32),
    (y0, y1): (i32, i32),
) -> Drawn {
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
pub(super) fn tick_label_width(axis: &Axis) -> i32 {
    axis.ticks
        .iter()
        .filter_map(|t| t.label.as_ref())
        .map(|l| text_width(F_SMALL, l))
        .max()
        .unwrap_or(0)
}

/// What a legend entry shows beside its label: a colour block (runtimes) or a line sample
/// (variants).
#[derive(Debug, Clone)]
pub(super) enum Swatch {
    /// A block of a colour.
    Block(RGBColor),
    /// A line of a colour and look.
    Line(RGBColor, Look),
}

const SWATCH_W: i32 = 26;

fn legend_item_width(label: &str) -> i32 {
    SWATCH_W + 6 + text_width(F_LABEL, label) + 18
}

/// Height of a legend laid out in rows within `width`.
pub(super) fn legend_height(items: &[(Swatch, String)], width: i32) -> i32 {
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

pub(super) fn draw_legend(
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

/// A legend of runtimes: each one's colour block and label.
pub(super) fn runtime_legend(runtimes: &[&str]) -> Vec<(Swatch, String)> {
    runtimes
        .iter()
        .map(|r| (Swatch::Block(runtime_color(r)), runtime_label(r)))
        .collect()
}
