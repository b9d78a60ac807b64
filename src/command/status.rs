//! `pgo-build status`: where the pipeline stands. It walks the stages with the
//! same standings the runner uses ([`pipeline::Walk`]), so it says exactly what a
//! run would do: what each stage made and when, and whether it is current, or
//! stale and why (said once, at the first stale stage; the stages after it wait
//! on it). It also says when another pgo-build is working on the project, and
//! what the output directory holds. It always exits 0.

use std::fmt::Write as _;

use anyhow::Result;

use crate::context::Ctx;
use crate::pipeline::fingerprint::ago;
use crate::pipeline::{self, StageId, Standing, Walk};
use crate::stage::{bolt::Bolt, optimize::Optimize};
use crate::state::State;

pub fn run(ctx: &Ctx) -> Result<u8> {
    let state = match State::load(&ctx.layout.state_file()) {
        Ok(state) => state,
        Err(e) => {
            ctx.printer.out(format!("{e:#}"));
            return Ok(0);
        }
    };
    let walk = Walk::new(ctx, &state);
    let mut o = String::new();
    let mode = if ctx.bolt { ", BOLT mode" } else { "" };
    let _ = writeln!(
        o,
        "pipeline of {} ({} profile{mode}) in {}",
        ctx.settings.package,
        ctx.settings.profile,
        ctx.layout.root.display()
    );
    if let Some(holder) = crate::lock::holder(&ctx.layout.root) {
        let _ = writeln!(o, "  a run is in progress ({holder}): stages may be rebuilding as this is read");
    }
    for id in StageId::ALL {
        let Some(what) = pipeline::registered(id).summary(&state) else {
            // Carry is a stage of a carried profile's pipeline only.
            if id != StageId::Carry && (id != StageId::Bolt || ctx.bolt) {
                let _ = writeln!(o, "  {:<10} not run", id.name());
            }
            continue;
        };
        let _ = writeln!(o, "  {:<10} {what}", id.name());
        let standing = match walk.standing(id) {
            Standing::Current => "current".to_string(),
            Standing::NotRun => continue,
            Standing::Waiting(up) => format!("waits on {up}"),
            Standing::Stale(why) => format!("stale: {why}; {}", walk.fix(id, "")),
        };
        let _ = writeln!(o, "  {:<10} {standing}", "");
    }
    if let Some(d) = &state.delivery {
        let _ = writeln!(
            o,
            "  {:<10} {} delivered {} to {}: {}",
            "out",
            d.variant,
            ago(d.finished_at),
            d.out_dir.display(),
            d.reason
        );
        if let Some(why) = delivery_note(ctx, &state, d) {
            let _ = writeln!(o, "  {:<10} {why}", "");
        }
    }
    let report = ctx.layout.latest_report().join("report.json");
    if let Ok(text) = std::fs::read_to_string(&report) {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let complete = match (v["complete"] == true, v["counts"]["stopped"].as_str()) {
            (false, _) => "incomplete".to_string(),
            (true, Some(_)) => format!(
                "complete (counting stopped early, {} of {} counted runs)",
                v["counts"]["runs"], v["counts"]["planned_runs"]
            ),
            (true, None) => "complete".to_string(),
        };
        let when = v["generated_unix"].as_u64().map(ago).unwrap_or_default();
        let _ = writeln!(o, "  {:<10} {complete} report written {when}: {}", "compare", report.display());
    }
    ctx.printer.out(o.trim_end());
    Ok(0)
}

/// Why the delivered binaries are not the current records' any more, if so.
fn delivery_note(ctx: &Ctx, state: &State, d: &crate::state::Delivery) -> Option<String> {
    if let Err(why) = crate::state::binaries_intact(&ctx.hashes, &d.binaries) {
        return Some(format!("changed since: {why}"));
    }
    let source = match d.variant {
        crate::state::Shipped::PgoBolt => pipeline::entry::<Bolt>(state).map(|e| &e.record.binaries),
        _ => pipeline::entry::<Optimize>(state).map(|e| &e.record.binaries),
    };
    let same = source
        .is_some_and(|bins| d.binaries.iter().all(|b| bins.iter().any(|s| s.name == b.name && s.sha256 == b.sha256)));
    (!same).then(|| "from an earlier build: the next delivery replaces them".to_string())
}
