//! `pgo-build all --targets A,B,…` (or `targets = [...]`): one release matrix.
//!
//! Each target keeps its own pipeline (`target/pgo-build/<triple>/`). A target
//! whose binaries run here, natively or under an emulator, is trained; the
//! others are built from the profile of the first target that runs natively,
//! carried (`optimize --profile-from`). Trained targets run first, so the
//! profile to carry exists. Each target's binaries go to `<out>/<triple>/`, and
//! one table says how each target's profile was obtained, how much of it a
//! carried one kept, and what was delivered (`matrix.md`, `matrix.json`).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::cli::{AllArgs, Cli};
use crate::context::Ctx;
use crate::functions::percent;
use crate::options::Env;
use crate::printer::Printer;
use crate::state::State;
use crate::util::{human_size, write_atomic};

/// The targets of the matrix: `--targets`, else the config's `targets` when
/// no `--target` is given. Empty: not a matrix.
pub fn targets(cli: &Cli, ctx: &Ctx, args: &AllArgs) -> Result<Vec<String>> {
    let chosen = if args.targets.is_empty() && cli.global.target.is_none() {
        ctx.config.targets.clone()
    } else {
        args.targets.clone()
    };
    if !chosen.is_empty() && cli.global.target.is_some() {
        bail!("--target builds one target and --targets a matrix of them; give one of the two");
    }
    if !chosen.is_empty() && (args.optimize.profile_from.is_some() || args.optimize.profile_file.is_some()) {
        bail!(
            "a release matrix chooses each target's profile itself (trained, or carried from the first target \
             that runs here); build a single target with --profile or --profile-from"
        );
    }
    let mut unique = Vec::new();
    for t in chosen {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    Ok(unique)
}

/// How one target of the matrix got its profile, and what it delivered.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub target: String,
    /// `trained`, `trained under an emulator` or `carried`.
    pub profile: String,
    /// The runner training ran under, or the target the profile was carried from.
    pub from: Option<String>,
    /// For a carried profile: the share of its counts carried, in percent.
    pub coverage: Option<f64>,
    /// Functions of the optimized build rustc found no profile data for.
    pub unprofiled: usize,
    pub bytes: u64,
    pub out_dir: PathBuf,
    pub exit_code: u8,
}

/// Runs the pipeline for each target (`main` is the command's own context, for
/// the host's target or the one `--target` names) and writes the table.
pub fn run(cli: &Cli, env: Env, main: &Ctx, args: &AllArgs, targets: &[String]) -> Result<u8> {
    let g = &cli.global;
    let color = crate::options::color(g.color, env);
    let mut plans = Vec::new();
    for triple in targets {
        let mut one = cli.clone();
        one.global.target = Some(triple.clone());
        let ctx = Ctx::new(&one, Printer::new(g.quiet, g.verbose, color), env)
            .with_context(|| format!("release matrix, target {triple}"))?;
        let trains = ctx.check_target().map_err(|e| format!("{e:#}"));
        plans.push((ctx, trains));
    }
    let source = plans
        .iter()
        .filter(|(c, t)| t.is_ok() && c.runs_natively())
        .chain(plans.iter().filter(|(_, t)| t.is_ok()))
        .map(|(c, _)| c.target.triple.clone())
        .next();
    let Some(source) = source else {
        let why: Vec<String> =
            plans.iter().filter_map(|(c, t)| Some(format!("{}: {}", c.target.triple, t.as_ref().err()?))).collect();
        bail!("no target of the release matrix can be trained on this machine:\n{}", why.join("\n"));
    };
    // Trained targets first (the source first of all), then the carried ones.
    plans.sort_by_key(|(c, t)| (c.target.triple != source, t.is_err()));

    let base = match &args.optimize.out_dir {
        Some(dir) => std::path::absolute(dir)?,
        None => main.layout.default_out_dir(),
    };
    let mut rows = Vec::new();
    for (ctx, trains) in &plans {
        let triple = ctx.target.triple.clone();
        let mut one = args.clone();
        one.targets.clear();
        one.optimize.out_dir = Some(base.join(&triple));
        if trains.is_err() {
            one.optimize.profile_from = Some(source.clone());
        } else {
            one.optimize.min_coverage = None;
        }
        main.printer.status(
            "matrix",
            format!(
                "{triple}: {}",
                if trains.is_ok() { "training".to_string() } else { format!("carrying the profile of {source}") }
            ),
        );
        let _lock = if ctx.dry_run || ctx.layout.root == main.layout.root {
            None
        } else {
            Some(crate::lock::acquire(&ctx.layout.root, &ctx.printer)?)
        };
        let code = super::all::run(ctx, &one).with_context(|| format!("release matrix, target {triple}"))?;
        if ctx.dry_run {
            continue;
        }
        rows.push(row(ctx, one.optimize.out_dir.clone().unwrap_or_default(), code)?);
    }
    if main.dry_run {
        return Ok(0);
    }
    let table = render(&rows);
    main.printer.out(&table);
    write_atomic(&main.layout.root.join("matrix.md"), table.as_bytes())?;
    write_atomic(&main.layout.root.join("matrix.json"), serde_json::to_string_pretty(&rows)?.as_bytes())?;
    Ok(rows.iter().map(|r| r.exit_code).max().unwrap_or(0))
}

