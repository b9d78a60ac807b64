//! llvm-profdata's text format (`llvm-profdata merge --text`), as far as
//! carrying needs it: the header lines, and each function's record with its name,
//! CFG hash and counters. Everything after the counters (value profiles, MC/DC
//! bitmaps) is kept as it was, so a record written back is the record read, under
//! another name.

use anyhow::{Result, bail};

/// One function's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The profile's name of the function: its symbol, or `<module>;<symbol>`
    /// for one with internal linkage.
    pub name: String,
    /// The CFG hash LLVM computed when it instrumented the function.
    pub hash: u64,
    /// The sum of its counters.
    pub count: u64,
    /// The lines after the name, as read (hash, counters, value data).
    body: Vec<String>,
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
    pub fn render<'r>(&self, records: impl IntoIterator<Item = (&'r str, &'r Record)>) -> String {
        let mut out = String::new();
        for line in self.header.iter().filter(|l| !l.trim().is_empty()) {
            out.push_str(line);
            out.push('\n');
        }
        for (name, record) in records {
            out.push_str(name);
            out.push('\n');
            for line in &record.body {
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
        let counters = value_after("# Num Counters:").ok_or_else(|| bad("no counter count"))?;
        let counters = counters.trim().parse::<usize>().map_err(|_| bad("a counter count that is not a number"))?;
        let start = body.iter().position(|l| l.trim() == "# Counter Values:").ok_or_else(|| bad("no counters"))? + 1;
        if body.len() < start + counters {
            bail!("the text profile's record of {name} has fewer than its {counters} counters");
        }
        let mut count = 0u64;
        for line in &body[start..start + counters] {
            let value = line.trim().parse::<u64>().map_err(|_| bad("a counter that is not a number"))?;
            count = count.saturating_add(value);
        }
        Ok(Record { name: name.to_string(), hash, count, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# IR level Instrumentation Flag\n:ir\n_ZN3std2rt10lang_start17hafea08b27b875851E\n\
                        # Func Hash:\n742261418966908927\n# Num Counters:\n1\n# Counter Values:\n0\n\n\
                        m.f499f70c61099d1f-cgu.0;_RNvCs1234_4demo4work\n# Func Hash:\n43\n# Num Counters:\n3\n\
                        # Counter Values:\n10\n0\n5\n# Num Value Kinds:\n0\n\n";

    #[test]
    fn records_read_and_written_back_unchanged() {
        let p = TextProfile::parse(TEXT).unwrap();
        assert_eq!(p.header, ["# IR level Instrumentation Flag", ":ir"]);
        assert_eq!(p.records.len(), 2);
        assert_eq!((p.records[1].hash, p.records[1].count), (43, 15));
        assert_eq!(p.render(p.records.iter().map(|r| (r.name.as_str(), r))), TEXT);
    }

    #[test]
    fn a_record_under_another_name_keeps_its_counts() {
        let p = TextProfile::parse(TEXT).unwrap();
        let text = p.render([("other;_RNvCs9_4demo4work", &p.records[1])]);
        let back = TextProfile::parse(&text).unwrap();
        assert_eq!(back.records[0].name, "other;_RNvCs9_4demo4work");
        assert_eq!(back.records[0].count, 15);
    }

    #[test]
    fn a_truncated_record_is_an_error() {
        let cut = &TEXT[..TEXT.find("5\n# Num Value").unwrap()];
        let err = TextProfile::parse(cut).unwrap_err().to_string();
        assert!(err.contains("fewer than its 3 counters"), "{err}");
    }
}
