//! A chart ready for the page, and the SVG canvas every chart is drawn on.

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::ensure_font;
use crate::report::format::escape;

/// A chart ready for the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// What the chart shows, one line of plain text (the page escapes it).
    pub caption: String,
    /// An inline `<svg>` element (no XML prolog, no namespace URL: HTML5 puts inline SVG in
    /// the SVG namespace by itself), with `role="img"` and the caption as its `<title>`.
    pub svg: String,
}

/// The SVG canvas charts are drawn on, in pixels.
pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// What drawing on the canvas returns.
pub(super) type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Draws a `width` x `height` chart with `draw` and returns it ready for the page.
pub(super) fn render(
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
    let title = escape(caption);
    let svg = format!(
        "<svg class=\"chart\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         role=\"img\" aria-label=\"{title}\">\n<title>{title}</title>{body}"
    );
    Ok(Chart {
        caption: caption.to_string(),
        svg,
    })
}
