//! `pgo-build status`: where the pipeline stands, from its record: what each
//! stage made and when, and whether it is still current (its inputs unchanged,
//! what it read still there) or which stage to run again.

use std::fmt::Write as _;

use anyhow::Result;

use crate::cache::{ago, build_inputs};
use crate::context::Ctx;
use crate::state::State;
use crate::util::{human_duration, human_size};

pub fn run(ctx: &Ctx) -> Result<u8> {
    let state = State::load(&ctx.layout.state_file())?;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "pipeline of {} ({} profile) in {}",
        ctx.settings.package,
        ctx.settings.profile,
        ctx.layout.root.display()
    );
    let secs = |s: f64| human_duration(std::time::Duration::from_secs_f64(s.max(0.0)));

    let line = |o: &mut String, stage: &str, what: Option<String>, verdict: String| {
        let _ = writeln!(o, "  {stage:<10} {}", what.unwrap_or_else(|| "not run".to_string()));
        if !verdict.is_empty() {
            let _ = writeln!(o, "  {:<10} {verdict}", "");
        }
    };

    let instrument = state.instrument.as_ref().map(|r| {
        format!(
            "built {} in {} ({})",
            ago(r.finished_at),
            secs(r.elapsed_s),
            r.binaries.iter().map(|b| b.name.as_str()).collect::<Vec<_>>().join(", ")
        )
    });
    let verdict = match (&state.instrument, state.require_instrument(ctx)) {
        (None, _) => String::new(),
        (Some(_), Err(e)) => format!("stale: {e:#}"),
        (Some(r), Ok(_)) if r.inputs != build_inputs(ctx, &r.source_files)? => {
            "stale: the sources, Cargo.lock, toolchain or build settings changed; run `pgo-build instrument`".into()
        }
        (Some(_), Ok(_)) => "current".into(),
    };
    line(&mut o, "instrument", instrument, verdict);

    let train = state.train.as_ref().map(|r| {
        let shard = r.shard.map(|s| format!(", shard {s}")).unwrap_or_default();
        let bytes: u64 = r.workloads.iter().map(|w| w.raw_bytes).sum();
        format!(
            "trained {} in {} ({} workload(s){shard}, {} of raw profiles)",
            ago(r.finished_at),
            secs(r.elapsed_s),
            r.workloads.len(),
            human_size(bytes)
        )
    });
    let verdict = match (&state.train, state.require_train(ctx)) {
        (None, _) => String::new(),
        (Some(_), Err(e)) => format!("stale: {e:#}"),
        (Some(r), Ok(_)) => {
            let all: Vec<&crate::config::Workload> = ctx.config.workloads_for(crate::config::Use::Train).collect();
            let chosen = r.shard.map_or_else(|| all.clone(), |s| s.select(&all));
            if r.inputs.is_empty()
                || r.inputs == crate::stage::train::inputs_of(ctx, &r.instrument_id, r.shard, &chosen)
            {
                "current".into()
            } else {
                "stale: a training workload's script or data changed; run `pgo-build train`".into()
            }
        }
    };
    line(&mut o, "train", train, verdict);

    let merge = state.merge.as_ref().map(|r| {
        format!(
            "merged {} into {} ({} functions, {} with counts)",
            ago(r.finished_at),
            r.profile.display(),
            r.functions,
            r.functions_with_counts
        )
    });
    let verdict = match (&state.merge, state.require_merge(ctx)) {
        (None, _) => String::new(),
        (Some(_), Err(e)) => format!("stale: {e:#}"),
        (Some(_), Ok(_)) => "current".into(),
    };
    line(&mut o, "merge", merge, verdict);

    let optimize = state.optimize.as_ref().map(|r| {
        let from = match &r.stored_profile {
            Some(p) => format!("the stored profile {}", p.display()),
            None => "the merged profile".to_string(),
        };
        format!(
            "built {} from {from} into {} ({} of the profile's functions without data, {} mismatched)",
            ago(r.finished_at),
            r.out_dir.display(),
            r.unprofiled_functions,
            r.mismatched_functions
        )
    });
    let verdict = match (&state.optimize, state.require_optimize(ctx)) {
        (None, _) => String::new(),
        (Some(_), Err(e)) => format!("stale: {e:#}"),
        (Some(r), Ok(_)) => {
            let now = crate::stage::optimize::inputs_of(ctx, &r.profile_sha256, &r.source_files, &r.out_dir)?;
            if r.inputs == now {
                "current".into()
            } else {
                "stale: the sources or build settings changed since; run `pgo-build optimize` (or `pgo-build all`)"
                    .into()
            }
        }
    };
    line(&mut o, "optimize", optimize, verdict);

    if let Some(b) = &state.bolt {
        let what = if b.delivered { "delivered as the result" } else { "kept beside the PGO binaries (not faster)" };
        line(
            &mut o,
            "bolt",
            Some(format!("rewritten {} in {}, {what}", ago(b.finished_at), secs(b.rewrite_s))),
            String::new(),
        );
    }
    let report = ctx.layout.root.join("report/report.json");
    if let Ok(text) = std::fs::read_to_string(&report) {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let complete = if v["complete"] == true { "complete" } else { "incomplete" };
        let when = v["generated_unix"].as_u64().map(ago).unwrap_or_default();
        line(&mut o, "compare", Some(format!("{complete} report written {when}: {}", report.display())), String::new());
    }
    ctx.printer.out(o.trim_end());
    Ok(0)
}
