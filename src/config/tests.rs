//! Reading and checking `pgo-build.toml`.

use super::*;

fn parse_str(text: &str) -> Result<Config> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("w")).unwrap();
    std::fs::write(dir.path().join("w/a.sh"), "#!/bin/sh\n").unwrap();
    parse::parse(text, Path::new("/p/pgo-build.toml"), dir.path())
}

#[test]
fn full_config_parses() {
    let config = parse_str(
        r#"
        package = "demo"
        bins = ["demo"]
        profile = "production"
        features = ["fast"]
        default-features = false
        cargo-args = ["--locked"]

        [[workload]]
        name = "a"
        run = "w/a.sh"
        args = ["--big"]
        use = ["train", "bench"]
        weight = 3
        timeout = 2.5
        env = { SIZE = "9" }

        [[workload]]
        name = "b"
        run = "$PGO_BUILD_BIN --help"
        use = ["bench"]
        "#,
    )
    .unwrap();
    assert_eq!(config.profile.as_deref(), Some("production"));
    assert!(!config.default_features);
    let a = &config.workloads[0];
    assert_eq!(a.run, Run::Script("w/a.sh".into()));
    assert_eq!(a.weight, 3);
    assert_eq!(a.timeout, Duration::from_millis(2500));
    assert!(a.is(Use::Train) && a.is(Use::Bench));
    assert_eq!(config.workloads[1].run, Run::Shell("$PGO_BUILD_BIN --help".into()));
    assert_eq!(config.workloads[1].weight, 1);
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let err = parse_str(
        "profile = \"release\"\n\n[[workload]]\nname = \"a\"\nrun = \"w/a.sh\"\nuse = [\"train\"]\nweigth = 2\n",
    )
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("/p/pgo-build.toml"), "{text}");
    assert!(text.contains("line 7"), "{text}");
    assert!(text.contains("weigth"), "{text}");
}

#[test]
fn wrong_type_is_an_error() {
    let err =
        parse_str("[[workload]]\nname = \"a\"\nrun = \"w/a.sh\"\nuse = [\"train\"]\nweight = \"high\"\n").unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("line 5") && text.contains("weight"), "{text}");
}

#[test]
fn unknown_use_is_an_error() {
    let err = parse_str("[[workload]]\nname = \"a\"\nrun = \"w/a.sh\"\nuse = [\"trian\"]\n").unwrap_err();
    assert!(format!("{err:#}").contains("trian"));
}

#[test]
fn duplicate_names_point_at_the_second() {
    let err = parse_str(
        "[[workload]]\nname = \"a\"\nrun = \"true\"\nuse = [\"train\"]\n[[workload]]\nname = \"a\"\nrun = \"true\"\nuse = [\"bench\"]\n",
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("pgo-build.toml:6"), "{err:#}");
}

#[test]
fn command_line_args_must_be_used_by_the_line() {
    let config = |run: &str| {
        parse_str(&format!("[[workload]]\nname = \"a\"\nrun = '''{run}'''\nargs = [\"x\"]\nuse = [\"train\"]\n"))
    };
    for used in ["\"$PGO_BUILD_BIN\" \"$@\"", "for f in \"$@\"; do echo $f; done", "echo $1", "echo ${1}", "echo $*"] {
        assert!(config(used).is_ok(), "{used}");
    }
    let err = config("\"$PGO_BUILD_BIN\" --count").unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("pgo-build.toml:3") && text.contains("uses none of them"), "{text}");
    // A script gets its args as arguments: nothing to check.
    assert!(parse_str("[[workload]]\nname = \"a\"\nrun = \"w/a.sh\"\nargs = [\"x\"]\nuse = [\"train\"]\n").is_ok());
}

#[test]
fn missing_script_path_is_an_error() {
    let err = parse_str("[[workload]]\nname = \"a\"\nrun = \"w/missing.sh\"\nuse = [\"train\"]\n").unwrap_err();
    assert!(format!("{err:#}").contains("does not exist"), "{err:#}");
}

#[test]
fn workloads_are_discovered_from_folders() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    for (sub, name) in [("train", "t1.sh"), ("bench", "b1.sh"), ("bench", "notes.txt")] {
        let folder = dir.path().join("workloads").join(sub);
        std::fs::create_dir_all(&folder).unwrap();
        let file = folder.join(name);
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        if name.ends_with(".sh") {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let found = discover::discover(dir.path()).unwrap();
    let names: Vec<_> = found.iter().map(|w| (w.name.as_str(), w.is(Use::Train))).collect();
    assert_eq!(names, [("b1", false), ("t1", true)]);
}
