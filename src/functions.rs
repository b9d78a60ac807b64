//! The functions of a profile as a person reads them: demangled names, the
//! instances of one name added up, the hottest first, with their share. Shared
//! by `show`, `overlap` and `check`.

use std::collections::BTreeMap;

use crate::toolchain::profdata::show::FunctionCount;

/// A symbol as a person reads it: `fixture::classify`. Symbols that are not
/// Rust's (`main`, C functions) stay as they are.
pub fn demangle(symbol: &str) -> String {
    // Local symbols are `<object file>;<symbol>`; a mangled name has no `;`.
    let bare = symbol.rsplit_once(';').map_or(symbol, |(_, s)| s);
    match rustc_demangle::try_demangle(bare) {
        Ok(name) => format!("{name:#}"),
        Err(_) => bare.to_string(),
    }
}

/// The crate a profile entry belongs to, if its name says.
pub fn crate_of(name: &str) -> Option<String> {
    match name.split_once(';') {
        Some((module, _)) => module.split('.').next().filter(|c| !c.is_empty()).map(str::to_string),
        None => crate_of_symbol(name),
    }
}

/// The first path segment of a demangled Rust symbol: `fixture` for
/// `fixture::classify`, `mylib` for `<mylib::Foo as core::fmt::Display>::fmt`.
fn crate_of_symbol(symbol: &str) -> Option<String> {
    let path = format!("{:#}", rustc_demangle::try_demangle(symbol).ok()?);
    let mut rest = path.as_str();
    if let Some(inner) = rest.strip_prefix('<') {
        rest = inner;
        while let Some(r) = ["&", "mut ", "*const ", "*mut ", "dyn ", "["].iter().find_map(|p| rest.strip_prefix(p)) {
            rest = r;
        }
    }
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (end > 0 && rest[end..].starts_with("::")).then(|| rest[..end].to_string())
}

/// The language a profiled function was written in, as its symbol tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    /// C or C++, compiled by clang (C symbols are not mangled; C++ ones are `_Z…`
    /// without Rust's hash). A Rust `#[no_mangle]` function, other than rustc's
    /// shims, counts here too.
    C,
}

impl Language {
    pub fn of(symbol: &str) -> Language {
        let bare = symbol.rsplit_once(';').map_or(symbol, |(_, s)| s);
        let legacy_rust = bare.starts_with("_ZN")
            && bare.len() > 20
            && bare.ends_with('E')
            && bare[bare.len() - 20..].starts_with("17h")
            && bare[bare.len() - 17..bare.len() - 1].chars().all(|c| c.is_ascii_hexdigit());
        // rustc's own unmangled shims: the C `main` calling the Rust one, the allocator's.
        let shim = bare == "main" || bare.starts_with("__rust") || bare.starts_with("rust_");
        if bare.starts_with("_R") || legacy_rust || shim { Language::Rust } else { Language::C }
    }
}

/// Functions under their demangled names, with the instances of one name added up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hot {
    pub name: String,
    pub count: u64,
    /// How many symbols (generic instances, copies in several codegen units) it sums.
    pub instances: usize,
}

/// Groups `functions` by demangled name, hottest first (ties by name).
pub fn hottest<'a>(functions: impl IntoIterator<Item = &'a FunctionCount>) -> Vec<Hot> {
    let mut by_name: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    for f in functions {
        let entry = by_name.entry(demangle(&f.symbol)).or_default();
        entry.0 = entry.0.saturating_add(f.count);
        entry.1 += 1;
    }
    let mut hot: Vec<Hot> =
        by_name.into_iter().map(|(name, (count, instances))| Hot { name, count, instances }).collect();
    hot.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    hot
}

