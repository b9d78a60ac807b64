//! Finding the clang that can profile C and C++ code alongside rustc: its LLVM
//! major must be rustc's, because the two write into one raw profile (one profiler
//! runtime per process) and the raw format changes between LLVM majors. A clang of
//! another major is never used; it is named with the reason, as for llvm-profdata.
//!
//! Debian's `clang-NN` packages install `clang-NN`/`clang++-NN` on PATH and
//! `/usr/lib/llvm-NN/bin/clang`; plain `clang` may be any version.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::rustc::major_of;
use crate::process::Cmd;

/// A clang (with its clang++) whose LLVM major is rustc's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clang {
    pub cc: PathBuf,
    pub cxx: PathBuf,
    /// `22.1.8`
    pub version: String,
}

impl Clang {
    /// `clang-22 22.1.8`, for messages and records.
    pub fn describe(&self) -> String {
        format!("{} (LLVM {})", self.cc.display(), self.version)
    }
}

/// Looks for `clang-NN` on PATH, Debian's `/usr/lib/llvm-NN/bin/clang`, then
/// `clang` on PATH, and takes the first whose LLVM major is `llvm_major`, with the
/// `clang++` beside it. The error lists what was found and why it does not fit.
pub fn discover(llvm_major: u32) -> Result<Clang, String> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(p) = which::which(format!("clang-{llvm_major}")) {
        candidates.push(p);
    }
    let debian = PathBuf::from(format!("/usr/lib/llvm-{llvm_major}/bin/clang"));
    if debian.is_file() {
        candidates.push(debian);
    }
    if let Ok(p) = which::which("clang") {
        candidates.push(p);
    }
    let mut rejected = Vec::new();
    for cc in candidates {
        match at(&cc, llvm_major) {
            Ok(clang) if clang.cxx.is_file() || which::which(&clang.cxx).is_ok() => return Ok(clang),
            Ok(clang) => rejected.push(format!("{}: no {} beside it", cc.display(), clang.cxx.display())),
            Err(why) => rejected.push(why),
        }
    }
    let found = if rejected.is_empty() {
        "no clang was found".to_string()
    } else {
        format!("no clang of LLVM {llvm_major} was found ({})", rejected.join("; "))
    };
    Err(format!("{found}; install one with `apt-get install clang-{llvm_major}` (or LLVM's apt.llvm.org packages)"))
}

/// The compiler `cc`, with the clang++ beside it, when it is a clang of LLVM
/// `llvm_major`; else why not.
pub fn at(cc: &Path, llvm_major: u32) -> Result<Clang, String> {
    match version_of(cc) {
        Some(version) if major_of(&version) == Some(llvm_major) => {
            Ok(Clang { cc: cc.to_path_buf(), cxx: cxx_beside(cc), version })
        }
        Some(version) => Err(format!(
            "{} is LLVM {version}, not rustc's LLVM {llvm_major}: its raw profiles would not merge with rustc's",
            cc.display()
        )),
        None => Err(format!("{}: `--version` printed no clang version", cc.display())),
    }
}

/// `clang++-22` beside `clang-22`, `clang++` beside `clang`.
fn cxx_beside(cc: &Path) -> PathBuf {
    let name = cc.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    cc.with_file_name(name.replacen("clang", "clang++", 1))
}

/// The version a compiler prints, when it is a clang: `22.1.8` of
/// `Debian clang version 22.1.8 (++20250101…)`.
fn version_of(cc: &Path) -> Option<String> {
    let text = Cmd::new(cc).arg("--version").read().ok()?;
    parse_version(&text)
}

fn parse_version(text: &str) -> Option<String> {
    let first = text.lines().next()?;
    let rest = &first[first.find("clang version ")? + "clang version ".len()..];
    rest.split_whitespace().next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_clang_versions() {
        assert_eq!(
            parse_version("Debian clang version 22.1.8 (++20260101+abc-1~exp1)\nTarget: x86_64-pc-linux-gnu\n"),
            Some("22.1.8".into())
        );
        assert_eq!(parse_version("clang version 14.0.6\n"), Some("14.0.6".into()));
        assert_eq!(parse_version("gcc (Debian 12.2.0-14) 12.2.0\n"), None);
    }

    #[test]
    fn clang_plus_plus_is_found_beside_clang() {
        assert_eq!(cxx_beside(Path::new("/usr/bin/clang-22")), PathBuf::from("/usr/bin/clang++-22"));
        assert_eq!(cxx_beside(Path::new("/usr/lib/llvm-22/bin/clang")), PathBuf::from("/usr/lib/llvm-22/bin/clang++"));
    }
}
