//! `pgo-build check`: has the profile gone stale?
//!
//! A profile fits the code it was collected from. After edits, rustc finds no
//! data for new or renamed functions, and drops the data of functions whose
//! control flow changed (a hash mismatch); LLVM says so in one warning per
//! function and the build goes on. `check` makes that build with the profile and
//! turns the warnings into counts per crate of the workspace, so a CI job can say
//! when a profile kept in the repository needs refreshing.
//!
//! Decisions that may surprise:
//! - The profile is read with `llvm-profdata show` before the build
//!   (`toolchain::profdata::show::read_listing`). rustc only warns about a profile
//!   its LLVM cannot read (one from a newer LLVM) and builds without it, which
//!   would show up here as "every function unprofiled".
//! - The workspace packages are cleaned in check's own target directory before each
//!   build. Cargo replays the warnings of an up-to-date crate from its cache, but it
//!   tracks the profile by path: a stored profile replaced under the same name would
//!   get the old verdict. Dependencies stay cached; cargo hides their warnings anyway.
//! - Functions are put in crates by name. The profile names a function with internal
//!   linkage `<crate>.<hash>-cgu.<n>;<symbol>`, others by their symbol, whose
//!   demangled path starts with the crate; the warnings come with the target compiled.
//!   Profiled functions of other crates (dependencies, symbols that name no crate)
//!   are counted in the total only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::build::{BuildSpec, Diagnostic, Flags, cargo_build_for, cargo_command_for};
use crate::cargo::c_code::{CCoverage, CPgo};
use crate::cargo::profile_warnings;
use crate::cli::CheckArgs;
use crate::context::Ctx;
use crate::process::Cmd;
use crate::project::BuildKind;
use crate::state::{State, now};
use crate::toolchain::profdata::show::{Listing, read_listing};
use crate::util::{human_duration, sha256_file, write_atomic};

/// Exit codes of `check` (docs/check.md).
pub mod exit {
    /// `--max-stale`: more of the profiled functions are stale than allowed.
    pub const STALE: u8 = 5;
}

/// Stale functions named in the terminal; check.json has them all.
const EXAMPLES: usize = 5;

pub fn run(ctx: &Ctx, args: &CheckArgs) -> Result<u8> {
    let spec = BuildSpec {
        label: "check".into(),
        profile: ctx.settings.profile.clone(),
        config: BuildSpec::pipeline(ctx, BuildKind::Optimized).config,
        target_dir: ctx.layout.check_target(),
        dependency_warnings: false,
    };
    if ctx.dry_run {
        let profile = profile_path(ctx, args).unwrap_or_else(|_| PathBuf::from("<profile>"));
        ctx.printer.would_run(&clean_command(ctx, &spec, &workspace(ctx).packages));
        ctx.printer.would_run(&cargo_command_for(ctx, &spec, &flags(ctx, &profile)));
        return Ok(0);
    }
    let profile = profile_path(ctx, args)?;
    let profdata = ctx.profdata()?;
    let listing = read_listing(profdata, &ctx.rustc, &ctx.printer, &profile)?;
    ctx.printer.status("check", format!("{}: {} profiled functions", profile.display(), listing.functions));

    let workspace = workspace(ctx);
    if spec.target_dir.exists() {
        let clean = clean_command(ctx, &spec, &workspace.packages);
        ctx.printer.command(&clean);
        clean.read().context("could not clean the workspace packages before the check build")?;
    }
    ctx.printer.status("check", format!("building {} with -Cprofile-use={}", ctx.settings.package, profile.display()));
    let built = cargo_build_for(ctx, &spec, &flags(ctx, &profile))?;

    let report = Report::new(&listing, &workspace.crates, &warnings_by_crate(&built.diagnostics), args.max_stale);
    let c = match &ctx.c_pgo {
        CPgo::On { packages, .. } => {
            Some(CCoverage::read(&spec.target_dir, &ctx.settings.target, &spec.profile, packages, &listing.names))
        }
        _ => None,
    };
    let file = CheckFile {
        c: c.as_ref(),
        profile: &profile,
        profile_sha256: sha256_file(&profile)?,
        rustc: &ctx.rustc.version,
        llvm_version: &ctx.rustc.llvm_version,
        report: &report,
        finished_at: now(),
    };
    let json_path = ctx.layout.check_json();
    write_atomic(&json_path, serde_json::to_string_pretty(&file)?.as_bytes())?;
    ctx.printer.out(render(&report));
    match (&c, &ctx.c_pgo) {
        (Some(c), _) => ctx.printer.out(c.describe()),
        (None, off @ CPgo::Off { .. }) => ctx.printer.warn(off.describe()),
        _ => {}
    }
    ctx.printer.status(
        "check",
        format!("done in {}; the full list is in {}", human_duration(built.elapsed), json_path.display()),
    );

    let t = &report.total;
    if t.unprofiled_percent > 50.0 {
        ctx.printer.warn(
            "most functions found no profile data at all, which is more than edits usually do: the profile was \
             probably made with other build settings (Cargo profile, features, BOLT mode, rustflags, rustc \
             version), since cargo hashes those into symbol names, or for another project",
        );
    }
    if report.passed {
        return Ok(0);
    }
    let store = match &args.profile_file {
        Some(file) => format!("`pgo-build merge --output {}`", file.display()),
        None => "`pgo-build merge --output FILE` to keep it".to_string(),
    };
    ctx.printer.warn(format!(
        "{} of the {} profiled functions ({:.1}%) are stale, more than --max-stale {}% allows: the code changed \
         since {} was collected, and rustc optimizes those functions without profile data. Refresh the profile: \
         run `pgo-build all` (or `pgo-build instrument`, `train` and `merge`) on the current code, then {store}",
        t.stale_functions,
        t.profiled_functions,
        t.stale_percent,
        args.max_stale.unwrap_or_default(),
        profile.display(),
    ));
    Ok(exit::STALE)
}

