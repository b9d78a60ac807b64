//! The target every build of a pipeline is for: the host's by default, or another
//! one (`--target TRIPLE`, `target = "…"` in the config), most often
//! `x86_64-unknown-linux-musl` for static Linux binaries.
//!
//! Another target needs three things the host has for free: its standard library
//! (`rustup target add`), the profiler runtime in it (`-Cprofile-generate` links
//! `profiler_builtins`), and a machine that can run its binaries, since training
//! runs them here. [`Target::check`] proves all three at once by compiling,
//! running and reading back a tiny instrumented program, before the first build.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::process::Cmd;
use crate::toolchain::RustcInfo;
use crate::toolchain::rustc::program;

/// The target of the pipeline's builds.
#[derive(Debug, Clone)]
pub struct Target {
    pub triple: String,
    /// `rustc --print cfg --target TRIPLE`, one entry per line.
    pub cfg: Vec<String>,
    pub is_host: bool,
}

/// Whether a target's standard library is installed, with the profiler runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdState {
    Ready,
    /// No `libstd-*.rlib` under the sysroot for this target.
    Missing,
    /// The standard library is there, without `libprofiler_builtins`.
    NoProfiler,
}

impl Target {
    /// The target `requested`, else the host's. An unknown triple is an error
    /// quoting rustc.
    pub fn detect(rustc: &RustcInfo, dir: &Path, requested: Option<&str>) -> Result<Target> {
        let triple = requested.unwrap_or(&rustc.host).to_string();
        let text =
            Cmd::new(program()).args(["--print", "cfg", "--target", &triple]).dir(dir).read().with_context(|| {
                format!("rustc does not know the target {triple:?}; `rustc --print target-list` lists the ones it does")
            })?;
        Ok(Target { is_host: triple == rustc.host, cfg: text.lines().map(str::to_string).collect(), triple })
    }

    fn has(&self, entry: &str) -> bool {
        self.cfg.iter().any(|l| l == entry)
    }

    /// Whether the target links static position-independent executables: a libc
    /// linked in (`crt-static`) on Linux, which rustc makes static-pie (the musl
    /// targets' default). Such a binary has no program interpreter, and its libc
    /// never runs the `DT_INIT`/`DT_FINI` hooks of the dynamic section.
    pub fn static_pie(&self) -> bool {
        self.has("target_feature=\"crt-static\"") && self.has("target_os=\"linux\"")
    }

    /// Where the target's standard library lives under the toolchain's sysroot.
    pub fn std_dir(&self, rustc: &RustcInfo) -> PathBuf {
        rustc.sysroot.join("lib").join("rustlib").join(&self.triple).join("lib")
    }

    pub fn std_state(&self, rustc: &RustcInfo) -> StdState {
        let names: Vec<String> = std::fs::read_dir(self.std_dir(rustc))
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let has = |prefix: &str| names.iter().any(|n| n.starts_with(prefix) && n.ends_with(".rlib"));
        if !has("libstd-") {
            StdState::Missing
        } else if !has("libprofiler_builtins-") {
            StdState::NoProfiler
        } else {
            StdState::Ready
        }
    }

    /// Makes sure the standard library is there (installing it with `rustup target
    /// add` unless `no_install` says why not), has the profiler runtime, and that
    /// this machine runs the target's instrumented binaries (linked by `linker`,
    /// run under `runner` when given) and they write raw profiles. Fails with what
    /// to do otherwise.
    pub fn check(
        &self,
        rustc: &RustcInfo,
        dir: &Path,
        no_install: Option<&str>,
        linker: Option<&Path>,
        runner: Option<&[String]>,
        status: impl Fn(String),
    ) -> Result<()> {
        self.ensure_std(rustc, dir, no_install, status)?;
        let tmp = tempfile::tempdir()?;
        instrumented_probe(rustc, &self.triple, dir, tmp.path(), linker, runner).map(|_| ())
    }

    /// The standard library, without asking for the profiler runtime (a build
    /// with `-Cprofile-use` needs none): installed now unless `no_install` says
    /// why not; else what to do.
    pub fn ensure_std_only(
        &self,
        rustc: &RustcInfo,
        dir: &Path,
        no_install: Option<&str>,
        status: impl Fn(String),
    ) -> Result<()> {
        if self.std_state(rustc) != StdState::Missing {
            return Ok(());
        }
        let add = format!("rustup target add {}", self.triple);
        match no_install {
            None if which::which("rustup").is_ok() => {
                status(format!("the standard library for {} is not installed; installing it: {add}", self.triple));
                Cmd::new("rustup")
                    .args(["target", "add", &self.triple])
                    .dir(dir)
                    .read()
                    .with_context(|| format!("installing the standard library for {} failed", self.triple))?;
                Ok(())
            }
            reason => bail!(
                "the standard library for {} is not installed in {}; install it with `{add}`{}",
                self.triple,
                rustc.sysroot.display(),
                reason.map(|r| format!(" (pgo-build did not: {r})")).unwrap_or_default()
            ),
        }
    }

    /// The standard library with the profiler runtime: installed now unless
    /// `no_install` says why not; else what to do.
    pub fn ensure_std(
        &self,
        rustc: &RustcInfo,
        dir: &Path,
        no_install: Option<&str>,
        status: impl Fn(String),
    ) -> Result<()> {
        self.ensure_std_only(rustc, dir, no_install, status)?;
        if self.std_state(rustc) == StdState::NoProfiler {
            bail!(
                "the standard library for {} has no profiler runtime (no libprofiler_builtins in {}), so \
                 -Cprofile-generate cannot link: rustup ships it for tier-1 and most tier-2 Linux targets; \
                 for this one, use a toolchain built with `profiler = true`, or carry a profile trained on \
                 another target to it (`optimize --profile-from TRIPLE`)",
                self.triple,
                self.std_dir(rustc).display()
            );
        }
        Ok(())
    }
}

