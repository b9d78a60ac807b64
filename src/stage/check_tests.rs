use super::*;

fn diagnostic(target: &str, message: &str) -> Diagnostic {
    Diagnostic { level: "warning".into(), message: message.into(), rendered: String::new(), target: target.into() }
}

#[test]
fn reads_llvm_warnings_per_crate() {
    let d = [
        diagnostic(
            "fixture",
            "fixture.50de3fbff3e9d843-cgu.0: function control flow change detected (hash mismatch) \
             _ZN7fixture8classify17he47bd9076478a9b8E Hash = 287486628115765155 up to 228572 count discarded",
        ),
        diagnostic(
            "my-lib",
            "my_lib.0123-cgu.1: no profile data available for function _ZN6my_lib3new17hE Hash = 1 up to 0 \
             count discarded",
        ),
        diagnostic(
            "my-lib",
            "my_lib.0123-cgu.2: no profile data available for function _ZN6my_lib3new17hE Hash = 1 up to 0 \
             count discarded",
        ),
        diagnostic("fixture", "unused variable: `x`"),
    ];
    let w = warnings_by_crate(&d);
    assert_eq!(w.len(), 2);
    assert_eq!(w["fixture"].mismatched.get("_ZN7fixture8classify17he47bd9076478a9b8E"), Some(&228_572));
    assert_eq!(w["my_lib"].unprofiled.len(), 1);
}

#[test]
fn shares_are_of_the_profiled_functions() {
    // What `show --all-functions` lists for the fixture (its parser is tested in toolchain::profdata::show).
    let listing = Listing {
        names: [
            "fixture.50de3fbff3e9d843-cgu.0;_ZN4core3ptr35drop_in_place$LT$std..env..Args$GT$17ha4fc2e968a94c987E",
            "_ZN7fixture4main17hac8b0e8fa081523fE",
            "_ZN7fixture8classify17he47bd9076478a9b8E",
            "main",
        ]
        .map(String::from)
        .to_vec(),
        functions: 4,
        total_count: 228_604,
    };
    let mut warnings = BTreeMap::new();
    let mut w = CrateWarnings::default();
    w.mismatched.insert("_ZN7fixture8classify17he47bd9076478a9b8E".into(), 228_572);
    warnings.insert("fixture".to_string(), w);
    let workspace = BTreeSet::from(["fixture".to_string()]);

    let r = Report::new(&listing, &workspace, &warnings, Some(20.0));
    assert_eq!(r.crates.len(), 1);
    assert_eq!((r.crates[0].profiled_functions, r.crates[0].stale_functions), (3, 1));
    assert_eq!(r.other_profiled_functions, 1);
    assert_eq!(r.total.stale_percent, 25.0);
    assert!(!r.passed);
    assert!(Report::new(&listing, &workspace, &warnings, None).passed);

    let text = render(&r);
    assert_eq!(
        text,
        "crate           profiled  no profile data  hash mismatch      stale
fixture                3         0 (0.0%)      1 (33.3%)  1 (33.3%)
(other crates)         1                -              -          -
total                  4         0 (0.0%)      1 (25.0%)  1 (25.0%)

The hash mismatches discarded up to 100.0% of the profile's counts.

Stale functions (1 of 1):
  fixture: fixture::classify (hash mismatch)"
    );
}

#[test]
fn new_functions_cap_the_share_at_100() {
    assert_eq!(percent(5, 2), 100.0);
    assert_eq!(percent(1, 0), 100.0);
    assert_eq!(percent(0, 0), 0.0);
}
