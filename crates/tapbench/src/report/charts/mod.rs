//! The SVG charts of the HTML report, drawn by plotters into strings; one module per concern.

mod axes;
mod bars;
mod canvas;
mod draw;
pub(crate) mod labels;
mod latency;
mod load;
mod panels;
mod pivot;
mod style;
mod sweeps;

pub use bars::bar_charts;
pub use canvas::Chart;
pub use latency::latency_chart;
pub use load::load_chart;
pub use pivot::pivot_chart;
pub use sweeps::{sweep_charts, SweepChart};
