//! Finding an `llvm-profdata` that can read the raw profiles this rustc writes.
//!
//! The raw profile format changes between LLVM versions, and `llvm-profdata` reads
//! only its own generation: Debian's `llvm-profdata` (LLVM 14 on bookworm) rejects
//! rustc 1.95's profiles with "unsupported instrumentation profile format version".
//! So every candidate's LLVM major is checked against rustc's, and a mismatched one
//! is never used silently. Candidates, in order: the `--llvm-profdata` flag or
//! `PGO_BUILD_LLVM_PROFDATA`; the rustup `llvm-tools` component of the active
//! toolchain (always the exact LLVM rustc uses); `llvm-profdata-NN` on PATH;
//! Debian's `/usr/lib/llvm-NN/bin/llvm-profdata`; plain `llvm-profdata` on PATH.
//!
//! The subcommands pgo-build runs have a file each beside this one ([`merge`],
//! [`show`], [`overlap`]): a typed command builder on [`Profdata`] and the one
//! parser of that command's output. Stages go through them instead of assembling
//! llvm-profdata command lines or reading its output themselves, so a change in
//! llvm-profdata's text is fixed in one place. (`doctor`'s probe merge, a bare
//! `merge --output FILE RAW` that only has to succeed, is the one exception.)

pub mod merge;
pub mod overlap;
pub mod show;

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::rustc::{RustcInfo, major_of};
use crate::process::Cmd;

/// Where a candidate came from, which is also why it was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    Flag,
    Env,
    RustupComponent,
    PathVersioned,
    DebianLlvmDir,
    Path,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Flag => "given with --llvm-profdata",
            Origin::Env => "given with PGO_BUILD_LLVM_PROFDATA",
            Origin::RustupComponent => "the rustup llvm-tools component of the active toolchain",
            Origin::PathVersioned => "found on PATH under its versioned name",
            Origin::DebianLlvmDir => "found in Debian's /usr/lib/llvm-NN/bin",
            Origin::Path => "found on PATH",
        })
    }
}

/// An `llvm-profdata` whose LLVM major matches rustc's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profdata {
    pub path: PathBuf,
    pub llvm_version: String,
    pub origin: Origin,
}

impl Profdata {
    pub fn cmd(&self) -> Cmd {
        Cmd::new(&self.path)
    }

    /// The tool a `--dry-run` shows: the one found, else plain `llvm-profdata`
    /// (a dry run installs nothing, so there may be none). Only for display.
    pub fn for_dry_run(found: Result<&Profdata>) -> Profdata {
        found.cloned().unwrap_or_else(|_| Profdata {
            path: PathBuf::from("llvm-profdata"),
            llvm_version: String::new(),
            origin: Origin::Path,
        })
    }
}

/// A candidate that was looked at and not taken, with the reason.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub path: PathBuf,
    pub origin: Origin,
    pub reason: String,
}

/// The result of a search: the chosen tool (if any) and every candidate turned down.
#[derive(Debug, Default)]
pub struct Discovery {
    pub found: Option<Profdata>,
    pub rejected: Vec<Rejected>,
}

/// An explicitly requested `llvm-profdata`, from the flag or the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub path: PathBuf,
    pub origin: Origin,
}

/// Searches the candidates in order and returns the first whose LLVM major matches.
pub fn discover(rustc: &RustcInfo, requested: Option<&Override>) -> Discovery {
    let mut discovery = Discovery::default();
    let mut candidates: Vec<(PathBuf, Origin)> = Vec::new();
    if let Some(o) = requested {
        // An explicit choice is the only candidate: falling back to another tool
        // behind the user's back would hide the mistake they need to see.
        candidates.push((o.path.clone(), o.origin));
    } else {
        candidates.push((rustc.llvm_tools_dir().join("llvm-profdata"), Origin::RustupComponent));
        let versioned = format!("llvm-profdata-{}", rustc.llvm_major);
        if let Ok(path) = which::which(&versioned) {
            candidates.push((path, Origin::PathVersioned));
        }
        let debian = PathBuf::from(format!("/usr/lib/llvm-{}/bin/llvm-profdata", rustc.llvm_major));
        if debian.is_file() {
            candidates.push((debian, Origin::DebianLlvmDir));
        }
        if let Ok(path) = which::which("llvm-profdata") {
            candidates.push((path, Origin::Path));
        }
    }
    for (path, origin) in candidates {
        if origin == Origin::RustupComponent && !path.is_file() {
            continue; // Component not installed: not a rejection, just absent.
        }
        match check(&path, rustc) {
            Ok(llvm_version) => {
                discovery.found = Some(Profdata { path, llvm_version, origin });
                break;
            }
            Err(reason) => discovery.rejected.push(Rejected { path, origin, reason }),
        }
    }
    discovery
}

