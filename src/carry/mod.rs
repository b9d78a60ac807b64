//! Carrying a profile trained on one target to another: the source profile's
//! records renamed to the target's own function names, kept only where the
//! function's control flow is the same there.
//!
//! Cargo and rustc put the target into every Rust symbol (the crate
//! disambiguators of v0 names, the `17h<hash>E` of legacy ones) and into the
//! module prefix of functions with internal linkage (`demo.<hash>-cgu.0;…`), so
//! no mangled name of one target matches the other's. A function is matched by
//! its demangled name instead, and for an internal one by its crate and codegen
//! unit too; a name that is not unique on either side is not carried. A match is
//! carried only when its CFG hash is the same on both targets: LLVM would drop
//! the data of any other, and the hash is what makes a carried count land on
//! the same branch.
//!
//! The target's functions, with their names and hashes, come from a build for
//! the target with a profile that fits none of them (`probe_profile_text`):
//! rustc then warns about every function, with its name and hash
//! (`-pgo-warn-missing-function`, read by `cargo::profile_warnings`).

pub mod proftext;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::cargo::profile_warnings::ProfileWarning;
use crate::functions::{Language, crate_of, demangle};
use proftext::{Record, TextProfile};

/// The hottest functions that could not be carried, kept in the coverage.
const HOT_UNCARRIED: usize = 10;

/// A function of the target as rustc named it while compiling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFunction {
    /// The LLVM module (`demo.<hash>-cgu.0`).
    pub module: String,
    pub symbol: String,
    pub hash: u64,
}

impl TargetFunction {
    /// The target's functions from a probe build's warnings: every function
    /// rustc found no data for, once each.
    pub fn from_warnings<'w>(warnings: impl IntoIterator<Item = &'w ProfileWarning>) -> Vec<TargetFunction> {
        let mut seen = std::collections::BTreeSet::new();
        let mut functions = Vec::new();
        for w in warnings {
            let (Some(module), Some(hash), false) = (&w.module, w.hash, w.mismatched) else { continue };
            if seen.insert((module.clone(), w.symbol.clone())) {
                functions.push(TargetFunction { module: module.clone(), symbol: w.symbol.clone(), hash });
            }
        }
        functions
    }
}

/// A text profile that fits no function, for the probe build: every function
/// is then reported with its name and hash.
pub fn probe_profile_text() -> &'static str {
    ":ir\npgo_build_carry_probe_matches_nothing\n# Func Hash:\n0\n# Num Counters:\n1\n# Counter Values:\n0\n\n"
}

/// Why a function of the source profile was not carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The target has no function of that name (code for one target only).
    NotOnTarget,
    /// The target has it, with other control flow (a CFG hash of its own).
    ControlFlowDiffers,
    /// The name is not unique on one side, so which is which is not known.
    Ambiguous,
}

impl Reason {
    pub fn describe(self) -> &'static str {
        match self {
            Reason::NotOnTarget => "not on the target",
            Reason::ControlFlowDiffers => "control flow differs there",
            Reason::Ambiguous => "name not unique",
        }
    }
}

/// Functions and counts of one crate and language, and how much was carried.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub functions: u64,
    pub carried_functions: u64,
    pub counts: u64,
    pub carried_counts: u64,
}

impl Share {
    fn add(&mut self, record: &Record, carried: bool) {
        self.functions += 1;
        self.counts = self.counts.saturating_add(record.count);
        if carried {
            self.carried_functions += 1;
            self.carried_counts = self.carried_counts.saturating_add(record.count);
        }
    }

    /// The share of the counts carried, in percent (of the functions when
    /// there are no counts at all).
    pub fn percent(&self) -> f64 {
        match (self.counts, self.functions) {
            (0, 0) => 0.0,
            (0, f) => 100.0 * self.carried_functions as f64 / f as f64,
            (c, _) => 100.0 * self.carried_counts as f64 / c as f64,
        }
    }
}

