//! The profile resolver as a table: every source, inheritance, defaults, and the
//! spellings cargo treats alike.

use super::*;

fn strip_of(manifest: &str, profile: &str) -> Strip {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Cargo.toml");
    std::fs::write(&path, manifest).unwrap();
    resolve_strip(&path, dir.path(), profile).unwrap()
}

#[test]
fn defaults_follow_debug_info() {
    assert_eq!(strip_of("", "release"), Strip::Debuginfo);
    assert_eq!(strip_of("", "dev"), Strip::None);
    assert_eq!(strip_of("[profile.release]\ndebug = true\n", "release"), Strip::None);
}

#[test]
fn explicit_values_and_inheritance() {
    assert_eq!(strip_of("[profile.release]\nstrip = true\n", "release"), Strip::Symbols);
    assert_eq!(strip_of("[profile.release]\nstrip = \"symbols\"\n", "release"), Strip::Symbols);
    assert_eq!(strip_of("[profile.release]\nstrip = false\n", "release"), Strip::None);
    let m = "[profile.release]\nstrip = \"symbols\"\n[profile.dist]\ninherits = \"release\"\nlto = true\n";
    assert_eq!(strip_of(m, "dist"), Strip::Symbols);
    let m = "[profile.dist]\ninherits = \"dev\"\nopt-level = 3\n";
    assert_eq!(strip_of(m, "dist"), Strip::None);
}

