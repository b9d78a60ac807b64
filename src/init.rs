//! `pgo-build init`: a new user's first files. A commented `pgo-build.toml` naming
//! the package, its binaries and the Cargo profile to optimize (and why that
//! one), and one example workload script in `workloads/train/` and in
//! `workloads/bench/`.
//!
//! The examples fail until their placeholder line is replaced
//! ([`crate::workload::placeholder`]), and `all` and `try` refuse them before
//! building: an example that "worked" by running `--help` would train a profile
//! of nothing and report a speedup of nothing.
//!
//! init reads the project with `cargo metadata` only: it needs no config (it
//! writes it) and no llvm-profdata. It writes all of its files or none: when
//! one exists, it names them and stops, unless `--force`.

mod profile_choice;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cli::GlobalArgs;
use crate::config::{Config, Use};
use crate::context::project_dir;
use crate::options::Selection;
use crate::printer::Printer;
use crate::project::Project;
use crate::util::write_atomic;
use crate::workload::{bin_var, placeholder::MARKER};

pub use profile_choice::{ProfileChoice, choose as choose_profile};

/// The example scripts, relative to the project directory. Their names differ:
/// a workload is named after its file, and names must be unique across both folders.
pub const TRAIN_EXAMPLE: &str = "workloads/train/example-train.sh";
pub const BENCH_EXAMPLE: &str = "workloads/bench/example-bench.sh";

/// One file init writes.
#[derive(Debug)]
struct NewFile {
    path: PathBuf,
    text: String,
    executable: bool,
    /// What it is, for the status line.
    what: String,
}

/// Writes the config and the example workloads, then prints the next commands.
pub fn run(g: &GlobalArgs, printer: &Printer) -> Result<()> {
    let dir = project_dir(&g.project)?;
    // No config yet: the command line chooses, else the project.
    let project = Project::load(&dir, &Selection::resolve(g, &Config::default()), None)?;
    let manifest = project.workspace_manifest();
    let profiles = manifest_profiles(&manifest)?;
    let choice = choose_profile(profiles.as_ref(), g.cargo_profile.as_deref())?;
    let config_path = g.config.clone().unwrap_or_else(|| dir.join("pgo-build.toml"));
    let files = [
        NewFile {
            text: config_text(&project, &choice, &g.features),
            path: config_path,
            executable: false,
            what: format!("package {}, binaries {}, {}", project.package, project.bins.join(", "), choice.why),
        },
        NewFile {
            path: dir.join(TRAIN_EXAMPLE),
            text: script_text(&project, Use::Train, TRAIN_EXAMPLE),
            executable: true,
            what: "an example training workload, to replace".into(),
        },
        NewFile {
            path: dir.join(BENCH_EXAMPLE),
            text: script_text(&project, Use::Bench, BENCH_EXAMPLE),
            executable: true,
            what: "an example benchmark workload, to replace".into(),
        },
    ];
    let shown = |p: &Path| p.strip_prefix(&dir).unwrap_or(p).display().to_string();
    let existing: Vec<String> = files.iter().filter(|f| f.path.exists()).map(|f| shown(&f.path)).collect();
    if !existing.is_empty() && !g.force {
        bail!(
            "init writes nothing, because {} already {} in {}: {}; `pgo-build init --force` replaces {}",
            if existing.len() == 1 { "this file" } else { "these files" },
            if existing.len() == 1 { "exists" } else { "exist" },
            dir.display(),
            existing.join(", "),
            if existing.len() == 1 { "it" } else { "them" }
        );
    }
    for f in &files {
        let verb = match (g.dry_run, existing.contains(&shown(&f.path))) {
            (true, _) => "would write",
            (false, true) => "replaced",
            (false, false) => "wrote",
        };
        if !g.dry_run {
            write_file(f)?;
        }
        printer.status("init", format!("{verb} {}: {}", shown(&f.path), f.what));
    }
    if g.dry_run {
        printer.note("dry run: nothing written");
        return Ok(());
    }
    for line in next_steps(g) {
        printer.out(line);
    }
    Ok(())
}

