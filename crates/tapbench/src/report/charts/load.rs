//! Latency against offered load: the p99 of request-driven cells along a sweep of their
//! offered rate, on log-log axes.

use anyhow::Result;

use super::canvas::Chart;
use super::style::ensure_font;
use super::sweeps::draw_sweep;
use crate::report::growth::lines_along;
use crate::report::load::p99_ns;
use crate::report::model::{rate_param, Section};

/// The p99 latency of `section`'s request-driven cells against their offered rate: one
/// line per runtime x variant (a panel per variant when the lines crowd one panel).
/// `None` without a sweep of the rate (a line of two rates or more).
///
/// # Errors
///
/// A chart that could not be drawn.
pub fn load_chart(section: &Section<'_>) -> Result<Option<Chart>> {
    let Some(param) = rate_param(section) else {
        return Ok(None);
    };
    let sweep = lines_along(section, &param, 2, p99_ns);
    if sweep.lines.is_empty() {
        return Ok(None);
    }
    // Layout measures text: the font must be there before the first measurement.
    ensure_font()?;
    let chart = draw_sweep(
        section,
        &param,
        true,
        &sweep,
        "p99 latency (from each request's intended start in open loop)",
        "p99 latency (log)",
    )?;
    Ok(Some(chart))
}
