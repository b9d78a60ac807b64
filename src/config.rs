//! `pgo-build.toml`: what to build and which workloads train and measure it.
//!
//! The file is optional (a project with `workloads/train/` and `workloads/bench/`
//! scripts needs none), but what it says is checked strictly: an unknown key or a
//! wrong type is an error naming the file, line and key, because a misspelt
//! `weigth = 3` silently ignored would skew a profile nobody would think to question.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::measure::counts::CounterChoice;
use crate::workload::serve::Serve;

/// Default limit for one run of one workload.
pub const DEFAULT_TIMEOUT_SECS: f64 = 600.0;

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
    bolt_mode: Option<BoltMode>,
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
    c_pgo: Option<bool>,
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

/// What a workload is for: collecting the profile, measuring, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Use {
    Train,
    Bench,
}

impl Use {
    /// As in the config's `use` and the folder's name: `train`, `bench`.
    pub fn name(self) -> &'static str {
        match self {
            Use::Train => "train",
            Use::Bench => "bench",
        }
    }
}

/// How BOLT collects its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BoltMode {
    /// `llvm-bolt -instrument`: works everywhere, VMs included.
    #[default]
    Instrument,
    /// `perf record` with branch stacks and `perf2bolt`: needs hardware branch sampling.
    Perf,
}

/// How a workload is started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Run {
    /// An executable file, relative to the project directory in the config.
    Script(PathBuf),
    /// A command line for `sh -c`.
    Shell(String),
}

/// One workload, validated.
#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    pub name: String,
    pub run: Run,
    pub args: Vec<String>,
    pub uses: BTreeSet<Use>,
    pub weight: u32,
    pub timeout: Duration,
    pub env: BTreeMap<String, String>,
    /// A rewritten binary (BOLT) must print the same standard output as its input.
    pub check_output: bool,
    /// The server the workload's `run` drives, when it has one (`serve`).
    pub serve: Option<Serve>,
    /// Figures the workload promises to report through `PGO_BUILD_METRICS`.
    pub metrics: Vec<String>,
}

impl Workload {
    /// A workload with every optional setting at its default, as a discovered
    /// script has them.
    pub fn new(name: impl Into<String>, run: Run, uses: BTreeSet<Use>) -> Workload {
        Workload {
            name: name.into(),
            run,
            args: Vec::new(),
            uses,
            weight: 1,
            timeout: Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS),
            env: BTreeMap::new(),
            check_output: false,
            serve: None,
            metrics: Vec::new(),
        }
    }

    pub fn is(&self, purpose: Use) -> bool {
        self.uses.contains(&purpose)
    }
}

/// The project's configuration, validated, with defaults applied.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from, if there was one.
    pub path: Option<PathBuf>,
    /// The workloads were found in the workloads/ folders, since the config
    /// declares none (see [`Config::how_to_add`]).
    pub discovered: bool,
    pub package: Option<String>,
    pub bins: Option<Vec<String>>,
    pub profile: Option<String>,
    pub features: Vec<String>,
    pub default_features: bool,
    pub cargo_args: Vec<String>,
    /// Run the pipeline in BOLT mode (`bolt = true`), or not (`bolt = false`);
    /// unset: the mode the pipeline's record has.
    pub bolt: Option<bool>,
    /// How BOLT collects its profile, if the config says.
    pub bolt_mode: Option<BoltMode>,
    /// llvm-bolt optimization flags replacing the defaults (empty: the defaults).
    pub bolt_flags: Vec<String>,
    /// Flags appended to llvm-bolt's optimization flags.
    pub bolt_args: Vec<String>,
    /// `bolt-split = false` leaves out BOLT's function-splitting flags.
    pub bolt_split: Option<bool>,
    /// `compare`'s baseline: a Cargo profile of the project or a preset name
    /// (none: the `production` preset).
    pub baseline: Option<String>,
    /// `compare`'s variants, if the config chooses them.
    pub variants: Option<Vec<String>>,
    /// Arguments of `compare`'s startup run (none: `--version`; empty: no startup run).
    pub startup_args: Option<Vec<String>>,
    /// `compare` also counts instructions and the rest (`counts = true`).
    pub counts: bool,
    /// Which counter `compare` counts with.
    pub counter: CounterChoice,
    /// LLVM's continuous mode for training (`continuous-profiles`), if the config
    /// says; see [`Config::continuous_profiles`].
    pub continuous: Option<bool>,
    /// The target triple to build for (none: the host's).
    pub target: Option<String>,
    /// Build C/C++ code of build scripts with PGO too (`c-pgo`, default on).
    pub c_pgo: bool,
    pub workloads: Vec<Workload>,
}

