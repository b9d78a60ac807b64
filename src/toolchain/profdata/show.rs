//! `llvm-profdata show`: what an indexed profile holds, in the four forms pgo-build
//! asks for, each with its one parser.
//!
//! | builder | command | parser |
//! |---|---|---|
//! | [`Profdata::show_summary`] | `show FILE` | [`parse_summary`] → [`Totals`] |
//! | [`Profdata::show_covered`] | `show --covered FILE` | [`parse_covered`]: one name a line |
//! | [`Profdata::show_all_functions`] | `show --all-functions FILE` | [`parse_listing`] → [`Listing`] |
//! | [`Profdata::show_counts`] | `show --all-functions --counts --value-cutoff=1 FILE` | [`parse_counts`] → [`ProfileCounts`] |
//!
//! The output is written for people, and LLVM changes its details between
//! versions, so the parsers read only the lines they need and skip the rest: the
//! summary's `Total functions:` and `Total count:` (read the same way for every
//! form), a function's `  <name>:` line (indented by exactly two spaces), and its
//! `    Block counts: [a, b, …]`. A function's name is as the profile stores it:
//! `<symbol>`, or `<object file>;<symbol>` for one with internal linkage.
//!
//! [`read_listing`] is the check of a profile rustc is about to use. rustc does
//! not stop on a profile its LLVM cannot read: it warns once and builds without
//! it. So the file is read here first, and a raw profile, or one written by
//! another LLVM, is explained (the format version comes from the header, since
//! llvm-profdata's own message does not give it).

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use super::Profdata;
use crate::printer::Printer;
use crate::process::{Cmd, TAIL_LINES, last_lines};
use crate::toolchain::RustcInfo;

/// The magic number that starts a raw profile (`.profraw`), which rustc cannot use.
const RAW_MAGIC: [u8; 8] = [0x81, b'r', b'f', b'o', b'r', b'p', b'l', 0xff];
/// The magic number that starts an indexed profile (`.profdata`).
const INDEXED_MAGIC: [u8; 8] = [0xff, b'l', b'p', b'r', b'o', b'f', b'i', 0x81];

impl Profdata {
    /// `show FILE`: the summary only.
    pub fn show_summary(&self, profile: &Path) -> Cmd {
        self.cmd().arg("show").arg(profile)
    }

    /// `show --covered FILE`: the names of the functions with a nonzero counter.
    pub fn show_covered(&self, profile: &Path) -> Cmd {
        self.cmd().args(["show", "--covered"]).arg(profile)
    }

    /// `show --all-functions FILE`: every function's name, then the summary.
    pub fn show_all_functions(&self, profile: &Path) -> Cmd {
        self.cmd().args(["show", "--all-functions"]).arg(profile)
    }

    /// `show --all-functions --counts --value-cutoff=1 FILE`: the block counts of
    /// every function that ran, then the summary.
    pub fn show_counts(&self, profile: &Path) -> Cmd {
        self.cmd().args(["show", "--all-functions", "--counts", "--value-cutoff=1"]).arg(profile)
    }
}

/// A profile's summary lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// "Total functions:": every function in the profile, run or not.
    pub functions: u64,
    /// "Total count:": all counters summed.
    pub total_count: u64,
}

/// The summary and the covered list together: what `pgo-build merge` reports.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub functions: u64,
    pub functions_with_counts: u64,
    pub total_count: u64,
}

/// A profile's function names, from `show --all-functions`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// As in the profile: `<crate>.<hash>-cgu.<n>;<symbol>` or `<symbol>`.
    pub names: Vec<String>,
    pub functions: u64,
    pub total_count: u64,
}

/// What `show --all-functions --counts --value-cutoff=1` tells about a profile.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProfileCounts {
    /// Every function in the profile, run or not.
    pub functions: u64,
    /// All counters summed.
    pub total_count: u64,
    /// The functions that ran, with the sum of their block counts.
    pub ran: Vec<FunctionCount>,
}

/// One function of a profile, by its symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCount {
    pub symbol: String,
    pub count: u64,
}

/// The number after a summary label (`Total count: 85719`), wherever the form puts it.
fn summary_field(text: &str, label: &str) -> Option<u64> {
    text.lines().find_map(|l| l.trim().strip_prefix(label)).and_then(|v| v.trim().parse().ok())
}

/// The name on a function's opening line: indented by exactly two spaces, ending in `:`.
fn function_name(line: &str) -> Option<&str> {
    line.strip_prefix("  ").filter(|r| !r.starts_with(' '))?.strip_suffix(':')
}

/// Parses `show`'s summary; a missing figure reads as 0.
pub fn parse_summary(text: &str) -> Totals {
    Totals {
        functions: summary_field(text, "Total functions:").unwrap_or(0),
        total_count: summary_field(text, "Total count:").unwrap_or(0),
    }
}

