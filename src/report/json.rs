//! `report.json`: the record itself ([`Report`]), for tools (schema in
//! docs/report-schema.md). Unlike the other formats it is not made from the
//! view: it keeps every figure, with nothing rounded or worded.

use anyhow::Result;

use crate::report::record::Report;

pub fn render(r: &Report) -> Result<String> {
    Ok(serde_json::to_string_pretty(r)?)
}
