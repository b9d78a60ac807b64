//! Building for, and running, a Linux target of another architecture: the
//! linker that links its binaries and the runner that runs them here, found the
//! way Cargo's own conventions name them.
//!
//! Training runs the instrumented binary, and IR-level PGO counts are execution
//! counts, not samples: under an emulator they are the same as on the real
//! machine, only slower. So a target this machine cannot run natively is trained
//! through a runner:
//! - the user's `CARGO_TARGET_<TRIPLE>_RUNNER`, or `target.<triple>.runner` in
//!   Cargo's config (what `cargo run` would use);
//! - else `qemu-<arch>` on PATH, with `-L /usr/<arch>-linux-gnu` (Debian's
//!   cross libraries) when that folder exists.
//!
//! The linker, likewise: the user's `CARGO_TARGET_<TRIPLE>_LINKER` or
//! `target.<triple>.linker` is left to cargo; else `<arch>-linux-gnu-gcc` on PATH
//! is handed to cargo through that variable. Times under an emulator say nothing
//! of the real machine, so `compare` refuses to time such a target.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::cargo_config::{config_files, read_config};
use crate::toolchain::target::Target;

/// How this machine builds and runs the pipeline's target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cross {
    /// A linker pgo-build found for the target, to hand to cargo (`None`: the
    /// target needs none, or the user configured one, which cargo reads itself).
    pub linker: Option<PathBuf>,
    /// The runner the target's binaries run under here (`None`: natively, or
    /// not at all).
    pub runner: Option<Runner>,
    /// Why the target's binaries do not run here at all, when they do not: a
    /// build from a carried or stored profile needs no run, training does.
    pub cannot_run: Option<String>,
    /// The linker the user configured for the target, which cargo reads itself
    /// and pgo-build's probes pass to rustc.
    pub user_linker: Option<PathBuf>,
}

/// A command line that runs a binary of the target: the binary and its
/// arguments follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runner {
    pub words: Vec<String>,
    /// Where it came from: `CARGO_TARGET_…_RUNNER`, `target.….runner in …`, `PATH`.
    pub from: String,
}

impl Runner {
    /// `qemu-aarch64 -L /usr/aarch64-linux-gnu`.
    pub fn display(&self) -> String {
        self.words.iter().map(|w| crate::process::quote(std::ffi::OsStr::new(w))).collect::<Vec<_>>().join(" ")
    }
}

pub use crate::toolchain::target::target_var;

/// The architecture of a triple: `aarch64` of `aarch64-unknown-linux-gnu`.
fn arch(triple: &str) -> &str {
    triple.split('-').next().unwrap_or(triple)
}

/// Whether a machine of `host`'s architecture runs `target`'s code natively.
fn runs_natively(host: &str, target: &str) -> bool {
    let x86 = |a: &str| matches!(a, "x86_64" | "i686" | "i586" | "i386");
    arch(host) == arch(target) || (arch(host) == "x86_64" && x86(arch(target)))
}

/// qemu-user's name for an architecture (`qemu-<this>`).
fn qemu_arch(arch: &str) -> &str {
    match arch {
        "armv7" | "armv7a" | "arm" | "thumbv7neon" => "arm",
        "riscv64gc" | "riscv64" => "riscv64",
        "powerpc64le" => "ppc64le",
        "powerpc64" => "ppc64",
        "powerpc" => "ppc",
        "i686" | "i586" => "i386",
        other => other,
    }
}

/// The GNU triple Debian's cross packages use: `aarch64-linux-gnu`.
fn gnu_triple(target: &str) -> Option<String> {
    let mut parts = target.split('-');
    let arch = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let env = rest.last()?;
    if !rest.contains(&"linux") || !env.starts_with("gnu") {
        return None;
    }
    let arch = match arch {
        "armv7" => "arm",
        "riscv64gc" => "riscv64",
        a => a,
    };
    let abi = if env.ends_with("eabihf") { "gnueabihf" } else { "gnu" };
    Some(format!("{arch}-linux-{abi}"))
}

