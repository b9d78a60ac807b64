//! Every cargo build pgo-build makes goes through [`cargo_build`].
//!
//! Builds of one pipeline differ only in the rustflags pgo-build adds
//! (`-Cprofile-generate`, `-Cprofile-use`): profile, package, binaries, features,
//! cargo arguments and `--target` (the host's unless another is chosen) are the
//! same, taken from one [`Settings`](crate::cargo::Settings). That is what keeps the symbol names of the
//! instrumented and the optimized build equal, without which rustc finds no
//! profile data for any function.
//!
//! Artifact paths come from cargo's JSON messages, never from guessing the layout.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use cargo_metadata::Message;

use crate::cargo::{Binary, c_code, flags};
use crate::context::Ctx;
use crate::process::{Cmd, Outcome, TAIL_LINES, tail_of_file};
use crate::project::BuildKind;

/// What pgo-build adds to a build of the project: rustflags, and clang's flags
/// for the C/C++ code build scripts compile (`None`: that code is built as the
/// user's setup builds it; `Some`: by the pipeline's clang, with these flags,
/// when C/C++ PGO is on).
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub rust: Vec<String>,
    pub c: Option<Vec<String>>,
}

impl Flags {
    /// Rustflags only; C/C++ as the user builds it.
    pub fn rust(rust: Vec<String>) -> Flags {
        Flags { rust, c: None }
    }

    /// A build with the merged `profile`: rustc's flags, and clang's when C/C++
    /// PGO is on.
    pub fn profile_use(ctx: &Ctx, profile: &std::path::Path) -> Flags {
        Flags {
            rust: flags::profile_use(ctx.bolt, profile),
            c: ctx.settings.c_compiler.as_ref().map(|_| c_code::use_flags(profile)),
        }
    }
}

/// A compiler diagnostic from the build.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub level: String,
    pub message: String,
    pub rendered: String,
    /// The cargo target being compiled when rustc said it (`my-lib`, `fixture`):
    /// with `-` as `_`, the crate name rustc puts in symbol and module names.
    pub target: String,
}

#[derive(Debug)]
pub struct BuildOutput {
    pub binaries: Vec<Binary>,
    pub diagnostics: Vec<Diagnostic>,
    pub elapsed: Duration,
}

/// What one cargo build is: a Cargo profile, `--config` values, and a target
/// directory of its own. The pipeline's builds share the profile and the
/// overrides; `compare`'s variants bring their own.
#[derive(Debug, Clone)]
pub struct BuildSpec {
    /// For messages and log names: `instrumented`, `optimized`, `variant-small`…
    pub label: String,
    pub profile: String,
    /// `--config` values, e.g. `profile.release.strip=false`.
    pub config: Vec<String>,
    pub target_dir: PathBuf,
    /// Report the compiler's messages for every crate, dependencies too
    /// (`cargo -vv`; cargo shows only the workspace's otherwise).
    pub dependency_warnings: bool,
}

impl BuildSpec {
    /// A build of the pipeline: its profile with its overrides.
    pub fn pipeline(ctx: &Ctx, kind: BuildKind) -> BuildSpec {
        let s = &ctx.settings;
        BuildSpec {
            label: kind.dir_name().to_string(),
            profile: s.profile.clone(),
            config: s.profile_overrides.iter().map(|(k, v)| format!("profile.{}.{k}={v}", s.profile)).collect(),
            target_dir: ctx.layout.cargo_target(kind),
            dependency_warnings: false,
        }
    }
}

/// The cargo command for a build of `kind` with pgo-build's `flags` added.
pub fn cargo_command(ctx: &Ctx, kind: BuildKind, flags: &Flags) -> Cmd {
    cargo_command_for(ctx, &BuildSpec::pipeline(ctx, kind), flags)
}

/// The cargo command for `spec` with pgo-build's `flags` added.
pub fn cargo_command_for(ctx: &Ctx, spec: &BuildSpec, flags: &Flags) -> Cmd {
    let s = &ctx.settings;
    let mut cmd = Cmd::new("cargo")
        .arg("build")
        .arg("--manifest-path")
        .arg(&ctx.project.manifest)
        .args(["--message-format=json", "--profile", &spec.profile, "--target", &s.target])
        .arg("--target-dir")
        .arg(&spec.target_dir)
        .args(["--package", &s.package]);
    for bin in &s.bins {
        cmd = cmd.args(["--bin", bin]);
    }
    if !s.features.is_empty() {
        cmd = cmd.args(["--features", &s.features.join(",")]);
    }
    if !s.default_features {
        cmd = cmd.arg("--no-default-features");
    }
    for value in &spec.config {
        cmd = cmd.arg("--config").arg(value);
    }
    if spec.dependency_warnings {
        cmd = cmd.arg("-vv");
    }
    cmd = cmd.args(&s.cargo_args).dir(&ctx.project.dir);
    cmd = ctx.user_flags.apply(cmd, &flags.rust, &s.target);
    for (key, value) in ctx.cross().build_env(&s.target) {
        cmd = cmd.env(key, value);
    }
    if let (Some(c), Some(clang)) = (&flags.c, &s.c_compiler) {
        for (key, value) in c_code::env(&s.target, &s.host, clang, c) {
            cmd = cmd.env(key, value);
        }
    }
    cmd
}

