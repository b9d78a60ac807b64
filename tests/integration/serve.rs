//! Server workloads on real processes over loopback, each bounded in time:
//! readiness by tcp, http and command; SIGTERM handled and unhandled, SIGINT and
//! SIGKILL, each leaving the server's profile (continuous mode); a server that
//! exits before it is ready, one that never gets ready, one that crashes during
//! the load; a server counted under cachegrind and timed by compare; and no server
//! outlives its test.

use crate::utils::{TestProject, stderr, stdout};

/// A std-only server and client in one binary. `serve ADDR [--handle-term]
/// [--crash-after N]`: answers each connection's first line (a number, or an
/// HTTP request) with a checksum computed by `respond`. `client ADDR N`: sends N
/// requests and checks the answers.
const MAIN: &str = r#"
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
extern "C" fn on_term(_: i32) { STOP.store(true, Ordering::SeqCst); }
unsafe extern "C" { fn signal(sig: i32, handler: extern "C" fn(i32)) -> usize; }

#[inline(never)]
fn respond(n: u64) -> u64 {
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(match i % 5 { 0 => i / 3, 1 | 2 => i * 7, _ => i ^ 0x5a });
    }
    acc
}

fn serve(addr: &str, handle_term: bool, crash_after: Option<u32>) {
    if handle_term {
        unsafe { signal(15, on_term); }
    }
    let listener = TcpListener::bind(addr).expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    eprintln!("listening on {addr}");
    let mut served = 0;
    loop {
        if STOP.load(Ordering::SeqCst) {
            eprintln!("SIGTERM: stopping after {served} requests");
            return;
        }
        match listener.accept() {
            Ok((mut s, _)) => {
                s.set_nonblocking(false).expect("blocking");
                let mut line = String::new();
                let _ = BufReader::new(&s).read_line(&mut line);
                let n: u64 = line.trim().parse().unwrap_or(10);
                let body = respond(n).to_string();
                let _ = write!(s, "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                served += 1;
                if Some(served) == crash_after {
                    eprintln!("crashing on purpose");
                    std::process::abort();
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(std::time::Duration::from_millis(2)),
            Err(e) => panic!("accept: {e}"),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("serve") => {
            let crash = args.iter().position(|a| a == "--crash-after").map(|i| args[i + 1].parse().unwrap());
            serve(&args[2], args.iter().any(|a| a == "--handle-term"), crash)
        }
        Some("client") => {
            let n: u32 = args[3].parse().unwrap();
            for _ in 0..n {
                let mut s = TcpStream::connect(&args[2]).expect("connect");
                writeln!(s, "20000").unwrap();
                let mut answer = String::new();
                std::io::Read::read_to_string(&mut s, &mut answer).unwrap();
                // Checked without calling `respond`: only the server runs it.
                assert!(answer.starts_with("HTTP/1.0 200 OK"), "bad answer {answer:?}");
            }
        }
        _ => println!("fixture"),
    }
}
"#;

const MANIFEST: &str = "[package]\nname = \"fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n";

/// A server workload table: `extra` adds or overrides keys.
fn server(name: &str, serve: &str, extra: &str) -> String {
    format!(
        "[[workload]]\nname = \"{name}\"\nserve = '{serve}'\nrun = '\"$PGO_BUILD_BIN\" client \"$PGO_BUILD_ADDR\" 20'\n\
         use = [\"train\"]\ntimeout = 60\n{extra}\n"
    )
}

fn project(config: &str) -> TestProject {
    let p = TestProject::empty();
    p.file("Cargo.toml", MANIFEST);
    p.file("src/main.rs", MAIN);
    p.file("pgo-build.toml", config);
    p
}

/// Processes of the project's instrumented binary still running.
fn survivors(p: &TestProject) -> Vec<String> {
    let out = std::process::Command::new("pgrep").args(["-af", &p.pgo_dir().display().to_string()]).output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect()).unwrap_or_default()
}

#[test]
fn servers_are_ready_by_tcp_http_and_command_and_leave_profiles_however_they_stop() {
    let serve = r#""$PGO_BUILD_BIN" serve "$PGO_BUILD_ADDR""#;
    let handled = r#""$PGO_BUILD_BIN" serve "$PGO_BUILD_ADDR" --handle-term"#;
    let config = [
        server("tcp-term-handled", handled, ""),
        server("http-term-unhandled", serve, "ready = \"http:/health\""),
        server("command-int", serve, "ready = '\"$PGO_BUILD_BIN\" client \"$PGO_BUILD_ADDR\" 1'\nstop = \"SIGINT\""),
        server("tcp-kill", serve, "stop = \"SIGKILL\""),
    ]
    .concat();
    let p = project(&config);
    p.run(&["instrument"]);
    let out = p.run(&["train"]);
    assert!(survivors(&p).is_empty(), "servers outlived training: {:?}", survivors(&p));
    // The handled SIGTERM ended the server normally; its log says so.
    let log = std::fs::read_to_string(p.pgo_dir().join("logs/train/tcp-term-handled.server.log")).expect("server log");
    assert!(log.contains("SIGTERM: stopping after 2"), "{log}");
    // Each workload's raw profiles hold the server's request handler, which only
    // the server runs: the profiles of servers killed by a signal survived
    // (continuous mode, on because a training workload has a server).
    for w in ["tcp-term-handled", "http-term-unhandled", "command-int", "tcp-kill"] {
        let count = respond_count(&p.pgo_dir().join("profiles/raw").join(w));
        assert!(count >= 20, "{w}: `respond`'s counters add up to {count} in the profile\n{}", stderr(&out));
    }
    p.run(&["merge"]);
    assert!(stdout(&p.run(&["show", "--top", "200"])).contains("fixture::respond"));
}

/// The sum of `respond`'s counters in the raw profiles in `dir` (0: never ran).
fn respond_count(dir: &std::path::Path) -> u64 {
    let sysroot = std::process::Command::new("rustc").args(["--print", "sysroot"]).output().expect("rustc");
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    let profdata = walk_find(std::path::Path::new(&sysroot).join("lib/rustlib").as_path(), "llvm-profdata")
        .expect("the rustup llvm-tools component (installed by .ci/install-test-deps)");
    let raws: Vec<std::path::PathBuf> =
        std::fs::read_dir(dir).expect("raw profiles").flatten().map(|e| e.path()).collect();
    let merged = dir.with_extension("test.profdata");
    let ok =
        std::process::Command::new(&profdata).arg("merge").arg("-o").arg(&merged).args(&raws).status().expect("merge");
    assert!(ok.success(), "llvm-profdata merge failed on {raws:?}");
    let out = std::process::Command::new(&profdata)
        .args(["show", "--counts", "--function=respond"])
        .arg(&merged)
        .output()
        .expect("show");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // `Block counts: [a, b, …]`: the function's counters, summed.
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("Block counts: ["))
        .flat_map(|l| l.trim_end_matches(']').split(", ").filter_map(|n| n.parse::<u64>().ok()).collect::<Vec<_>>())
        .sum()
}

fn walk_find(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(found) = walk_find(&p, name) {
                return Some(found);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

#[test]
fn a_server_that_fails_is_named_with_its_log_and_never_left_running() {
    let p = project(&server("early-exit", "echo cannot start >&2; exit 3", ""));
    p.run(&["instrument"]);
    let err = stderr(&p.fail(&["train"]));
    assert!(err.contains("workload `early-exit`: its server"), "{err}");
    assert!(err.contains("ended with exit status 3 before it was ready"), "{err}");
    assert!(err.contains("cannot start"), "the server's log tail: {err}");

    p.file("pgo-build.toml", &server("never-ready", r#""$PGO_BUILD_BIN" serve 127.0.0.1:1"#, "ready-timeout = 1"));
    let started = std::time::Instant::now();
    let err = stderr(&p.fail(&["train"]));
    assert!(err.contains("was not ready after 1.0s (nothing accepted connections on 127.0.0.1:"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));

    let crash = r#""$PGO_BUILD_BIN" serve "$PGO_BUILD_ADDR" --crash-after 3"#;
    p.file("pgo-build.toml", &server("crash", crash, ""));
    let err = stderr(&p.fail(&["train"]));
    // `sh -c` reports the abort as 128 + 6.
    assert!(err.contains("ended with exit status 134 while the client ran"), "{err}");
    assert!(err.contains("crashing on purpose"), "{err}");
    assert!(survivors(&p).is_empty(), "a server outlived its workload: {:?}", survivors(&p));
}

#[test]
fn a_server_stopped_by_sigterm_is_counted_and_measured_by_compare() {
    // The server (and the client, the same binary here) under cachegrind: it
    // writes its figures even when it dies of the unhandled SIGTERM.
    let bench = server("load", r#""$PGO_BUILD_BIN" serve "$PGO_BUILD_ADDR""#, "").replace("[\"train\"]", "[\"bench\"]");
    let p = project(&bench);
    p.file("Cargo.toml", &format!("{MANIFEST}\n[profile.aa]\ninherits = \"release\"\nsplit-debuginfo = \"packed\"\n"));
    let args = ["compare", "--baseline", "release", "--variants", "aa", "--rounds", "2", "--warmup", "0"];
    let mut counted = args.to_vec();
    counted.extend(["--startup-args", "", "--counts", "--counter", "cachegrind"]);
    p.run(&counted);
    let text = std::fs::read_to_string(p.pgo_dir().join("report/report.json")).expect("report.json");
    let r: serde_json::Value = serde_json::from_str(&text).expect("report.json parses");
    let w = &r["variants"][0]["counts"]["workloads"][0];
    assert!(w["processes"].as_u64().unwrap_or(0) >= 2, "the server and the client: {w}");
    assert!(w["instructions"].as_u64().unwrap_or(0) > 1_000_000, "{w}");
    assert_eq!(r["variants"][1]["workloads"][0]["runs"], 2, "and timed: {}", r["variants"][1]);
    assert!(survivors(&p).is_empty(), "{:?}", survivors(&p));
}

/// The first `*.ready.log` under the project's pgo-build folder: a `ready`
/// command has started.
fn ready_log_exists(p: &TestProject) -> bool {
    walkdir::WalkDir::new(p.pgo_dir())
        .into_iter()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".ready.log"))
}

#[test]
fn a_ready_command_is_bounded_by_ready_timeout_and_ended_by_a_signal() {
    use std::time::{Duration, Instant};
    let serve = r#""$PGO_BUILD_BIN" serve "$PGO_BUILD_ADDR""#;
    let p = project(&server("slow-ready", serve, "ready = \"sleep 30\"\nready-timeout = 2"));
    p.run(&["instrument"]);
    let started = Instant::now();
    let err = stderr(&p.fail(&["train"]));
    assert!(err.contains("was not ready after 2.0s (`sleep 30` never exited 0)"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(25), "the ready command ran past ready-timeout: {err}");

    // A stuck ready command and Ctrl-C, or a cancelled CI job's SIGTERM: pgo-build
    // ends it and its server at once, and exits 130.
    for (signal, seconds) in [("INT", 1001), ("TERM", 1002)] {
        let _ = std::fs::remove_dir_all(p.pgo_dir().join("logs"));
        let ready = format!("ready = \"sleep {seconds}\"\nready-timeout = 600");
        p.file("pgo-build.toml", &server("stuck-ready", serve, &ready));
        let err_path = p.path().join("train.err");
        let mut child = p
            .std_cmd(&["train"])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&err_path).expect("test I/O"))
            .spawn()
            .expect("pgo-build runs");
        let waiting = Instant::now();
        while !ready_log_exists(&p) {
            assert!(waiting.elapsed() < Duration::from_secs(60), "the ready command never started");
            assert!(child.try_wait().expect("test I/O").is_none(), "train ended before its ready command ran");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        let sent = Instant::now();
        let kill = std::process::Command::new("kill").args([format!("-{signal}"), child.id().to_string()]).status();
        assert!(kill.expect("kill runs").success());
        let status = loop {
            if let Some(status) = child.try_wait().expect("test I/O") {
                break status;
            }
            if sent.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                panic!("SIG{signal} did not stop pgo-build waiting on its ready command");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let err = std::fs::read_to_string(&err_path).expect("test I/O");
        assert_eq!(status.code(), Some(130), "SIG{signal}: {err}");
        let sleeping = std::process::Command::new("pgrep").args(["-f", &format!("sleep {seconds}")]).output();
        assert!(sleeping.expect("pgrep runs").stdout.is_empty(), "the ready command outlived pgo-build");
        assert!(survivors(&p).is_empty(), "a server outlived pgo-build: {:?}", survivors(&p));
    }
}

#[test]
fn a_server_that_dies_under_load_ends_a_retrying_client_at_once() {
    use std::time::{Duration, Instant};
    let crash = r#""$PGO_BUILD_BIN" serve "$PGO_BUILD_ADDR" --crash-after 3"#;
    // A client that retries for ever: only its timeout (60 s) would end it.
    let retrying = r#"while :; do "$PGO_BUILD_BIN" client "$PGO_BUILD_ADDR" 1 2>/dev/null || sleep 0.1; done"#;
    let config = server("crash-retry", crash, "").replace(r#""$PGO_BUILD_BIN" client "$PGO_BUILD_ADDR" 20"#, retrying);
    let p = project(&config);
    p.run(&["instrument"]);
    let started = Instant::now();
    let err = stderr(&p.fail(&["train"]));
    assert!(err.contains("ended with exit status 134 while the client ran"), "{err}");
    assert!(err.contains("crashing on purpose"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(40), "the client ran on after its server died: {err}");
    assert!(survivors(&p).is_empty(), "{:?}", survivors(&p));
}
