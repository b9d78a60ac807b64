//! A workload's own figures: a benchmark workload may write one JSON object a
//! line to the file `PGO_BUILD_METRICS` names, e.g.
//! `{"name": "requests_per_s", "value": 41234.5, "unit": "req/s", "better": "higher"}`.
//! `compare` measures each figure like a workload's time (docs/workloads.md).

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::config::Workload;
use crate::context::Ctx;

/// Which way a figure improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// One figure of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub name: String,
    pub value: f64,
    #[serde(default)]
    pub unit: String,
    pub better: Better,
}

/// The file `PGO_BUILD_METRICS` names for workload `w`.
pub fn path(ctx: &Ctx, w: &Workload) -> PathBuf {
    ctx.layout.metrics(&w.name)
}

/// The figures a run of `w` wrote to `file`. A line that is not such an object, a
/// figure given twice, or a promised figure (`metrics = [...]`) missing is an
/// error naming the workload, and the line.
pub fn read(w: &Workload, file: &Path) -> Result<Vec<Metric>> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut found: Vec<Metric> = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = || {
            format!(
                "workload `{}` wrote a bad figure to $PGO_BUILD_METRICS ({}), line {}",
                w.name,
                file.display(),
                i + 1
            )
        };
        let m: Metric = serde_json::from_str(line).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}: {line}\n(each line is one JSON object: {{\"name\": \"requests_per_s\", \"value\": 41234.5, \
                 \"unit\": \"req/s\", \"better\": \"higher\"}})",
                at()
            )
        })?;
        if m.name.trim().is_empty() {
            bail!("{}: the name is empty", at());
        }
        if !(m.value.is_finite() && m.value > 0.0) {
            bail!(
                "{}: `{}` is {}; figures must be positive numbers (they are compared as ratios)",
                at(),
                m.name,
                m.value
            );
        }
        if found.iter().any(|f| f.name == m.name) {
            bail!("{}: `{}` is given a second time in one run", at(), m.name);
        }
        found.push(m);
    }
    let missing: Vec<&str> =
        w.metrics.iter().filter(|p| !found.iter().any(|f| &f.name == *p)).map(String::as_str).collect();
    if !missing.is_empty() {
        let wrote = if found.is_empty() {
            "wrote none".to_string()
        } else {
            format!("wrote only {}", found.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", "))
        };
        bail!(
            "workload `{}` promised the figure{} {} (`metrics` in its table) but {wrote} to $PGO_BUILD_METRICS ({})",
            w.name,
            if missing.len() == 1 { "" } else { "s" },
            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
            file.display()
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(promised: &[&str]) -> Workload {
        Workload {
            metrics: promised.iter().map(|s| s.to_string()).collect(),
            ..Workload::new("kv", crate::config::Run::Shell("true".into()), [crate::config::Use::Bench].into())
        }
    }

    fn read_text(w: &Workload, text: &str) -> Result<Vec<Metric>> {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("m.jsonl");
        std::fs::write(&f, text).unwrap();
        read(w, &f)
    }

    #[test]
    fn figures_are_read_with_their_direction() {
        let m = read_text(
            &workload(&["rps"]),
            "{\"name\": \"rps\", \"value\": 41234.5, \"unit\": \"req/s\", \"better\": \"higher\"}\n\n\
             {\"name\": \"p99\", \"value\": 0.42, \"better\": \"lower\"}\n",
        )
        .unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].better, m[1].better, m[1].unit.as_str()), (Better::Higher, Better::Lower, ""));
    }

    #[test]
    fn bad_lines_missing_and_repeated_figures_are_named() {
        let w = workload(&["rps"]);
        let err = read_text(&w, "{\"name\": \"rps\", \"value\": 1, \"better\": \"higher\"}\nnot json\n").unwrap_err();
        assert!(err.to_string().contains("workload `kv` wrote a bad figure to $PGO_BUILD_METRICS"), "{err}");
        assert!(err.to_string().contains("line 2: expected ident at line 1 column 2: not json"), "{err}");
        let err = read_text(&w, "{\"name\": \"rps\", \"value\": 1, \"better\": \"up\"}\n").unwrap_err();
        assert!(err.to_string().contains("unknown variant `up`, expected `higher` or `lower`"), "{err}");
        let err = read_text(&w, "").unwrap_err();
        assert!(err.to_string().contains("promised the figure `rps` (`metrics` in its table) but wrote none"), "{err}");
        let two = "{\"name\": \"rps\", \"value\": 1, \"better\": \"higher\"}\n".repeat(2);
        assert!(read_text(&w, &two).unwrap_err().to_string().contains("a second time"));
        let zero = "{\"name\": \"rps\", \"value\": 0, \"better\": \"higher\"}\n";
        assert!(read_text(&w, zero).unwrap_err().to_string().contains("positive"));
        assert!(read_text(&workload(&[]), "").unwrap().is_empty(), "nothing promised, nothing written: fine");
    }
}
