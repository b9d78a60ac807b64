use super::*;

#[test]
fn display_quotes_words_and_shows_env() {
    let cmd = Cmd::new("cargo").arg("build").arg("--config").arg("build.rustflags=[\"a b\"]").env("X", "1 2");
    assert_eq!(cmd.display(), r#"X='1 2' cargo build --config 'build.rustflags=["a b"]'"#);
}

#[test]
fn wrapping_keeps_env_and_directory() {
    let cmd = Cmd::new("sh").arg("-c").arg("true").env("A", "1").dir("/tmp").wrapped_by("perf", ["record", "-o", "d"]);
    assert_eq!(cmd.display(), "cd /tmp && A=1 perf record -o d -- sh -c true");
}

#[test]
fn failure_names_command_status_and_tail() {
    let err = Cmd::new("sh").args(["-c", "echo one; echo two >&2; exit 3"]).read().unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("exit status 3"), "{text}");
    assert!(text.contains("two"), "{text}");
}

#[test]
fn a_failed_commands_long_line_is_cut_in_the_error() {
    let err = Cmd::new("sh").args(["-c", "head -c 65536 /dev/zero | tr '\\0' x >&2; exit 1"]).read().unwrap_err();
    let text = format!("{err:#}");
    assert!(text.len() < 1024, "{} bytes", text.len());
    assert!(text.ends_with("… [65,136 bytes cut]"), "{text}");
}

#[test]
fn missing_program_says_not_found() {
    let err = Cmd::new("pgo-build-no-such-program").read().unwrap_err();
    assert!(format!("{err}").contains("program not found"));
}

#[test]
fn timeout_kills_the_whole_group() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let marker = dir.path().join("survived");
    let script = format!("(sleep 1; touch {}) & sleep 5", marker.display());
    let done = Cmd::new("sh").args(["-c", &script]).run_logged(&log, None, Some(Duration::from_millis(200))).unwrap();
    assert!(matches!(done.outcome, Outcome::TimedOut(_)));
    std::thread::sleep(Duration::from_millis(1300));
    assert!(!marker.exists(), "a grandchild outlived the timeout");
}

#[test]
fn an_abandoned_command_is_ended_with_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("survived");
    let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
    let asked = std::cell::Cell::new(0);
    let done = Cmd::new("sh")
        .args(["-c", &script])
        .run_logged_until(&dir.path().join("log"), None, None, || {
            asked.set(asked.get() + 1);
            asked.get() == 3
        })
        .unwrap();
    assert_eq!((done.outcome, asked.get()), (Outcome::Abandoned, 3));
    std::thread::sleep(Duration::from_millis(1300));
    assert!(!marker.exists(), "a grandchild outlived the abandoned command");
}

#[test]
fn signal_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let done = Cmd::new("sh").args(["-c", "kill -SEGV $$"]).run_logged(&dir.path().join("log"), None, None).unwrap();
    assert_eq!(done.outcome.to_string(), "killed by signal 11 (SIGSEGV)");
}
