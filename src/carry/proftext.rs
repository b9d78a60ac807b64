//! llvm-profdata's text format (`llvm-profdata merge --text`), as far as
//! carrying needs it: the header lines, and each function's record with its name,
//! CFG hash and counters. What follows the counters (value profiles, MC/DC
//! bitmaps) is kept as it was, except that the functions an indirect call went
//! to can be renamed with the function itself, so a record written back is the
//! record read, under the target's names.

use std::collections::HashMap;

use anyhow::{Result, bail};

/// One function's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The profile's name of the function: its symbol, or `<module>;<symbol>`
    /// for one with internal linkage.
    pub name: String,
    /// The CFG hash LLVM computed when it instrumented the function.
    pub hash: u64,
    pub counters: Vec<u64>,
    /// The sum of its counters.
    pub count: u64,
    /// The lines after the counters, as read (value data, bitmaps).
    rest: Vec<String>,
}

/// A text profile: its header lines (`:ir`, `:entry_first`…) and its records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextProfile {
    pub header: Vec<String>,
    pub records: Vec<Record>,
}

impl TextProfile {
    pub fn parse(text: &str) -> Result<TextProfile> {
        let mut profile = TextProfile::default();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next_if(|l| l.starts_with(':') || l.starts_with('#') || l.trim().is_empty()) {
            profile.header.push(line.to_string());
        }
        while let Some(name) = lines.next() {
            if name.trim().is_empty() {
                continue;
            }
            let mut body = Vec::new();
            while let Some(line) = lines.next_if(|l| !l.trim().is_empty()) {
                body.push(line.to_string());
            }
            profile.records.push(Record::read(name, body)?);
        }
        Ok(profile)
    }

    /// The text llvm-profdata reads back, with `records` in place of the profile's.
    pub fn render<'r>(&self, records: impl IntoIterator<Item = &'r Record>) -> String {
        let mut out = String::new();
        for line in self.header.iter().filter(|l| !l.trim().is_empty()) {
            out.push_str(line);
            out.push('\n');
        }
        for r in records {
            out.push_str(&format!(
                "{}\n# Func Hash:\n{}\n# Num Counters:\n{}\n# Counter Values:\n",
                r.name,
                r.hash,
                r.counters.len()
            ));
            for c in &r.counters {
                out.push_str(&format!("{c}\n"));
            }
            for line in &r.rest {
                out.push_str(line);
                out.push('\n');
            }
            out.push('\n');
        }
        out
    }
}

impl Record {
    fn read(name: &str, body: Vec<String>) -> Result<Record> {
        let bad = |what: &str| anyhow::anyhow!("the text profile's record of {name} has {what}");
        let value_after = |label: &str| -> Option<&String> {
            body.iter().position(|l| l.trim() == label).and_then(|i| body.get(i + 1))
        };
        let hash = value_after("# Func Hash:").ok_or_else(|| bad("no function hash"))?;
        let hash = hash.trim().parse::<u64>().map_err(|_| bad("a function hash that is not a number"))?;
        let n = value_after("# Num Counters:").ok_or_else(|| bad("no counter count"))?;
        let n = n.trim().parse::<usize>().map_err(|_| bad("a counter count that is not a number"))?;
        let start = body.iter().position(|l| l.trim() == "# Counter Values:").ok_or_else(|| bad("no counters"))? + 1;
        if body.len() < start + n {
            bail!("the text profile's record of {name} has fewer than its {n} counters");
        }
        let counters = body[start..start + n]
            .iter()
            .map(|l| l.trim().parse::<u64>().map_err(|_| bad("a counter that is not a number")))
            .collect::<Result<Vec<u64>>>()?;
        let count = counters.iter().fold(0u64, |s, c| s.saturating_add(*c));
        Ok(Record { name: name.to_string(), hash, counters, count, rest: body[start + n..].to_vec() })
    }

