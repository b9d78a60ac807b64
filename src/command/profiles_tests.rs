use super::*;

fn preset(name: &str) -> &'static Preset {
    presets::find(name).unwrap()
}

/// `after` is `before` with `inserted` put in at one place, every other byte kept.
fn assert_only_inserted(before: &str, after: &str, inserted: &str) {
    let fits = (0..=before.len())
        .filter(|&at| before.is_char_boundary(at))
        .any(|at| after == format!("{}{inserted}{}", &before[..at], &before[at..]));
    assert!(fits, "not just {inserted:?} inserted into\n{before}\n--- it became ---\n{after}");
}

const COMMENTED: &str = r#"# The fixture's manifest.
[package]
name = "fixture"   # keep the name
version = "0.1.0"
edition = "2021"

# Release with line tables, for profilers.
[profile.release]
debug = "line-tables-only" # enough for perf

# Lints come last.
[lints.rust]
unsafe_code = "deny"
# trailing comment
"#;

#[test]
fn new_profile_follows_the_last_profile_table_and_nothing_else_changes() {
    let (after, change) = add_profile(COMMENTED, preset("small"), "small", false).unwrap();
    assert_eq!(change, Change::Added);
    assert_only_inserted(COMMENTED, &after, "\n[profile.small]\ninherits = \"release\"\nopt-level = \"s\"\n");
    assert!(after.contains("enough for perf\n\n[profile.small]\n"), "{after}");
}

#[test]
fn without_profiles_the_table_ends_the_document() {
    let before = "[package]\nname = \"a\" # the name\n\n[dependencies]\n# none yet\n";
    let (after, _) = add_profile(before, preset("fastest"), "fastest", false).unwrap();
    let table = "\n[profile.fastest]\ninherits = \"release\"\nlto = \"fat\"\ncodegen-units = 1\n";
    assert_eq!(after, format!("{before}{table}"));
}

#[test]
fn a_comment_ending_the_file_stays_above_the_new_table() {
    let before = "[profile.release]\ndebug = 1\n# the end";
    let (after, _) = add_profile(before, preset("small"), "small", false).unwrap();
    assert_eq!(after, format!("{before}\n\n{}", preset("small").toml("small")));
    let before = "[package]\nname = \"a\"\n\n\n";
    let (after, _) = add_profile(before, preset("small"), "small", false).unwrap();
    assert_only_inserted(before, &after, &format!("\n{}", preset("small").toml("small")));
}

#[test]
fn force_keeps_the_comment_ending_the_file() {
    let before = "[profile.small]\nopt-level = 1\n# the end\n";
    let (after, _) = add_profile(before, preset("small"), "small", true).unwrap();
    assert_eq!(after, "[profile.small]\ninherits = \"release\"\nopt-level = \"s\"\n# the end\n");
}

#[test]
fn new_profile_beside_dotted_profiles_is_valid_toml() {
    let before = "profile.release.debug = 1\n\n[package]\nname = \"a\"\n";
    let (after, _) = add_profile(before, preset("small"), "small", false).unwrap();
    assert_only_inserted(before, &after, "\n[profile.small]\ninherits = \"release\"\nopt-level = \"s\"\n");
    let parsed: toml::Table = toml::from_str(&after).unwrap();
    assert_eq!(parsed["profile"]["release"]["debug"].as_integer(), Some(1));
    assert_eq!(parsed["profile"]["small"]["opt-level"].as_str(), Some("s"));
}

#[test]
fn the_table_follows_nested_profile_tables_too() {
    let before = "[profile.dev]\nopt-level = 1\n\n[lints]\n\n[profile.dev.package.foo]\nopt-level = 3\n\n[badges]\n";
    let (after, _) = add_profile(before, preset("develop"), "develop", false).unwrap();
    assert_only_inserted(before, &after, "\n[profile.develop]\ninherits = \"dev\"\ndebug = false\n");
    assert!(after.ends_with("opt-level = 3\n\n[profile.develop]\ninherits = \"dev\"\ndebug = false\n\n[badges]\n"));
}

#[test]
fn written_table_is_exactly_what_show_prints() {
    for p in presets::ALL {
        let (after, _) = add_profile("[package]\nname = \"a\"\n", p, p.name, false).unwrap();
        assert_eq!(after, format!("[package]\nname = \"a\"\n\n{}", p.toml(p.name)), "{}", p.name);
        assert_eq!(new_table(p, p.name).unwrap(), p.toml(p.name));
    }
}

#[test]
fn existing_profile_is_refused_without_force() {
    let err = add_profile(COMMENTED, preset("fastest"), "release", false).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("already has [profile.release]") && text.contains("--force"), "{text}");
}