/// The pipeline's rustflags for `profile`, plus mismatch warnings for comdat and
/// weak functions too (LLVM leaves them out by default).
fn flags(ctx: &Ctx, profile: &Path) -> Flags {
    let mut flags = Flags::profile_use(ctx, profile);
    flags.rust.push("-Cllvm-args=-no-pgo-warn-mismatch-comdat-weak=false".into());
    flags
}

/// `--profile FILE` made absolute, else the pipeline's merged profile.
fn profile_path(ctx: &Ctx, args: &CheckArgs) -> Result<PathBuf> {
    if let Some(file) = &args.profile_file {
        let path = std::path::absolute(file).with_context(|| format!("bad path {}", file.display()))?;
        if !path.is_file() {
            bail!(
                "the profile {} does not exist; store one with `pgo-build merge --output {}` (after `pgo-build all`)",
                path.display(),
                file.display()
            );
        }
        return Ok(path);
    }
    let state = State::load(&ctx.layout.state_file())?;
    let merge = crate::pipeline::Walk::new(ctx, &state)
        .intact::<crate::stage::merge::Merge>(", or check a stored profile: `pgo-build check --profile FILE`")?;
    Ok(merge.profile.clone())
}

/// The stale functions LLVM warned about while one crate was compiled.
#[derive(Debug, Default, PartialEq, Eq)]
struct CrateWarnings {
    /// "no profile data available for function …": new, renamed or never profiled.
    unprofiled: BTreeSet<String>,
    /// "… (hash mismatch) …" or "(counter mismatch)": changed; with the counts discarded.
    mismatched: BTreeMap<String, u64>,
}

fn warnings_by_crate(diagnostics: &[Diagnostic]) -> BTreeMap<String, CrateWarnings> {
    let mut by_crate: BTreeMap<String, CrateWarnings> = BTreeMap::new();
    for d in diagnostics {
        let m = &d.message;
        let Some(w) = profile_warnings::parse(m) else { continue };
        let krate = if d.target.is_empty() { m.split('.').next().unwrap_or_default() } else { d.target.as_str() };
        let entry = by_crate.entry(krate.replace('-', "_")).or_default();
        if w.mismatched {
            entry.mismatched.insert(w.symbol, w.discarded);
        } else {
            entry.unprofiled.insert(w.symbol);
        }
    }
    by_crate
}