/// The row of a target whose pipeline just ran, from its records.
fn row(ctx: &Ctx, out_dir: PathBuf, exit_code: u8) -> Result<Row> {
    let state = State::load(&ctx.layout.state_file())?;
    let optimize = &state.optimize.as_ref().context("the optimize stage recorded nothing")?.record;
    let bytes = match &state.delivery {
        Some(d) => d.binaries.iter().map(|b| b.size).sum(),
        None => optimize.binaries.iter().map(|b| b.size).sum(),
    };
    let (profile, from, coverage) = match (&state.carry, &state.train) {
        (Some(c), _) if optimize.carried_profile => {
            ("carried", c.record.source_target.clone(), Some(c.record.coverage.total.percent()))
        }
        (_, Some(t)) if t.record.emulated_by.is_some() => {
            ("trained under an emulator", t.record.emulated_by.clone(), None)
        }
        _ => ("trained", None, None),
    };
    Ok(Row {
        target: ctx.target.triple.clone(),
        profile: profile.to_string(),
        from,
        coverage,
        unprofiled: optimize.unprofiled_functions,
        bytes,
        out_dir,
        exit_code,
    })
}

/// The table, in Markdown (readable in a terminal as it is).
pub fn render(rows: &[Row]) -> String {
    let mut o = String::from(
        "| target | profile | counts carried | functions without data | size | binaries |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let how = match &r.from {
            Some(from) if r.coverage.is_some() => format!("{} from {from}", r.profile),
            Some(runner) => format!("{} (`{runner}`)", r.profile),
            None => r.profile.clone(),
        };
        let coverage = r.coverage.map_or_else(|| "(its own)".to_string(), percent);
        o.push_str(&format!(
            "| {} | {how} | {coverage} | {} | {} | {} |\n",
            r.target,
            r.unprofiled,
            human_size(r.bytes),
            r.out_dir.display()
        ));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_says_how_each_target_got_its_profile() {
        let row = |target: &str, profile: &str, from: Option<&str>, coverage| Row {
            target: target.into(),
            profile: profile.into(),
            from: from.map(str::to_string),
            coverage,
            unprofiled: 3,
            bytes: 2048,
            out_dir: PathBuf::from("out").join(target),
            exit_code: 0,
        };
        let table = render(&[
            row("x86_64-unknown-linux-gnu", "trained", None, None),
            row(
                "aarch64-unknown-linux-gnu",
                "trained under an emulator",
                Some("qemu-aarch64 -L /usr/aarch64-linux-gnu"),
                None,
            ),
            row("x86_64-pc-windows-gnu", "carried", Some("x86_64-unknown-linux-gnu"), Some(98.46)),
        ]);
        assert!(
            table.contains(
                "| x86_64-unknown-linux-gnu | trained | (its own) | 3 | 2.0 KiB | out/x86_64-unknown-linux-gnu |"
            ),
            "{table}"
        );
        assert!(table.contains("| trained under an emulator (`qemu-aarch64 -L /usr/aarch64-linux-gnu`) |"), "{table}");
        assert!(table.contains("| carried from x86_64-unknown-linux-gnu | 98.5% |"), "{table}");
    }
}
