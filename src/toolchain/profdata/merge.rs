//! `llvm-profdata merge`: raw profiles in, one indexed profile out.
//!
//! The inputs always go through an `--input-files` list, never the command line: a
//! workload that started thousands of processes leaves thousands of raw files, and
//! the list also carries a weight per file (`<weight>,<file>` lines; a bare
//! `<file>` line weighs 1). The output is parsed by nobody: success is the exit
//! status and the output file, and with `--failure-mode=warn` the skipped inputs
//! are the `warning:` lines on standard error, which `pgo-build merge` reports.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::Profdata;
use crate::printer::Printer;
use crate::process::Cmd;
use crate::util::write_atomic;

/// What to do with a raw profile llvm-profdata cannot read (`--failure-mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureMode {
    /// Stop at the first unreadable raw profile, naming it.
    #[default]
    Fail,
    /// Skip unreadable raw profiles with a warning naming each.
    Warn,
}

impl FailureMode {
    /// llvm-profdata's word for it: `any` fails the merge when any input fails.
    fn flag(self) -> &'static str {
        match self {
            FailureMode::Fail => "any",
            FailureMode::Warn => "warn",
        }
    }
}

impl Profdata {
    /// `merge` of the files listed in `inputs_list` (`[<weight>,]<file>` lines)
    /// into the indexed profile `output`.
    pub fn merge(&self, inputs_list: &Path, output: &Path, failure: FailureMode) -> Cmd {
        command(self.cmd(), inputs_list, output, failure)
    }
}

impl Profdata {
    /// A profile (indexed or text) written as `output` in the text format.
    pub fn to_text(&self, profile: &Path, output: &Path) -> Cmd {
        self.cmd().args(["merge", "--text", "--output"]).arg(output).arg(profile)
    }

    /// A profile (text or indexed) written as the indexed profile `output`.
    pub fn to_indexed(&self, profile: &Path, output: &Path) -> Cmd {
        self.cmd().args(["merge", "--output"]).arg(output).arg(profile)
    }
}

/// [`Profdata::merge`] run by `tool`, which need not be a checked llvm-profdata
/// (a `--dry-run` shows the command when none was found).
pub fn command(tool: Cmd, inputs_list: &Path, output: &Path, failure: FailureMode) -> Cmd {
    tool.arg("merge")
        .arg(format!("--failure-mode={}", failure.flag()))
        .arg("--output")
        .arg(output)
        .arg(format!("--input-files={}", inputs_list.display()))
}

/// Merges raw profiles, unweighted, into `output`, writing their list to `list`
/// first. Any unreadable input fails the merge.
pub fn merge_raw(profdata: &Profdata, printer: &Printer, raw: &[PathBuf], list: &Path, output: &Path) -> Result<()> {
    if raw.is_empty() {
        bail!("there are no raw profiles to merge");
    }
    let lines: String = raw.iter().map(|p| format!("{}\n", p.display())).collect();
    write_atomic(list, lines.as_bytes())?;
    let cmd = profdata.merge(list, output, FailureMode::Fail);
    printer.command(&cmd);
    cmd.read()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_through_an_input_list_with_the_failure_mode() {
        let tool = Profdata::for_dry_run(Err(anyhow::anyhow!("none found")));
        let (list, out) = (Path::new("/p/inputs.txt"), Path::new("/p/merged.profdata"));
        assert_eq!(
            tool.merge(list, out, FailureMode::Fail).display(),
            "llvm-profdata merge --failure-mode=any --output /p/merged.profdata --input-files=/p/inputs.txt"
        );
        assert!(tool.merge(list, out, FailureMode::Warn).display().contains("--failure-mode=warn"));
    }
}
