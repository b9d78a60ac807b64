//! C and C++ code compiled by build scripts (the `cc` crate, and `cmake`, which
//! takes its compiler from `cc`): allocators, compression, SQLite, crypto. PGO
//! reaches it through the variables `cc` reads, so one instrumented process
//! writes one raw profile for both languages and the optimized build uses the
//! same merged profile for both.
//!
//! `cc` combines `CFLAGS`, `TARGET_CFLAGS`/`HOST_CFLAGS` and `CFLAGS_<target>`;
//! pgo-build sets only `CC_<target>`, `CXX_<target>`, `CFLAGS_<target>` and
//! `CXXFLAGS_<target>` (the target with `_` for `-`), each flag variable as the
//! user's own value followed by pgo-build's flags, so nothing the user set is lost.

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::functions::Language;
use crate::toolchain::clang::Clang;

/// Build dependencies that compile C or C++ with the compiler `cc` chooses.
const C_BUILDERS: &[&str] = &["cc", "cmake"];

/// Whether the C/C++ code of the pipeline's builds is profiled, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum CPgo {
    /// No package of the dependency graph builds C or C++.
    NoCode,
    /// The packages that build C/C++ are compiled by `clang` with PGO.
    On { clang: Clang, packages: Vec<String> },
    /// There is C/C++ code, built as before without a profile.
    Off { packages: Vec<String>, reason: String },
}

impl CPgo {
    pub fn clang(&self) -> Option<&Clang> {
        match self {
            CPgo::On { clang, .. } => Some(clang),
            _ => None,
        }
    }

    /// One line for status messages, the report and doctor.
    pub fn describe(&self) -> String {
        match self {
            CPgo::NoCode => "no dependency builds C or C++".into(),
            CPgo::On { clang, packages } => {
                format!("C/C++ of {} profiled too, compiled by {}", packages.join(", "), clang.describe())
            }
            CPgo::Off { packages, reason } if packages.is_empty() => {
                format!("C/C++ code, if any, built without a profile: {reason}")
            }
            CPgo::Off { packages, reason } => {
                format!("C/C++ of {} built without a profile: {reason}", packages.join(", "))
            }
        }
    }
}

/// The packages of `package`'s dependency graph (itself included, normal
/// dependencies for the target `metadata` was filtered to) whose build script can
/// compile C or C++: `cc` or `cmake` among its build dependencies or what they
/// depend on (`cxx-build`, `openssl-src`). A `links` key alone is no evidence:
/// `rayon-core` has one and no C. `metadata` is the project's (`Project::load`),
/// with the dependency resolution; without it, none.
pub fn c_packages(metadata: &cargo_metadata::Metadata, package: &str) -> Vec<String> {
    let Some(resolve) = &metadata.resolve else { return Vec::new() };
    let by_id = |id: &cargo_metadata::PackageId| metadata.packages.iter().find(|p| &p.id == id);
    let Some(root) = metadata.workspace_packages().into_iter().find(|p| p.name.as_str() == package) else {
        return Vec::new();
    };
    let mut seen = BTreeSet::from([root.id.clone()]);
    let mut queue = VecDeque::from([root.id.clone()]);
    let node = |id: &cargo_metadata::PackageId| resolve.nodes.iter().find(|n| &n.id == id);
    let deps_of = |id: &cargo_metadata::PackageId, kind: cargo_metadata::DependencyKind| -> Vec<_> {
        node(id)
            .map(|n| n.deps.iter().filter(|d| d.dep_kinds.iter().any(|k| k.kind == kind)).map(|d| d.pkg.clone()))
            .into_iter()
            .flatten()
            .collect()
    };
    // Whether `cc` or `cmake` is among the build dependencies of `id`, or among
    // the normal dependencies they pull in.
    let builds_c = |id: &cargo_metadata::PackageId| {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<_> = deps_of(id, cargo_metadata::DependencyKind::Build).into();
        while let Some(dep) = queue.pop_front() {
            if !seen.insert(dep.clone()) {
                continue;
            }
            if by_id(&dep).is_some_and(|p| C_BUILDERS.contains(&p.name.as_str())) {
                return true;
            }
            queue.extend(deps_of(&dep, cargo_metadata::DependencyKind::Normal));
        }
        false
    };
    let mut found = BTreeSet::new();
    while let Some(id) = queue.pop_front() {
        let Some(p) = by_id(&id) else { continue };
        if builds_c(&id) {
            found.insert(p.name.to_string());
        }
        for dep in deps_of(&id, cargo_metadata::DependencyKind::Normal) {
            if seen.insert(dep.clone()) {
                queue.push_back(dep);
            }
        }
    }
    found.into_iter().collect()
}