impl Config {
    /// Whether the instrumented build keeps its counters in the raw profile file
    /// as it runs (LLVM's continuous mode), so a training process killed by a
    /// signal, or aborting, still leaves its profile: `continuous-profiles`, else
    /// on when a training workload has a server (servers are stopped by a signal).
    pub fn continuous_profiles(&self) -> bool {
        self.continuous.unwrap_or_else(|| self.workloads.iter().any(|w| w.serve.is_some() && w.is(Use::Train)))
    }

    /// Loads `path` if it exists (or fails if it was named explicitly and is missing),
    /// then falls back to discovering scripts under `PROJECT/workloads/` when the file
    /// declares no workloads.
    pub fn load(project_dir: &Path, path: &Path, explicit: bool) -> Result<Config> {
        let mut config = if path.is_file() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read config file {}", path.display()))?;
            parse(&text, path, project_dir)?
        } else if explicit {
            bail!("config file {} does not exist", path.display());
        } else {
            Config { default_features: true, c_pgo: true, ..Config::default() }
        };
        if config.workloads.is_empty() {
            config.workloads = discover(project_dir)?;
            config.discovered = true;
        }
        Ok(config)
    }

    /// How to add a workload for `purpose`, for messages. Where this project's
    /// workloads come from decides: declared in the config file, a table there
    /// (the folders are then not read); else a script in the folder.
    pub fn how_to_add(&self, purpose: Use, project_dir: &Path) -> String {
        let name = purpose.name();
        match &self.path {
            Some(path) if !self.discovered => format!(
                "add a `[[workload]]` table with `use = [\"{name}\"]` to {} (or \"{name}\" to the `use` of one there)",
                path.display()
            ),
            _ => format!("add an executable script to {}", project_dir.join("workloads").join(name).display()),
        }
    }

    pub fn workloads_for(&self, purpose: Use) -> impl Iterator<Item = &Workload> {
        self.workloads.iter().filter(move |w| w.is(purpose))
    }

    /// Where the config came from, for messages.
    pub fn source(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "the workloads/ folder (no pgo-build.toml)".to_string(),
        }
    }
}

/// A config from its text, as if read from `pgo-build.toml` (workloads left as declared).
#[cfg(test)]
pub fn from_toml(text: &str) -> Result<Config> {
    parse(text, Path::new("pgo-build.toml"), Path::new("."))
}