/// A value the user set for the target: the environment first (as Cargo reads
/// it), then Cargo's config files, most specific first. Returns the words and
/// where they came from.
fn user_setting(
    project_dir: &Path,
    triple: &str,
    key: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<(Vec<String>, String)> {
    let var = target_var(triple, key);
    if let Some(v) = env(&var).filter(|v| !v.trim().is_empty()) {
        return Some((v.split_whitespace().map(str::to_string).collect(), var));
    }
    for path in config_files(project_dir) {
        let Ok(table) = read_config(&path) else { continue };
        let value = table.get("target").and_then(|t| t.get(triple)).and_then(|t| t.get(key));
        let words: Vec<String> = match value {
            Some(toml::Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
            Some(toml::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            _ => continue,
        };
        if !words.is_empty() {
            return Some((words, format!("target.{triple}.{key} in {}", path.display())));
        }
    }
    None
}

impl Cross {
    /// How `target` is linked and run on a `host` machine; fails, saying what to
    /// install, when a Linux target of another architecture has no linker or no
    /// runner. `find` looks a program up on PATH.
    pub fn detect(
        project_dir: &Path,
        target: &Target,
        host: &str,
        env: &dyn Fn(&str) -> Option<String>,
        find: &dyn Fn(&str) -> Option<PathBuf>,
    ) -> Result<Cross> {
        let triple = target.triple.as_str();
        let linux = target.cfg.iter().any(|l| l == "target_os=\"linux\"");
        if target.is_host || (runs_natively(host, triple) && linux == host.contains("-linux")) {
            return Ok(Cross::default());
        }
        if !linux {
            return Ok(Cross::foreign(project_dir, target, env, find));
        }
        let gnu = gnu_triple(triple);
        let install = |what: &str| match &gnu {
            Some(g) => format!("on Debian or Ubuntu: `sudo apt-get install {what}` ({g})"),
            None => format!("install {what} for {triple}"),
        };
        let user_linker =
            user_setting(project_dir, triple, "linker", env).and_then(|(w, _)| w.first().map(PathBuf::from));
        let linker = match user_setting(project_dir, triple, "linker", env) {
            Some(_) => None,
            None => {
                let name = gnu.as_ref().map(|g| format!("{g}-gcc"));
                match name.as_deref().and_then(find) {
                    Some(path) => Some(path),
                    None => bail!(
                        "building for {triple} needs a linker for it, and none was found: {}, or name one with {}",
                        install(&format!("gcc-{}", gnu.as_deref().unwrap_or(triple).replace('_', "-"))),
                        target_var(triple, "linker")
                    ),
                }
            }
        };
        let runner = match user_setting(project_dir, triple, "runner", env) {
            Some((words, from)) => Runner { words, from },
            None => {
                let qemu = format!("qemu-{}", qemu_arch(arch(triple)));
                let Some(path) = find(&qemu) else {
                    let why = format!(
                        "this machine cannot run {triple} binaries natively, and training runs the instrumented \
                         binary: install an emulator ({}; `{qemu}` runs them with exact profile counts), or name \
                         a runner with {}; or carry a profile trained on another target (`optimize --profile-from`)",
                        install("qemu-user"),
                        target_var(triple, "runner")
                    );
                    return Ok(Cross { linker, runner: None, cannot_run: Some(why), user_linker });
                };
                let mut words = vec![path.display().to_string()];
                if let Some(libs) = gnu.as_ref().map(|g| PathBuf::from("/usr").join(g)).filter(|p| p.is_dir()) {
                    words.extend(["-L".to_string(), libs.display().to_string()]);
                }
                Runner { words, from: "PATH".into() }
            }
        };
        Ok(Cross { linker, runner: Some(runner), cannot_run: None, user_linker })
    }

    /// A target of another operating system (Windows, macOS built on Linux):
    /// linked by whatever rustc or the user names, run only by the user's
    /// runner (`wine`, say).
    fn foreign(
        project_dir: &Path,
        target: &Target,
        env: &dyn Fn(&str) -> Option<String>,
        find: &dyn Fn(&str) -> Option<PathBuf>,
    ) -> Cross {
        let triple = target.triple.as_str();
        let user_linker =
            user_setting(project_dir, triple, "linker", env).and_then(|(w, _)| w.first().map(PathBuf::from));
        if let Some((words, from)) = user_setting(project_dir, triple, "runner", env) {
            return Cross { runner: Some(Runner { words, from }), user_linker, ..Cross::default() };
        }
        let wine = if target.cfg.iter().any(|l| l == "target_os=\"windows\"") && find("wine").is_some() {
            format!(", or name `wine` as its runner with {}", target_var(triple, "runner"))
        } else {
            String::new()
        };
        Cross {
            linker: None,
            runner: None,
            user_linker,
            cannot_run: Some(format!(
                "this machine cannot run {triple} binaries, and training runs the instrumented binary: carry a \
                 profile trained on a target that runs here (`optimize --profile-from TRIPLE`){wine}"
            )),
        }
    }

    /// The linker to link a probe with: the one pgo-build found, else the user's.
    pub fn probe_linker(&self) -> Option<&Path> {
        self.linker.as_deref().or(self.user_linker.as_deref())
    }

    /// The environment a cargo build for `triple` needs from pgo-build: the
    /// linker it found, if any.
    pub fn build_env(&self, triple: &str) -> Vec<(String, String)> {
        self.linker.iter().map(|l| (target_var(triple, "linker"), l.display().to_string())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aarch64() -> Target {
        Target {
            triple: "aarch64-unknown-linux-gnu".into(),
            cfg: vec!["target_os=\"linux\"".into(), "target_arch=\"aarch64\"".into()],
            is_host: false,
        }
    }

    const HOST: &str = "x86_64-unknown-linux-gnu";

    fn on_path(names: &'static [&'static str]) -> impl Fn(&str) -> Option<PathBuf> {
        move |n| names.contains(&n).then(|| PathBuf::from("/usr/bin").join(n))
    }

    #[test]
    fn names_follow_cargo_and_debian() {
        assert_eq!(target_var("aarch64-unknown-linux-gnu", "runner"), "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER");
        assert_eq!(gnu_triple("aarch64-unknown-linux-gnu").as_deref(), Some("aarch64-linux-gnu"));
        assert_eq!(gnu_triple("armv7-unknown-linux-gnueabihf").as_deref(), Some("arm-linux-gnueabihf"));
        assert_eq!(gnu_triple("riscv64gc-unknown-linux-gnu").as_deref(), Some("riscv64-linux-gnu"));
        assert_eq!(gnu_triple("x86_64-unknown-linux-musl"), None);
        assert_eq!(qemu_arch("armv7"), "arm");
        assert!(runs_natively(HOST, "x86_64-unknown-linux-musl") && runs_natively(HOST, "i686-unknown-linux-gnu"));
        assert!(!runs_natively(HOST, "aarch64-unknown-linux-gnu"));
    }

    #[test]
    fn qemu_and_the_cross_gcc_are_found_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let none = |_: &str| None;
        let found = on_path(&["qemu-aarch64", "aarch64-linux-gnu-gcc"]);
        let cross = Cross::detect(dir.path(), &aarch64(), HOST, &none, &found).unwrap();
        assert_eq!(cross.linker, Some(PathBuf::from("/usr/bin/aarch64-linux-gnu-gcc")));
        let runner = cross.runner.unwrap();
        assert_eq!(runner.words[0], "/usr/bin/qemu-aarch64");
        assert_eq!(runner.from, "PATH");
        assert_eq!(
            Cross { linker: Some("/l".into()), ..Cross::default() }.build_env("aarch64-unknown-linux-gnu"),
            [("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER".to_string(), "/l".to_string())]
        );
    }

    #[test]
    fn the_users_runner_and_linker_win() {
        let dir = tempfile::tempdir().unwrap();
        let env = |k: &str| match k {
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER" => Some("my-emu --fast".to_string()),
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER" => Some("my-ld".to_string()),
            _ => None,
        };
        let cross = Cross::detect(dir.path(), &aarch64(), HOST, &env, &on_path(&[])).unwrap();
        assert_eq!(cross.linker, None, "cargo reads the user's linker itself");
        let runner = cross.runner.unwrap();
        assert_eq!(
            (runner.words.as_slice(), runner.from.as_str()),
            (["my-emu", "--fast"].map(String::from).as_slice(), "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER")
        );

        // From Cargo's config, as `cargo run` would.
        std::fs::create_dir_all(dir.path().join(".cargo")).unwrap();
        std::fs::write(
            dir.path().join(".cargo/config.toml"),
            "[target.aarch64-unknown-linux-gnu]\nlinker = \"cfg-ld\"\nrunner = [\"cfg-emu\", \"-x\"]\n",
        )
        .unwrap();
        let none = |_: &str| None;
        let cross = Cross::detect(dir.path(), &aarch64(), HOST, &none, &on_path(&[])).unwrap();
        assert_eq!(cross.linker, None);
        assert_eq!(cross.runner.unwrap().words, ["cfg-emu", "-x"]);
    }

    #[test]
    fn a_missing_linker_or_emulator_says_what_to_install() {
        let dir = tempfile::tempdir().unwrap();
        let none = |_: &str| None;
        let err = Cross::detect(dir.path(), &aarch64(), HOST, &none, &on_path(&["qemu-aarch64"])).unwrap_err();
        assert!(err.to_string().contains("apt-get install gcc-aarch64-linux-gnu"), "{err}");
        let cross = Cross::detect(dir.path(), &aarch64(), HOST, &none, &on_path(&["aarch64-linux-gnu-gcc"])).unwrap();
        assert!(cross.linker.is_some(), "a build from a carried profile needs only the linker");
        let text = cross.cannot_run.unwrap();
        assert!(text.contains("cannot run aarch64-unknown-linux-gnu binaries natively"), "{text}");
        assert!(
            text.contains("apt-get install qemu-user")
                && text.contains("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER"),
            "{text}"
        );
        // The host's own target and the ones it runs need neither.
        let musl = Target {
            triple: "x86_64-unknown-linux-musl".into(),
            cfg: vec!["target_os=\"linux\"".into()],
            is_host: false,
        };
        assert_eq!(Cross::detect(dir.path(), &musl, HOST, &none, &on_path(&[])).unwrap(), Cross::default());
    }

    #[test]
    fn another_systems_target_runs_only_under_the_users_runner() {
        let dir = tempfile::tempdir().unwrap();
        let windows = Target {
            triple: "x86_64-pc-windows-gnu".into(),
            cfg: vec!["target_os=\"windows\"".into()],
            is_host: false,
        };
        let none = |_: &str| None;
        let cross = Cross::detect(dir.path(), &windows, HOST, &none, &on_path(&["wine"])).unwrap();
        let why = cross.cannot_run.unwrap();
        assert!(why.contains("--profile-from") && why.contains("`wine`"), "{why}");
        let env = |k: &str| (k == "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER").then(|| "wine".to_string());
        let cross = Cross::detect(dir.path(), &windows, HOST, &env, &on_path(&[])).unwrap();
        assert_eq!((cross.runner.unwrap().words, cross.cannot_run), (vec!["wine".to_string()], None));
    }
}
