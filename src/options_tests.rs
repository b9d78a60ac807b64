//! The precedence of every option, as tables: command line (before or after the
//! command name), environment, config, default. Each row is parsed by clap as the
//! program parses it and resolved with a table for the environment.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Debug;
use std::path::PathBuf;

use clap::Parser;

use super::*;

type Vars<'a> = &'a [(&'a str, &'a str)];

fn resolve(argv: &str, vars: Vars, config: &str) -> Result<Options> {
    let mut args = vec!["pgo-build".to_string()];
    args.extend(shlex::split(argv).expect("test quoting"));
    let cli = Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("`{argv}` does not parse: {e}"));
    let config = crate::config::from_toml(config).expect("test config");
    let env: BTreeMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
    Options::resolve(&cli, &|name| env.get(name).cloned(), &config)
}

/// Checks `get` of each row's resolved options against the row's expectation.
fn table<T: PartialEq + Debug>(get: impl Fn(&Options) -> T, rows: &[(&str, Vars, &str, T)]) {
    for (argv, vars, config, want) in rows {
        let options = resolve(argv, vars, config).unwrap_or_else(|e| panic!("`{argv}`: {e:#}"));
        assert_eq!(&get(&options), want, "`{argv}`, environment {vars:?}, config {config:?}");
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn cargo_profile() {
    table(
        |o| o.profile.clone(),
        &[
            ("status", &[], "", "release".to_string()),
            ("status", &[], r#"profile = "dist""#, "dist".into()),
            ("--cargo-profile fast status", &[], r#"profile = "dist""#, "fast".into()),
            ("instrument --cargo-profile fast", &[], "", "fast".into()),
        ],
    );
}

#[test]
fn package_and_binaries() {
    let sel = |package: Option<&str>, bins: Option<&[&str]>| Selection {
        package: package.map(str::to_string),
        bins: bins.map(strings),
    };
    let config = "package = \"a\"\nbins = [\"x\"]";
    table(
        |o| o.selection.clone(),
        &[
            ("status", &[], "", sel(None, None)),
            ("status", &[], config, sel(Some("a"), Some(&["x"]))),
            ("-p b --bin y --bin z status", &[], config, sel(Some("b"), Some(&["y", "z"]))),
            ("status --package b", &[], config, sel(Some("b"), Some(&["x"]))),
            ("--bin y status", &[], "bins = [\"x\", \"w\"]", sel(None, Some(&["y"]))),
        ],
    );
}

#[test]
fn features() {
    table(
        |o| o.features.clone(),
        &[
            ("status", &[], "", vec![]),
            ("status", &[], r#"features = ["a", "b"]"#, strings(&["a", "b"])),
            ("--features c,d status", &[], r#"features = ["a"]"#, strings(&["c", "d"])),
            ("check --features c", &[], "", strings(&["c"])),
        ],
    );
}

#[test]
fn target() {
    table(
        |o| o.target.clone(),
        &[
            ("status", &[], "", None),
            ("status", &[], r#"target = "x86_64-unknown-linux-musl""#, Some("x86_64-unknown-linux-musl".to_string())),
            (
                "--target aarch64-unknown-linux-gnu status",
                &[],
                r#"target = "b""#,
                Some("aarch64-unknown-linux-gnu".into()),
            ),
        ],
    );
}

#[test]
fn c_pgo() {
    table(
        |o| o.c_pgo,
        &[
            ("status", &[], "", true),
            ("status", &[], "c-pgo = true", true),
            ("status", &[], "c-pgo = false", false),
            ("--no-c-pgo status", &[], "", false),
            ("instrument --no-c-pgo", &[], "c-pgo = true", false),
        ],
    );
}

#[test]
fn llvm_profdata() {
    let named = |path: &str, origin| Some(Override { path: PathBuf::from(path), origin });
    let env: Vars = &[(PROFDATA_VAR, "/env/llvm-profdata")];
    table(
        |o| o.tools.llvm_profdata.clone(),
        &[
            ("status", &[], "", None),
            ("status", env, "", named("/env/llvm-profdata", Origin::Env)),
            ("--llvm-profdata /flag/p status", env, "", named("/flag/p", Origin::Flag)),
            ("status --llvm-profdata=/flag/p", &[], "", named("/flag/p", Origin::Flag)),
            // Empty means not given; an empty flag still wins over the variable.
            ("status", &[(PROFDATA_VAR, "")], "", None),
            ("--llvm-profdata '' status", env, "", None),
        ],
    );
}

#[test]
fn llvm_bolt() {
    let env: Vars = &[(BOLT_VAR, "/env/llvm-bolt")];
    table(
        |o| o.tools.llvm_bolt.clone(),
        &[
            ("status", &[], "", None),
            ("status", env, "", Some(PathBuf::from("/env/llvm-bolt"))),
            ("--llvm-bolt /flag/llvm-bolt bolt", env, "", Some(PathBuf::from("/flag/llvm-bolt"))),
            ("status", &[(BOLT_VAR, "")], "", None),
            ("--llvm-bolt '' --llvm-profdata '' status", env, "", None),
        ],
    );
}

/// BOLT mode with no record, a record without it, and one with it.
#[test]
fn bolt_mode_of_the_pipeline() {
    let off = [false, false, false];
    let on = [true, true, true];
    table(
        |o| [o.bolt(None), o.bolt(Some(false)), o.bolt(Some(true))],
        &[
            ("status", &[], "", [false, false, true]),
            ("status", &[], "bolt = true", on),
            ("status", &[], "bolt = false", off),
            ("--bolt status", &[], "bolt = false", on),
            ("instrument --no-bolt", &[], "bolt = true", off),
            ("--no-bolt status", &[], "", off),
            // The `bolt` command needs it, whatever else says.
            ("bolt", &[], "bolt = false", on),
            ("bolt --no-bolt", &[], "", on),
        ],
    );
}

#[test]
fn bolt_profile_collection() {
    use BoltProfiling::{Instrument, Perf};
    let perf = r#"bolt-mode = "perf""#;
    table(
        |o| o.bolt_mode,
        &[
            ("status", &[], "", Instrument),
            ("status", &[], perf, Perf),
            ("bolt --bolt-mode instrument", &[], perf, Instrument),
            ("all --bolt --bolt-mode perf", &[], "", Perf),
            ("optimize --bolt-mode perf", &[], "", Perf),
            ("compare", &[], perf, Perf),
        ],
    );
    // A BOLT run with recorded options: theirs, else the config's, else instrument.
    table(
        |o| [o.bolt_mode_of(None), o.bolt_mode_of(Some(Perf)), o.bolt_mode_of(Some(Instrument))],
        &[
            ("status", &[], "", [Instrument, Perf, Instrument]),
            ("status", &[], perf, [Perf, Perf, Instrument]),
            ("bolt --bolt-mode perf", &[], "", [Instrument, Perf, Instrument]),
        ],
    );
}

#[test]
fn compare_variants_and_baseline() {
    let config = "variants = [\"pgo\"]\nbaseline = \"release\"";
    table(
        |o| (o.compare.variants.clone(), o.compare.baseline.clone()),
        &[
            ("compare", &[], "", (None, None)),
            ("compare", &[], config, (Some(strings(&["pgo"])), Some("release".to_string()))),
            ("status", &[], config, (Some(strings(&["pgo"])), Some("release".to_string()))),
            (
                "compare --variants develop,pgo",
                &[],
                config,
                (Some(strings(&["develop", "pgo"])), Some("release".into())),
            ),
            ("all --baseline fast", &[], config, (Some(strings(&["pgo"])), Some("fast".into()))),
            ("all --variants fast --baseline small", &[], "", (Some(strings(&["fast"])), Some("small".into()))),
        ],
    );
}

#[test]
fn compare_startup_args() {
    let version = Some(strings(&["--version"]));
    table(
        |o| o.compare.startup_args.clone(),
        &[
            ("compare", &[], "", version.clone()),
            ("compare", &[], r#"startup-args = ["-h"]"#, Some(strings(&["-h"]))),
            ("compare", &[], "startup-args = []", None),
            ("compare --startup-args ''", &[], r#"startup-args = ["-h"]"#, None),
            ("compare --startup-args \"--x 'a b'\"", &[], "", Some(strings(&["--x", "a b"]))),
            ("all --startup-args=-q", &[], "startup-args = []", Some(strings(&["-q"]))),
            ("status", &[], "", version),
        ],
    );
    let err = resolve("compare --startup-args \"'\"", &[], "").expect_err("bad quoting");
    assert!(err.to_string().contains("is not valid shell quoting"), "{err}");
}

#[test]
fn compare_counter() {
    use CounterChoice::{Auto, Cachegrind, Perf};
    let cachegrind = "counts = true\ncounter = \"cachegrind\"";
    table(
        |o| o.compare.counter,
        &[
            ("compare", &[], "", None),
            ("compare --counts", &[], "", Some(Auto)),
            ("compare", &[], "counts = true", Some(Auto)),
            ("compare", &[], cachegrind, Some(Cachegrind)),
            ("compare --counter perf", &[], cachegrind, Some(Perf)),
            // A counter is chosen only when something is counted.
            ("compare --counter perf", &[], "", None),
            ("compare", &[], "counter = \"perf\"", None),
            // A check on a count counts.
            ("compare --gate-on instructions", &[], "", Some(Auto)),
            ("all --gate-on estimated-cycles --counter cachegrind", &[], "", Some(Cachegrind)),
        ],
    );
}

#[test]
fn colour() {
    use ColorChoice::{Always, Auto, Never};
    table(
        |o| o.color,
        &[
            ("status", &[], "", Auto),
            ("status", &[("NO_COLOR", "1")], "", Never),
            ("status", &[("NO_COLOR", "")], "", Auto),
            ("--color always status", &[("NO_COLOR", "1")], "", Always),
            ("status --color never", &[], "", Never),
        ],
    );
}