fn parse(text: &str, path: &Path, project_dir: &Path) -> Result<Config> {
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
        c_pgo: raw.c_pgo.unwrap_or(true),
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

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Scripts in `workloads/train/` and `workloads/bench/` are workloads for that use,
/// named after the file (without extension). The same name in both folders is an
/// error: names must be unique, and one script serving both uses belongs in the config.
fn discover(project_dir: &Path) -> Result<Vec<Workload>> {
    let mut found: BTreeMap<String, Workload> = BTreeMap::new();
    for (folder, purpose) in [("train", Use::Train), ("bench", Use::Bench)] {
        let dir = project_dir.join("workloads").join(folder);
        if !dir.is_dir() {
            continue;
        }
        let mut entries: Vec<_> = walkdir::WalkDir::new(&dir)
            .min_depth(1)
            .max_depth(1)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .collect::<Result<_, _>>()
            .with_context(|| format!("could not list {}", dir.display()))?;
        // Hidden files and editor backups (`run.sh~`) are not workloads.
        entries.retain(|e| {
            let name = e.file_name().to_string_lossy();
            !name.starts_with('.') && !name.ends_with('~') && e.file_type().is_file() && is_executable(e.path())
        });
        for entry in entries {
            let name = entry.path().file_stem().unwrap_or_default().to_string_lossy().into_owned();
            if !valid_name(&name) {
                bail!(
                    "workload script {} has a name that cannot name files; use only letters, digits, '-', '_' and '.'",
                    entry.path().display()
                );
            }
            let rel = entry.path().strip_prefix(project_dir).unwrap_or(entry.path()).to_path_buf();
            if let Some(existing) = found.get_mut(&name) {
                bail!(
                    "two workload scripts are both named {name:?} ({} and {}); rename one, or declare them in pgo-build.toml",
                    match &existing.run {
                        Run::Script(p) => p.display().to_string(),
                        Run::Shell(s) => s.clone(),
                    },
                    rel.display()
                );
            }
            found.insert(name.clone(), Workload::new(name, Run::Script(rel), BTreeSet::from([purpose])));
        }
    }
    Ok(found.into_values().collect())
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("w")).unwrap();
        std::fs::write(dir.path().join("w/a.sh"), "#!/bin/sh\n").unwrap();
        parse(text, Path::new("/p/pgo-build.toml"), dir.path())
    }

    #[test]
    fn full_config_parses() {
        let config = parse_str(
            r#"
            package = "demo"
            bins = ["demo"]
            profile = "production"
            features = ["fast"]
            default-features = false
            cargo-args = ["--locked"]

            [[workload]]
            name = "a"
            run = "w/a.sh"
            args = ["--big"]
            use = ["train", "bench"]
            weight = 3
            timeout = 2.5
            env = { SIZE = "9" }

            [[workload]]
            name = "b"
            run = "$PGO_BUILD_BIN --help"
            use = ["bench"]
            "#,
        )
        .unwrap();
        assert_eq!(config.profile.as_deref(), Some("production"));
        assert!(!config.default_features);
        let a = &config.workloads[0];
        assert_eq!(a.run, Run::Script("w/a.sh".into()));
        assert_eq!(a.weight, 3);
        assert_eq!(a.timeout, Duration::from_millis(2500));
        assert!(a.is(Use::Train) && a.is(Use::Bench));
        assert_eq!(config.workloads[1].run, Run::Shell("$PGO_BUILD_BIN --help".into()));
        assert_eq!(config.workloads[1].weight, 1);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse_str(
            "profile = \"release\"\n\n[[workload]]\nname = \"a\"\nrun = \"w/a.sh\"\nuse = [\"train\"]\nweigth = 2\n",
        )
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("/p/pgo-build.toml"), "{text}");
        assert!(text.contains("line 7"), "{text}");
        assert!(text.contains("weigth"), "{text}");
    }

    #[test]
    fn wrong_type_is_an_error() {
        let err = parse_str("[[workload]]\nname = \"a\"\nrun = \"w/a.sh\"\nuse = [\"train\"]\nweight = \"high\"\n")
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("line 5") && text.contains("weight"), "{text}");
    }

    #[test]
    fn unknown_use_is_an_error() {
        let err = parse_str("[[workload]]\nname = \"a\"\nrun = \"w/a.sh\"\nuse = [\"trian\"]\n").unwrap_err();
        assert!(format!("{err:#}").contains("trian"));
    }

    #[test]
    fn duplicate_names_point_at_the_second() {
        let err = parse_str(
            "[[workload]]\nname = \"a\"\nrun = \"true\"\nuse = [\"train\"]\n[[workload]]\nname = \"a\"\nrun = \"true\"\nuse = [\"bench\"]\n",
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("pgo-build.toml:6"), "{err:#}");
    }

    #[test]
    fn command_line_args_must_be_used_by_the_line() {
        let config = |run: &str| {
            parse_str(&format!("[[workload]]\nname = \"a\"\nrun = '''{run}'''\nargs = [\"x\"]\nuse = [\"train\"]\n"))
        };
        for used in
            ["\"$PGO_BUILD_BIN\" \"$@\"", "for f in \"$@\"; do echo $f; done", "echo $1", "echo ${1}", "echo $*"]
        {
            assert!(config(used).is_ok(), "{used}");
        }
        let err = config("\"$PGO_BUILD_BIN\" --count").unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("pgo-build.toml:3") && text.contains("uses none of them"), "{text}");
        // A script gets its args as arguments: nothing to check.
        assert!(parse_str("[[workload]]\nname = \"a\"\nrun = \"w/a.sh\"\nargs = [\"x\"]\nuse = [\"train\"]\n").is_ok());
    }

    #[test]
    fn missing_script_path_is_an_error() {
        let err = parse_str("[[workload]]\nname = \"a\"\nrun = \"w/missing.sh\"\nuse = [\"train\"]\n").unwrap_err();
        assert!(format!("{err:#}").contains("does not exist"), "{err:#}");
    }

    #[test]
    fn workloads_are_discovered_from_folders() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (sub, name) in [("train", "t1.sh"), ("bench", "b1.sh"), ("bench", "notes.txt")] {
            let folder = dir.path().join("workloads").join(sub);
            std::fs::create_dir_all(&folder).unwrap();
            let file = folder.join(name);
            std::fs::write(&file, "#!/bin/sh\n").unwrap();
            if name.ends_with(".sh") {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        let found = discover(dir.path()).unwrap();
        let names: Vec<_> = found.iter().map(|w| (w.name.as_str(), w.is(Use::Train))).collect();
        assert_eq!(names, [("b1", false), ("t1", true)]);
    }
}