/// The `[profile]` table of the workspace's Cargo.toml, if it has one.
fn manifest_profiles(manifest: &Path) -> Result<Option<toml::Table>> {
    let text = std::fs::read_to_string(manifest).with_context(|| format!("could not read {}", manifest.display()))?;
    let doc: toml::Table = toml::from_str(&text).with_context(|| format!("could not parse {}", manifest.display()))?;
    Ok(doc.get("profile").and_then(toml::Value::as_table).cloned())
}

fn write_file(f: &NewFile) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    write_atomic(&f.path, f.text.as_bytes())?;
    let mode = if f.executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(&f.path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("could not set the permissions of {}", f.path.display()))
}

/// The three commands to run next, with the `--project` and `--config` given to init.
fn next_steps(g: &GlobalArgs) -> Vec<String> {
    let mut me = "pgo-build".to_string();
    if g.project != Path::new(".") {
        me.push_str(&format!(" --project {}", crate::process::quote(g.project.as_os_str())));
    }
    if let Some(config) = &g.config {
        me.push_str(&format!(" --config {}", crate::process::quote(config.as_os_str())));
    }
    vec![
        "next:".into(),
        format!("  1. replace the line marked {MARKER} in each example script with real runs of"),
        format!("     \"$PGO_BUILD_BIN\", then `{me} try` runs every workload once, in seconds"),
        format!("  2. `{me} doctor` checks rustc, its LLVM and llvm-profdata"),
        format!("  3. `{me} all` instruments, trains, merges, optimizes and compares"),
    ]
}

/// A TOML string or array of strings.
fn toml_value(v: impl Into<toml::Value>) -> String {
    v.into().to_string()
}

/// The commented `pgo-build.toml`. It declares no `[[workload]]`, so the scripts
/// in the two folders are the workloads.
fn config_text(project: &Project, choice: &ProfileChoice, features: &[String]) -> String {
    let why = choice.comment();
    let features =
        if features.is_empty() { String::new() } else { format!("features = {}\n", toml_value(features.to_vec())) };
    format!(
        r#"# pgo-build's configuration, written by `pgo-build init`. Every key is in
# pgo-build's docs/config.md; how a workload runs is in docs/workloads.md.

# The package whose binaries PGO optimizes, and those binaries (default: all of
# them). The first is the one workloads get as $PGO_BUILD_BIN.
package = {package}
bins = {bins}
{features}
# The Cargo profile to build and optimize:
{why}profile = {profile}

# The workloads: with no [[workload]] table in this file, every executable script
# in workloads/train/ trains the profile, and every one in workloads/bench/ is a
# held-out benchmark that `compare` measures; each is named after its file.
# init wrote one example into each folder: replace their placeholder lines.
#
# For arguments, weights, timeouts or a script for both uses, declare every
# workload here instead (the folders are then no longer scanned), e.g.:
#
# [[workload]]
# name = "convert-large"
# run = "workloads/train/convert-large.sh"
# args = ["--large"]
# use = ["train"]
# weight = 2
"#,
        package = toml_value(project.package.as_str()),
        bins = toml_value(project.bins.clone()),
        profile = toml_value(choice.name.as_str()),
    )
}