/// A compiler the user chose for `target` through the variables `cc` reads
/// (`CC_<target>`, `TARGET_CC`/`HOST_CC`, `CC`; `tool` is `CC` or `CXX`), if
/// any: `(variable, value)`.
pub fn user_compiler(tool: &str, target: &str, host: &str) -> Option<(String, String)> {
    let kind = if target == host { "HOST" } else { "TARGET" };
    let names =
        [format!("{tool}_{target}"), format!("{tool}_{}", underscored(target)), format!("{kind}_{tool}"), tool.into()];
    names.into_iter().find_map(|n| std::env::var(&n).ok().filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
}

/// The environment for a build whose C and C++ code `clang` compiles with
/// `flags` added (empty: no profile, the same compiler). A C++ compiler the user
/// chose is left alone, and so is its flags variable: C++ is then built as before.
pub fn env(target: &str, host: &str, clang: &Clang, flags: &[String]) -> Vec<(String, String)> {
    let own_cxx = user_compiler("CXX", target, host).is_some();
    let t = underscored(target);
    let joined = |var: &str| {
        let mut all: Vec<String> = std::env::var(var).ok().into_iter().filter(|v| !v.trim().is_empty()).collect();
        all.extend(flags.iter().cloned());
        all.join(" ")
    };
    let mut env = vec![(format!("CC_{t}"), clang.cc.display().to_string())];
    let mut vars = vec![format!("CFLAGS_{t}")];
    if !own_cxx {
        env.push((format!("CXX_{t}"), clang.cxx.display().to_string()));
        vars.push(format!("CXXFLAGS_{t}"));
    }
    for var in vars {
        let value = joined(&var);
        if !value.is_empty() {
            env.push((var, value));
        }
    }
    env
}

fn underscored(target: &str) -> String {
    target.replace(['-', '.'], "_")
}

/// clang's flags for the instrumented build: IR-level instrumentation, as
/// rustc's `-Cprofile-generate` (a front-end `-fprofile-instr-generate` profile
/// would not merge with rustc's).
pub fn generate_flags(raw_dir: &Path) -> Vec<String> {
    vec![format!("-fprofile-generate={}", raw_dir.display())]
}

/// clang's flags for a build with the merged `profile`, with a warning for each
/// function it has no data for (mismatches are warned about by default).
pub fn use_flags(profile: &Path) -> Vec<String> {
    vec![format!("-fprofile-use={}", profile.display()), "-mllvm".into(), "-pgo-warn-missing-function".into()]
}

/// clang's flags for a build whose C/C++ code must not use a profile although
/// rustc does (`compare`'s `pgo-rust-only`). cc 1.2.x reads the build's rustflags
/// (`CARGO_ENCODED_RUSTFLAGS`) and, for a clang, passes `-Cprofile-use=P` on as
/// `-fprofile-use=P` (and `-Cprofile-generate` as `-fprofile-generate`) by itself;
/// other versions do not. cc puts `CFLAGS_<target>` after the flags it inherits,
/// and clang takes the last of `-fprofile-use`/`-fno-profile-instr-use`, so this
/// cancels the profile whatever cc's version.
pub fn no_profile_flags() -> Vec<String> {
    vec!["-fno-profile-instr-use".into()]
}

/// How a profile covered the C/C++ code of one build: what clang said while
/// applying it, beside how many C/C++ functions the profile has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CCoverage {
    pub packages: Vec<String>,
    /// C/C++ functions in the profile.
    pub in_profile: u64,
    /// Functions clang found no profile data for.
    pub unprofiled: Vec<String>,
    /// Functions whose profile data no longer fits their code.
    pub mismatched: Vec<String>,
    /// Packages expected to build C/C++ (a `cc` or `cmake` build dependency)
    /// whose build script compiled none in this build: no object file in its
    /// `OUT_DIR` (a `-sys` crate linking a library of the system, say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compiled_none: Vec<String>,
}

impl CCoverage {
    /// Reads clang's warnings from the build-script output of `packages` in the
    /// build at `target_dir` (cargo keeps each build script's output, warnings
    /// included, in `<target>/<profile>/build/<package>-<hash>/output`, and shows
    /// them only for local packages). `profile_names` are the profile's functions.
    pub fn read(target_dir: &Path, triple: &str, profile: &str, packages: &[String], profile_names: &[String]) -> Self {
        let build = target_dir.join(triple).join(profile_dir(profile)).join("build");
        let mut unprofiled = BTreeSet::new();
        let mut mismatched = BTreeSet::new();
        let (mut compiled, mut compiled_none) = (Vec::new(), Vec::new());
        for package in packages {
            let Some(output) = newest_output(&build, package) else { continue };
            if !has_objects(&output.with_file_name("out")) {
                compiled_none.push(package.clone());
                continue;
            }
            compiled.push(package.clone());
            let text = std::fs::read_to_string(output).unwrap_or_default();
            for line in text.lines().filter_map(|l| l.strip_prefix("cargo:warning=")) {
                match crate::cargo::profile_warnings::parse(line) {
                    Some(w) if w.mismatched => mismatched.insert(w.symbol),
                    Some(w) => unprofiled.insert(w.symbol),
                    None => false,
                };
            }
        }
        let in_profile = profile_names.iter().filter(|n| Language::of(n) == Language::C).count() as u64;
        CCoverage {
            packages: compiled,
            in_profile,
            unprofiled: unprofiled.into_iter().collect(),
            mismatched: mismatched.into_iter().collect(),
            compiled_none,
        }
    }

