use super::*;

#[test]
fn reads_dyno_stats() {
    let report = "  3400047 : taken branches (-26.1%)\n  51002059 : executed instructions (-0.0%)\n";
    assert_eq!(dyno_summary(report), "taken branches -26.1%, executed instructions -0.0%");
}

/// Where llvm-bolt's flags come from, as a table: the command line's
/// replacement set, else the config's, else the defaults; splitting left out
/// by either `--bolt-no-split` or `bolt-split = false`; then the config's and
/// the command line's additions, in that order.
#[test]
fn flag_precedence() {
    let config = |flags: &[&str], args: &[&str], split: Option<bool>| Config {
        bolt_flags: flags.iter().map(|s| s.to_string()).collect(),
        bolt_args: args.iter().map(|s| s.to_string()).collect(),
        bolt_split: split,
        ..Config::default()
    };
    let options = |flags: &[&str], args: &[&str], no_split: bool| BoltOptions {
        flags: flags.iter().map(|s| s.to_string()).collect(),
        args: args.iter().map(|s| s.to_string()).collect(),
        mode: None,
        no_split,
    };
    let defaults: Vec<String> = DEFAULT_FLAGS.iter().map(|f| f.to_string()).collect();
    let unsplit: Vec<String> = defaults.iter().filter(|f| !SPLIT_FLAGS.contains(&f.as_str())).cloned().collect();
    let table: Vec<(Config, BoltOptions, Vec<String>)> = vec![
        (config(&[], &[], None), options(&[], &[], false), defaults.clone()),
        (config(&["-c"], &[], None), options(&[], &[], false), vec!["-c".into()]),
        (config(&["-c"], &[], None), options(&["-x"], &[], false), vec!["-x".into()]),
        (config(&[], &[], Some(false)), options(&[], &[], false), unsplit.clone()),
        (config(&[], &[], Some(true)), options(&[], &[], true), unsplit),
        (
            config(&["-c", "-split-eh"], &["-ca"], None),
            options(&[], &["-xa"], true),
            vec!["-c".into(), "-ca".into(), "-xa".into()],
        ),
    ];
    for (config, options, want) in table {
        assert_eq!(optimization_flags(&config, &options), want, "{options:?} with {:?}", config.bolt_flags);
    }
}