#[test]
fn force_replaces_the_settings_and_keeps_package_tables_and_the_rest() {
    let before = "[package]\nname = \"a\"\n\n# Ours.\n[profile.small]\ninherits = \"dev\"\nopt-level = 1 # old\n\n\
                  [profile.small.package.foo]\nopt-level = 0\n\n# End.\n[lints]\n";
    let (after, change) = add_profile(before, preset("small"), "small", true).unwrap();
    assert_eq!(change, Change::Replaced);
    assert_eq!(
        after,
        "[package]\nname = \"a\"\n\n# Ours.\n[profile.small]\ninherits = \"release\"\nopt-level = \"s\"\n\n\
         [profile.small.package.foo]\nopt-level = 0\n\n# End.\n[lints]\n"
    );
}

#[test]
fn builtin_target_is_written_without_inherits() {
    let (after, _) = add_profile(COMMENTED, preset("fastest"), "release", true).unwrap();
    assert!(
        after.contains(
            "# Release with line tables, for profilers.\n[profile.release]\nlto = \"fat\"\ncodegen-units = 1\n\n"
        ),
        "{after}"
    );
    let (after, _) = add_profile("[package]\n", preset("develop"), "test", false).unwrap();
    assert_eq!(after, "[package]\n\n[profile.test]\ndebug = false\n");
    assert_eq!(new_table(preset("small"), "bench").unwrap(), "[profile.bench]\nopt-level = \"s\"\n");
}

#[test]
fn builtin_target_must_build_on_the_presets_base() {
    let err = check_builtin(preset("develop"), "release").unwrap_err().to_string();
    assert!(err.contains("builds on `dev`") && err.contains("--as dev or --as test"), "{err}");
    assert!(check_builtin(preset("production"), "dev").is_err());
    assert!(check_builtin(preset("develop"), "test").is_ok());
    assert!(check_builtin(preset("fastest"), "bench").is_ok());
    assert!(check_builtin(preset("fastest"), "my-profile").is_ok());
}

#[test]
fn crlf_line_endings_are_kept() {
    let before = "# c\r\n[package]\r\nname = \"a\"\r\n\r\n[profile.release]\r\ndebug = 1\r\n";
    let (after, _) = add_profile(before, preset("small"), "small", false).unwrap();
    assert_only_inserted(before, &after, "\r\n[profile.small]\r\ninherits = \"release\"\r\nopt-level = \"s\"\r\n");
}

#[test]
fn dotted_and_inline_profiles_keep_their_form() {
    let dotted = "profile.small.opt-level = 1\n\n[package]\nname = \"a\"\n";
    let (after, _) = add_profile(dotted, preset("small"), "small", true).unwrap();
    assert_eq!(
        after,
        "profile.small.inherits = \"release\"\nprofile.small.opt-level = \"s\"\n\n[package]\nname = \"a\"\n"
    );
    let inline = "[package]\nname = \"a\"\n\n[profile]\nrelease = { debug = 1 }\n";
    let (after, _) = add_profile(inline, preset("production"), "release", true).unwrap();
    assert_eq!(
        after,
        "[package]\nname = \"a\"\n\n[profile]\nrelease = { lto = \"fat\", codegen-units = 1, panic = \"abort\" }\n"
    );
    let (after, _) = add_profile("profile = { dev = { debug = 1 } }\n", preset("small"), "small", false).unwrap();
    assert_eq!(after, "profile = { dev = { debug = 1 }, small = { inherits = \"release\", opt-level = \"s\" } }\n");
}

#[test]
fn profile_known_only_by_its_package_tables_gets_a_header() {
    let before = "[package]\nname = \"a\"\n\n# Per crate.\n[profile.release.package.foo]\nopt-level = 1\n";
    let err = add_profile(before, preset("fastest"), "release", false).unwrap_err();
    assert!(format!("{err:#}").contains("--force"));
    let (after, _) = add_profile(before, preset("fastest"), "release", true).unwrap();
    assert_only_inserted(before, &after, "\n[profile.release]\nlto = \"fat\"\ncodegen-units = 1\n");
    let parsed: toml::Table = toml::from_str(&after).unwrap();
    assert_eq!(parsed["profile"]["release"]["package"]["foo"]["opt-level"].as_integer(), Some(1));
}

#[test]
fn broken_manifest_and_non_table_profile_are_errors() {
    assert!(
        format!("{:#}", add_profile("[package\n", preset("small"), "small", false).unwrap_err())
            .contains("not valid TOML")
    );
    assert!(
        format!("{:#}", add_profile("profile = 1\n", preset("small"), "small", false).unwrap_err())
            .contains("not a table")
    );
}

#[test]
fn list_is_aligned_and_complete() {
    let lines = list_lines();
    assert_eq!(lines.len(), presets::ALL.len() + 1);
    let inherits = lines[0].find("INHERITS").unwrap();
    let summary = lines[0].find("SUMMARY").unwrap();
    for (line, p) in lines[1..].iter().zip(presets::ALL) {
        assert!(line.starts_with(p.name), "{line}");
        assert!(line[inherits..].starts_with(p.inherits), "{line}");
        assert_eq!(&line[summary..], p.summary, "{line}");
    }
}
