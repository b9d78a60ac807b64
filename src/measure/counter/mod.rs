//! Counting instead of timing: runs a workload once with every process of the
//! binary under test counted by a counter, `perf stat` (the hardware's own
//! counters, where the machine lets a user read them) or valgrind's cachegrind
//! (a simulated machine: the same figures on every run of the same binary and
//! input). The figures of all processes of one run are summed.
//!
//! How only the binary under test is counted: the workload gets `PGO_BUILD_BIN`
//! (and each `PGO_BUILD_BIN_<NAME>`) pointing at a small wrapper script that
//! `exec`s the counter with the real binary; each process writes its own output
//! file, named by its process id, into a folder of that run. The workload's
//! script, and any other program it runs, are not counted (docs/compare.md).

pub mod cachegrind;
pub mod perf;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::cargo::Binary;
use crate::config::CounterChoice;
use crate::process::{Cmd, quote};

/// The counter in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CounterKind {
    Perf,
    Cachegrind,
}

impl CounterKind {
    pub fn name(self) -> &'static str {
        match self {
            CounterKind::Perf => "perf stat",
            CounterKind::Cachegrind => "cachegrind",
        }
    }
}

/// A counter found on this machine, and why it was chosen.
#[derive(Debug, Clone)]
pub struct Counter {
    pub kind: CounterKind,
    /// `valgrind` or `perf`, as found on the PATH.
    pub program: PathBuf,
    /// The version line it printed.
    pub version: String,
    /// Why this counter: "the hardware counters are readable", "perf stat cannot
    /// read the hardware counters here (…)".
    pub why: String,
}

/// The figures of one counted run, summed over the binary's processes. A figure
/// the counter does not give is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Processes of the binary under test that were counted.
    pub processes: u32,
    /// Instructions executed (user space).
    pub instructions: u64,
    /// Cycles the hardware counted (perf only; varies like time).
    pub cycles: Option<u64>,
    /// Simulated first-level instruction cache misses (cachegrind).
    pub i1_misses: Option<u64>,
    /// Simulated last-level cache misses, instruction and data (cachegrind).
    pub ll_misses: Option<u64>,
    /// Branch mispredictions: simulated (cachegrind) or counted (perf).
    pub branch_mispredicts: Option<u64>,
    /// [`ESTIMATED_CYCLES`]'s formula over the simulated figures (cachegrind).
    pub estimated_cycles: Option<u64>,
}

impl Counts {
    /// Adds another process's figures.
    pub fn add(&mut self, other: &Counts) {
        fn sum(a: Option<u64>, b: Option<u64>) -> Option<u64> {
            match (a, b) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            }
        }
        self.processes += other.processes;
        self.instructions += other.instructions;
        self.cycles = sum(self.cycles, other.cycles);
        self.i1_misses = sum(self.i1_misses, other.i1_misses);
        self.ll_misses = sum(self.ll_misses, other.ll_misses);
        self.branch_mispredicts = sum(self.branch_mispredicts, other.branch_mispredicts);
        self.estimated_cycles = sum(self.estimated_cycles, other.estimated_cycles);
    }

    pub fn get(&self, f: Figure) -> Option<u64> {
        match f {
            Figure::Instructions => Some(self.instructions),
            Figure::EstimatedCycles => self.estimated_cycles,
            Figure::Cycles => self.cycles,
            Figure::I1Misses => self.i1_misses,
            Figure::LlMisses => self.ll_misses,
            Figure::BranchMispredicts => self.branch_mispredicts,
        }
    }
}

/// The figures a counter gives, in the order the report shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Figure {
    Instructions,
    EstimatedCycles,
    Cycles,
    I1Misses,
    LlMisses,
    BranchMispredicts,
}

impl Figure {
    pub const ALL: [Figure; 6] = [
        Figure::Instructions,
        Figure::EstimatedCycles,
        Figure::Cycles,
        Figure::I1Misses,
        Figure::LlMisses,
        Figure::BranchMispredicts,
    ];