    /// `C/C++ (zstd-sys): 12 of 340 profiled functions without profile data, 0 with a hash mismatch`,
    /// then `; openssl-sys compiled no C/C++` for a package that compiled none.
    pub fn describe(&self) -> String {
        let mut text = if self.packages.is_empty() {
            "C/C++: none compiled".to_string()
        } else {
            format!(
                "C/C++ ({}): {} of {} profiled functions without profile data, {} with a hash mismatch",
                self.packages.join(", "),
                self.unprofiled.len(),
                self.in_profile,
                self.mismatched.len()
            )
        };
        if !self.compiled_none.is_empty() {
            text.push_str(&format!("; {} compiled no C/C++", self.compiled_none.join(", ")));
        }
        text
    }
}

/// Whether a build script's `OUT_DIR` holds an object file: evidence that it
/// compiled C/C++ (`cc` writes its objects there, `cmake` below `build/`).
fn has_objects(out_dir: &Path) -> bool {
    walkdir::WalkDir::new(out_dir)
        .max_depth(8)
        .into_iter()
        .flatten()
        .any(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "o" || x == "obj"))
}

/// The folder cargo names after a profile: `dev` builds go to `debug`.
fn profile_dir(profile: &str) -> &str {
    match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    }
}

/// The most recent build-script output of `package` under `build`: its folders
/// are `<package>-<16 hex digits>`, one per build-script build and one per run.
fn newest_output(build: &Path, package: &str) -> Option<std::path::PathBuf> {
    let prefix = format!("{package}-");
    std::fs::read_dir(build)
        .ok()?
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix(&prefix).is_some_and(|h| h.len() == 16 && h.chars().all(|c| c.is_ascii_hexdigit()))
        })
        .map(|e| e.path().join("output"))
        .filter(|p| p.is_file())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clang() -> Clang {
        Clang { cc: "/usr/bin/clang-22".into(), cxx: "/usr/bin/clang++-22".into(), version: "22.1.8".into() }
    }

    #[test]
    fn env_names_the_target_with_underscores() {
        let env = env("x86_64-unknown-linux-musl", "x86_64-unknown-linux-gnu", &clang(), &["-fprofile-use=/p".into()]);
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("CC_x86_64_unknown_linux_musl"), Some("/usr/bin/clang-22"));
        assert_eq!(get("CXX_x86_64_unknown_linux_musl"), Some("/usr/bin/clang++-22"));
        assert_eq!(get("CFLAGS_x86_64_unknown_linux_musl"), Some("-fprofile-use=/p"));
        assert_eq!(get("CXXFLAGS_x86_64_unknown_linux_musl"), Some("-fprofile-use=/p"));
    }

    #[test]
    fn coverage_reads_clangs_warnings_from_the_build_script_output() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("x86_64-unknown-linux-gnu/release/build/hot-c-0123456789abcdef");
        std::fs::create_dir_all(run.join("out")).unwrap();
        std::fs::write(run.join("out/0123-hot.o"), "").unwrap();
        let linked = tmp.path().join("x86_64-unknown-linux-gnu/release/build/ssl-sys-fedcba9876543210");
        std::fs::create_dir_all(linked.join("out")).unwrap();
        std::fs::write(linked.join("output"), "cargo:rustc-link-lib=ssl\n").unwrap();
        std::fs::write(
            run.join("output"),
            "cargo:rerun-if-env-changed=CC\n\
             cargo:warning=warning: csrc/hot.c: no profile data available for function added Hash = 1 up to 0 count \
             discarded [-Wbackend-plugin]\n\
             cargo:warning=warning: csrc/hot.c: function control flow change detected (hash mismatch) hot Hash = 2 \
             up to 5 count discarded [-Wbackend-plugin]\n\
             cargo:rustc-link-lib=static=hot\n",
        )
        .unwrap();
        let names = ["hot".to_string(), "csrc/hot.c;pick".into(), "_ZN3exp4main17h0123456789abcdefE".into()];
        let packages = ["hot-c".to_string(), "ssl-sys".into()];
        let c = CCoverage::read(tmp.path(), "x86_64-unknown-linux-gnu", "release", &packages, &names);
        assert_eq!(
            (c.in_profile, c.unprofiled.clone(), c.mismatched.clone()),
            (2, vec!["added".into()], vec!["hot".into()])
        );
        assert_eq!(
            c.describe(),
            "C/C++ (hot-c): 1 of 2 profiled functions without profile data, 1 with a hash mismatch; ssl-sys \
             compiled no C/C++"
        );
    }

    #[test]
    fn no_flags_sets_only_the_compiler() {
        let env = env("i686-unknown-linux-gnu", "x86_64-unknown-linux-gnu", &clang(), &[]);
        let names: Vec<&str> = env.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["CC_i686_unknown_linux_gnu", "CXX_i686_unknown_linux_gnu"]);
    }
}
