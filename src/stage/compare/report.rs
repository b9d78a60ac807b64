//! The report of `compare`, apart from how it was measured: the [`Report`] model
//! (also `report.json`, schema in docs/report-schema.md), and its Markdown and
//! terminal renderings. The HTML page is in `html.rs`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::bolt_vs_pgo::BoltVsPgo;
use super::counts::{CountsMethod, VariantCounts};
use super::metrics::MetricReport;
use super::variants::{PGO, PGO_BOLT};
use crate::measure::stats::{Estimate, Verdict, median_interval};
pub use crate::measure::text::{mark, ratio_text, time, verdict_text};
use crate::measure::{Plan, Samples, Stop};
use crate::util::human_size;

/// Bumped when a field changes meaning or goes away (additions keep it). 2: a
/// variant may be `same_build_as` another, with no figures of its own; `bolt_vs_pgo`.
/// 3: `counts` (the report's and each variant's); a gate says what it judged (`on`),
/// and may judge a count rather than time.
pub const SCHEMA_VERSION: u32 = 3;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    /// `pgo-build <version>`.
    pub tool: String,
    /// Unix seconds when the report was (last) written.
    pub generated_unix: u64,
    /// False while measuring and when a run failed part-way (see `error`).
    pub complete: bool,
    pub error: Option<String>,
    pub project: ProjectInfo,
    pub environment: Environment,
    pub method: Method,
    /// The name of the variant the others are compared with.
    pub baseline: String,
    pub workloads: Vec<WorkloadInfo>,
    pub variants: Vec<VariantReport>,
    /// `pgo+bolt` against `pgo` and the decision it leads to, when both are measured.
    pub bolt_vs_pgo: Option<BoltVsPgo>,
    /// How the counts were made (`--counts`), `None` without counts.
    pub counts: Option<CountsMethod>,
    pub gates: Vec<Gate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectInfo {
    pub package: String,
    pub binaries: Vec<String>,
    /// The Cargo profile the PGO pipeline optimizes.
    pub profile: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Environment {
    pub rustc: String,
    pub llvm: String,
    pub host: String,
    /// The target the binaries were built for, when it is not the host's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub cpu: String,
    pub cores: usize,
    pub os: String,
    /// Tool name → the version line it printed.
    pub tools: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Method {
    pub confidence: f64,
    pub warmup_rounds: u32,
    pub min_rounds: u32,
    pub max_rounds: u32,
    /// The target relative half-width of every ratio's interval (0.01 is ±1%).
    pub target_precision: f64,
    pub budget_s: f64,
    /// Ratios closer to 1 than this fraction are "no clear difference".
    pub noise_threshold: f64,
    /// Measured rounds done.
    pub rounds: u32,
    pub stop: Stop,
    /// The widest relative half-width among the ratios' intervals.
    pub achieved_precision: Option<f64>,
    /// Arguments of the startup run, `None` when startup is not measured.
    pub startup_args: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadInfo {
    pub name: String,
    /// Also a training workload: its figures flatter PGO.
    pub trained_on: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct VariantReport {
    pub name: String,
    pub description: String,
    /// The earlier variant whose build this one is (same effective profile
    /// settings and rustflags): built and measured once, as that one, so this
    /// one has no timings or build times of its own.
    pub same_build_as: Option<String>,
    pub build: BuildInfo,
    pub binaries: Vec<BinaryInfo>,
    /// All binaries together.
    pub size_bytes: u64,
    /// `size_bytes` over the baseline's.
    pub size_ratio: Option<f64>,
    pub startup: Option<Timing>,
    pub workloads: Vec<Timing>,
    /// Over the benchmark workloads, against the baseline.
    pub geomean: Option<Ratio>,
    pub build_times: Option<BuildTimes>,
    /// The counted figures (`--counts`), `None` when not counted.
    pub counts: Option<VariantCounts>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildInfo {
    /// How the binaries came about: built by compare, or reused from a stage
    /// (a phrase, e.g. "reused from `pgo-build optimize`").
    pub origin: String,
    pub cargo_profile: String,
    /// `--config` values cargo was given (presets, pgo-build's own overrides).
    pub cargo_config: Vec<String>,
    /// Flags pgo-build added to the user's rustflags.
    pub rustflags: Vec<String>,
    /// Steps after cargo (BOLT, stripping).
    pub post: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BinaryInfo {
    pub name: String,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildTimes {
    /// A build into an empty target directory.
    pub cold_s: f64,
    /// A rebuild after touching the package's root source file.
    pub warm_s: f64,
}

/// One workload's (or the startup run's) times for one variant.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub name: String,
    pub runs: usize,
    pub median_s: f64,
    pub ci_low_s: f64,
    pub ci_high_s: f64,
    pub ratio: f64,
    pub ratio_ci_low: f64,
    pub ratio_ci_high: f64,
    pub verdict: Verdict,
    /// The workload's own figures (`PGO_BUILD_METRICS`), empty when it reports none.
    pub metrics: Vec<MetricReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub ratio: f64,
    pub ratio_ci_low: f64,
    pub ratio_ci_high: f64,
    pub verdict: Verdict,
}

impl Ratio {
    pub fn judged(e: Estimate, noise: f64, confidence: f64) -> Ratio {
        Ratio {
            ratio: e.value,
            ratio_ci_low: e.low,
            ratio_ci_high: e.high,
            verdict: Verdict::of(&e, noise, confidence),
        }
    }
}

/// A CI check and how it came out.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    /// `fail-if-slower` or `require-speedup`.
    pub name: String,
    /// What it judged: `time`, or a counted figure (`instructions`, `estimated-cycles`).
    pub on: String,
    pub threshold_pct: f64,
    pub variant: String,
    pub passed: bool,
    pub detail: String,
}

impl Report {
    /// Puts measured samples into the variants, and `pgo+bolt` against `pgo`
    /// when both are measured (`keep_bolt`: `--keep-bolt` was given). The plan's
    /// workloads are the report's workloads in order, then the startup run if
    /// measured; its variants are the report's, less those that are the same
    /// build as another.
    pub fn fill(&mut self, plan: &Plan, samples: &Samples, keep_bolt: bool) {
        self.method.rounds = samples.rounds;
        self.method.stop = samples.stop;
        self.method.achieved_precision = (samples.rounds > 0).then(|| samples.worst_precision(plan));
        let confidence = plan.confidence;
        let measured = self.measured_indices();
        for (variant, v) in self.variants.iter_mut().zip(measured) {
            let Some(v) = v else { continue };
            let timing = |w: usize, name: &str| {
                let times = &samples.times[w][v];
                let m = median_interval(times, confidence);
                let r = samples.ratio(plan, w, v);
                Timing {
                    name: name.to_string(),
                    runs: times.len(),
                    median_s: m.value,
                    ci_low_s: m.low,
                    ci_high_s: m.high,
                    ratio: r.value,
                    ratio_ci_low: r.low,
                    ratio_ci_high: r.high,
                    verdict: Verdict::of(&r, plan.noise, plan.confidence),
                    metrics: Vec::new(),
                }
            };
            variant.workloads = self.workloads.iter().enumerate().map(|(w, info)| timing(w, &info.name)).collect();
            variant.startup = self.method.startup_args.is_some().then(|| timing(self.workloads.len(), "startup"));
            variant.geomean = samples.geomean(plan, v).map(|g| Ratio::judged(g, plan.noise, plan.confidence));
        }
        super::metrics::fill(self, plan, samples);
        let index = |name: &str| {
            self.variants.iter().zip(self.measured_indices()).find(|(v, _)| v.name == name).and_then(|(_, i)| i)
        };
        self.bolt_vs_pgo = match (index(PGO), index(PGO_BOLT)) {
            (Some(pgo), Some(bolt)) => {
                let names: Vec<String> = self.workloads.iter().map(|w| w.name.clone()).collect();
                BoltVsPgo::measure(plan, samples, &names, pgo, bolt, keep_bolt)
            }
            _ => None,
        };
    }

    /// Each variant's index among the measured ones (the plan's variants): the
    /// variants in order, those that are the same build as another left out.
    pub fn measured_indices(&self) -> Vec<Option<usize>> {
        let mut next = 0;
        self.variants
            .iter()
            .map(|v| {
                v.same_build_as.is_none().then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    }

    /// The variant whose figures `v` has: itself, or the one it is the same build as.
    pub fn figures_of<'r>(&'r self, v: &'r VariantReport) -> &'r VariantReport {
        v.same_build_as.as_ref().and_then(|n| self.variants.iter().find(|x| &x.name == n)).unwrap_or(v)
    }

    /// Sizes relative to the baseline's.
    pub fn set_size_ratios(&mut self) {
        let base = self.variants.iter().find(|v| v.name == self.baseline).map(|v| v.size_bytes);
        for v in &mut self.variants {
            v.size_ratio = base.filter(|b| *b > 0).map(|b| v.size_bytes as f64 / b as f64);
        }
    }

    fn measured(&self) -> bool {
        self.method.rounds > 0
    }
}

/// `1 round`, `3 rounds`, `2 binaries`: a count with its noun, in the plural
/// unless the count is one.
pub fn count(n: impl Into<u64>, singular: &str) -> String {
    let n = n.into();
    if n == 1 {
        return format!("1 {singular}");
    }
    let consonant_y = singular.strip_suffix('y').filter(|stem| !stem.ends_with(['a', 'e', 'i', 'o', 'u']));
    let plural = match consonant_y {
        Some(stem) => format!("{stem}ies"),
        None if singular.ends_with(['s', 'x']) || singular.ends_with("ch") || singular.ends_with("sh") => {
            format!("{singular}es")
        }
        None => format!("{singular}s"),
    };
    format!("{n} {plural}")
}

/// The sentence under every format's table for variants that are the same build
/// as another; `None` when there are none.
pub fn same_build_note(r: &Report) -> Option<String> {
    r.variants.iter().any(|v| v.same_build_as.is_some()).then(|| {
        "*Same build as X*: the variant has X's effective Cargo profile settings (after inheritance, config files \
         and `--config`) and rustflags, so it was built and measured once, as X; its row has no figures of its own."
            .to_string()
    })
}

fn size_cell(v: &VariantReport, is_base: bool) -> String {
    match v.size_ratio {
        Some(r) if !is_base => format!("{} ({:+.1}%)", human_size(v.size_bytes), (r - 1.0) * 100.0),
        _ => human_size(v.size_bytes),
    }
}

fn timing_cell(t: Option<&Timing>, is_base: bool) -> String {
    match t {
        None => "—".to_string(),
        Some(t) if t.runs == 0 => "—".to_string(),
        Some(t) if is_base => time(t.median_s),
        Some(t) => format!("{} · {}", time(t.median_s), verdict_text(t.ratio, t.verdict)),
    }
}

pub(super) fn stop_text(m: &Method) -> String {
    let precision = m.achieved_precision.map(|p| format!("±{:.1}%", p * 100.0)).unwrap_or_else(|| "—".into());
    let target = format!("±{:.1}%", m.target_precision * 100.0);
    match m.stop {
        Stop::Precise => format!("every ratio's interval reached the target {target} (widest: {precision})"),
        Stop::Budget => format!(
            "the time budget ({}) ran out before every ratio's interval reached {target}; the widest is {precision}",
            time(m.budget_s)
        ),
        Stop::MaxRounds => format!(
            "the round limit ({}) was reached before every ratio's interval reached {target}; the widest is {precision}",
            m.max_rounds
        ),
        Stop::Running => format!("still measuring; the widest interval so far is {precision}"),
    }
}

/// `report.md`: the table a maintainer pastes into a pull request, the details
/// behind it, the environment and each variant's exact build settings.
pub fn markdown(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "## pgo-build report: `{}` ({} profile)\n", r.project.package, r.project.profile);
    if let Some(err) = &r.error {
        let _ = writeln!(o, "> **Incomplete:** {err}\n");
    } else if !r.complete {
        let _ = writeln!(o, "> **Partial:** still measuring; this file is rewritten after every round.\n");
    }
    let with_startup = r.method.startup_args.is_some();
    let with_builds = r.variants.iter().any(|v| v.build_times.is_some());

    // The summary table: variant rows.
    let mut head = vec!["variant".to_string(), "size".to_string()];
    if with_startup {
        head.push("startup".into());
    }
    head.extend(r.workloads.iter().map(|w| if w.trained_on { format!("{} †", w.name) } else { w.name.clone() }));
    let figures = super::metrics::columns(r);
    head.extend(figures.iter().map(|(w, name)| format!("{} {name}", r.workloads[*w].name)));
    head.push("geometric mean".into());
    if with_builds {
        head.extend(["cold build".to_string(), "warm rebuild".to_string()]);
    }
    let _ = writeln!(o, "| {} |", head.join(" | "));
    let _ = writeln!(o, "|:--|{}", "--:|".repeat(head.len() - 1));
    for v in &r.variants {
        let is_base = v.name == r.baseline;
        let name = if is_base && v.name != "baseline" {
            format!("**{}** (baseline)", v.name)
        } else {
            format!("**{}**", v.name)
        };
        let mut row = vec![name, size_cell(v, is_base)];
        if with_startup {
            row.push(timing_cell(v.startup.as_ref(), is_base));
        }
        for (i, _) in r.workloads.iter().enumerate() {
            row.push(timing_cell(v.workloads.get(i), is_base));
        }
        for (w, name) in &figures {
            row.push(super::metrics::cell(v.workloads.get(*w), name, is_base));
        }
        row.push(match (&v.geomean, is_base) {
            _ if v.same_build_as.is_some() => format!("same build as **{}**", v.same_build_as.as_deref().unwrap_or("")),
            (_, true) => "1.000×".to_string(),
            (Some(g), false) if r.measured() => {
                format!(
                    "**{}** · {}",
                    verdict_text(g.ratio, g.verdict),
                    ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high)
                )
            }
            _ => "—".to_string(),
        });
        if with_builds {
            match &v.build_times {
                Some(b) => row.extend([time(b.cold_s), time(b.warm_s)]),
                None => row.extend(["—".to_string(), "—".to_string()]),
            }
        }
        let _ = writeln!(o, "| {} |", row.join(" | "));
    }
    let pct = r.method.confidence * 100.0;
    let _ = writeln!(
        o,
        "\nTimes are medians of whole workload runs; ratios are to the baseline, paired by round. A variant is \
         faster or slower only when the {pct:.0}% confidence interval of its ratio lies wholly beyond ±{}% of 1. \
         {}, variants interleaved; {}.",
        r.method.noise_threshold * 100.0,
        count(r.method.rounds, "round"),
        stop_text(&r.method)
    );
    if let Some(note) = same_build_note(r) {
        let _ = writeln!(o, "{note}");
    }
    if r.workloads.iter().any(|w| w.trained_on) {
        let _ = writeln!(o, "† also a training workload: PGO has seen it, so its gain is flattered.");
    }

    // The details: intervals per variant and workload.
    if r.measured() {
        let _ = writeln!(o, "\n### Details\n");
        let _ = writeln!(
            o,
            "| variant | workload | runs | median | {pct:.0}% CI of median | ratio to baseline [{pct:.0}% CI] | verdict |"
        );
        let _ = writeln!(o, "|:--|:--|--:|--:|--:|--:|:--|");
        for v in r.variants.iter().filter(|v| v.name != r.baseline) {
            for t in v.startup.iter().chain(&v.workloads) {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {}–{} | {} | {} |",
                    v.name,
                    t.name,
                    t.runs,
                    time(t.median_s),
                    time(t.ci_low_s),
                    time(t.ci_high_s),
                    ratio_text(t.ratio, t.ratio_ci_low, t.ratio_ci_high),
                    t.verdict.text()
                );
            }
            if let Some(g) = &v.geomean {
                let _ = writeln!(
                    o,
                    "| {} | *geometric mean* | | | | {} | {} |",
                    v.name,
                    ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high),
                    g.verdict.text()
                );
            }
        }
    }

    super::metrics::markdown(&mut o, r);
    super::counts::render::markdown(&mut o, r);

    if let Some(b) = &r.bolt_vs_pgo {
        let _ = writeln!(o, "\n### BOLT vs PGO\n");
        let _ = writeln!(
            o,
            "`pgo+bolt`'s times over `pgo`'s, paired by round like the ratios to the baseline; the decision rests \
             on the geometric mean.\n"
        );
        let _ = writeln!(o, "| workload | pgo+bolt / pgo [{pct:.0}% CI] | verdict |");
        let _ = writeln!(o, "|:--|--:|:--|");
        for w in &b.workloads {
            let g = &w.ratio;
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                w.name,
                ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high),
                verdict_text(g.ratio, g.verdict)
            );
        }
        let g = &b.geomean;
        let _ = writeln!(
            o,
            "| *geometric mean* | **{}** | **{}** |",
            ratio_text(g.ratio, g.ratio_ci_low, g.ratio_ci_high),
            verdict_text(g.ratio, g.verdict)
        );
        let _ = writeln!(o, "\n**Decision: ship {}** — because {}.", b.delivered, b.reason);
    }

    if !r.gates.is_empty() {
        let _ = writeln!(o, "\n### CI checks\n");
        for g in &r.gates {
            let mark = if g.passed { "passed" } else { "**failed**" };
            let _ = writeln!(o, "- `--{} {}` on `{}`: {mark}: {}", g.name, g.threshold_pct, g.variant, g.detail);
        }
    }

    let _ = writeln!(o, "\n### Build settings\n");
    for v in &r.variants {
        let _ = writeln!(o, "- **{}**: {} ({})", v.name, v.description, v.build.origin);
        let _ = writeln!(o, "  - cargo profile `{}`", v.build.cargo_profile);
        if !v.build.cargo_config.is_empty() {
            let cfg: Vec<String> = v.build.cargo_config.iter().map(|c| format!("`{c}`")).collect();
            let _ = writeln!(o, "  - `--config` {}", cfg.join(", "));
        }
        if !v.build.rustflags.is_empty() {
            let _ = writeln!(o, "  - rustflags added: `{}`", v.build.rustflags.join(" "));
        }
        for step in &v.build.post {
            let _ = writeln!(o, "  - then: {step}");
        }
    }

    let e = &r.environment;
    let _ = writeln!(o, "\n### Environment\n");
    let target = e.target.as_ref().map(|t| format!(", built for {t}")).unwrap_or_default();
    let _ = writeln!(o, "- {}; {} ({}{target})", e.rustc, e.llvm, e.host);
    let _ = writeln!(o, "- CPU: {} ({}); {}", e.cpu, count(e.cores as u64, "core"), e.os);
    for (tool, version) in &e.tools {
        let _ = writeln!(o, "- {tool}: {version}");
    }
    let _ = writeln!(o, "- {}; report schema {}", r.tool, r.schema_version);
    o
}

/// The terminal's table: the Markdown summary's rows, aligned, then why measuring
/// stopped and, when both were measured, BOLT against PGO.
pub fn terminal(r: &Report) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["variant".to_string(), "size".to_string()];
    let with_startup = r.method.startup_args.is_some();
    let with_builds = r.variants.iter().any(|v| v.build_times.is_some());
    if with_startup {
        head.push("startup".into());
    }
    head.extend(r.workloads.iter().map(|w| w.name.clone()));
    let figures = super::metrics::columns(r);
    head.extend(figures.iter().map(|(_, name)| name.clone()));
    head.push("geomean".into());
    if with_builds {
        head.extend(["cold build".to_string(), "warm rebuild".to_string()]);
    }
    rows.push(head);
    for v in &r.variants {
        let is_base = v.name == r.baseline;
        let mut row = vec![if is_base { format!("{} (base)", v.name) } else { v.name.clone() }, size_cell(v, is_base)];
        if with_startup {
            row.push(short(v.startup.as_ref(), is_base));
        }
        if v.same_build_as.is_some() {
            row.extend(r.workloads.iter().map(|_| "—".to_string()));
        } else {
            row.extend(v.workloads.iter().map(|t| short(Some(t), is_base)));
            row.extend((v.workloads.len()..r.workloads.len()).map(|_| "—".to_string()));
        }
        for (w, name) in &figures {
            row.push(super::metrics::cell(v.workloads.get(*w), name, is_base));
        }
        row.push(match (&v.geomean, &v.same_build_as) {
            (_, Some(other)) => format!("same build as {other}"),
            (Some(g), None) if !is_base => format!("{:.3}× {}", g.ratio, verdict_text(g.ratio, g.verdict)),
            _ => String::new(),
        });
        if with_builds {
            match &v.build_times {
                Some(b) => row.extend([time(b.cold_s), time(b.warm_s)]),
                None => row.extend(["—".to_string(), "—".to_string()]),
            }
        }
        rows.push(row);
    }
    let mut o = String::new();
    for line in crate::util::aligned(&rows) {
        let _ = writeln!(o, "{line}");
    }
    let _ = write!(o, "{}; {}.", count(r.method.rounds, "round"), stop_text(&r.method));
    super::counts::render::terminal(&mut o, r);
    if let Some(b) = &r.bolt_vs_pgo {
        let _ = write!(o, "\npgo+bolt vs pgo: ship {} — because {}.", b.delivered, b.reason);
    }
    o
}

fn short(t: Option<&Timing>, is_base: bool) -> String {
    match t {
        Some(t) if t.runs > 0 && is_base => time(t.median_s),
        Some(t) if t.runs > 0 => format!("{} ({:.3}×{})", time(t.median_s), t.ratio, mark(t.verdict)),
        _ => "—".to_string(),
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
pub mod tests;
