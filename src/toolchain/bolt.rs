//! Finding LLVM BOLT, the post-link optimizer: `llvm-bolt` with its `merge-fdata`
//! (and `perf2bolt` for sampling mode), under plain or versioned names (Debian's
//! `bolt-NN` package installs `llvm-bolt-NN`, `merge-fdata-NN`, `perf2bolt-NN`),
//! and whether `perf` can sample branch stacks on this machine (most VMs cannot,
//! which leaves BOLT's instrumentation mode).
//!
//! The tools of one installation belong together, so `merge-fdata` and `perf2bolt`
//! are looked for beside the chosen `llvm-bolt`, with the same version suffix.

use std::path::{Path, PathBuf};

use super::profdata::parse_llvm_version;
use crate::process::Cmd;

/// A usable BOLT installation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BoltTools {
    pub llvm_bolt: PathBuf,
    pub merge_fdata: PathBuf,
    /// Only needed for sampling mode.
    pub perf2bolt: Option<PathBuf>,
    pub version: String,
    /// Why this one: given explicitly, or where it was found.
    pub origin: &'static str,
}

/// BOLT's instrumentation hooks a program's start and exit through the `DT_INIT`
/// and `DT_FINI` entries of its dynamic section, which the libc of a static-pie
/// binary never reads: the instrumented binary runs and writes no profile. LLVM 23
/// instruments static PIEs through their entry point instead (llvm-project
/// #201371, fixed by #204475). Returns why BOLT cannot work, if it cannot.
pub fn static_pie_refusal(tools: &BoltTools, triple: &str, static_pie: bool, sampling: bool) -> Option<String> {
    let major = super::rustc::major_of(&tools.version)?;
    (static_pie && !sampling && major < 23).then(|| {
        format!(
            "llvm-bolt {} cannot instrument the static-pie binaries {triple} links: their libc never runs the \
             DT_INIT/DT_FINI hooks BOLT patches, so training would write no BOLT profile (llvm-project issue \
             #201371, fixed in LLVM 23). Use llvm-bolt 23 or later (--llvm-bolt), build without --bolt, or BOLT the \
             build of a dynamically linked target (a -gnu one)",
            tools.version
        )
    })
}

/// Searches for BOLT: `requested` alone when given (`--llvm-bolt`,
/// `PGO_BUILD_LLVM_BOLT`), else `llvm-bolt-NN` on PATH, Debian's
/// `/usr/lib/llvm-NN/bin/llvm-bolt`, then `llvm-bolt` on PATH. The error says what
/// was tried and how to install it.
pub fn discover(llvm_major: u32, requested: Option<&Path>) -> Result<BoltTools, String> {
    let mut candidates: Vec<(PathBuf, &'static str)> = Vec::new();
    match requested {
        Some(path) => candidates.push((path.to_path_buf(), "given with --llvm-bolt or PGO_BUILD_LLVM_BOLT")),
        None => {
            if let Ok(p) = which::which(format!("llvm-bolt-{llvm_major}")) {
                candidates.push((p, "found on PATH under its versioned name"));
            }
            let debian = PathBuf::from(format!("/usr/lib/llvm-{llvm_major}/bin/llvm-bolt"));
            if debian.is_file() {
                candidates.push((debian, "found in Debian's /usr/lib/llvm-NN/bin"));
            }
            if let Ok(p) = which::which("llvm-bolt") {
                candidates.push((p, "found on PATH"));
            }
        }
    }
    let mut rejected = Vec::new();
    for (path, origin) in candidates {
        match check(&path) {
            Ok((merge_fdata, perf2bolt, version)) => {
                return Ok(BoltTools { llvm_bolt: path, merge_fdata, perf2bolt, version, origin });
            }
            Err(reason) => rejected.push(format!("{} ({origin}): {reason}", path.display())),
        }
    }
    let mut message = if rejected.is_empty() {
        "no llvm-bolt was found".to_string()
    } else {
        format!("no usable llvm-bolt was found:\n  {}", rejected.join("\n  "))
    };
    message.push_str(&format!(
        "\nInstall it with `apt-get install bolt-{llvm_major}` (Debian/Ubuntu: llvm-bolt-{llvm_major}, \
         merge-fdata-{llvm_major}), or name it with --llvm-bolt PATH or PGO_BUILD_LLVM_BOLT=PATH."
    ));
    Err(message)
}

/// Checks a candidate: it runs, and its `merge-fdata` is beside it.
fn check(llvm_bolt: &Path) -> Result<(PathBuf, Option<PathBuf>, String), String> {
    if !llvm_bolt.is_file() {
        return Err("no such file".to_string());
    }
    let text = Cmd::new(llvm_bolt).arg("--version").read().map_err(|e| format!("it did not run: {e:#}"))?;
    let version =
        parse_llvm_version(&text).ok_or_else(|| format!("could not read its version from: {}", text.trim()))?;
    let merge_fdata = companion(llvm_bolt, "merge-fdata")
        .ok_or_else(|| format!("{} is not beside it", companion_name(llvm_bolt, "merge-fdata")))?;
    Ok((merge_fdata, companion(llvm_bolt, "perf2bolt"), version))
}

/// `merge-fdata-22` for `llvm-bolt-22`, `merge-fdata` for `llvm-bolt`.
fn companion_name(llvm_bolt: &Path, tool: &str) -> String {
    let name = llvm_bolt.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let suffix = name.strip_prefix("llvm-bolt").unwrap_or("");
    format!("{tool}{suffix}")
}

fn companion(llvm_bolt: &Path, tool: &str) -> Option<PathBuf> {
    let path = llvm_bolt.with_file_name(companion_name(llvm_bolt, tool));
    path.is_file().then_some(path)
}

/// Whether `perf` can record branch stacks here (what BOLT's sampling mode needs):
/// `Ok(())`, or the reason it cannot.
pub fn branch_sampling() -> Result<(), String> {
    let perf = which::which("perf").map_err(|_| "perf is not installed (Debian: linux-perf)".to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let data = dir.path().join("probe.data");
    let probe = Cmd::new(perf).args(["record", "-e", "cycles:u", "-j", "any,u", "-o"]).arg(&data).args(["--", "true"]);
    match probe.capture() {
        Ok(out) if out.outcome.success() => Ok(()),
        Ok(out) => {
            let reason = out.stderr.lines().map(str::trim).rfind(|l| !l.is_empty() && *l != "Error:");
            Err(reason.unwrap_or("perf record -j failed").to_string())
        }
        Err(e) => Err(format!("{e:#}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companions_share_the_version_suffix() {
        assert_eq!(companion_name(Path::new("/usr/bin/llvm-bolt-22"), "merge-fdata"), "merge-fdata-22");
        assert_eq!(companion_name(Path::new("/opt/llvm/bin/llvm-bolt"), "perf2bolt"), "perf2bolt");
    }
}
