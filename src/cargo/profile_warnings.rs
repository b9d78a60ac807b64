//! The warnings LLVM prints while applying a profile, from rustc (compiler
//! messages) and from clang (build-script output) alike:
//! `no profile data available for function NAME …` (with `-pgo-warn-missing-function`)
//! and `function control flow change detected (hash mismatch) NAME … up to N count discarded`.

use std::collections::BTreeSet;

/// Functions rustc reported about while applying the profile.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ProfileWarnings {
    /// "no profile data available for function …"
    pub unprofiled: BTreeSet<String>,
    /// "function control flow change detected (hash mismatch) …"
    pub mismatched: BTreeSet<String>,
}

impl ProfileWarnings {
    pub fn from_messages<'m>(messages: impl IntoIterator<Item = &'m str>) -> Self {
        let mut w = ProfileWarnings::default();
        for warning in messages.into_iter().filter_map(parse) {
            if warning.mismatched {
                w.mismatched.insert(warning.symbol);
            } else {
                w.unprofiled.insert(warning.symbol);
            }
        }
        w
    }
}

/// One function LLVM found no fitting profile data for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileWarning {
    pub symbol: String,
    /// False: no data at all; true: data whose shape no longer fits the code.
    pub mismatched: bool,
    /// The counts a mismatch discarded (`up to N count discarded`), 0 if not said.
    pub discarded: u64,
    /// The LLVM module it was compiled in, as rustc names it before the message
    /// (`demo.1a2b3c4d5e6f7a8b-cgu.0`): a function with internal linkage has the
    /// profile name `<module>;<symbol>`.
    pub module: Option<String>,
    /// The function's CFG hash in the code being compiled (`Hash = N`).
    pub hash: Option<u64>,
}

const UNPROFILED: &str = "no profile data available for function ";
const MISMATCHED: [&str; 2] = ["(hash mismatch) ", "(counter mismatch) "];

/// The warning in `message`, if it is one of these.
pub fn parse(message: &str) -> Option<ProfileWarning> {
    let (mismatched, rest) = match message.find(UNPROFILED) {
        Some(i) => (false, &message[i + UNPROFILED.len()..]),
        None => MISMATCHED.iter().find_map(|k| message.find(k).map(|i| (true, &message[i + k.len()..])))?,
    };
    let symbol = rest.split_whitespace().next()?.to_string();
    let number_after =
        |label: &str| rest.split_once(label).and_then(|(_, n)| n.split_whitespace().next()?.parse().ok());
    let discarded = number_after(" up to ").unwrap_or(0);
    let module = message
        .split_once(": ")
        .map(|(m, _)| m)
        .filter(|m| m.contains("-cgu.") && !m.contains(char::is_whitespace))
        .map(str::to_string);
    Some(ProfileWarning { symbol, mismatched, discarded, module, hash: number_after(" Hash = ") })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn counts_unprofiled_and_mismatched_functions_once() {
        let w = ProfileWarnings::from_messages([
            "exp.cgu.0: no profile data available for function _ZN3exp4main17hE Hash = 44 up to 0 count discarded",
            "exp.cgu.1: no profile data available for function _ZN3exp4main17hE Hash = 44 up to 0 count discarded",
            "exp.cgu.0: function control flow change detected (hash mismatch) _ZN3exp4work17hE Hash = 9",
            "unused variable: `x`",
        ]);
        assert_eq!(w.unprofiled.len(), 1);
        assert_eq!(w.mismatched.iter().next().map(String::as_str), Some("_ZN3exp4work17hE"));
    }

    #[test]
    fn parses_rustc_and_clang_warnings() {
        let w = parse(
            "exp.cgu.0: no profile data available for function _ZN3exp4main17hE Hash = 44 up to 0 count discarded",
        )
        .unwrap();
        assert_eq!((w.symbol.as_str(), w.mismatched), ("_ZN3exp4main17hE", false));
        assert_eq!(w.hash, Some(44));
        let w = parse(
            "pgo_demo.91be43412aef091a-cgu.0: no profile data available for function _RNvCs6Hz1_4core3fmt Hash = \
             742261418966908927 up to 0 count discarded",
        )
        .unwrap();
        assert_eq!(w.module.as_deref(), Some("pgo_demo.91be43412aef091a-cgu.0"));
        assert_eq!(w.hash, Some(742261418966908927));
        let w = parse(
            "warning: csrc/hot.c: function control flow change detected (hash mismatch) hot_checksum Hash = 65 up to \
             24783025 count discarded [-Wbackend-plugin]",
        )
        .unwrap();
        assert_eq!((w.symbol.as_str(), w.mismatched, w.discarded), ("hot_checksum", true, 24783025));
        assert_eq!(w.module, None);
        assert_eq!(parse("unused variable: `x`"), None);
    }
}