/// A program that branches, for the probes.
const PROBE_SOURCE: &str = "fn main() { let n: u64 = std::env::args().count() as u64; let mut s = 0; \
                            for i in 0..1000 * n { if i % 3 == 0 { s += i } } std::hint::black_box(s); }\n";

/// Compiles and links a tiny program for `triple` in `tmp` (linked by `linker`
/// when given), without running it: what a build from a carried or stored
/// profile needs. The error names the linker to install when one is known.
pub fn link_probe(triple: &str, dir: &Path, tmp: &Path, linker: Option<&Path>) -> Result<()> {
    let src = tmp.join("link-probe.rs");
    std::fs::write(&src, PROBE_SOURCE)?;
    let mut build = Cmd::new(program()).args(["-O", "--target", triple]);
    if let Some(l) = linker {
        build = build.arg(format!("-Clinker={}", l.display()));
    }
    let hint = match triple {
        t if t.ends_with("-pc-windows-gnu") => {
            format!(
                "; on Debian or Ubuntu: `sudo apt-get install gcc-mingw-w64-{}`",
                t.split('-').next().unwrap_or(t).replace('_', "-")
            )
        }
        _ => String::new(),
    };
    build.arg(&src).arg("-o").arg(tmp.join("link-probe")).dir(dir).read().map(|_| ()).with_context(|| {
        format!(
            "rustc could not build and link a program for {triple} here, so no build for it can: install the \
             target's linker, or name one with {}{hint}",
            target_var(triple, "linker")
        )
    })?;
    Ok(())
}

/// The environment variable Cargo reads a target's `key` from:
/// `CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER`.
pub fn target_var(triple: &str, key: &str) -> String {
    format!("CARGO_TARGET_{}_{}", triple.to_uppercase().replace(['-', '.'], "_"), key.to_uppercase())
}

/// Compiles a tiny program for `triple` with `-Cprofile-generate` in `tmp`
/// (linked by `linker` when given), runs it (under `runner` when given) and
/// returns the raw profile it wrote. Each way this can fail says what it means
/// for training.
pub fn instrumented_probe(
    rustc: &RustcInfo,
    triple: &str,
    dir: &Path,
    tmp: &Path,
    linker: Option<&Path>,
    runner: Option<&[String]>,
) -> Result<PathBuf> {
    let src = tmp.join("probe.rs");
    std::fs::write(&src, PROBE_SOURCE)?;
    let exe = tmp.join("probe");
    let mut build = Cmd::new(program()).args(["-O", "--target", triple]);
    if let Some(l) = linker {
        build = build.arg(format!("-Clinker={}", l.display()));
    }
    build
        .arg(format!("-Cprofile-generate={}", tmp.display()))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .dir(dir)
        .read()
        .with_context(|| format!("rustc could not build an instrumented program for {triple}"))?;
    let raw = tmp.join("probe.profraw");
    let run = match runner {
        Some([program, args @ ..]) => Cmd::new(program).args(args).arg(&exe),
        _ => Cmd::new(&exe),
    }
    .env("LLVM_PROFILE_FILE", &raw);
    let host = &rustc.host;
    match run.capture() {
        Err(e) => bail!(
            "this machine cannot run {triple} binaries ({e:#}); training runs the instrumented binary here, so \
             build on a machine that runs them, or for the host's target ({host})"
        ),
        Ok(c) if !c.outcome.success() => bail!(
            "an instrumented {triple} program built but did not run here: {} {}{}; training runs the \
             instrumented binary on this machine, so its libraries (or an emulator) must be present",
            c.outcome,
            c.stderr.trim(),
            c.stdout.trim()
        ),
        Ok(_) if !raw.is_file() => {
            bail!("an instrumented {triple} program ran but wrote no raw profile to {}", raw.display())
        }
        Ok(_) => Ok(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(cfg: &[&str]) -> Target {
        Target { triple: "t".into(), cfg: cfg.iter().map(|s| s.to_string()).collect(), is_host: false }
    }

    #[test]
    fn static_pie_is_crt_static_on_linux() {
        assert!(target(&["target_os=\"linux\"", "target_feature=\"crt-static\""]).static_pie());
        assert!(!target(&["target_os=\"linux\"", "target_feature=\"sse2\""]).static_pie());
        assert!(!target(&["target_os=\"windows\"", "target_feature=\"crt-static\""]).static_pie());
    }

    #[test]
    fn std_state_reads_the_sysroot() {
        let tmp = tempfile::tempdir().unwrap();
        let rustc = RustcInfo {
            version: "rustc".into(),
            host: "h".into(),
            llvm_version: "22.1.0".into(),
            llvm_major: 22,
            sysroot: tmp.path().into(),
        };
        let t = target(&[]);
        assert_eq!(t.std_state(&rustc), StdState::Missing);
        let lib = t.std_dir(&rustc);
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::write(lib.join("libstd-abc.rlib"), "").unwrap();
        assert_eq!(t.std_state(&rustc), StdState::NoProfiler);
        std::fs::write(lib.join("libprofiler_builtins-abc.rlib"), "").unwrap();
        assert_eq!(t.std_state(&rustc), StdState::Ready);
    }
}