/// Asks a candidate for its LLVM version and compares the major with rustc's.
fn check(path: &Path, rustc: &RustcInfo) -> Result<String, String> {
    if !path.exists() {
        return Err("no such file".to_string());
    }
    // `llvm-profdata --version` is not understood by older releases (LLVM 14 says
    // "Unknown command!"); `merge --version` is, by all of them.
    let text = Cmd::new(path).args(["merge", "--version"]).read().map_err(|e| format!("it did not run: {e:#}"))?;
    let version =
        parse_llvm_version(&text).ok_or_else(|| format!("could not read its version from: {}", text.trim()))?;
    match major_of(&version) {
        Some(major) if major == rustc.llvm_major => Ok(version),
        Some(_) => Err(format!(
            "it is LLVM {version}, but rustc uses LLVM {}: it cannot read rustc's raw profiles \
             (\"unsupported instrumentation profile format version\")",
            rustc.llvm_version
        )),
        None => Err(format!("could not read its version from {version:?}")),
    }
}

/// `22.1.2-rust-1.95.0-stable` from `LLVM version 22.1.2-rust-1.95.0-stable`.
pub fn parse_llvm_version(text: &str) -> Option<String> {
    let rest = &text[text.find("LLVM version ")? + "LLVM version ".len()..];
    let version = rest.split_whitespace().next()?;
    major_of(version).map(|_| version.to_string())
}

/// What to tell a user who has no suitable `llvm-profdata`.
pub fn install_hint(rustc: &RustcInfo) -> String {
    let major = rustc.llvm_major;
    format!(
        "rustc ({}) uses LLVM {}, so pgo-build needs an llvm-profdata from LLVM {major}. Get one with:\n\
         \x20   rustup component add llvm-tools-preview   # matches rustc exactly; recommended\n\
         \x20   apt-get install llvm-{major:<21}# Debian/Ubuntu: gives llvm-profdata-{major}\n\
         or name one with --llvm-profdata PATH or PGO_BUILD_LLVM_PROFDATA=PATH.",
        rustc.version, rustc.llvm_version
    )
}

/// Explains a discovery that found nothing usable.
pub fn not_found_message(rustc: &RustcInfo, discovery: &Discovery) -> String {
    let mut text = String::from("no usable llvm-profdata was found.\n");
    for r in &discovery.rejected {
        text.push_str(&format!("  rejected {} ({}): {}\n", r.path.display(), r.origin, r.reason));
    }
    text.push_str(&install_hint(rustc));
    text
}

/// Finds `llvm-profdata`, installing the rustup component when nothing fits, unless
/// `no_install` gives the reason not to. `announce` is told before an installation.
pub fn ensure(
    rustc: &RustcInfo,
    requested: Option<&Override>,
    no_install: Option<&str>,
    project_dir: &Path,
    announce: impl Fn(&str),
) -> Result<Profdata> {
    let discovery = discover(rustc, requested);
    if let Some(found) = discovery.found {
        return Ok(found);
    }
    if requested.is_none() && no_install.is_none() && which::which("rustup").is_ok() {
        announce(
            "no llvm-profdata matching rustc's LLVM found; installing it: rustup component add llvm-tools-preview",
        );
        let add = Cmd::new("rustup").args(["component", "add", "llvm-tools-preview"]).dir(project_dir).read();
        if let Err(e) = add {
            bail!("{}\n(installing the rustup component failed: {e:#})", not_found_message(rustc, &discovery));
        }
        if let Some(found) = discover(rustc, None).found {
            return Ok(found);
        }
    }
    let mut message = not_found_message(rustc, &discovery);
    match (requested, no_install) {
        (Some(o), _) => message.push_str(&format!(
            "\n(Only the llvm-profdata {} was considered; drop that setting to let pgo-build search and install one.)",
            o.origin
        )),
        (None, Some(reason)) => {
            message.push_str(&format!("\n(pgo-build did not install the rustup component: {reason}.)"))
        }
        (None, None) => {}
    }
    bail!(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_of_all_styles() {
        assert_eq!(
            parse_llvm_version("LLVM (http://llvm.org/):\n  LLVM version 22.1.2-rust-1.95.0-stable\n").as_deref(),
            Some("22.1.2-rust-1.95.0-stable")
        );
        assert_eq!(parse_llvm_version("Debian LLVM version 14.0.6\n  Optimized build.").as_deref(), Some("14.0.6"));
        assert_eq!(parse_llvm_version("Unknown command!"), None);
    }
}
