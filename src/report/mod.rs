//! The report of `compare`, apart from how it was measured (`stage/compare/`).
//!
//! Three layers, each using only the ones above it in this list:
//! - [`record`]: what was measured, as `report.json` serializes it;
//! - [`view`]: the report as every format shows it, built once from the record:
//!   the summary's typed cells, the sentences, the chart series;
//! - one file per format, which only lays the view out: [`markdown`],
//!   [`terminal`], [`html`] (with the one bar chart in [`chart`]), and [`json`],
//!   which writes the record itself.
//!
//! [`write`] writes the files; where they go (a folder per run, `report/` the
//! latest) is [`store`]'s.

pub mod chart;
pub mod html;
pub mod json;
pub mod markdown;
pub mod markup;
pub mod record;
pub mod store;
pub mod terminal;
pub mod view;

use std::path::Path;

use anyhow::Result;

pub use self::record::Report;
use self::view::View;
pub use self::view::count;
use crate::util::write_atomic;

/// report.md (`write` writes it).
#[cfg(test)]
pub fn markdown(r: &Report) -> String {
    markdown::render(&View::of(r))
}

/// The terminal's table and lines.
pub fn terminal(r: &Report) -> String {
    terminal::render(&View::of(r))
}

/// report.html (`write` writes it).
#[cfg(test)]
pub fn page(r: &Report) -> String {
    html::page(&View::of(r))
}

/// Writes report.json, report.md and report.html into `dir`, each to a
/// temporary name first, stamped with the time of writing.
pub fn write(dir: &Path, report: &Report) -> Result<()> {
    let mut r = report.clone();
    r.generated_unix = crate::state::now();
    let view = View::of(&r);
    write_atomic(&dir.join("report.json"), json::render(&r)?.as_bytes())?;
    write_atomic(&dir.join("report.md"), markdown::render(&view).as_bytes())?;
    write_atomic(&dir.join("report.html"), html::page(&view).as_bytes())?;
    Ok(())
}

#[cfg(test)]
pub mod tests;