/// Whether cargo's output says a build script failed (`cc` reports a C/C++
/// compiler error that way).
fn build_script_failed(stderr_log: &std::path::Path) -> bool {
    std::fs::read_to_string(stderr_log).is_ok_and(|t| t.contains("failed to run custom build command"))
}

/// What to say when a build script failed while C/C++ PGO put `clang` in place
/// of the usual compiler: C code that gcc accepts and clang rejects fails only
/// under pgo-build.
fn c_pgo_hint(clang: &crate::toolchain::clang::Clang) -> String {
    format!(
        "\nA build script failed, and its C/C++ code was compiled by {} for C/C++ PGO, not by the default compiler. \
         If only clang rejects that code, build it with the default compiler, without C/C++ PGO: `--no-c-pgo` (or \
         `c-pgo = false` in pgo-build.toml).",
        clang.describe()
    )
}

/// Runs a build of the pipeline with a spinner, and returns its binaries and diagnostics.
pub fn cargo_build(ctx: &Ctx, kind: BuildKind, flags: &Flags) -> Result<BuildOutput> {
    cargo_build_for(ctx, &BuildSpec::pipeline(ctx, kind), flags)
}

/// Runs the build `spec` with a spinner, and returns its binaries and diagnostics.
pub fn cargo_build_for(ctx: &Ctx, spec: &BuildSpec, flags: &Flags) -> Result<BuildOutput> {
    let cmd = cargo_command_for(ctx, spec, flags);
    ctx.printer.command(&cmd);
    let logs = ctx.layout.logs("build");
    std::fs::create_dir_all(&logs)?;
    let stderr_log = logs.join(format!("{}.stderr.log", spec.label));

    let spinner = ctx.printer.spinner(format!("cargo build ({} {})", spec.label, ctx.settings.package));
    spinner.set_prefix("building");
    let start = Instant::now();
    let mut compiled = 0usize;
    let mut binaries = Vec::new();
    let mut diagnostics = Vec::new();
    let outcome = cmd.stream(&stderr_log, |line| match serde_json::from_str::<Message>(line) {
        Ok(Message::CompilerArtifact(artifact)) => {
            compiled += 1;
            spinner.set_message(format!("{} ({compiled} crates)", artifact.target.name));
            let ours = artifact.manifest_path.as_std_path() == ctx.project.package_manifest.as_path()
                && artifact.target.kind.contains(&cargo_metadata::TargetKind::Bin)
                && ctx.settings.bins.contains(&artifact.target.name);
            if let (true, Some(exe)) = (ours, artifact.executable) {
                binaries.push(Binary { name: artifact.target.name.clone(), path: exe.into_std_path_buf() });
            }
        }
        Ok(Message::CompilerMessage(msg)) => diagnostics.push(Diagnostic {
            level: format!("{:?}", msg.message.level).to_lowercase(),
            message: msg.message.message.clone(),
            rendered: msg.message.rendered.clone().unwrap_or_default(),
            target: msg.target.name.clone(),
        }),
        _ => {}
    })?;
    spinner.finish_and_clear();
    let elapsed = start.elapsed();

    if outcome != Outcome::Exited(0) {
        let errors: Vec<&str> = diagnostics
            .iter()
            .filter(|d| d.level.starts_with("error"))
            .map(|d| d.rendered.trim_end())
            .take(5)
            .collect();
        let detail = if errors.is_empty() { tail_of_file(&stderr_log, TAIL_LINES) } else { errors.join("\n") };
        let c_hint = match (&flags.c, &ctx.settings.c_compiler) {
            (Some(_), Some(clang)) if build_script_failed(&stderr_log) => c_pgo_hint(clang),
            _ => String::new(),
        };
        bail!(
            "the {} build failed: `{}` ended with {outcome}\n{detail}\n(cargo's full output: {}){c_hint}",
            spec.label,
            cmd.display(),
            stderr_log.display()
        );
    }
    // The selection's order, not cargo's completion order: the first binary is
    // the one workloads get as PGO_BUILD_BIN.
    binaries.sort_by_key(|b| ctx.settings.bins.iter().position(|n| *n == b.name));
    let missing: Vec<&String> = ctx.settings.bins.iter().filter(|b| !binaries.iter().any(|x| &x.name == *b)).collect();
    if !missing.is_empty() {
        bail!(
            "cargo finished the {} build but reported no executable for {:?}; see {}",
            spec.label,
            missing,
            stderr_log.display()
        );
    }
    Ok(BuildOutput { binaries, diagnostics, elapsed })
}
