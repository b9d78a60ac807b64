//! Naming the variants, and their binaries as they ship.

use super::*;

fn profiles() -> BTreeSet<String> {
    ["dev", "release", "test", "bench", "small"].iter().map(|s| s.to_string()).collect()
}

#[test]
fn default_variants_follow_the_pipeline() {
    let specs = resolve(None, None, "release", &profiles(), false).expect("resolves");
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["baseline", "release", "pgo"]);
    assert!(matches!(specs[0].source, Source::Preset(p) if p.name == "production"));
}

#[test]
fn the_projects_profile_wins_over_a_preset_of_its_name() {
    let list = ["small".to_string(), "fastest".to_string()];
    let specs = resolve(Some(&list), Some("release"), "release", &profiles(), false).expect("ok");
    assert!(matches!(&specs[0].source, Source::Profile(p) if p == "release"));
    assert!(matches!(&specs[1].source, Source::Profile(p) if p == "small"));
    assert!(matches!(specs[2].source, Source::Preset(p) if p.name == "fastest"));
}

#[test]
fn binaries_are_the_same_only_when_every_one_has_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = |dir: &str, name: &str, bytes: &[u8]| {
        let path = tmp.path().join(dir).join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        Binary { name: name.into(), path }
    };
    let pgo = [bin("pgo", "a", b"one"), bin("pgo", "b", b"two")];
    assert!(same_bytes(&[bin("v1", "a", b"one"), bin("v1", "b", b"two")], &pgo));
    assert!(!same_bytes(&[bin("v2", "a", b"one"), bin("v2", "b", b"2")], &pgo));
    assert!(!same_bytes(&[bin("v3", "c", b"one")], &pgo));
    assert!(!same_bytes(&[], &pgo));
}

/// Issue 18: `pgo-rust-only` in BOLT mode was built with `strip = false`, as
/// every build of a BOLT pipeline is, and reported unstripped (+335.7%)
/// beside the stripped `pgo`. Its size is now measured as it ships.
#[test]
fn a_build_unstripped_for_bolt_is_measured_as_it_ships() {
    let tmp = tempfile::tempdir().unwrap();
    // This test binary has its symbols and debug info, like a `strip = false` build.
    let built = tmp.path().join("built/demo");
    std::fs::create_dir_all(built.parent().unwrap()).unwrap();
    std::fs::copy(std::env::current_exe().unwrap(), &built).unwrap();
    let rustc = RustcInfo::detect(tmp.path()).expect("rustc");
    let binary = || vec![Binary { name: "demo".into(), path: built.clone() }];
    let size = |b: &[Binary]| std::fs::metadata(&b[0].path).unwrap().len();

    let same = as_shipped(&rustc, binary(), &tmp.path().join("shipped"), None).unwrap();
    assert_eq!(same[0].path, built, "a build already as it ships is measured as it is");
    let shipped = as_shipped(&rustc, binary(), &tmp.path().join("shipped"), Some(Strip::Debuginfo)).unwrap();
    assert_eq!(shipped[0].path, tmp.path().join("shipped/demo"));
    assert!(size(&shipped) * 2 < size(&binary()), "{} not much below {}", size(&shipped), size(&binary()));
    let symbols = as_shipped(&rustc, binary(), &tmp.path().join("stripped"), Some(Strip::Symbols)).unwrap();
    assert!(size(&symbols) < size(&shipped), "strip = true strips the symbols too");
    assert_eq!(size(&binary()), std::fs::metadata(&built).unwrap().len(), "the build itself is left alone");
}

#[test]
fn unknown_and_repeated_variants_are_refused() {
    let err = resolve(Some(&["tiny".to_string()]), None, "release", &profiles(), false).expect_err("unknown");
    assert!(err.to_string().contains("unknown variant `tiny`"), "{err}");
    assert!(err.to_string().contains("smallest"), "{err}");
    let twice = ["pgo".to_string(), "pgo".to_string()];
    assert!(resolve(Some(&twice), None, "release", &profiles(), false).is_err());
    assert!(resolve(None, Some("pgo"), "release", &profiles(), false).is_err());
}