fn sources(manifest: &str, config_file: &str, env: &[(&str, &str)]) -> ProfileSources {
    let files = [config_file, manifest].iter().map(|t| toml::from_str(t).expect("valid TOML")).collect();
    ProfileSources::new(files, env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

fn release() -> ProfileSettings {
    ProfileSettings {
        opt_level: "3".into(),
        debug: DebugInfo::None,
        split_debuginfo: default_split_debuginfo(false).into(),
        strip: Strip::Debuginfo,
        debug_assertions: false,
        overflow_checks: false,
        lto: Lto::ThinLocal,
        panic: "unwind".into(),
        incremental: false,
        codegen_units: 16,
        rpath: false,
        other: Default::default(),
    }
}

fn dev() -> ProfileSettings {
    ProfileSettings {
        opt_level: "0".into(),
        debug: DebugInfo::Full,
        split_debuginfo: default_split_debuginfo(true).into(),
        strip: Strip::None,
        debug_assertions: true,
        overflow_checks: true,
        incremental: true,
        codegen_units: 256,
        ..release()
    }
}

fn production() -> Vec<String> {
    crate::presets::find("production").expect("preset").config_overrides("pgo-build-production")
}

#[test]
fn profiles_resolve_as_cargo_does() {
    struct Case {
        what: &'static str,
        manifest: &'static str,
        config_file: &'static str,
        env: &'static [(&'static str, &'static str)],
        profile: &'static str,
        config: Vec<String>,
        expect: ProfileSettings,
    }
    let case = |what, manifest, profile, expect| Case {
        what,
        manifest,
        config_file: "",
        env: &[],
        profile,
        config: Vec::new(),
        expect,
    };
    let fat_abort = ProfileSettings { lto: Lto::Fat, codegen_units: 1, panic: "abort".into(), ..release() };
    let cases = [
        case("release defaults", "", "release", release()),
        case("dev defaults", "", "dev", dev()),
        case(
            "test inherits dev",
            "[profile.dev]\nopt-level = 1\n",
            "test",
            ProfileSettings { opt_level: "1".into(), ..dev() },
        ),
        case(
            "bench inherits release",
            "[profile.release]\nlto = \"thin\"\n",
            "bench",
            ProfileSettings { lto: Lto::Thin, ..release() },
        ),
        case(
            "a custom profile inherits, and overrides",
            "[profile.release]\ncodegen-units = 4\n[profile.dist]\ninherits = \"release\"\nlto = true\n",
            "dist",
            ProfileSettings { codegen_units: 4, lto: Lto::Fat, ..release() },
        ),
        case(
            "inheritance over two steps, from dev",
            "[profile.a]\ninherits = \"dev\"\nopt-level = \"s\"\n[profile.b]\ninherits = \"a\"\ndebug = 1\n",
            "b",
            ProfileSettings { opt_level: "s".into(), debug: DebugInfo::Limited, ..dev() },
        ),
        case("debug info keeps strip off", "[profile.release]\ndebug = \"line-tables-only\"\n", "release", {
            ProfileSettings { debug: DebugInfo::LineTablesOnly, strip: Strip::None, ..release() }
        }),
        case(
            "dev without debug info strips it",
            "[profile.dev]\ndebug = false\n",
            "dev",
            ProfileSettings {
                debug: DebugInfo::None,
                strip: Strip::Debuginfo,
                split_debuginfo: default_split_debuginfo(false).into(),
                ..dev()
            },
        ),
        case(
            "an explicit strip wins over the default",
            "[profile.release]\nstrip = false\n",
            "release",
            ProfileSettings { strip: Strip::None, ..release() },
        ),
        case(
            "keys not interpreted are kept",
            "[profile.release.package.\"*\"]\nopt-level = 2\n",
            "release",
            ProfileSettings { other: [("package".into(), "{ \"*\" = { opt-level = 2 } }".into())].into(), ..release() },
        ),
        Case {
            config_file: "[profile.release]\nlto = \"fat\"\ncodegen-units = 1\n",
            ..case(
                "a config file wins over the manifest",
                "[profile.release]\nlto = \"thin\"\npanic = \"abort\"\n",
                "release",
                fat_abort.clone(),
            )
        },
        Case {
            env: &[("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"), ("CARGO_PROFILE_RELEASE_LTO", "fat")],
            config_file: "[profile.release]\ncodegen-units = 8\n",
            ..case(
                "the environment wins over config files",
                "[profile.release]\npanic = \"abort\"\n",
                "release",
                fat_abort.clone(),
            )
        },
        Case {
            env: &[("CARGO_PROFILE_RELEASE_PANIC", "unwind")],
            config: vec!["profile.release.panic=\"abort\"".into(), "profile.release.lto=true".into()],
            ..case(
                "--config wins over everything",
                "[profile.release]\ncodegen-units = 1\n",
                "release",
                fat_abort.clone(),
            )
        },
        Case { config: production(), ..case("the production preset", "", "pgo-build-production", fat_abort.clone()) },
    ];
    for c in cases {
        let got = sources(c.manifest, c.config_file, c.env).resolve(c.profile, &c.config).expect(c.what);
        assert_eq!(got, c.expect, "{}", c.what);
    }
}

#[test]
fn spellings_cargo_treats_alike_are_equal() {
    let resolve = |manifest: &str| sources(manifest, "", &[]).resolve("release", &[]).expect("resolves");
    let alike: [&[&str]; 6] = [
        &["lto = true", "lto = \"fat\""],
        &["debug = 0", "debug = false", "debug = \"none\""],
        &["debug = 2", "debug = true", "debug = \"full\""],
        &["strip = true", "strip = \"symbols\""],
        &["strip = false", "strip = \"none\""],
        // Release's defaults, written out.
        &["", "opt-level = 3\ncodegen-units = 16\nlto = false\npanic = \"unwind\"\nincremental = false"],
    ];
    for spellings in alike {
        let first = resolve(&format!("[profile.release]\n{}\n", spellings[0]));
        for other in &spellings[1..] {
            assert_eq!(first, resolve(&format!("[profile.release]\n{other}\n")), "{} vs {other}", spellings[0]);
        }
    }
    assert_ne!(resolve("[profile.release]\nlto = false\n"), resolve("[profile.release]\nlto = \"off\"\n"));
}

#[test]
fn a_release_profile_like_the_demos_is_the_production_preset() {
    let demo = "[profile.release]\nlto = \"fat\"\ncodegen-units = 1\npanic = \"abort\"\n";
    let s = sources(demo, "", &[]);
    let release = s.resolve("release", &[]).expect("release");
    assert_eq!(release, s.resolve("pgo-build-production", &production()).expect("production"));
    // pgo-build's own Cargo.toml keeps line tables: not the same build.
    let s = sources("[profile.release]\ndebug = \"line-tables-only\"\n", "", &[]);
    assert_ne!(s.resolve("release", &[]).expect("r"), s.resolve("pgo-build-production", &production()).expect("p"));
}