/// An example workload script for `purpose`, at `rel`, failing until its
/// placeholder line is replaced.
fn script_text(project: &Project, purpose: Use, rel: &str) -> String {
    let first = &project.bins[0];
    let purpose_text = match purpose {
        Use::Train => format!(
            "# A training workload: `pgo-build train` runs every executable script in\n\
             # workloads/train/ against the instrumented build of {first}, and PGO makes\n\
             # the paths it takes faster. Do what your users do most, with realistic\n\
             # input. It is not timed; the benchmark workloads are."
        ),
        Use::Bench => format!(
            "# A benchmark workload: `pgo-build compare` runs every executable script in\n\
             # workloads/bench/ against each build of {first} it compares, many times,\n\
             # and times it. Use input the training never saw, and aim for a few hundred\n\
             # milliseconds or more a run; send output you don't measure to /dev/null."
        ),
    };
    let vars: String = project.bins.iter().map(|b| format!("#   {:<28}{b}, by name\n", bin_var(b))).collect();
    format!(
        r#"#!/bin/sh
{purpose_text}
#
# It runs from the project directory, with these variables set:
#   PGO_BUILD_BIN               the binary under test ({first})
{vars}#   PGO_BUILD_WORKDIR           an empty scratch directory for output files
#   PGO_BUILD_STAGE             train, bench, try, ... (what runs it)
# A non-zero exit status fails the run. The whole contract: pgo-build's
# docs/workloads.md. `pgo-build try` runs every workload once, in seconds.
set -eu

# For example:
# "$PGO_BUILD_BIN" --help > /dev/null
# "$PGO_BUILD_BIN" convert testdata/large.csv > "$PGO_BUILD_WORKDIR/out.json"

echo "{rel}: replace this placeholder with real runs of \$PGO_BUILD_BIN (see pgo-build's docs/workloads.md)" >&2; exit 1 # {MARKER}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(dir: &Path) -> Project {
        Project {
            dir: dir.to_path_buf(),
            manifest: dir.join("Cargo.toml"),
            package_manifest: dir.join("Cargo.toml"),
            workspace_root: dir.to_path_buf(),
            package: "my-tool".into(),
            bins: vec!["my-tool".into(), "helper".into()],
            target_dir: dir.join("target"),
            root_source: dir.join("src/main.rs"),
            members: Vec::new(),
            building_c: Ok(Vec::new()),
        }
    }

    /// The files init writes load with pgo-build's own config loader, and their
    /// scripts are discovered as one training and one benchmark workload.
    #[test]
    fn the_written_config_loads_and_finds_the_examples() {
        let dir = tempfile::tempdir().unwrap();
        let p = project(dir.path());
        let choice = ProfileChoice { name: "production".into(), why: "because".into(), others: None };
        let config = dir.path().join("pgo-build.toml");
        write_file(&NewFile {
            path: config.clone(),
            text: config_text(&p, &choice, &["simd".into()]),
            executable: false,
            what: String::new(),
        })
        .unwrap();
        for (rel, purpose) in [(TRAIN_EXAMPLE, Use::Train), (BENCH_EXAMPLE, Use::Bench)] {
            let text = script_text(&p, purpose, rel);
            write_file(&NewFile { path: dir.path().join(rel), text, executable: true, what: String::new() }).unwrap();
        }
        let loaded = Config::load(dir.path(), &config, true).unwrap();
        assert_eq!(loaded.package.as_deref(), Some("my-tool"));
        assert_eq!(loaded.bins, Some(vec!["my-tool".to_string(), "helper".to_string()]));
        assert_eq!(loaded.profile.as_deref(), Some("production"));
        assert_eq!(loaded.features, ["simd"]);
        let names: Vec<(&str, bool)> = loaded.workloads.iter().map(|w| (w.name.as_str(), w.is(Use::Train))).collect();
        assert_eq!(names, [("example-bench", false), ("example-train", true)]);
        let found = crate::workload::placeholder::find_all(dir.path(), &loaded.workloads);
        assert_eq!(found.len(), 2, "{found:?}");
        // Line 20 with one binary; one more `PGO_BUILD_BIN_<NAME>` line per binary.
        assert!(found.iter().all(|f| f.line == 21), "{found:?}");
    }

    #[test]
    fn an_example_script_fails_with_its_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TRAIN_EXAMPLE);
        let text = script_text(&project(dir.path()), Use::Train, TRAIN_EXAMPLE);
        assert!(text.contains("#   PGO_BUILD_BIN_MY_TOOL       my-tool, by name\n"), "{text}");
        write_file(&NewFile { path: path.clone(), text, executable: true, what: String::new() }).unwrap();
        let out = std::process::Command::new(&path).env("PGO_BUILD_BIN", "/bin/true").output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "workloads/train/example-train.sh: replace this placeholder with real runs of $PGO_BUILD_BIN \
             (see pgo-build's docs/workloads.md)\n"
        );
    }
}
