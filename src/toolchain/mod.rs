//! The external toolchain pgo-build drives: rustc (whose LLVM decides everything
//! else) and `llvm-profdata`. Discovery lives here, apart from the stages, so every
//! stage and `doctor` see the same answer.

pub mod bolt;
pub mod clang;
pub mod profdata;
pub mod rustc;
pub mod target;

pub use profdata::{Origin, Override, Profdata};
pub use rustc::RustcInfo;

use std::path::Path;

use anyhow::Result;

use crate::process::Cmd;

/// What to strip from a binary: as a Cargo profile's `strip` setting says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strip {
    None,
    Debuginfo,
    Symbols,
}

/// Finishes a binary built for BOLT (unstripped, linked with `--emit-relocs`) the
/// way the Cargo profile's `strip` asks: the static relocation sections BOLT needed
/// go in every case (`.rela.dyn` and `.rela.plt`, which the loader needs, stay),
/// then debug info or all symbols as the profile says. Uses `objcopy` (the rustup
/// component's `llvm-objcopy` when it is there): unlike `strip`, which strips all
/// symbols whenever it is given no other stripping option, `objcopy` removes only
/// what it is told to.
pub fn strip(rustc: &RustcInfo, path: &Path, mode: Strip) -> Result<()> {
    let llvm_objcopy = rustc.llvm_tools_dir().join("llvm-objcopy");
    let tool = if llvm_objcopy.is_file() { llvm_objcopy.into_os_string() } else { "objcopy".into() };
    let cmd = match mode {
        Strip::Symbols => Cmd::new(tool).arg("--strip-all"),
        Strip::None | Strip::Debuginfo => {
            let cmd = Cmd::new(tool).args(["-w", "--remove-section=.rela.*", "--remove-section=!.rela.dyn"]);
            let cmd = cmd.arg("--remove-section=!.rela.plt");
            if mode == Strip::Debuginfo { cmd.arg("--strip-debug") } else { cmd }
        }
    };
    cmd.arg(path).read()?;
    Ok(())
}