/// Parses `show --covered`: one function name a line.
pub fn parse_covered(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// Parses `show --all-functions`; without a "Total functions:" line the names are counted.
pub fn parse_listing(text: &str) -> Listing {
    let names = text.lines().filter_map(function_name).map(str::to_string).collect::<Vec<_>>();
    Listing {
        functions: summary_field(text, "Total functions:").unwrap_or(names.len() as u64),
        total_count: summary_field(text, "Total count:").unwrap_or(0),
        names,
    }
}

/// Parses `show --all-functions --counts`: a `  <symbol>:` line opens each
/// function, its `    Block counts: [a, b, …]` line follows; the summary ends it.
/// Functions whose counts are all zero are left out.
pub fn parse_counts(text: &str) -> ProfileCounts {
    let totals = parse_summary(text);
    let mut counts = ProfileCounts { functions: totals.functions, total_count: totals.total_count, ran: Vec::new() };
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(symbol) = function_name(line) {
            current = Some(symbol.to_string());
        } else if let Some(list) = line.trim().strip_prefix("Block counts:") {
            let sum = list
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .filter_map(|n| n.trim().parse::<u64>().ok())
                .fold(0u64, u64::saturating_add);
            match current.take() {
                Some(symbol) if sum > 0 => counts.ran.push(FunctionCount { symbol, count: sum }),
                _ => {}
            }
        }
    }
    counts
}

/// Reads a profile's summary.
pub fn read_totals(profdata: &Profdata, printer: &Printer, profile: &Path) -> Result<Totals> {
    let cmd = profdata.show_summary(profile);
    printer.command(&cmd);
    Ok(parse_summary(&cmd.read()?))
}

/// Reads a profile's summary and how many of its functions have counts.
pub fn summarize(profdata: &Profdata, printer: &Printer, profile: &Path) -> Result<Summary> {
    let totals = read_totals(profdata, printer, profile)?;
    let cmd = profdata.show_covered(profile);
    printer.command(&cmd);
    let covered = parse_covered(&cmd.read()?);
    Ok(Summary {
        functions: totals.functions,
        functions_with_counts: covered.len() as u64,
        total_count: totals.total_count,
    })
}

/// Reads a profile's summary and the count of every function that ran.
pub fn read_counts(profdata: &Profdata, printer: &Printer, profile: &Path) -> Result<ProfileCounts> {
    let cmd = profdata.show_counts(profile);
    printer.command(&cmd);
    let text = cmd.read().with_context(|| format!("llvm-profdata could not read {}", profile.display()))?;
    if !text.contains("Total functions:") {
        bail!(
            "could not read `{}`'s output (no \"Total functions:\" line); it ends with:\n{}",
            cmd.display(),
            last_lines(&text, TAIL_LINES)
        );
    }
    Ok(parse_counts(&text))
}

/// Reads the profile at `path` with the toolchain's llvm-profdata, which is what
/// rustc's LLVM will make of it, and explains a profile it cannot use: a raw one,
/// one from another LLVM version (with the format version from its header), or a
/// damaged one.
pub fn read_listing(profdata: &Profdata, rustc: &RustcInfo, printer: &Printer, path: &Path) -> Result<Listing> {
    let mut head = Vec::with_capacity(16);
    std::fs::File::open(path)
        .and_then(|f| f.take(16).read_to_end(&mut head))
        .with_context(|| format!("could not read the profile {}", path.display()))?;
    if head.starts_with(&RAW_MAGIC) {
        bail!(
            "{} is a raw profile (.profraw), which rustc cannot use; merge it into an indexed one first: \
             `pgo-build merge --output FILE`, or `{} merge -o FILE.profdata {}`",
            path.display(),
            profdata.path.display(),
            path.display()
        );
    }
    let cmd = profdata.show_all_functions(path);
    printer.command(&cmd);
    let text = cmd.read().map_err(|e| {
        let detail = format!("{e:#}");
        let why = if detail.contains("unsupported instrumentation profile format version") {
            let version = format_version(&head).map(|v| format!(" (format version {v})")).unwrap_or_default();
            format!("it was written by another LLVM version{version}, most likely a newer Rust toolchain")
        } else {
            "it is not an indexed LLVM profile, or it is damaged".to_string()
        };
        anyhow!(
            "the profile {} cannot be read by this toolchain's llvm-profdata ({}, LLVM {}; rustc uses LLVM {}): \
             {why}. rustc would not stop on it: it would warn once and build without the profile. Make the \
             profile again with this toolchain: `pgo-build all`, then `pgo-build merge --output {}`.\n{detail}",
            path.display(),
            profdata.path.display(),
            profdata.llvm_version,
            rustc.llvm_version,
            path.display()
        )
    })?;
    Ok(parse_listing(&text))
}