/// A crate (or, for C/C++, a language) and its share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The crate, `(no crate)` when the name says none.
    pub name: String,
    pub language: Language,
    #[serde(flatten)]
    pub share: Share,
}

/// A function of the source that was not carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uncarried {
    /// Demangled.
    pub name: String,
    pub count: u64,
    pub reason: Reason,
}

/// How much of a profile was carried to a target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Every function of the source profile.
    #[serde(flatten)]
    pub total: Share,
    /// Per crate and language, the most counts first.
    pub groups: Vec<Group>,
    /// Functions not carried, by reason.
    pub reasons: BTreeMap<Reason, u64>,
    /// The hottest functions not carried.
    pub hot_uncarried: Vec<Uncarried>,
    /// The functions the target's build has, and how many of them got data.
    pub target_functions: u64,
}

/// The carried profile: the records under the target's names, and the coverage.
#[derive(Debug)]
pub struct Carried<'p> {
    pub records: Vec<(String, &'p Record)>,
    pub coverage: Coverage,
}

/// How a name is matched: by demangled name, and for an internal function
/// (`<module>;<symbol>`) by its crate and codegen unit too.
fn key(name: &str) -> String {
    match name.split_once(';') {
        Some((module, _)) => format!("{};{}", unit_of(module), demangle(name)),
        None => demangle(name),
    }
}

/// `demo/cgu.0` for rustc's module `demo.1a2b3c4d5e6f7a8b-cgu.0` (the hash in
/// the middle depends on the target); other prefixes (a C file) as they are.
fn unit_of(module: &str) -> String {
    match (module.split_once('.'), module.rsplit_once("-cgu.")) {
        (Some((krate, _)), Some((_, n))) => format!("{krate}/cgu.{n}"),
        _ => module.to_string(),
    }
}

