//! valgrind's cachegrind as a counter: finding it, and reading its output file.

use anyhow::{Context, Result, bail};

use super::{Counter, CounterKind, Counts};

/// valgrind, when installed. `perf_refused` is why `perf stat` was not used, for
/// the report's "why this counter".
pub fn probe(perf_refused: Option<&str>) -> Result<Counter> {
    let program = which::which("valgrind").map_err(|_| {
        anyhow::anyhow!(
            "counting needs valgrind (for cachegrind){}: install it (`sudo apt-get install valgrind` on Debian \
             and Ubuntu, `sudo dnf install valgrind` on Fedora)",
            perf_refused.map(|w| format!(", since {w}")).unwrap_or_default()
        )
    })?;
    let version = super::version_of(&program, "--version").unwrap_or_else(|| "valgrind".into());
    let why = match perf_refused {
        Some(w) => format!("{w}, so cachegrind simulates the machine"),
        None => "asked for with --counter cachegrind".to_string(),
    };
    Ok(Counter { kind: CounterKind::Cachegrind, program, version, why })
}

/// The figures in one `cachegrind.out.<pid>` file: its `events:` line names the
/// columns of its `summary:` line.
pub fn parse(text: &str) -> Result<Counts> {
    let events: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("events:"))
        .context("no `events:` line (not a cachegrind output file?)")?
        .split_whitespace()
        .collect();
    let values: Vec<u64> = text
        .lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .context("no `summary:` line: the process did not finish (killed, or still running)")?
        .split_whitespace()
        .map(|v| v.parse::<u64>().with_context(|| format!("`{v}` in the summary is not a count")))
        .collect::<Result<_>>()?;
    if values.len() > events.len() {
        bail!("the summary has {} values for {} events", values.len(), events.len());
    }
    // Trailing zero columns may be left out of a summary line.
    let get = |name: &str| events.iter().position(|e| *e == name).map(|i| values.get(i).copied().unwrap_or(0));
    let all = |names: &[&str]| names.iter().map(|n| get(n)).sum::<Option<u64>>();
    let instructions = get("Ir").context("no `Ir` (instructions) event")?;
    let i1_misses = get("I1mr");
    let ll_misses = all(&["ILmr", "DLmr", "DLmw"]);
    let branch_mispredicts = all(&["Bcm", "Bim"]);
    let estimated_cycles = match (all(&["Ir", "Dr", "Dw"]), all(&["I1mr", "D1mr", "D1mw"]), ll_misses) {
        (Some(accesses), Some(l1_misses), Some(ram)) => {
            let l1_hits = accesses.saturating_sub(l1_misses);
            let ll_hits = l1_misses.saturating_sub(ram);
            Some(l1_hits + 5 * ll_hits + 35 * ram + 10 * branch_mispredicts.unwrap_or(0))
        }
        _ => None,
    };
    Ok(Counts {
        processes: 1,
        instructions,
        cycles: None,
        i1_misses,
        ll_misses,
        branch_mispredicts,
        estimated_cycles: estimated_cycles.filter(|_| branch_mispredicts.is_some()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "desc: I1 cache:         32768 B, 64 B, 8-way associative\n\
                        cmd: /bin/tool 32\n\
                        events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw Bc Bcm Bi Bim\n\
                        fl=???\n\
                        fn=main\n\
                        0 46 5 5 13 2 0 8 0 0 5 1 1 1\n\
                        summary: 1000 10 2 300 20 4 100 6 1 200 30 5 1\n";

    #[test]
    fn a_summary_gives_every_figure_and_the_estimated_cycles() {
        let c = parse(FILE).unwrap();
        assert_eq!(c.instructions, 1000);
        assert_eq!(c.i1_misses, Some(10));
        assert_eq!(c.ll_misses, Some(2 + 4 + 1));
        assert_eq!(c.branch_mispredicts, Some(31));
        // accesses 1400, L1 misses 36, RAM 7: 1364 + 5 × 29 + 35 × 7 + 10 × 31.
        assert_eq!(c.estimated_cycles, Some(1364 + 145 + 245 + 310));
        assert_eq!(c.processes, 1);
    }

    #[test]
    fn without_cache_simulation_only_instructions_are_given() {
        let c = parse("events: Ir\nsummary: 1234\n").unwrap();
        assert_eq!(c.instructions, 1234);
        assert_eq!((c.i1_misses, c.ll_misses, c.estimated_cycles), (None, None, None));
    }

    #[test]
    fn a_file_cut_short_says_the_process_did_not_finish() {
        let err = parse("events: Ir I1mr\nfn=main\n1 2 3\n").unwrap_err();
        assert!(err.to_string().contains("did not finish"), "{err}");
        assert!(parse("summary: 1 2\n").unwrap_err().to_string().contains("events"));
        assert!(parse("events: Ir\nsummary: x\n").is_err());
    }
}
