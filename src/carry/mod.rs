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

mod matching;
pub mod proftext;
mod unused;

pub use unused::unused;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::cargo::profile_warnings::ProfileWarning;
use crate::functions::{Language, crate_of, demangle};
use matching::Match;
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

/// Functions of the source not carried for one reason, and their counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lost {
    pub functions: u64,
    pub counts: u64,
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
    pub reasons: BTreeMap<Reason, Lost>,
    /// The hottest functions not carried.
    pub hot_uncarried: Vec<Uncarried>,
    /// Functions of the source carried as copies: one inline function copied
    /// into several codegen units, whose numbering differs between the targets,
    /// so each of the target's copies got the average of the source's.
    pub averaged_copies: u64,
    /// Counts of functions left ambiguous under legacy symbol names
    /// (`_ZN…17h<hash>E`), which do not tell a generic function's instances
    /// apart once the hash is set aside; v0 names (`-Csymbol-mangling-version=v0`) do.
    #[serde(default)]
    pub ambiguous_legacy_counts: u64,
    /// The functions the target's build has, and how many of them got data.
    pub target_functions: u64,
    pub target_functions_with_data: u64,
}

/// The carried profile: the records under the target's names, and the coverage.
#[derive(Debug)]
pub struct Carried {
    pub records: Vec<Record>,
    /// Every name a carried record was written under: the form of the source's
    /// name when the function is in the same codegen unit on both targets, else
    /// both `<module>;<symbol>` and `<symbol>` (which one rustc looks up depends
    /// on the function's linkage on the target, which its warnings do not say).
    pub names: std::collections::BTreeSet<String>,
    pub coverage: Coverage,
}

