//! `pgo-build doctor`: can PGO work here, and if not, what exactly to do.
//!
//! Beyond comparing version numbers, doctor proves the toolchain end to end: it
//! compiles a tiny instrumented program with rustc, runs it, and merges its raw
//! profile with the chosen `llvm-profdata`. It installs nothing and writes nothing
//! outside a temporary directory.

use std::path::Path;

use anyhow::Result;
use console::style;

use crate::cargo::c_code::CPgo;
use crate::cargo::flags::UserFlags;
use crate::cli::Cli;
use crate::context::{c_pgo_state, load_config, project_dir};
use crate::options::{Env, Options, Tools};
use crate::printer::Printer;
use crate::project::{Graph, Project};
use crate::toolchain::target::{self, StdState, Target};
use crate::toolchain::{Profdata, RustcInfo, bolt, profdata};

pub fn run(cli: &Cli, env: Env, printer: &Printer) -> Result<u8> {
    let args = &cli.global;
    let dir = project_dir(&args.project)?;
    let tools = Tools::resolve(args, env);
    let rustc = RustcInfo::detect(&dir)?;
    let ok = style("ok").green().bold();
    let bad = style("missing").red().bold();
    let line = |label: &str, mark: &dyn std::fmt::Display, text: String| {
        printer.out(format!("{label:<14} {mark:<7} {text}"));
    };
    line("rustc", &ok, format!("{} (host {}, LLVM {})", rustc.version, rustc.host, rustc.llvm_version));

    let discovery = profdata::discover(&rustc, tools.llvm_profdata.as_ref());
    let mut usable = false;
    match &discovery.found {
        Some(p) => {
            line("llvm-profdata", &ok, format!("{} (LLVM {}): {}", p.path.display(), p.llvm_version, p.origin));
            match probe(&rustc, p, &dir) {
                Ok(()) => {
                    line("raw profiles", &ok, "compiled, ran and merged an instrumented probe program".into());
                    usable = true;
                }
                Err(e) => line("raw profiles", &style("failed").red().bold(), format!("{e:#}")),
            }
        }
        None => line("llvm-profdata", &bad, "none matches rustc's LLVM".into()),
    }
    for r in &discovery.rejected {
        printer.out(format!(
            "{:<14} {:<7} {} ({}): {}",
            "",
            style("skipped").yellow(),
            r.path.display(),
            r.origin,
            r.reason
        ));
    }
    if discovery.found.is_none() {
        printer.out(String::new());
        printer.out(profdata::install_hint(&rustc));
    }

    bolt_lines(&tools, &rustc, &line);
    counter_lines(&line);

    // A target the pipeline cannot build for or run makes PGO unusable here too.
    if dir.join("Cargo.toml").is_file() && !project_lines(cli, env, &dir, &rustc, printer, &line) {
        usable = false;
    }

    printer.out(String::new());
    if usable {
        printer.out(format!("{} PGO is ready on this machine.", style("✓").green().bold()));
        Ok(0)
    } else {
        printer.out(format!("{} PGO cannot work here until the problem above is fixed.", style("✗").red().bold()));
        Ok(crate::exit::FAILURE)
    }
}

fn project_lines(
    cli: &Cli,
    env: Env,
    dir: &Path,
    rustc: &RustcInfo,
    printer: &Printer,
    line: &dyn Fn(&str, &dyn std::fmt::Display, String),
) -> bool {
    let ok = style("ok").green().bold();
    let result = load_config(dir, cli.global.config.as_deref()).and_then(|config| {
        let options = Options::resolve(cli, env, &config)?;
        let triple = options.target.clone().unwrap_or_else(|| rustc.host.clone());
        let graph = Graph { target: &triple, cargo_args: &config.cargo_args };
        let project = Project::load(dir, &options.selection, Some(graph))?;
        Ok((config, options, triple, project))
    });
    match result {
        Ok((config, options, triple, project)) => {
            line(
                "project",
                &ok,
                format!(
                    "package {} (binaries: {}), config: {}",
                    project.package,
                    project.bins.join(", "),
                    config.source()
                ),
            );
            let train = config.workloads_for(crate::config::Use::Train).count();
            let bench = config.workloads_for(crate::config::Use::Bench).count();
            let mark: &dyn std::fmt::Display = if train > 0 { &ok } else { &style("none").yellow() };
            line("workloads", mark, format!("{train} for training, {bench} for benchmarks"));
            let target_ok = target_line(rustc, dir, &triple, line);
            if let Ok(target) = Target::detect(rustc, dir, Some(&triple)) {
                if let Ok(flags) = UserFlags::detect(dir, &triple, &target.cfg) {
                    line("rustflags", &ok, format!("pgo-build adds its flags to: {}", flags.describe()));
                }
                let c = c_pgo_state(&options, &project, &target, rustc);
                let mark: &dyn std::fmt::Display = match &c {
                    CPgo::On { .. } => &ok,
                    CPgo::NoCode => &style("none").dim(),
                    CPgo::Off { .. } => &style("no pgo").yellow(),
                };
                line("C/C++ code", mark, c.describe());
            }
            target_ok
        }
        // A config mistake is the project's, not the machine's: said, and PGO is still ready.
        Err(e) => {
            line("project", &style("error").red().bold(), format!("{e:#}"));
            printer.out(String::new());
            true
        }
    }
}

/// Compiles, runs and merges a tiny instrumented program: the proof that rustc's
/// raw profiles are readable by this `llvm-profdata`.
fn probe(rustc: &RustcInfo, tool: &Profdata, dir: &Path) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let raw = target::instrumented_probe(rustc, &rustc.host, dir, tmp.path(), None, None)?;
    tool.cmd().arg("merge").arg("--output").arg(tmp.path().join("probe.profdata")).arg(&raw).read()?;
    Ok(())
}

