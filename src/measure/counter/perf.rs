//! `perf stat` as a counter: whether this machine lets it read the hardware
//! counters, and reading its `-x ,` output.

use anyhow::{Context, Result, bail};

use super::{Counter, CounterKind, Counts};
use crate::process::Cmd;

/// The events counted, in user space only (the kernel's work is not the program's).
pub const EVENTS: [&str; 3] = ["instructions:u", "cycles:u", "branch-misses:u"];

/// `perf stat` when it can count instructions here; else why not, in words for
/// the report and the error ("perf stat cannot read the hardware counters here
/// (instructions:u is <not supported>: …)").
pub fn probe() -> std::result::Result<Counter, String> {
    let program = which::which("perf").map_err(|_| "perf is not installed".to_string())?;
    let dir = tempfile::tempdir().map_err(|e| format!("could not make a temporary folder: {e}"))?;
    let out = dir.path().join("probe");
    let captured = Cmd::new(&program)
        .args(["stat", "-x", ",", "--no-big-num", "-e", EVENTS[0], "-o"])
        .arg(&out)
        .args(["--", "true"])
        .capture()
        .map_err(|e| format!("perf stat could not run: {e:#}"))?;
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    if !captured.outcome.success() {
        let said = crate::process::last_lines(&captured.stderr, 3);
        let hint = if said.contains("paranoid") || said.contains("ermission") {
            " (lower /proc/sys/kernel/perf_event_paranoid to 2 or less to let users count their own processes)"
        } else {
            ""
        };
        return Err(format!("perf stat failed here: {}{hint}", said.trim()));
    }
    match parse(&text) {
        Ok(c) if c.instructions > 0 => {
            let version = super::version_of(&program, "--version").unwrap_or_else(|| "perf".into());
            Ok(Counter { kind: CounterKind::Perf, program, version, why: "the hardware counters are readable".into() })
        }
        Ok(_) => Err("perf stat counted no instructions here".into()),
        Err(e) => Err(format!(
            "perf stat cannot read the hardware counters here ({e:#}: a virtual machine without a virtual PMU, or a \
             CPU this perf does not know)"
        )),
    }
}

/// The figures in one `perf stat -x ,` output file. Each line is
/// `value,unit,event,run time,percentage,…`; hybrid CPUs give one line per kind of
/// core (`cpu_core/instructions/u`, `cpu_atom/instructions/u`), which are summed.
pub fn parse(text: &str) -> Result<Counts> {
    let mut c = Counts { processes: 1, ..Counts::default() };
    let (mut instructions, mut cycles, mut misses) = (None::<u64>, None::<u64>, None::<u64>);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(value), Some(event)) = (fields.first(), fields.get(2)) else { continue };
        let slot = if event.contains("instructions") {
            &mut instructions
        } else if event.contains("branch-misses") {
            &mut misses
        } else if event.contains("cycles") {
            &mut cycles
        } else {
            continue;
        };
        if value.starts_with('<') {
            bail!("{event} is {value}");
        }
        let n: u64 = value.parse().with_context(|| format!("`{value}` for {event} is not a count"))?;
        *slot = Some(slot.unwrap_or(0) + n);
    }
    c.instructions = instructions.context("no instructions line")?;
    c.cycles = cycles;
    c.branch_mispredicts = misses;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_events_are_read_and_hybrid_cores_summed() {
        let text = "# started on Sat Nov 28 21:27:29 2026\n\n\
                    1000,,cpu_core/instructions/u,100,100.00,,\n\
                    234,,cpu_atom/instructions/u,100,100.00,,\n\
                    900,,cycles:u,100,100.00,,\n\
                    12,,branch-misses:u,100,100.00,,\n";
        let c = parse(text).unwrap();
        assert_eq!(c.instructions, 1234);
        assert_eq!(c.cycles, Some(900));
        assert_eq!(c.branch_mispredicts, Some(12));
        assert_eq!(c.i1_misses, None);
    }

    #[test]
    fn unsupported_counters_are_an_error_naming_the_event() {
        // What perf writes on this project's CI machines: a VM with no counters.
        let text = "<not supported>,,instructions:u,0,100.00,,\n<not supported>,,cycles:u,0,100.00,,\n";
        let err = parse(text).unwrap_err();
        assert!(err.to_string().contains("instructions:u is <not supported>"), "{err}");
    }

    #[test]
    fn probing_says_why_perf_is_not_used_or_finds_it() {
        // Either outcome is this machine's truth; what matters is that a refusal
        // gives a reason and a success a counter that counts.
        match probe() {
            Ok(c) => assert_eq!(c.kind, CounterKind::Perf),
            Err(why) => {
                assert!(why.contains("not installed") || why.contains("cannot read") || why.contains("failed"), "{why}")
            }
        }
    }
}
