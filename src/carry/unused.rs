//! The check after the optimized build: did rustc use every carried function?

use std::collections::BTreeSet;

use crate::cargo::profile_warnings::ProfileWarning;

/// How many functions of the carried profile (`names`, as llvm-profdata lists
/// them) rustc still warned of having no data for: a warning for `<symbol>` in
/// `<module>` names a carried function when `<module>;<symbol>` was carried, or
/// `<symbol>` only as an external name (a copy in another module is another
/// function).
pub fn unused(names: &[String], warnings: impl IntoIterator<Item = ProfileWarning>) -> usize {
    let carried: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let internal: BTreeSet<&str> = names.iter().filter_map(|n| n.split_once(';').map(|(_, s)| s)).collect();
    let unused: BTreeSet<(String, String)> = warnings
        .into_iter()
        .filter(|w| !w.mismatched)
        .filter_map(|w| Some((w.module?, w.symbol)))
        .filter(|(m, s)| {
            carried.contains(format!("{m};{s}").as_str())
                || (carried.contains(s.as_str()) && !internal.contains(s.as_str()))
        })
        .collect();
    unused.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_copy_that_was_carried_counts() {
        let warning = |module: &str, symbol: &str| ProfileWarning {
            symbol: symbol.into(),
            mismatched: false,
            discarded: 0,
            module: Some(module.into()),
            hash: Some(1),
        };
        let names = ["m-cgu.0;f".to_string(), "f".to_string(), "g".to_string()];
        assert_eq!(unused(&names, [warning("m-cgu.1", "f")]), 0, "another copy of f, not carried");
        assert_eq!(unused(&names, [warning("m-cgu.0", "f"), warning("m-cgu.0", "f")]), 1);
        assert_eq!(unused(&names, [warning("m-cgu.3", "g")]), 1, "g was carried as external and is internal");
    }
}