/// The workspace's package names (to clean) and crate names (to report on).
struct Workspace {
    packages: Vec<String>,
    crates: BTreeSet<String>,
}

/// From the project's `cargo metadata`, read once (`Project::load`).
fn workspace(ctx: &Ctx) -> Workspace {
    let members = &ctx.project.members;
    Workspace {
        packages: members.iter().map(|p| p.name.to_string()).collect(),
        crates: members.iter().flat_map(|p| &p.targets).map(|t| t.name.replace('-', "_")).collect(),
    }
}

fn clean_command(ctx: &Ctx, spec: &BuildSpec, packages: &[String]) -> Cmd {
    let mut cmd = Cmd::new("cargo")
        .arg("clean")
        .arg("--manifest-path")
        .arg(&ctx.project.manifest)
        .args(["--profile", &spec.profile, "--target", &ctx.settings.target])
        .arg("--target-dir")
        .arg(&spec.target_dir);
    for p in packages {
        cmd = cmd.args(["-p", p]);
    }
    cmd.args(crate::cargo::offline_args(&ctx.settings.cargo_args)).dir(&ctx.project.dir)
}

/// `<target>/pgo-build/check.json` (fields in docs/check.md).
#[derive(Debug, Serialize)]
struct CheckFile<'a> {
    profile: &'a Path,
    profile_sha256: String,
    rustc: &'a str,
    llvm_version: &'a str,
    #[serde(flatten)]
    report: &'a Report,
    /// The C/C++ code's coverage, when it was built with the profile too.
    #[serde(skip_serializing_if = "Option::is_none")]
    c: Option<&'a CCoverage>,
    finished_at: u64,
}

/// The result: check.json's main part and the terminal table.
#[derive(Debug, Serialize)]
struct Report {
    max_stale_percent: Option<f64>,
    passed: bool,
    /// All functions of the profile, and every stale one.
    total: CrateReport,
    /// The workspace crates with profiled or stale functions.
    crates: Vec<CrateReport>,
    /// Profiled functions of no workspace crate: counted in the total only.
    other_profiled_functions: u64,
    /// The sum of the profile's counters.
    profile_total_count: u64,
}

#[derive(Debug, Serialize)]
struct CrateReport {
    name: String,
    profiled_functions: u64,
    unprofiled_functions: u64,
    mismatched_functions: u64,
    stale_functions: u64,
    unprofiled_percent: f64,
    mismatched_percent: f64,
    stale_percent: f64,
    /// Counts of the mismatched functions that the build discarded (LLVM's "up to").
    discarded_count: u64,
    /// Demangled, without hashes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unprofiled: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mismatched: Vec<String>,
}

impl CrateReport {
    fn new(name: &str, profiled: u64, w: &CrateWarnings) -> CrateReport {
        let (unprofiled, mismatched) = (w.unprofiled.len() as u64, w.mismatched.len() as u64);
        CrateReport {
            name: name.to_string(),
            profiled_functions: profiled,
            unprofiled_functions: unprofiled,
            mismatched_functions: mismatched,
            stale_functions: unprofiled + mismatched,
            unprofiled_percent: percent(unprofiled, profiled),
            mismatched_percent: percent(mismatched, profiled),
            stale_percent: percent(unprofiled + mismatched, profiled),
            discarded_count: w.mismatched.values().sum(),
            unprofiled: w.unprofiled.iter().map(|s| crate::functions::demangle(s)).collect(),
            mismatched: w.mismatched.keys().map(|s| crate::functions::demangle(s)).collect(),
        }
    }
}

/// `part` as a share of `whole`, at most 100 (new functions are not in the profile).
fn percent(part: u64, whole: u64) -> f64 {
    match (part, whole) {
        (0, _) => 0.0,
        (_, 0) => 100.0,
        _ => (100.0 * part as f64 / whole as f64).min(100.0),
    }
}

