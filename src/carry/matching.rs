//! Which function of the target each record of the source profile is, in three
//! passes, each only over what the passes before left (a target function is
//! matched once):
//!
//! 1. by name: the demangled name, and for an internal function its crate and
//!    codegen unit; unique among the functions with the record's CFG hash on
//!    both sides;
//! 2. internal functions by crate and name: the codegen units are numbered by
//!    size, which differs between targets. One on each side is a match; several
//!    with one symbol on each side (one inline function copied into several
//!    units) are copies, and each of the target's copies gets the average of the
//!    source's;
//! 3. any function by name alone, unique with its hash on both sides (its
//!    linkage, or the crate compiling it, differs between the targets).

use std::collections::HashMap;

use super::proftext::TextProfile;
use super::{Reason, TargetFunction};
use crate::functions::demangle;

/// What became of one record of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The target's function at this index. `same_linkage`: found in the same
    /// codegen unit (or external on both sides), so its profile name has the
    /// form of the source's; else its linkage on the target is not known.
    One {
        j: usize,
        same_linkage: bool,
    },
    /// One of the source's copies `of` (record indices) of a function whose
    /// copies on the target are `to`.
    Copies {
        of: Vec<usize>,
        to: Vec<usize>,
    },
    No(Reason),
}

/// `demo/cgu.0` for rustc's module `demo.1a2b3c4d5e6f7a8b-cgu.0` (the hash in
/// the middle depends on the target); other prefixes (a C file) as they are.
fn unit_of(module: &str) -> String {
    match (module.split_once('.'), module.rsplit_once("-cgu.")) {
        (Some((krate, _)), Some((_, n))) => format!("{krate}/cgu.{n}"),
        _ => module.to_string(),
    }
}

/// `demo` for the module `demo.1a2b3c4d5e6f7a8b-cgu.0`.
fn crate_of_module(module: &str) -> &str {
    module.split_once('.').map_or(module, |(k, _)| k)
}

/// The keys of a name for each pass: (unit or name, crate, name).
fn keys(module: Option<&str>, demangled: &str) -> (String, Option<String>, String) {
    match module {
        Some(m) => (
            format!("{};{demangled}", unit_of(m)),
            Some(format!("{};{demangled}", crate_of_module(m))),
            demangled.to_string(),
        ),
        None => (demangled.to_string(), None, demangled.to_string()),
    }
}

/// Index of items by (key, hash).
type Index = HashMap<(String, u64), Vec<usize>>;

pub fn match_functions(source: &TextProfile, target: &[TargetFunction]) -> Vec<Match> {
    let t_keys: Vec<_> = target.iter().map(|f| keys(Some(&f.module), &demangle(&f.symbol))).collect();
    let s_keys: Vec<_> =
        source.records.iter().map(|r| keys(r.name.split_once(';').map(|(m, _)| m), &demangle(&r.name))).collect();
    let mut used = vec![false; target.len()];
    let mut result: Vec<Option<Match>> = vec![None; source.records.len()];

    // Pass 1: internal by unit, external by name.
    let mut t_unit: Index = HashMap::new();
    let mut t_name: Index = HashMap::new();
    for (j, (unit, _, name)) in t_keys.iter().enumerate() {
        t_unit.entry((unit.clone(), target[j].hash)).or_default().push(j);
        t_name.entry((name.clone(), target[j].hash)).or_default().push(j);
    }
    let mut s_first: Index = HashMap::new();
    for (i, (unit, _, _)) in s_keys.iter().enumerate() {
        s_first.entry((unit.clone(), source.records[i].hash)).or_default().push(i);
    }
    for (i, (unit, krate, _)) in s_keys.iter().enumerate() {
        let key = (unit.clone(), source.records[i].hash);
        let index = if krate.is_some() { &t_unit } else { &t_name };
        if let (Some([j]), Some([_])) = (index.get(&key).map(Vec::as_slice), s_first.get(&key).map(Vec::as_slice))
            && !used[*j]
        {
            used[*j] = true;
            result[i] = Some(Match::One { j: *j, same_linkage: true });
        }
    }

    // Pass 2: internal functions left, by crate and name.
    let mut s_crate: Index = HashMap::new();
    for (i, (_, krate, _)) in s_keys.iter().enumerate() {
        if let (None, Some(k)) = (&result[i], krate) {
            s_crate.entry((k.clone(), source.records[i].hash)).or_default().push(i);
        }
    }
    let mut t_crate: Index = HashMap::new();
    for (j, (_, krate, _)) in t_keys.iter().enumerate() {
        if let (false, Some(k)) = (used[j], krate) {
            t_crate.entry((k.clone(), target[j].hash)).or_default().push(j);
        }
    }
    let bare = |name: &str| name.rsplit_once(';').map_or(name, |(_, s)| s).to_string();
    for (key, of) in &s_crate {
        let Some(to) = t_crate.get(key) else { continue };
        // Copies of one function share its symbol; instances of a generic
        // function under one legacy name (`Rc<T>::drop_slow`) do not, and
        // which is which cannot be told.
        let one_function = |symbols: std::collections::BTreeSet<String>| symbols.len() == 1;
        let copies = one_function(of.iter().map(|i| bare(&source.records[*i].name)).collect())
            && one_function(to.iter().map(|j| target[*j].symbol.clone()).collect());
        let matched = match (of.as_slice(), to.as_slice()) {
            ([i], [j]) => vec![(*i, Match::One { j: *j, same_linkage: false })],
            _ if copies => of.iter().map(|i| (*i, Match::Copies { of: of.clone(), to: to.clone() })).collect(),
            _ => continue,
        };
        for &j in to {
            used[j] = true;
        }
        for (i, m) in matched {
            result[i] = Some(m);
        }
    }

    // Pass 3: what is left, by name alone.
    let mut s_left: Index = HashMap::new();
    for (i, (_, _, name)) in s_keys.iter().enumerate() {
        if result[i].is_none() {
            s_left.entry((name.clone(), source.records[i].hash)).or_default().push(i);
        }
    }
    let mut t_left: Index = HashMap::new();
    for (j, (_, _, name)) in t_keys.iter().enumerate() {
        if !used[j] {
            t_left.entry((name.clone(), target[j].hash)).or_default().push(j);
        }
    }
    for (key, of) in &s_left {
        if let (Some([j]), [i]) = (t_left.get(key).map(Vec::as_slice), of.as_slice()) {
            used[*j] = true;
            result[*i] = Some(Match::One { j: *j, same_linkage: false });
        }
    }

    // Why the rest was not carried.
    let mut names: HashMap<&str, Vec<u64>> = HashMap::new();
    for (j, (_, _, name)) in t_keys.iter().enumerate() {
        names.entry(name.as_str()).or_default().push(target[j].hash);
    }
    result
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            m.unwrap_or_else(|| match names.get(s_keys[i].2.as_str()) {
                None => Match::No(Reason::NotOnTarget),
                Some(hashes) if !hashes.contains(&source.records[i].hash) => Match::No(Reason::ControlFlowDiffers),
                Some(_) => Match::No(Reason::Ambiguous),
            })
        })
        .collect()
}
