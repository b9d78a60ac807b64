//! `llvm-profdata overlap BASE TEST`: how alike two profiles are.
//!
//! pgo-build compares the training profile (base) with the benchmark profile
//! (test), so the figures are named for those two. Only the "Program level:"
//! section is read, as `  <label>: <value>` lines: its headline, the edge profile
//! overlap, is required, the other figures read as 0 when a version of
//! llvm-profdata leaves them out. The "Function level:" section is not used: it
//! leaves out the functions missing from the base profile, which are the ones
//! that matter (`pgo-build overlap` finds them with `show`'s counts instead).

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::Profdata;
use crate::printer::Printer;
use crate::process::{Cmd, TAIL_LINES, last_lines};

impl Profdata {
    /// `overlap TRAINING BENCH`: the training profile as the base, the benchmark
    /// profile as the test.
    pub fn overlap(&self, training: &Path, bench: &Path) -> Cmd {
        self.cmd().arg("overlap").arg(training).arg(bench)
    }
}

/// The program-level figures of `llvm-profdata overlap <training> <bench>`.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// "Edge profile overlap", in percent.
    pub edge_overlap_pct: f64,
    /// "# of functions overlap": functions in both profiles, run or not.
    pub functions_in_both: u64,
    /// "# of functions mismatch": functions whose shape (hash) differs.
    pub functions_mismatched: u64,
    /// "Mismatched count percentage (Edge)": their share of the benchmark counts.
    pub mismatched_count_pct: f64,
    /// "# of functions only in test_profile".
    pub functions_only_in_bench: u64,
    /// "Percentage of Edge profile only in test_profile".
    pub only_in_bench_count_pct: f64,
    /// "Edge profile base count sum".
    pub training_count: u64,
    /// "Edge profile test count sum".
    pub bench_count: u64,
}

/// Parses the "Program level:" section (lines `  <label>: <value>`).
pub fn parse_overlap(text: &str) -> Result<Figures> {
    let section = text.split("Program level:").nth(1).context("no \"Program level:\" section")?;
    let section = section.split("Function level:").next().unwrap_or(section);
    let mut figures = Figures::default();
    let mut found = false;
    for line in section.lines() {
        let Some((label, value)) = line.trim().rsplit_once(':') else { continue };
        let value = value.trim().trim_end_matches('%');
        let pct = || value.parse::<f64>().ok().filter(|v| v.is_finite());
        let num = || value.parse::<u64>().ok();
        match label {
            "Edge profile overlap" => {
                figures.edge_overlap_pct = pct().context("the edge profile overlap is not a number")?;
                found = true;
            }
            "# of functions overlap" => figures.functions_in_both = num().unwrap_or(0),
            "# of functions mismatch" => figures.functions_mismatched = num().unwrap_or(0),
            "Mismatched count percentage (Edge)" => figures.mismatched_count_pct = pct().unwrap_or(0.0),
            "# of functions only in test_profile" => figures.functions_only_in_bench = num().unwrap_or(0),
            "Percentage of Edge profile only in test_profile" => figures.only_in_bench_count_pct = pct().unwrap_or(0.0),
            "Edge profile base count sum" => figures.training_count = num().unwrap_or(0),
            "Edge profile test count sum" => figures.bench_count = num().unwrap_or(0),
            _ => {}
        }
    }
    if !found {
        bail!("no \"Edge profile overlap\" line");
    }
    Ok(figures)
}

/// Compares the training profile with the benchmark profile.
pub fn read_overlap(profdata: &Profdata, printer: &Printer, training: &Path, bench: &Path) -> Result<Figures> {
    let cmd = profdata.overlap(training, bench);
    printer.command(&cmd);
    let text = cmd.read().context("llvm-profdata could not compare the profiles")?;
    parse_overlap(&text).with_context(|| {
        format!("could not read `{}`'s output, which ends with:\n{}", cmd.display(), last_lines(&text, TAIL_LINES))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// llvm-profdata 22's output, function level trimmed.
    const OVERLAP: &str = "Profile overlap information for base_profile: a.profdata and test_profile: b.profdata
Program level:
  # of functions overlap: 9
  # of functions mismatch: 1
  # of functions only in test_profile: 2
  Edge profile overlap: 53.337%
  Mismatched count percentage (Edge): 1.500%
  Percentage of Edge profile only in test_profile: 4.250%
  Edge profile base count sum: 22886
  Edge profile test count sum: 428609
  IndirectCall profile overlap: 100.000%
  IndirectCall profile base count sum: 1
  IndirectCall profile test count sum: 1
Function level:
  Function: main (Hash=742261418966908927)
  # of edge counters overlap: 1
  Edge profile overlap: 100.000%
";

    #[test]
    fn reads_program_level_figures() {
        assert_eq!(
            parse_overlap(OVERLAP).unwrap(),
            Figures {
                edge_overlap_pct: 53.337,
                functions_in_both: 9,
                functions_mismatched: 1,
                mismatched_count_pct: 1.5,
                functions_only_in_bench: 2,
                only_in_bench_count_pct: 4.25,
                training_count: 22_886,
                bench_count: 428_609,
            }
        );
    }

    #[test]
    fn output_without_figures_is_an_error() {
        assert!(parse_overlap("Program level:\n  # of functions overlap: 0\n").is_err());
        assert!(parse_overlap("error: nothing").is_err());
        assert!(parse_overlap("Program level:\n  Edge profile overlap: nan%\n").is_err());
    }
}
