//! Percentages on the command line, parsed once. Which values a percentage may
//! take depends on what it means, so each meaning has its own range ([`Meaning`])
//! and its own parser for clap; the error states the range that meaning accepts.
//! A trailing `%` is allowed everywhere (`--min-overlap 85%`).

/// What a percentage means, and so which values it may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// A share of a whole (stale or unprofiled functions, overlap): 0 to 100.
    Share,
    /// How much worse a figure may get (`--fail-if-slower`): 0 or more.
    Slowdown,
    /// How much better a figure must get, or the noise band around 1
    /// (`--require-speedup`, `--noise-threshold`): a time cannot drop by 100 %,
    /// so from 0 up to, not including, 100.
    Gain,
    /// The half-width an interval must reach (`--precision`): above 0, below 100.
    Precision,
}

impl Meaning {
    fn accepts(self, v: f64) -> bool {
        match self {
            Meaning::Share => (0.0..=100.0).contains(&v),
            Meaning::Slowdown => v >= 0.0 && v.is_finite(),
            Meaning::Gain => (0.0..100.0).contains(&v),
            Meaning::Precision => v > 0.0 && v < 100.0,
        }
    }

    /// The accepted range, in words for the error.
    fn range(self) -> &'static str {
        match self {
            Meaning::Share => "from 0 to 100",
            Meaning::Slowdown => "of 0 or more",
            Meaning::Gain => "from 0 up to (not including) 100",
            Meaning::Precision => "above 0 and below 100",
        }
    }

    pub fn parse(self, text: &str) -> Result<f64, String> {
        match text.trim().trim_end_matches('%').trim_end().parse::<f64>() {
            Ok(v) if self.accepts(v) => Ok(v),
            _ => Err(format!("{text:?} is not a percentage {}", self.range())),
        }
    }
}

/// A share of a whole, for clap: see [`Meaning::Share`].
pub fn share(text: &str) -> Result<f64, String> {
    Meaning::Share.parse(text)
}

/// A slowdown threshold, for clap: see [`Meaning::Slowdown`].
pub fn slowdown(text: &str) -> Result<f64, String> {
    Meaning::Slowdown.parse(text)
}

/// A speedup or noise threshold, for clap: see [`Meaning::Gain`].
pub fn gain(text: &str) -> Result<f64, String> {
    Meaning::Gain.parse(text)
}

/// A target precision, for clap: see [`Meaning::Precision`].
pub fn precision(text: &str) -> Result<f64, String> {
    Meaning::Precision.parse(text)
}

#[cfg(test)]
mod tests {
    use super::Meaning::{self, *};

    #[test]
    fn each_meaning_accepts_its_range_and_says_it() {
        let table: &[(Meaning, &str, Result<f64, &str>)] = &[
            (Share, "0", Ok(0.0)),
            (Share, "100", Ok(100.0)),
            (Share, "12.5", Ok(12.5)),
            (Share, "85%", Ok(85.0)),
            (Share, "100.1", Err("\"100.1\" is not a percentage from 0 to 100")),
            (Share, "-1", Err("\"-1\" is not a percentage from 0 to 100")),
            (Slowdown, "0", Ok(0.0)),
            (Slowdown, "3", Ok(3.0)),
            (Slowdown, "250", Ok(250.0)),
            (Slowdown, "-0.5", Err("\"-0.5\" is not a percentage of 0 or more")),
            (Slowdown, "inf", Err("\"inf\" is not a percentage of 0 or more")),
            (Gain, "0", Ok(0.0)),
            (Gain, "99.9", Ok(99.9)),
            (Gain, "100", Err("\"100\" is not a percentage from 0 up to (not including) 100")),
            (Gain, "-2", Err("\"-2\" is not a percentage from 0 up to (not including) 100")),
            (Precision, "1", Ok(1.0)),
            (Precision, "0", Err("\"0\" is not a percentage above 0 and below 100")),
            (Precision, "100", Err("\"100\" is not a percentage above 0 and below 100")),
            (Share, "NaN", Err("\"NaN\" is not a percentage from 0 to 100")),
            (Slowdown, "five", Err("\"five\" is not a percentage of 0 or more")),
            (Gain, "", Err("\"\" is not a percentage from 0 up to (not including) 100")),
        ];
        for (meaning, text, want) in table {
            assert_eq!(meaning.parse(text), want.map_err(str::to_string), "{meaning:?} {text:?}");
        }
    }
}