impl Report {
    fn new(
        listing: &Listing,
        workspace: &BTreeSet<String>,
        warnings: &BTreeMap<String, CrateWarnings>,
        max_stale: Option<f64>,
    ) -> Report {
        let mut profiled: BTreeMap<String, u64> = BTreeMap::new();
        for name in &listing.names {
            // Crates outside the workspace have a row only when cargo showed their warnings.
            if let Some(c) =
                crate::functions::crate_of(name).filter(|c| workspace.contains(c) || warnings.contains_key(c))
            {
                *profiled.entry(c).or_default() += 1;
            }
        }
        let names: BTreeSet<&String> = profiled.keys().chain(warnings.keys()).collect();
        let none = CrateWarnings::default();
        let crates: Vec<CrateReport> = names
            .into_iter()
            .map(|n| CrateReport::new(n, profiled.get(n).copied().unwrap_or(0), warnings.get(n).unwrap_or(&none)))
            .collect();
        let sum = |f: fn(&CrateReport) -> u64| crates.iter().map(f).sum::<u64>();
        let (unprofiled, mismatched) = (sum(|c| c.unprofiled_functions), sum(|c| c.mismatched_functions));
        let total = CrateReport {
            name: "total".into(),
            profiled_functions: listing.functions,
            unprofiled_functions: unprofiled,
            mismatched_functions: mismatched,
            stale_functions: unprofiled + mismatched,
            unprofiled_percent: percent(unprofiled, listing.functions),
            mismatched_percent: percent(mismatched, listing.functions),
            stale_percent: percent(unprofiled + mismatched, listing.functions),
            discarded_count: sum(|c| c.discarded_count),
            unprofiled: Vec::new(),
            mismatched: Vec::new(),
        };
        Report {
            other_profiled_functions: listing.functions.saturating_sub(profiled.values().sum()),
            profile_total_count: listing.total_count,
            passed: max_stale.is_none_or(|max| total.stale_percent <= max),
            max_stale_percent: max_stale,
            total,
            crates,
        }
    }
}

/// The terminal table, then a few stale functions by name.
fn render(r: &Report) -> String {
    let cell = |n: u64, pct: f64| format!("{n} ({pct:.1}%)");
    let row = |c: &CrateReport| {
        vec![
            c.name.clone(),
            c.profiled_functions.to_string(),
            cell(c.unprofiled_functions, c.unprofiled_percent),
            cell(c.mismatched_functions, c.mismatched_percent),
            cell(c.stale_functions, c.stale_percent),
        ]
    };
    let mut rows = vec![["crate", "profiled", "no profile data", "hash mismatch", "stale"].map(String::from).to_vec()];
    rows.extend(r.crates.iter().map(row));
    if r.other_profiled_functions > 0 {
        rows.push(vec![
            "(other crates)".into(),
            r.other_profiled_functions.to_string(),
            "-".into(),
            "-".into(),
            "-".into(),
        ]);
    }
    rows.push(row(&r.total));
    let widths: Vec<usize> = (0..5).map(|i| rows.iter().map(|row| row[i].chars().count()).max().unwrap_or(0)).collect();
    let mut text = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| if i == 0 { format!("{c:<w$}") } else { format!("{c:>w$}") })
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    let t = &r.total;
    if t.mismatched_functions > 0 && r.profile_total_count > 0 {
        text.push_str(&format!(
            "\nThe hash mismatches discarded up to {:.1}% of the profile's counts.\n",
            percent(t.discarded_count, r.profile_total_count)
        ));
    }
    if t.stale_functions > 0 {
        let mismatched = r.crates.iter().flat_map(|c| c.mismatched.iter().map(move |f| (&c.name, f, "hash mismatch")));
        let unprofiled =
            r.crates.iter().flat_map(|c| c.unprofiled.iter().map(move |f| (&c.name, f, "no profile data")));
        let stale = mismatched.chain(unprofiled);
        let shown = (t.stale_functions as usize).min(EXAMPLES);
        text.push_str(&format!("\nStale functions ({shown} of {}):\n", t.stale_functions));
        for (krate, f, why) in stale.take(EXAMPLES) {
            text.push_str(&format!("  {krate}: {f} ({why})\n"));
        }
    }
    text.trim_end().to_string()
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
