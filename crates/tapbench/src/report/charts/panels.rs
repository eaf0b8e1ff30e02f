//! Grids of line panels under a title and a legend: latency, sweeps and pivots use them.

use anyhow::Result;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::RGBColor;

use super::axes::Axis;
use super::canvas::{render, Area, Chart, Drawn};
use super::draw::{
    chart_title, draw_legend, legend_height, marker, outline_rect, rotated_text, styled_line, text,
    tick_label_width, x_grid, y_grid, Swatch,
};
use super::style::{fit, Look, FRAME, F_HEAD, F_LABEL, F_SMALL, INK, LINE_H, MUTED, PAD, WIDTH};

/// One line of a panel.
pub(super) struct Series {
    pub(super) color: RGBColor,
    pub(super) look: Look,
    /// `(x, y)` in axis units, in drawing order.
    pub(super) points: Vec<(f64, f64)>,
}

/// A panel: a title, subtitle lines and its lines.
pub(super) struct LinePanel {
    pub(super) title: String,
    pub(super) subtitle: Vec<String>,
    pub(super) series: Vec<Series>,
}

/// Layout shared by the panels of a grid.
pub(super) struct PanelAxes<'a> {
    pub(super) x: &'a Axis,
    pub(super) y: &'a Axis,
    pub(super) x_title: &'a str,
    pub(super) y_title: &'a str,
}

/// Height of a panel's title block.
pub(super) fn panel_header_h(panels: &[&LinePanel]) -> i32 {
    let lines = panels.iter().map(|p| p.subtitle.len()).max().unwrap_or(0) as i32;
    18 + lines * LINE_H + 4
}

/// Draws `panel` in the box `(x, y, w, h)`: title, grid, axes and lines.
pub(super) fn draw_line_panel(
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
pub(super) fn panel_grid(
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
        chart_title(area, caption, WIDTH)?;
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
