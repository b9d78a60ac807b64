//! `show` and `overlap`: what a profile holds, and how well training covers the benchmarks.

use crate::utils::{FIXTURE_CONFIG, TestProject, stderr, stdout};

/// The fixture with a second path: `--checksum` runs `checksum`, which the
/// `short` training workload never does.
const TWO_PATHS_MAIN: &str = r#"
fn classify(n: u64) -> u64 {
    match n % 7 {
        0 => n / 7,
        1 | 2 => n * 3 + 1,
        3 => n ^ 0x55,
        _ => n.rotate_left(3),
    }
}

#[inline(never)]
fn checksum(n: u64) -> u64 {
    (0..n).fold(0u64, |acc, i| acc.rotate_left(5) ^ i.wrapping_mul(0x9e37_79b9))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(classify(i));
    }
    if args.get(2).map(String::as_str) == Some("--checksum") {
        acc ^= checksum(n);
    }
    println!("{acc}");
}
"#;

/// The numbers in the `share` column of `show`'s workload table.
fn shares(text: &str) -> Vec<(String, f64)> {
    let table = text.split("workload  weight").nth(1).expect("a workload table");
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let share = words.last()?.trim_end_matches('%').parse().ok()?;
            Some((words.first()?.to_string(), share))
        })
        .collect()
}

#[test]
fn show_summarizes_the_profile_and_each_workloads_share() {
    let p = TestProject::new();
    p.run(&["all", "--no-compare"]);

    let out = p.run(&["-q", "show"]);
    let text = stdout(&out);
    let functions: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("functions: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no function count: {text}"));
    assert!(functions > 0, "{text}");
    assert!(text.contains("hottest functions"), "{text}");
    assert!(text.contains("fixture::main") || text.contains("fixture::classify"), "demangled names: {text}");
    assert!(!text.contains("_ZN"), "mangled names: {text}");
    assert_eq!(shares(&text), [("short".to_string(), 100.0)], "{text}");
    assert!(stderr(&out).is_empty(), "-q prints only results: {}", stderr(&out));

    let out = p.run(&["show", "--top", "1"]);
    assert!(stdout(&out).contains("hottest functions (1 of "), "{}", stdout(&out));

    // A second, weighted training workload: the shares split and add up.
    p.file(
        "pgo-build.toml",
        &format!(
            "{FIXTURE_CONFIG}\n[[workload]]\nname = \"extra\"\nrun = \"$PGO_BUILD_BIN 50000 > /dev/null\"\n\
             use = [\"train\"]\nweight = 2\n"
        ),
    );
    p.run(&["train"]);
    p.run(&["merge"]);
    let text = stdout(&p.run(&["show"]));
    let shares = shares(&text);
    assert_eq!(shares.len(), 2, "{text}");
    let sum: f64 = shares.iter().map(|(_, s)| s).sum();
    assert!((sum - 100.0).abs() < 0.2, "shares add up to {sum}: {text}");
    let share = |name: &str| shares.iter().find(|(n, _)| n == name).map(|(_, s)| *s).unwrap();
    assert!(share("short") > share("extra") && share("extra") > 10.0, "{text}");
    assert!(text.contains("×2"), "the weight is shown: {text}");

    // A stored copy, shown in a project that has no pipeline state.
    let merged = p.state()["merge"]["profile"].as_str().unwrap().to_string();
    let other = TestProject::new();
    let stored = other.path().join("stored.profdata");
    std::fs::copy(&merged, &stored).unwrap();
    let text = stdout(&other.run(&["show", "stored.profdata"]));
    assert!(text.contains("functions: ") && text.contains("fixture::"), "{text}");
    assert!(text.contains("contributions: unknown"), "{text}");
    assert!(!other.pgo_dir().join("state.json").exists());
}