/// Renames `source`'s records to the functions of `target` they match, and
/// measures what was carried. With `keep_c` (the target's C/C++ code is built
/// with the profile) C/C++ records keep their names, which no target changes:
/// clang checks their hashes itself and warns of a mismatch.
pub fn carry(source: &TextProfile, target: &[TargetFunction], keep_c: bool) -> Carried {
    let matched = matching::match_functions(source, target);
    // The functions indirect calls went to, renamed with them.
    let mut renames: HashMap<&str, &str> = HashMap::new();
    let internal_names: Vec<String> = target.iter().map(|f| format!("{};{}", f.module, f.symbol)).collect();
    for (r, m) in source.records.iter().zip(&matched) {
        if let Match::One { j, .. } = m {
            let to = if r.name.contains(';') { internal_names[*j].as_str() } else { target[*j].symbol.as_str() };
            renames.insert(r.name.as_str(), to);
        }
    }

    let mut carried = Carried { records: Vec::new(), names: Default::default(), coverage: Coverage::default() };
    let write = |name: &str, record: Record, carried: &mut Carried| {
        carried.names.insert(name.to_string());
        carried.records.push(record);
    };
    let mut groups: BTreeMap<(String, Language), Share> = BTreeMap::new();
    let mut uncarried = Vec::new();
    let mut averaged: std::collections::HashSet<Vec<usize>> = Default::default();
    let mut with_data = std::collections::HashSet::new();
    for (r, m) in source.records.iter().zip(&matched) {
        let language = Language::of(&r.name);
        let outcome = match m {
            Match::No(_) if keep_c && language == Language::C => {
                write(&r.name, r.renamed(&r.name, &renames), &mut carried);
                Ok(())
            }
            Match::No(reason) => Err(*reason),
            Match::One { j, same_linkage } => {
                let (internal, external) = (internal_names[*j].as_str(), target[*j].symbol.as_str());
                let names = match (same_linkage, r.name.contains(';')) {
                    (true, true) => vec![internal],
                    (true, false) => vec![external],
                    (false, _) => vec![internal, external],
                };
                for name in names {
                    write(name, r.renamed(name, &renames), &mut carried);
                }
                with_data.insert(*j);
                Ok(())
            }
            Match::Copies { of, to } => {
                carried.coverage.averaged_copies += 1;
                if averaged.insert(to.clone()) {
                    let copies: Vec<&Record> = of.iter().map(|s| &source.records[*s]).collect();
                    // Copies of one function in several units are internal.
                    for j in to {
                        let name = internal_names[*j].as_str();
                        write(name, Record::average(name, &copies), &mut carried);
                        with_data.insert(*j);
                    }
                }
                Ok(())
            }
        };
        let krate = match language {
            Language::C => "(C/C++)".to_string(),
            Language::Rust => crate_of(&r.name).unwrap_or_else(|| "(no crate)".to_string()),
        };
        groups.entry((krate, language)).or_default().add(r, outcome.is_ok());
        carried.coverage.total.add(r, outcome.is_ok());
        if let Err(reason) = outcome {
            let lost = carried.coverage.reasons.entry(reason).or_default();
            lost.functions += 1;
            lost.counts = lost.counts.saturating_add(r.count);
            let bare = r.name.rsplit_once(';').map_or(r.name.as_str(), |(_, s)| s);
            if reason == Reason::Ambiguous && bare.starts_with("_ZN") && language == Language::Rust {
                carried.coverage.ambiguous_legacy_counts += r.count;
            }
            if r.count > 0 {
                uncarried.push(Uncarried { name: demangle(&r.name), count: r.count, reason });
            }
        }
    }
    let c = &mut carried.coverage;
    uncarried.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    uncarried.truncate(HOT_UNCARRIED);
    c.hot_uncarried = uncarried;
    c.groups = groups.into_iter().map(|((name, language), share)| Group { name, language, share }).collect();
    c.groups.sort_by(|a, b| b.share.counts.cmp(&a.share.counts).then_with(|| a.name.cmp(&b.name)));
    c.target_functions = target.len() as u64;
    c.target_functions_with_data = with_data.len() as u64;
    carried
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
        // Each under the form of the source's name: internal ones with the target's module.
        let m = "demo.91be43412aef091a-cgu.0";
        let names: std::collections::BTreeSet<String> = [
            "_RNvCs7Zq_4demo4main".to_string(),
            format!("{m};_RNvNtCs7Zq_4demo5parse4word"),
            "hot_checksum".to_string(),
        ]
        .into();
        assert_eq!(carried.names, names);
        assert_eq!(carried.records.len(), 3);
        let c = &carried.coverage;
        assert_eq!((c.total.functions, c.total.carried_functions), (6, 3));
        assert_eq!((c.total.counts, c.total.carried_counts), (1100, 1012));
        assert_eq!(c.reasons[&Reason::NotOnTarget], Lost { functions: 1, counts: 50 });
        assert_eq!(c.reasons[&Reason::ControlFlowDiffers], Lost { functions: 1, counts: 30 });
        assert_eq!(c.reasons[&Reason::Ambiguous], Lost { functions: 1, counts: 8 });
        assert_eq!(c.hot_uncarried[0].name, "demo::simd::sse2");
        assert_eq!(c.hot_uncarried[0].reason, Reason::NotOnTarget);
        assert_eq!((c.target_functions, c.target_functions_with_data), (6, 3));
        let demo = c.groups.iter().find(|g| g.name == "demo").unwrap();
        assert_eq!((demo.share.functions, demo.share.carried_counts), (4, 1000));
        let c_code = c.groups.iter().find(|g| g.language == Language::C).unwrap();
        assert_eq!(c_code.share.percent(), 100.0);
    }

    #[test]
    fn c_functions_keep_their_names_when_the_target_builds_c_with_the_profile() {
        let (source, aarch64) = fixture();
        let rust_only: Vec<TargetFunction> = aarch64.into_iter().filter(|f| f.symbol != "hot_checksum").collect();
        assert!(!carry(&source, &rust_only, false).names.contains("hot_checksum"));
        assert!(carry(&source, &rust_only, true).names.contains("hot_checksum"));
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
        let pairs: Vec<(&str, u64)> = carried.records.iter().map(|r| (r.name.as_str(), r.count)).collect();
        assert_eq!(
            pairs,
            [
                ("_ZN5alloc2rc11Rc$LT$T$GT$9drop_slow17h000000000000000bE", 40),
                ("_ZN5alloc2rc11Rc$LT$T$GT$9drop_slow17h000000000000000aE", 60)
            ]
        );
        assert_eq!(carried.coverage.reasons[&Reason::Ambiguous].functions, 2);
    }

    #[test]
    fn internal_functions_are_found_in_another_codegen_unit_and_copies_averaged() {
        let text = [
            ":ir\n".to_string(),
            record("rg.aaaa-cgu.07;_RNvNtCs1_12grep_printer8standard4sink", 3, 400),
            record("rg.aaaa-cgu.01;_RNvNtCs1_4core3ptr13drop_in_place", 4, 10),
            record("rg.aaaa-cgu.02;_RNvNtCs1_4core3ptr13drop_in_place", 4, 30),
            // Two instances of a generic function under one legacy name.
            record("rg.aaaa-cgu.01;_ZN5alloc2rc11Rc$LT$T$GT$9drop_slow17h0000000000000001E", 5, 7),
            record("rg.aaaa-cgu.02;_ZN5alloc2rc11Rc$LT$T$GT$9drop_slow17h0000000000000002E", 5, 9),
        ]
        .concat();
        let source = TextProfile::parse(&text).unwrap();
        let aarch64 = [
            target("rg.bbbb-cgu.06", "_RNvNtCs2_12grep_printer8standard4sink", 3),
            target("rg.bbbb-cgu.00", "_RNvNtCs2_4core3ptr13drop_in_place", 4),
            target("rg.bbbb-cgu.03", "_RNvNtCs2_4core3ptr13drop_in_place", 4),
            target("rg.bbbb-cgu.04", "_RNvNtCs2_4core3ptr13drop_in_place", 4),
            target("rg.bbbb-cgu.05", "_ZN5alloc2rc11Rc$LT$T$GT$9drop_slow17h000000000000000aE", 5),
            target("rg.bbbb-cgu.06", "_ZN5alloc2rc11Rc$LT$T$GT$9drop_slow17h000000000000000bE", 5),
        ];
        let carried = carry(&source, &aarch64, false);
        // In another unit its linkage may differ too: under both names.
        assert!(carried.names.contains("rg.bbbb-cgu.06;_RNvNtCs2_12grep_printer8standard4sink"), "{:?}", carried.names);
        assert!(carried.names.contains("_RNvNtCs2_12grep_printer8standard4sink"), "{:?}", carried.names);
        let copies: Vec<u64> =
            carried.records.iter().filter(|r| r.name.contains("drop_in_place")).map(|r| r.count).collect();
        assert_eq!(copies, [20; 3], "three copies, each the average of 10 and 30");
        let c = &carried.coverage;
        assert_eq!((c.total.carried_counts, c.averaged_copies, c.target_functions_with_data), (440, 2, 4));
        assert_eq!(c.reasons[&Reason::Ambiguous].functions, 2, "instances are not copies");
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