/// The format version in an indexed profile's header, without the variant flags.
fn format_version(head: &[u8]) -> Option<u64> {
    if !head.starts_with(&INDEXED_MAGIC) {
        return None;
    }
    let bytes: [u8; 8] = head.get(8..16)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes) & 0x00ff_ffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `show --all-functions --counts --value-cutoff=1`, from llvm-profdata 22.
    const COUNTS: &str = "Counters:
  fixture.50de3fbff3e9d843-cgu.0;_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h5d9797c7c17f736eE:
    Hash: 0x0a4d0ad3efffffff
    Counters: 1
    Block counts: [1]
  main:
    Hash: 0x0a4d0ad3efffffff
    Counters: 1
    Block counts: [1]
  _ZN7fixture4main17hac8b0e8fa081523fE:
    Hash: 0x0f95a391724f9c9a
    Counters: 4
    Block counts: [28572, 0, 57144, 1]
  _ZN7fixture8classify17h0123456789abcdefE:
    Hash: 0x0f95a391724f9c9b
    Counters: 2
    Block counts: [0, 0]
Instrumentation level: IR  entry_first = 0  instrument_loop_entries = 0
Functions shown: 3
Total functions: 8
Maximum function count: 28572
Maximum internal block count: 57144
Total number of blocks: 59
Total count: 85719
";

    /// `show --all-functions`.
    const LISTING: &str = "Counters:
  fixture.50de3fbff3e9d843-cgu.0;_ZN4core3ptr35drop_in_place$LT$std..env..Args$GT$17ha4fc2e968a94c987E:
Hash: 0x0b15abf2775ee593
Counters: 4
  _ZN7fixture4main17hac8b0e8fa081523fE:
Hash: 0x0ecd02b315a766f6
Counters: 50
  _ZN7fixture8classify17he47bd9076478a9b8E:
Hash: 0x0ecd02b315a766f7
Counters: 5
  main:
Hash: 0x0a4d0ad3efffffff
Counters: 1
Instrumentation level: IR  entry_first = 0  instrument_loop_entries = 0
Functions shown: 4
Total functions: 4
Maximum function count: 28572
Total count: 228604
";

    #[test]
    fn reads_show_output() {
        let text = "Instrumentation level: IR  entry_first = 0\nTotal functions: 9\nMaximum function count: 1\nTotal count: 100024\n";
        assert_eq!(parse_summary(text), Totals { functions: 9, total_count: 100_024 });
        assert_eq!(parse_summary("error: nothing"), Totals::default());
    }

    #[test]
    fn reads_the_covered_list() {
        assert_eq!(
            parse_covered("main\n_ZN7fixture4main17hac8b0e8fa081523fE\n\n"),
            ["main", "_ZN7fixture4main17hac8b0e8fa081523fE"]
        );
    }

    #[test]
    fn reads_function_names_and_totals_from_show() {
        let l = parse_listing(LISTING);
        assert_eq!(l.functions, 4);
        assert_eq!(l.total_count, 228_604);
        assert_eq!(l.names[1], "_ZN7fixture4main17hac8b0e8fa081523fE");
        assert_eq!(l.names[3], "main");
    }

    #[test]
    fn reads_functions_that_ran_and_the_summary() {
        let counts = parse_counts(COUNTS);
        assert_eq!(counts.functions, 8);
        assert_eq!(counts.total_count, 85_719);
        let ran: Vec<(&str, u64)> = counts.ran.iter().map(|f| (f.symbol.as_str(), f.count)).collect();
        assert_eq!(
            ran,
            [
                (
                    "fixture.50de3fbff3e9d843-cgu.0;_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h5d9797c7c17f736eE",
                    1
                ),
                ("main", 1),
                ("_ZN7fixture4main17hac8b0e8fa081523fE", 85_717),
            ]
        );
    }

    #[test]
    fn reads_the_format_version() {
        let mut head = INDEXED_MAGIC.to_vec();
        head.extend(0x0100_0000_0000_000du64.to_le_bytes());
        assert_eq!(format_version(&head), Some(13));
        assert_eq!(format_version(&RAW_MAGIC), None);
    }

    #[test]
    fn builds_the_four_forms() {
        let tool = Profdata::for_dry_run(Err(anyhow::anyhow!("none found")));
        let p = Path::new("m.profdata");
        assert_eq!(tool.show_summary(p).display(), "llvm-profdata show m.profdata");
        assert_eq!(tool.show_covered(p).display(), "llvm-profdata show --covered m.profdata");
        assert_eq!(tool.show_all_functions(p).display(), "llvm-profdata show --all-functions m.profdata");
        assert_eq!(
            tool.show_counts(p).display(),
            "llvm-profdata show --all-functions --counts --value-cutoff=1 m.profdata"
        );
    }
}
