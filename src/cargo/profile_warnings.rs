//! The warnings LLVM prints while applying a profile, from rustc (compiler
//! messages) and from clang (build-script output) alike:
//! `no profile data available for function NAME …` (with `-pgo-warn-missing-function`)
//! and `function control flow change detected (hash mismatch) NAME … up to N count discarded`.

/// One function LLVM found no fitting profile data for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileWarning {
    pub symbol: String,
    /// False: no data at all; true: data whose shape no longer fits the code.
    pub mismatched: bool,
    /// The counts a mismatch discarded (`up to N count discarded`), 0 if not said.
    pub discarded: u64,
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
    let discarded =
        rest.split_once(" up to ").and_then(|(_, n)| n.split_whitespace().next()?.parse::<u64>().ok()).unwrap_or(0);
    Some(ProfileWarning { symbol, mismatched, discarded })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rustc_and_clang_warnings() {
        let w = parse(
            "exp.cgu.0: no profile data available for function _ZN3exp4main17hE Hash = 44 up to 0 count discarded",
        )
        .unwrap();
        assert_eq!((w.symbol.as_str(), w.mismatched), ("_ZN3exp4main17hE", false));
        let w = parse(
            "warning: csrc/hot.c: function control flow change detected (hash mismatch) hot_checksum Hash = 65 up to \
             24783025 count discarded [-Wbackend-plugin]",
        )
        .unwrap();
        assert_eq!((w.symbol.as_str(), w.mismatched, w.discarded), ("hot_checksum", true, 24783025));
        assert_eq!(parse("unused variable: `x`"), None);
    }
}