    /// The name in report.json and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Figure::Instructions => "instructions",
            Figure::EstimatedCycles => "estimated-cycles",
            Figure::Cycles => "cycles",
            Figure::I1Misses => "i1-misses",
            Figure::LlMisses => "ll-misses",
            Figure::BranchMispredicts => "branch-mispredicts",
        }
    }

    /// The name in tables.
    pub fn label(self) -> &'static str {
        match self {
            Figure::Instructions => "instructions",
            Figure::EstimatedCycles => "estimated cycles",
            Figure::Cycles => "cycles",
            Figure::I1Misses => "I1 misses",
            Figure::LlMisses => "LL misses",
            Figure::BranchMispredicts => "mispredicts",
        }
    }

    /// The figures `kind` gives.
    pub fn of(kind: CounterKind) -> Vec<Figure> {
        let given = |f: &Figure| match kind {
            CounterKind::Perf => matches!(f, Figure::Instructions | Figure::Cycles | Figure::BranchMispredicts),
            CounterKind::Cachegrind => *f != Figure::Cycles,
        };
        Figure::ALL.into_iter().filter(given).collect()
    }
}

/// The simulated machine: cachegrind's caches are set rather than detected, so
/// the figures do not depend on which machine counted them.
pub const CACHE_MODEL: [&str; 3] = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=8388608,16,64"];

/// How the estimated cycles are computed (docs/compare.md says where the weights come from).
pub const ESTIMATED_CYCLES: &str = "L1 hits + 5 × LL hits + 35 × RAM accesses + 10 × branch mispredictions";

/// Finds the counter asked for. `Auto` takes `perf stat` when it can read the
/// hardware counters, else cachegrind; the error names what to install.
pub fn choose(choice: CounterChoice) -> Result<Counter> {
    let perf = || perf::probe();
    match choice {
        CounterChoice::Perf => perf().map_err(|why| {
            anyhow::anyhow!(
                "--counter perf: {why}; use --counter cachegrind (or auto), which simulates the machine instead"
            )
        }),
        CounterChoice::Cachegrind => cachegrind::probe(None),
        CounterChoice::Auto => match perf() {
            Ok(c) => Ok(c),
            Err(why) => cachegrind::probe(Some(&why)),
        },
    }
}

impl Counter {
    /// Wrapper scripts, one per binary, in `dir/bin/`, each running its binary under
    /// the counter with the output files in `out`: the binaries to hand the
    /// workload in place of the real ones.
    pub fn wrap(&self, binaries: &[Binary], dir: &Path, out: &Path) -> Result<Vec<Binary>> {
        crate::workload::wrapper::wrap(binaries, &dir.join("bin"), "counts this run of the binary under test.", |b| {
            self.command_line(b, out)
        })
    }

    /// The shell words that run `binary` under the counter (its arguments follow).
    fn command_line(&self, binary: &Path, out: &Path) -> String {
        let q = |p: &Path| quote(p.as_os_str());
        let program = q(&self.program);
        match self.kind {
            CounterKind::Cachegrind => format!(
                // `--vgdb=no`: else valgrind maps a file named after the pid into the
                // process, and a Rust program reads its memory map at start (glibc's
                // pthread_getattr_np), so the count moved with the pid's digits.
                "{program} --tool=cachegrind --vgdb=no --cache-sim=yes --branch-sim=yes {} --cachegrind-out-file={} \
                 --log-file={} {}",
                CACHE_MODEL.join(" "),
                q(&out.join("cachegrind.%p")),
                q(&out.join("valgrind.%p.log")),
                q(binary)
            ),
            // `$$` is the wrapper's process id, which `exec` hands to perf.
            CounterKind::Perf => format!(
                "{program} stat -x , --no-big-num -e {} -o {}.$$ -- {}",
                perf::EVENTS.join(","),
                q(&out.join("perf")),
                q(binary)
            ),
        }
    }

    /// The figures of a run, summed over the output files in `out`. A run that
    /// counted no process (the workload never ran `$PGO_BUILD_BIN`) is an error.
    pub fn collect(&self, out: &Path) -> Result<Counts> {
        let prefix = match self.kind {
            CounterKind::Cachegrind => "cachegrind.",
            CounterKind::Perf => "perf.",
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(out)
            .with_context(|| format!("could not read {}", out.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix)))
            .collect();
        files.sort();
        if files.is_empty() {
            bail!(
                "no process of the binary under test was counted: the workload must run the binary as \
                 \"$PGO_BUILD_BIN\" (or $PGO_BUILD_BIN_<NAME>), which points at the counting wrapper"
            );
        }
        let mut total: Option<Counts> = None;
        for f in &files {
            let text = std::fs::read_to_string(f).with_context(|| format!("could not read {}", f.display()))?;
            let counts = match self.kind {
                CounterKind::Cachegrind => cachegrind::parse(&text),
                CounterKind::Perf => perf::parse(&text),
            }
            .with_context(|| format!("could not read the counts in {}", f.display()))?;
            match total.as_mut() {
                Some(t) => t.add(&counts),
                None => total = Some(counts),
            }
        }
        total.context("no counts")
    }

