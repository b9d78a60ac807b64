//! Reading `pgo-build.toml`: the file as written ([`RawConfig`]), checked key by
//! key into a [`Config`], each error naming the file, line and key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use toml::Spanned;

use super::{BoltProfiling, Config, CounterChoice, DEFAULT_TIMEOUT_SECS, Run, Serve, Use, Workload};

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    package: Option<String>,
    bins: Option<Vec<String>>,
    profile: Option<String>,
    #[serde(default)]
    features: Vec<String>,
    default_features: Option<bool>,
    #[serde(default)]
    cargo_args: Vec<String>,
    bolt: Option<bool>,
    bolt_mode: Option<BoltProfiling>,
    #[serde(default)]
    bolt_flags: Vec<String>,
    #[serde(default)]
    bolt_args: Vec<String>,
    bolt_split: Option<bool>,
    baseline: Option<String>,
    variants: Option<Vec<String>>,
    startup_args: Option<Vec<String>>,
    counts: Option<bool>,
    counter: Option<CounterChoice>,
    continuous_profiles: Option<bool>,
    target: Option<String>,
    #[serde(default)]
    targets: Vec<String>,
    c_pgo: Option<bool>,
    lean_instrument: Option<bool>,
    #[serde(default, rename = "workload")]
    workloads: Vec<RawWorkload>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWorkload {
    name: Spanned<String>,
    run: Spanned<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(rename = "use")]
    uses: Vec<Use>,
    #[serde(default = "one")]
    weight: u32,
    timeout: Option<f64>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    check_output: bool,
    serve: Option<String>,
    ready: Option<String>,
    ready_timeout: Option<f64>,
    stop: Option<String>,
    stop_timeout: Option<f64>,
    #[serde(default)]
    metrics: Vec<String>,
}

fn one() -> u32 {
    1
}

pub(super) fn parse(text: &str, path: &Path, project_dir: &Path) -> Result<Config> {
    let raw: RawConfig =
        toml::from_str(text).map_err(|e| anyhow::anyhow!("invalid config file {}:\n{e}", path.display()))?;
    let at = |span: std::ops::Range<usize>| format!("{}:{}", path.display(), line_of(text, span.start));

    let mut names = BTreeSet::new();
    let mut workloads = Vec::new();
    for w in raw.workloads {
        let name = w.name.get_ref();
        if !valid_name(name) {
            bail!(
                "{}: workload name {name:?} must be non-empty and use only letters, digits, '-', '_' and '.' \
                 (it names files and folders)",
                at(w.name.span())
            );
        }
        if !names.insert(name.clone()) {
            bail!("{}: a second workload is named {name:?}; names must be unique", at(w.name.span()));
        }
        if w.uses.is_empty() {
            bail!("{}: workload {name:?} has an empty `use`; say [\"train\"], [\"bench\"] or both", at(w.name.span()));
        }
        if w.weight == 0 {
            bail!("{}: workload {name:?} has weight 0; weights are whole numbers from 1", at(w.name.span()));
        }
        let timeout = w.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS);
        if !(timeout > 0.0 && timeout.is_finite()) {
            bail!(
                "{}: workload {name:?} has timeout {timeout}; it must be a positive number of seconds",
                at(w.name.span())
            );
        }
        let run = classify_run(w.run.get_ref(), project_dir)
            .with_context(|| format!("{}: workload {name:?}", at(w.run.span())))?;
        if let Run::Shell(line) = &run
            && !w.args.is_empty()
            && !uses_positional_parameters(line)
        {
            bail!(
                "{}: workload {name:?} has `args`, but its command line uses none of them: a command line gets \
                 `args` as \"$@\" ($1, $2, …) and places them itself, so they would be ignored. Add \"$@\" where \
                 they belong, e.g. run = '\"$PGO_BUILD_BIN\" --input \"$@\"' (see docs/workloads.md)",
                at(w.run.span())
            );
        }
        let serve = match &w.serve {
            Some(command) => Some(
                Serve::parse(command, w.ready.as_deref(), w.ready_timeout, w.stop.as_deref(), w.stop_timeout)
                    .with_context(|| format!("{}: workload {name:?}", at(w.name.span())))?,
            ),
            None => {
                let given = [
                    ("ready", w.ready.is_some()),
                    ("ready-timeout", w.ready_timeout.is_some()),
                    ("stop", w.stop.is_some()),
                    ("stop-timeout", w.stop_timeout.is_some()),
                ];
                if let Some((key, _)) = given.iter().find(|(_, g)| *g) {
                    bail!(
                        "{}: workload {name:?} has `{key}` but no `serve`: `{key}` belongs to a server workload \
                         (see docs/workloads.md)",
                        at(w.name.span())
                    );
                }
                None
            }
        };
        if let Some(bad) = w.metrics.iter().find(|m| !valid_name(m)) {
            bail!(
                "{}: workload {name:?} promises a metric named {bad:?}; use letters, digits, '-', '_' and '.'",
                at(w.name.span())
            );
        }
        workloads.push(Workload {
            name: name.clone(),
            run,
            args: w.args,
            uses: w.uses.into_iter().collect(),
            weight: w.weight,
            timeout: Duration::from_secs_f64(timeout),
            env: w.env,
            check_output: w.check_output,
            serve,
            metrics: w.metrics,
        });
    }
    Ok(Config {
        path: Some(path.to_path_buf()),
        discovered: false,
        package: raw.package,
        bins: raw.bins,
        profile: raw.profile,
        features: raw.features,
        default_features: raw.default_features.unwrap_or(true),
        cargo_args: raw.cargo_args,
        bolt: raw.bolt,
        bolt_mode: raw.bolt_mode,
        bolt_flags: raw.bolt_flags,
        bolt_args: raw.bolt_args,
        bolt_split: raw.bolt_split,
        baseline: raw.baseline,
        variants: raw.variants,
        startup_args: raw.startup_args,
        counts: raw.counts.unwrap_or(false),
        counter: raw.counter.unwrap_or_default(),
        continuous: raw.continuous_profiles,
        target: raw.target,
        targets: raw.targets,
        c_pgo: raw.c_pgo.unwrap_or(true),
        lean_instrument: raw.lean_instrument.unwrap_or(true),
        workloads,
    })
}

/// A `run` value that names an existing file is a script; one that looks like a path
/// (a single word with a `/`) but names nothing is a mistake worth stopping for; any
/// other value is a command line.
fn classify_run(run: &str, project_dir: &Path) -> Result<Run> {
    let run = run.trim();
    if run.is_empty() {
        bail!("`run` is empty");
    }
    let candidate = project_dir.join(run);
    if candidate.is_file() {
        return Ok(Run::Script(PathBuf::from(run)));
    }
    if !run.contains(char::is_whitespace) && run.contains('/') {
        bail!("`run` names the script {run:?}, but {} does not exist", candidate.display());
    }
    Ok(Run::Shell(run.to_string()))
}

/// Whether a command line refers to its positional parameters: `$@`, `$*`, `$1`…,
/// or the same in braces (`${1}`, `${@:-x}`).
fn uses_positional_parameters(line: &str) -> bool {
    let parameter = |c: char| c == '@' || c == '*' || ('1'..='9').contains(&c);
    line.match_indices('$').any(|(i, _)| {
        let mut rest = line[i + 1..].chars();
        match rest.next() {
            Some('{') => rest.next().is_some_and(parameter),
            Some(c) => parameter(c),
            None => false,
        }
    })
}

pub(super) fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}