/// Renames `source`'s records to the functions of `target` they match, and
/// measures what was carried. With `keep_c` (the target's C/C++ code is built
/// with the profile) C/C++ records keep their names, which no target changes:
/// clang checks their hashes itself and warns of a mismatch.
pub fn carry<'p>(source: &'p TextProfile, target: &[TargetFunction], keep_c: bool) -> Carried<'p> {
    let mut internal: HashMap<String, Vec<&TargetFunction>> = HashMap::new();
    let mut external: HashMap<String, Vec<&TargetFunction>> = HashMap::new();
    for f in target {
        internal.entry(format!("{};{}", unit_of(&f.module), demangle(&f.symbol))).or_default().push(f);
        external.entry(demangle(&f.symbol)).or_default().push(f);
    }
    let mut in_source: HashMap<String, Vec<u64>> = HashMap::new();
    for r in &source.records {
        in_source.entry(key(&r.name)).or_default().push(r.hash);
    }

    let mut records = Vec::new();
    let mut coverage = Coverage { target_functions: target.len() as u64, ..Coverage::default() };
    let mut groups: BTreeMap<(String, Language), Share> = BTreeMap::new();
    let mut uncarried = Vec::new();
    for r in &source.records {
        let k = key(&r.name);
        let is_internal = r.name.contains(';');
        let candidates = if is_internal { internal.get(&k) } else { external.get(&k) };
        let language = Language::of(&r.name);
        let outcome = match candidates.map(Vec::as_slice) {
            None | Some([]) if keep_c && language == Language::C => Ok(r.name.clone()),
            None | Some([]) => Err(Reason::NotOnTarget),
            Some([f]) if in_source[&k].len() == 1 && f.hash != r.hash => Err(Reason::ControlFlowDiffers),
            // One of each, or (generic instances under one legacy name) one of
            // each with this hash.
            Some(fs) => {
                let ours = in_source[&k].iter().filter(|h| **h == r.hash).count();
                match fs.iter().filter(|f| f.hash == r.hash).collect::<Vec<_>>().as_slice() {
                    [f] if ours == 1 && is_internal => Ok(format!("{};{}", f.module, f.symbol)),
                    [f] if ours == 1 => Ok(f.symbol.clone()),
                    _ => Err(Reason::Ambiguous),
                }
            }
        };
        let krate = match language {
            Language::C => "(C/C++)".to_string(),
            Language::Rust => crate_of(&r.name).unwrap_or_else(|| "(no crate)".to_string()),
        };
        groups.entry((krate, language)).or_default().add(r, outcome.is_ok());
        coverage.total.add(r, outcome.is_ok());
        match outcome {
            Ok(name) => records.push((name, r)),
            Err(reason) => {
                *coverage.reasons.entry(reason).or_default() += 1;
                if r.count > 0 {
                    uncarried.push(Uncarried { name: demangle(&r.name), count: r.count, reason });
                }
            }
        }
    }
    uncarried.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    uncarried.truncate(HOT_UNCARRIED);
    coverage.hot_uncarried = uncarried;
    coverage.groups = groups.into_iter().map(|((name, language), share)| Group { name, language, share }).collect();
    coverage.groups.sort_by(|a, b| b.share.counts.cmp(&a.share.counts).then_with(|| a.name.cmp(&b.name)));
    Carried { records, coverage }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, hash: u64, count: u64) -> String {
        format!("{name}\n# Func Hash:\n{hash}\n# Num Counters:\n1\n# Counter Values:\n{count}\n\n")
    }

    fn target(module: &str, symbol: &str, hash: u64) -> TargetFunction {
        TargetFunction { module: module.into(), symbol: symbol.into(), hash }
    }

    /// An x86_64 profile and the aarch64 build's functions of the same code:
    /// other disambiguators and module hashes, one function with other control
    /// flow, one only on x86_64, one generic copied into two codegen units.
    fn fixture() -> (TextProfile, Vec<TargetFunction>) {
        let text = [
            ":ir\n".to_string(),
            record("_RNvCs1aB2_4demo4main", 7, 100),
            record("demo.f499f70c61099d1f-cgu.0;_RNvNtCs1aB2_4demo5parse4word", 9, 900),
            record("_RNvNtCs1aB2_4demo4simd4sse2", 11, 50),
            record("_RNvNtCs1aB2_4demo3cpu6detect", 13, 30),
            record("_RINvNtCs9x_4core3ptr13drop_in_placeNtCs1aB2_4demo4WordE", 5, 8),
            record("hot_checksum", 17, 12),
        ]
        .concat();
        let aarch64 = vec![
            target("demo.91be43412aef091a-cgu.0", "_RNvCs7Zq_4demo4main", 7),
            target("demo.91be43412aef091a-cgu.0", "_RNvNtCs7Zq_4demo5parse4word", 9),
            target("demo.91be43412aef091a-cgu.0", "_RNvNtCs7Zq_4demo3cpu6detect", 14),
            target("demo.91be43412aef091a-cgu.0", "_RINvNtCs3y_4core3ptr13drop_in_placeNtCs7Zq_4demo4WordE", 5),
            target("demo.91be43412aef091a-cgu.1", "_RINvNtCs3y_4core3ptr13drop_in_placeNtCs7Zq_4demo4WordE", 5),
            target("demo.91be43412aef091a-cgu.0", "hot_checksum", 17),
        ];
        (TextProfile::parse(&text).unwrap(), aarch64)
    }

    #[test]
    fn renames_to_the_targets_names_where_the_control_flow_matches() {
        let (source, aarch64) = fixture();
        let carried = carry(&source, &aarch64, false);
        let names: Vec<&str> = carried.records.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["_RNvCs7Zq_4demo4main", "demo.91be43412aef091a-cgu.0;_RNvNtCs7Zq_4demo5parse4word", "hot_checksum"]
        );
        let c = &carried.coverage;
        assert_eq!((c.total.functions, c.total.carried_functions), (6, 3));
        assert_eq!((c.total.counts, c.total.carried_counts), (1100, 1012));
        assert_eq!(c.reasons[&Reason::NotOnTarget], 1);
        assert_eq!(c.reasons[&Reason::ControlFlowDiffers], 1);
        assert_eq!(c.reasons[&Reason::Ambiguous], 1);
        assert_eq!(c.hot_uncarried[0].name, "demo::simd::sse2");
        assert_eq!(c.hot_uncarried[0].reason, Reason::NotOnTarget);
        assert_eq!(c.target_functions, 6);
        let demo = c.groups.iter().find(|g| g.name == "demo").unwrap();
        assert_eq!((demo.share.functions, demo.share.carried_counts), (4, 1000));
        let c_code = c.groups.iter().find(|g| g.language == Language::C).unwrap();
        assert_eq!(c_code.share.percent(), 100.0);
    }

    #[test]
    fn c_functions_keep_their_names_when_the_target_builds_c_with_the_profile() {
        let (source, aarch64) = fixture();
        let rust_only: Vec<TargetFunction> = aarch64.into_iter().filter(|f| f.symbol != "hot_checksum").collect();
        assert!(!carry(&source, &rust_only, false).records.iter().any(|(n, _)| n == "hot_checksum"));
        assert!(carry(&source, &rust_only, true).records.iter().any(|(n, _)| n == "hot_checksum"));
    }

    #[test]
    fn instances_under_one_name_are_told_apart_by_their_hash() {
        let text = [
            ":ir\n".to_string(),
            record("_ZN5alloc2rc11Rc$LT$T$GT$9drop_slow17h0000000000000001E", 21, 40),
            record("_ZN5alloc2rc11Rc$LT$T$GT$9drop_slow17h0000000000000002E", 22, 60),
            record("_ZN5alloc2rc11Rc$LT$T$GT$5clone17h0000000000000003E", 23, 1),
            record("_ZN5alloc2rc11Rc$LT$T$GT$5clone17h0000000000000004E", 23, 2),
        ]
        .concat();
        let source = TextProfile::parse(&text).unwrap();
        let m = "demo.91be43412aef091a-cgu.0";
        let aarch64 = [
            target(m, "_ZN5alloc2rc11Rc$LT$T$GT$9drop_slow17h000000000000000aE", 22),
            target(m, "_ZN5alloc2rc11Rc$LT$T$GT$9drop_slow17h000000000000000bE", 21),
            target(m, "_ZN5alloc2rc11Rc$LT$T$GT$5clone17h000000000000000cE", 23),
            target(m, "_ZN5alloc2rc11Rc$LT$T$GT$5clone17h000000000000000dE", 23),
        ];
        let carried = carry(&source, &aarch64, false);
        let pairs: Vec<(&str, u64)> = carried.records.iter().map(|(n, r)| (n.as_str(), r.count)).collect();
        assert_eq!(
            pairs,
            [
                ("_ZN5alloc2rc11Rc$LT$T$GT$9drop_slow17h000000000000000bE", 40),
                ("_ZN5alloc2rc11Rc$LT$T$GT$9drop_slow17h000000000000000aE", 60)
            ]
        );
        assert_eq!(carried.coverage.reasons[&Reason::Ambiguous], 2);
    }

    #[test]
    fn a_profile_of_other_code_carries_nothing() {
        let (_, aarch64) = fixture();
        let other = TextProfile::parse(&format!(":ir\n{}", record("_RNvCs1aB2_5other4main", 7, 100))).unwrap();
        let carried = carry(&other, &aarch64, false);
        assert!(carried.records.is_empty());
        assert_eq!(carried.coverage.total.percent(), 0.0);
    }

    #[test]
    fn the_probe_profile_fits_no_function() {
        let probe = TextProfile::parse(probe_profile_text()).unwrap();
        let (_, aarch64) = fixture();
        assert!(carry(&probe, &aarch64, false).records.is_empty());
    }
}