    /// The last lines of the counter's own messages in `out` (cachegrind's logs),
    /// for the error of a failed run.
    pub fn messages(&self, out: &Path) -> String {
        let Ok(entries) = std::fs::read_dir(out) else { return String::new() };
        let mut text = String::new();
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "log")
                && let Ok(t) = std::fs::read_to_string(&p)
                && !t.trim().is_empty()
            {
                text.push_str(&crate::process::last_lines(&t, 10));
            }
        }
        text
    }
}

/// Reads the version line of a tool, for the report.
fn version_of(program: &Path, arg: &str) -> Option<String> {
    Cmd::new(program).arg(arg).capture().ok().map(|c| {
        let text = if c.stdout.trim().is_empty() { c.stderr } else { c.stdout };
        text.lines().next().unwrap_or("").trim().to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_processes_add_up_and_a_missing_figure_stays_missing() {
        let a = Counts {
            processes: 1,
            instructions: 10,
            i1_misses: Some(2),
            branch_mispredicts: Some(1),
            estimated_cycles: Some(40),
            ..Counts::default()
        };
        let mut total = a;
        total.add(&Counts { processes: 2, instructions: 5, i1_misses: None, ..a });
        assert_eq!(total.processes, 3);
        assert_eq!(total.instructions, 15);
        assert_eq!(total.i1_misses, None);
        assert_eq!(total.estimated_cycles, Some(80));
        assert_eq!(total.get(Figure::Cycles), None);
    }

    #[test]
    fn each_counter_names_its_figures() {
        assert_eq!(Figure::of(CounterKind::Perf), [Figure::Instructions, Figure::Cycles, Figure::BranchMispredicts]);
        assert!(!Figure::of(CounterKind::Cachegrind).contains(&Figure::Cycles));
        assert_eq!(Figure::of(CounterKind::Cachegrind).len(), 5);
    }

    #[test]
    fn the_wrapper_runs_the_real_binary_under_the_counter_with_its_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let counter = Counter {
            kind: CounterKind::Cachegrind,
            program: "/usr/bin/valgrind".into(),
            version: String::new(),
            why: String::new(),
        };
        let real = Binary { name: "my tool".into(), path: "/p/with space/tool".into() };
        let wrapped = counter.wrap(&[real], dir.path(), &dir.path().join("out")).unwrap();
        assert_eq!(wrapped[0].name, "my tool");
        assert_eq!(wrapped[0].path, dir.path().join("bin/tool"));
        let script = std::fs::read_to_string(&wrapped[0].path).unwrap();
        assert!(script.contains("exec /usr/bin/valgrind --tool=cachegrind"), "{script}");
        assert!(script.contains("--LL=8388608,16,64"), "{script}");
        assert!(script.trim_end().ends_with("'/p/with space/tool' \"$@\""), "{script}");
    }

    /// A counted process must see the same memory map in every run: a Rust
    /// program reads it at start, and its length moves the count (a valgrind
    /// file named after the pid once made two counts of one binary differ by 11
    /// instructions).
    #[test]
    fn a_counted_process_sees_the_same_memory_map_in_every_run() {
        crate::test_tools::ensure_installed();
        let valgrind = which::which("valgrind").expect("valgrind (`.ci/install-test-deps` installs it)");
        let counter =
            Counter { kind: CounterKind::Cachegrind, program: valgrind, version: String::new(), why: String::new() };
        let maps = || {
            let dir = tempfile::tempdir().unwrap();
            let cat = Binary { name: "cat".into(), path: "/bin/cat".into() };
            let wrapped = counter.wrap(&[cat], dir.path(), &dir.path().join("out")).unwrap();
            std::fs::create_dir_all(dir.path().join("out")).unwrap();
            let text = Cmd::new(&wrapped[0].path).arg("/proc/self/maps").read().unwrap();
            // Each line but its address range, which only valgrind's own
            // randomized mappings change (at the same length).
            let lines: Vec<String> =
                text.lines().map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_string()).collect();
            (text.len(), lines)
        };
        let first = maps();
        assert!(first.1.iter().any(|l| l.ends_with("/cat")), "{first:?}");
        assert_eq!(first, maps(), "the memory map changed between two counted runs");
    }
}
