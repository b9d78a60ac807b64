//! The record's first page, filled before anything is built: the project, the
//! machine and its tools, and the method the rounds will follow.

use super::CompareArgs;
use super::variants;
use crate::config::{Use, Workload};
use crate::context::Ctx;
use crate::measure::Stop;
use crate::process::Cmd;
use crate::report::record::{self as report, Environment, Method, ProjectInfo, Report, WorkloadInfo};

/// The record before anything is built or measured: what is compared, on what,
/// and how it will be measured.
pub fn new(ctx: &Ctx, args: &CompareArgs, bench: &[&Workload], startup_args: Option<Vec<String>>) -> Report {
    let plan = args.measure.plan(1, vec![true], 0);
    Report {
        schema_version: report::SCHEMA_VERSION,
        tool: format!("pgo-build {}", env!("CARGO_PKG_VERSION")),
        generated_unix: crate::state::now(),
        complete: false,
        error: None,
        project: ProjectInfo {
            package: ctx.settings.package.clone(),
            binaries: ctx.settings.bins.clone(),
            profile: ctx.settings.profile.clone(),
        },
        environment: environment(ctx),
        method: Method {
            confidence: plan.confidence,
            warmup_rounds: plan.warmup,
            min_rounds: plan.min_rounds,
            max_rounds: plan.max_rounds,
            target_precision: plan.target,
            budget_s: plan.budget_s,
            noise_threshold: plan.noise,
            rounds: 0,
            stop: Stop::Running,
            achieved_precision: None,
            startup_args,
        },
        baseline: variants::BASELINE.to_string(),
        workloads: bench.iter().map(|w| WorkloadInfo { name: w.name.clone(), trained_on: w.is(Use::Train) }).collect(),
        variants: Vec::new(),
        bolt_vs_pgo: None,
        counts: None,
        gates: Vec::new(),
    }
}

/// What the numbers were measured on.
fn environment(ctx: &Ctx) -> Environment {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let os_release = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=")).map(|v| v.trim_matches('"').to_string()));
    let kernel = Cmd::new("uname").args(["-sr"]).read().ok().map(|s| s.trim().to_string());
    let os = [os_release, kernel].into_iter().flatten().collect::<Vec<_>>().join(", ");
    let mut tools = std::collections::BTreeMap::new();
    if let Ok(v) = Cmd::new("cargo").arg("--version").read() {
        tools.insert("cargo".to_string(), v.trim().to_string());
    }
    Environment {
        rustc: ctx.rustc.version.clone(),
        llvm: format!("LLVM {}", ctx.rustc.llvm_version),
        host: ctx.rustc.host.clone(),
        target: (!ctx.target.is_host).then(|| ctx.target.triple.clone()),
        cpu,
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        os,
        tools,
    }
}