#[test]
fn overlap_reports_coverage_and_names_what_training_never_ran() {
    let p = TestProject::new();
    p.file("src/main.rs", TWO_PATHS_MAIN);
    p.script("workloads/long.sh", "#!/bin/sh\nexec \"$PGO_BUILD_BIN\" 2000000 --checksum > /dev/null\n");
    for stage in ["instrument", "train", "merge"] {
        p.run(&[stage]);
    }

    let out = p.run(&["overlap"]);
    let text = stdout(&out);
    assert!(text.contains("overlap: ") && text.contains("covered by the training profile"), "{text}");
    assert!(text.contains("never in training") && text.contains("fixture::checksum"), "{text}");
    assert!(text.contains("verdict: poor"), "{text}");
    assert!(stderr(&out).contains("long: 1 raw profile,"), "{}", stderr(&out));
    assert!(p.pgo_dir().join("profiles/bench.profdata").is_file());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.pgo_dir().join("overlap.json")).unwrap()).unwrap();
    let low = json["overlap_pct"].as_f64().unwrap();
    assert!(low > 0.0 && low < 80.0, "{json}");
    assert_eq!(json["llvm_profdata"]["edge_overlap_pct"].as_f64(), Some(low));
    assert_eq!(json["verdict"], "poor");
    assert_eq!(json["coverage"]["never_ran_in_training"][0]["name"], "fixture::checksum", "{json}");
    assert_eq!(json["bench_workloads"][0], "long");
    assert!(text.contains(&format!("{low:.1}%")), "the printed figure is the recorded one: {text}");

    // --min-overlap turns a low figure into exit code 6.
    let out = p.cmd(&["overlap", "--min-overlap", "80"]).assert().code(6).get_output().clone();
    assert!(stderr(&out).contains("below --min-overlap 80%"), "{}", stderr(&out));

    // Benchmarks that do what the training does are covered.
    p.script("workloads/long.sh", "#!/bin/sh\nexec \"$PGO_BUILD_BIN\" 2000000 > /dev/null\n");
    let text = stdout(&p.run(&["-q", "overlap", "--min-overlap", "90"]));
    assert!(text.contains("verdict: good"), "{text}");
    assert!(!text.contains("fixture::checksum"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.pgo_dir().join("overlap.json")).unwrap()).unwrap();
    assert!(json["overlap_pct"].as_f64().unwrap() > 90.0, "{json}");
    assert_eq!(json["coverage"]["never_ran_in_training"].as_array().map(Vec::len), Some(0), "{json}");
}

#[test]
fn insight_commands_name_the_stage_to_run_first() {
    let p = TestProject::new();
    let out = p.fail(&["show"]);
    let err = stderr(&out);
    assert!(err.contains("run `pgo-build instrument` first (then the stages after it up to merge)"), "{err}");
    assert!(err.contains("or name a profile: `pgo-build show FILE`"), "{err}");
    let out = p.fail(&["show", "nope.profdata"]);
    assert!(stderr(&out).contains("nope.profdata does not exist"), "{}", stderr(&out));
    let out = p.fail(&["overlap"]);
    assert!(stderr(&out).contains("run `pgo-build instrument` first"), "{}", stderr(&out));

    let out = p.run(&["overlap", "--dry-run"]);
    assert!(stdout(&out).contains("PGO_BUILD_STAGE=overlap"), "{}", stdout(&out));
    assert!(stdout(&out).contains("llvm-profdata overlap"), "{}", stdout(&out));
    assert!(!p.pgo_dir().join("overlap.json").exists());

    p.run(&["instrument"]);
    p.run(&["train"]);
    let out = p.fail(&["overlap"]);
    assert!(stderr(&out).contains("run `pgo-build merge` first"), "{}", stderr(&out));

    std::fs::remove_file(p.path().join("workloads/long.sh")).unwrap();
    p.file(
        "pgo-build.toml",
        "[[workload]]\nname = \"short\"\nrun = \"$PGO_BUILD_BIN 200000 > /dev/null\"\nuse = [\"train\"]\n",
    );
    let out = p.fail(&["overlap"]);
    assert!(stderr(&out).contains("there are no benchmark workloads"), "{}", stderr(&out));
}