/// The project's target, when it is not the host's: its standard library, the
/// profiler runtime in it, and whether its instrumented binaries run here. False
/// when the pipeline cannot work for it (a missing standard library is installed
/// by the first build).
fn target_line(
    rustc: &RustcInfo,
    dir: &Path,
    triple: &str,
    line: &dyn Fn(&str, &dyn std::fmt::Display, String),
) -> bool {
    let failed = style("failed").red().bold();
    let found = match Target::detect(rustc, dir, Some(triple)) {
        Ok(t) => t,
        Err(e) => {
            line("target", &failed, format!("{e:#}"));
            return false;
        }
    };
    if found.is_host {
        return true;
    }
    match found.std_state(rustc) {
        StdState::Missing => line(
            "target",
            &style("missing").red().bold(),
            format!(
                "{triple}: its standard library is not installed; `rustup target add {triple}` (pgo-build runs it \
             itself unless --no-install)"
            ),
        ),
        _ => match cross(dir, &found, rustc).and_then(|c| {
            let runner = c.runner.as_ref().map(|r| r.words.as_slice());
            found.check(rustc, dir, Some("doctor installs nothing"), c.probe_linker(), runner, |_| {}).map(|()| c)
        }) {
            Ok(c) => line(
                "target",
                &style("ok").green().bold(),
                format!(
                    "{triple}: standard library with the profiler runtime; an instrumented probe {}{}{}",
                    match &c.runner {
                        Some(r) => format!(
                            "ran here under `{}` ({}) and wrote its raw profile: training is emulated",
                            r.display(),
                            r.from
                        ),
                        None => "ran here and wrote its raw profile".to_string(),
                    },
                    c.linker.as_ref().map(|l| format!("; linked by {}", l.display())).unwrap_or_default(),
                    if found.static_pie() { " (static-pie binaries)" } else { "" }
                ),
            ),
            Err(e) => return carry_only(dir, &found, rustc, &format!("{e:#}"), line),
        },
    }
    true
}

/// A target that cannot be trained here (`why`) may still be built from a
/// profile carried from another target, when its programs link here.
fn carry_only(
    dir: &Path,
    found: &Target,
    rustc: &RustcInfo,
    why: &str,
    line: &dyn Fn(&str, &dyn std::fmt::Display, String),
) -> bool {
    let linked = cross(dir, found, rustc).and_then(|c| {
        let tmp = tempfile::tempdir()?;
        target::link_probe(&found.triple, dir, tmp.path(), c.probe_linker())
    });
    match linked {
        Ok(()) => {
            line(
                "target",
                &style("carry").yellow().bold(),
                format!("{why}. Its programs link here, so it can be built from a carried profile (`all --targets`)"),
            );
            true
        }
        Err(e) => {
            line("target", &style("failed").red().bold(), format!("{why}; nor do its programs link here: {e:#}"));
            false
        }
    }
}

/// How `target` is linked and run here, from the process's environment.
fn cross(dir: &std::path::Path, target: &Target, rustc: &RustcInfo) -> anyhow::Result<crate::cargo::cross::Cross> {
    let env = |k: &str| std::env::var(k).ok();
    crate::cargo::cross::Cross::detect(dir, target, &rustc.host, &env, &|name| which::which(name).ok())
}

/// BOLT is optional: what is found is reported, what is missing is explained, and
/// neither changes doctor's verdict on PGO.
fn bolt_lines(tools: &Tools, rustc: &RustcInfo, line: &dyn Fn(&str, &dyn std::fmt::Display, String)) {
    match bolt::discover(rustc.llvm_major, tools.llvm_bolt.as_deref()) {
        Ok(tools) => {
            let companions = match &tools.perf2bolt {
                Some(p) => format!("{} and {} beside it", file_name(&tools.merge_fdata), file_name(p)),
                None => format!("{} beside it", file_name(&tools.merge_fdata)),
            };
            line(
                "llvm-bolt",
                &style("ok").green().bold(),
                format!("{} (LLVM {}), {companions}: {}", tools.llvm_bolt.display(), tools.version, tools.origin),
            );
        }
        Err(why) => line("llvm-bolt", &style("absent").yellow(), format!("optional, for BOLT. {why}")),
    }
    match bolt::branch_sampling() {
        Ok(()) => line(
            "perf branches",
            &style("ok").green().bold(),
            "perf can sample branch stacks: BOLT's sampling mode works here".into(),
        ),
        Err(why) => line(
            "perf branches",
            &style("no").yellow(),
            format!("BOLT's sampling mode cannot work here ({why}); its instrumentation mode does not need it"),
        ),
    }
}

/// Which counter `compare --counts` would use, and whether the other works.
fn counter_lines(line: &dyn Fn(&str, &dyn std::fmt::Display, String)) {
    use crate::measure::counter::{cachegrind, perf};
    let perf = perf::probe();
    match &perf {
        Ok(c) => line(
            "perf counters",
            &style("ok").green().bold(),
            format!("{}: `compare --counts` counts with perf stat", c.version),
        ),
        Err(why) => line("perf counters", &style("no").yellow(), format!("{why}; `compare --counts` uses cachegrind")),
    }
    match cachegrind::probe(None) {
        Ok(c) => line("cachegrind", &style("ok").green().bold(), format!("{} ({})", c.version, c.program.display())),
        Err(e) if perf.is_err() => {
            line("cachegrind", &style("absent").yellow(), format!("optional, for --counts: {e:#}"))
        }
        Err(_) => line("cachegrind", &style("absent").yellow(), "optional: perf stat counts here".into()),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