    /// This record under `name`, with the functions its indirect calls went to
    /// renamed by `names` (source name to target name; others stay).
    pub fn renamed(&self, name: &str, names: &HashMap<&str, &str>) -> Record {
        let rest = self
            .rest
            .iter()
            .map(|line| match line.rsplit_once(':') {
                Some((callee, count)) if !line.starts_with('#') => match names.get(callee) {
                    Some(to) => format!("{to}:{count}"),
                    None => line.clone(),
                },
                _ => line.clone(),
            })
            .collect();
        Record { name: name.to_string(), rest, ..self.clone() }
    }

    /// A record under `name` whose counters are the average of `copies` (one
    /// function's copies, all with this hash and as many counters), without
    /// value data, which does not average.
    pub fn average(name: &str, copies: &[&Record]) -> Record {
        let n = copies.len().max(1) as u64;
        let width = copies.first().map_or(0, |r| r.counters.len());
        let counters: Vec<u64> = (0..width)
            .map(|i| copies.iter().map(|r| r.counters.get(i).copied().unwrap_or(0) as u128).sum::<u128>() as u64 / n)
            .collect();
        let count = counters.iter().fold(0u64, |s, c| s.saturating_add(*c));
        Record { name: name.to_string(), hash: copies.first().map_or(0, |r| r.hash), counters, count, rest: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# IR level Instrumentation Flag\n:ir\n_ZN3std2rt10lang_start17hafea08b27b875851E\n\
                        # Func Hash:\n742261418966908927\n# Num Counters:\n1\n# Counter Values:\n0\n\n\
                        m.f499f70c61099d1f-cgu.0;_RNvCs1234_4demo4work\n# Func Hash:\n43\n# Num Counters:\n3\n\
                        # Counter Values:\n10\n0\n5\n# Num Value Kinds:\n1\n# ValueKind = IPVK_IndirectCallTarget:\n0\n\
                        # NumValueSites:\n1\n1\n_ZN3std2rt10lang_start17hafea08b27b875851E:7\n\n";

    #[test]
    fn records_read_and_written_back_unchanged() {
        let p = TextProfile::parse(TEXT).unwrap();
        assert_eq!(p.header, ["# IR level Instrumentation Flag", ":ir"]);
        assert_eq!(p.records.len(), 2);
        assert_eq!((p.records[1].hash, p.records[1].count), (43, 15));
        assert_eq!(p.render(&p.records), TEXT);
    }

    #[test]
    fn a_renamed_record_keeps_its_counts_and_renames_its_call_targets() {
        let p = TextProfile::parse(TEXT).unwrap();
        let names = HashMap::from([(
            "_ZN3std2rt10lang_start17hafea08b27b875851E",
            "_ZN3std2rt10lang_start17h0000000000000000E",
        )]);
        let text = p.render([&p.records[1].renamed("other;_RNvCs9_4demo4work", &names)]);
        let back = TextProfile::parse(&text).unwrap();
        assert_eq!(back.records[0].name, "other;_RNvCs9_4demo4work");
        assert_eq!(back.records[0].counters, [10, 0, 5]);
        assert!(text.contains("\n_ZN3std2rt10lang_start17h0000000000000000E:7\n"), "{text}");
        assert!(text.contains("# ValueKind = IPVK_IndirectCallTarget:\n0\n"), "comments stay: {text}");
    }

    #[test]
    fn copies_average_counter_by_counter() {
        let p = TextProfile::parse(TEXT).unwrap();
        let mut twice = p.records[1].clone();
        twice.counters = vec![30, 2, 5];
        let avg = Record::average("t;x", &[&p.records[1], &twice]);
        assert_eq!((avg.counters.as_slice(), avg.hash, avg.count), ([20, 1, 5].as_slice(), 43, 26));
        assert!(!p.render([&avg]).contains("Value Kinds"));
    }

    #[test]
    fn a_truncated_record_is_an_error() {
        let cut = &TEXT[..TEXT.find("5\n# Num Value").unwrap()];
        let err = TextProfile::parse(cut).unwrap_err().to_string();
        assert!(err.contains("fewer than its 3 counters"), "{err}");
    }
}