/// A percentage as a person reads it: `93.4%`, `0.02%`, `<0.01%`; never rounded
/// to 0% or 100% when it is not.
pub fn percent(value: f64) -> String {
    if value > 0.0 && value < 0.01 {
        "<0.01%".to_string()
    } else if value < 1.0 {
        format!("{value:.2}%")
    } else if value < 99.95 {
        format!("{value:.1}%")
    } else if value < 99.995 {
        format!("{value:.2}%")
    } else if value < 100.0 {
        ">99.99%".to_string()
    } else {
        format!("{value:.0}%")
    }
}

/// One function line: share, count, name (and how many instances it sums).
pub fn function_line(share: f64, count: u64, name: &str, instances: usize) -> String {
    let instances = if instances > 1 { format!(" ({instances} instances)") } else { String::new() };
    format!("  {:>7} {count:>14}  {name}{instances}", percent(share))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puts_functions_in_crates() {
        let local = "fixture.50de3fbff3e9d843-cgu.0;_ZN4core3ptr35drop_in_place$LT$std..env..Args$GT$17hE";
        assert_eq!(crate_of(local).as_deref(), Some("fixture"));
        assert_eq!(crate_of("_ZN7fixture4main17hac8b0e8fa081523fE").as_deref(), Some("fixture"));
        assert_eq!(crate_of("_RNvCs1234_6my_lib3foo").as_deref(), Some("my_lib"));
        assert_eq!(
            crate_of_symbol("_ZN50_$LT$my_lib..Foo$u20$as$u20$core..fmt..Display$GT$3fmt17h0123456789abcdefE")
                .as_deref(),
            Some("my_lib")
        );
        assert_eq!(crate_of("main"), None);
        assert_eq!(demangle("_ZN7fixture8classify17he47bd9076478a9b8E"), "fixture::classify");
    }

    #[test]
    fn languages_from_symbols() {
        assert_eq!(Language::of("_ZN3exp4main17h0123456789abcdefE"), Language::Rust);
        assert_eq!(Language::of("fixture.abc-cgu.0;_RNvCs1234_7fixture4work"), Language::Rust);
        assert_eq!(Language::of("hot_checksum"), Language::C);
        assert_eq!(Language::of("csrc/hot.c;pick"), Language::C);
        assert_eq!(Language::of("_ZN5sqlite6Parser4stepEv"), Language::C);
        assert_eq!(Language::of("main"), Language::Rust);
        assert_eq!(Language::of("__rust_alloc"), Language::Rust);
    }

    #[test]
    fn demangles_without_hash_or_object_prefix() {
        assert_eq!(demangle("_ZN7fixture4main17hac8b0e8fa081523fE"), "fixture::main");
        assert_eq!(
            demangle("m.f19dcfa532266295-cgu.0;_ZN4core3ptr35drop_in_place$LT$std..env..Args$GT$17hc24dff1622a91042E"),
            "core::ptr::drop_in_place<std::env::Args>"
        );
        assert_eq!(demangle("main"), "main");
    }

    #[test]
    fn instances_of_one_name_add_up() {
        let f = |symbol: &str, count| FunctionCount { symbol: symbol.into(), count };
        let hot = hottest(&[
            f("_ZN1a3foo17h0000000000000001E", 5),
            f("_ZN1a3bar17h0000000000000002E", 7),
            f("x.cgu.1;_ZN1a3foo17h0000000000000003E", 4),
        ]);
        assert_eq!(
            hot,
            [
                Hot { name: "a::foo".into(), count: 9, instances: 2 },
                Hot { name: "a::bar".into(), count: 7, instances: 1 }
            ]
        );
    }

    #[test]
    fn percentages_read_naturally() {
        assert_eq!(percent(99.94), "99.9%");
        assert_eq!(percent(0.5), "0.50%");
        assert_eq!(percent(0.001), "<0.01%");
        assert_eq!(percent(0.0), "0.00%");
        assert_eq!(percent(99.988), "99.99%");
        assert_eq!(percent(99.999), ">99.99%");
        assert_eq!(percent(100.0), "100%");
    }
}
