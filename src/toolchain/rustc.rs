//! What rustc is in use for the project: its version, host triple, LLVM version and
//! sysroot. Asked in the project directory, so a `rust-toolchain.toml` there counts.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::process::Cmd;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RustcInfo {
    /// `rustc 1.95.0 (59807616e 2026-04-14)`
    pub version: String,
    pub host: String,
    /// `22.1.2`
    pub llvm_version: String,
    pub llvm_major: u32,
    pub sysroot: PathBuf,
}

impl RustcInfo {
    pub fn detect(project_dir: &Path) -> Result<RustcInfo> {
        let rustc = program();
        let verbose = Cmd::new(&rustc)
            .arg("-vV")
            .dir(project_dir)
            .read()
            .context("could not ask rustc for its version; is Rust installed (https://rustup.rs)?")?;
        let sysroot = Cmd::new(&rustc).args(["--print", "sysroot"]).dir(project_dir).read()?;
        parse_verbose_version(&verbose, PathBuf::from(sysroot.trim()))
    }

    /// Where the rustup `llvm-tools` component puts its programs for this toolchain.
    pub fn llvm_tools_dir(&self) -> PathBuf {
        self.sysroot.join("lib").join("rustlib").join(&self.host).join("bin")
    }
}

/// The rustc cargo will use: `$RUSTC`, else `rustc` from PATH (a rustup proxy that
/// honours the project's `rust-toolchain.toml`).
pub fn program() -> std::ffi::OsString {
    std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())
}

fn parse_verbose_version(text: &str, sysroot: PathBuf) -> Result<RustcInfo> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
            .with_context(|| format!("`rustc -vV` printed no `{name}` line:\n{text}"))
    };
    let llvm_version = field("LLVM version:")?;
    Ok(RustcInfo {
        version: text.lines().next().unwrap_or_default().trim().to_string(),
        host: field("host:")?,
        llvm_major: major_of(&llvm_version)
            .with_context(|| format!("could not read rustc's LLVM version {llvm_version:?}"))?,
        llvm_version,
        sysroot,
    })
}

/// The leading number of a version string: `22` of `22.1.2-rust-1.95.0-stable`.
pub fn major_of(version: &str) -> Option<u32> {
    let digits: String = version.trim().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rustc_verbose_version() {
        let text = "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\ncommit-hash: 5980\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 22.1.2\n";
        let info = parse_verbose_version(text, "/sys".into()).unwrap();
        assert_eq!(info.host, "x86_64-unknown-linux-gnu");
        assert_eq!(info.llvm_major, 22);
        assert_eq!(info.version, "rustc 1.95.0 (59807616e 2026-04-14)");
    }
}
