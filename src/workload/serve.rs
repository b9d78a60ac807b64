//! Server workloads: a workload may name a server (`serve`) to start before its
//! `run` script, the client. pgo-build picks a free loopback port
//! (`PGO_BUILD_PORT`, `PGO_BUILD_ADDR`), starts the server in its own process
//! group with its output logged, waits until it is ready, runs the client, then
//! stops the server (a signal, then `SIGKILL` after `stop-timeout`) and reaps it.
//! The server is the binary under test: it runs `"$PGO_BUILD_BIN"`.
//!
//! A server that exits before it is ready, never gets ready, or exits while the
//! client runs fails the workload, named, with the end of its log.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::config::Workload;
use crate::config::serve::{Ready, Serve};
use crate::process::{Cmd, Finished, TAIL_LINES, tail_of_file};

/// A free port on the loopback interface: bound, read, and released for the
/// server to take (another process could take it in between; then the server
/// fails to start and says so).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Where a server's output goes: beside the client's log.
pub fn server_log(log: &Path) -> PathBuf {
    beside(log, "server")
}

/// The log `<stem>.<what>.log` beside the client's `<stem>.log`.
fn beside(log: &Path, what: &str) -> PathBuf {
    let name = log.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".log").unwrap_or(&name);
    log.with_file_name(format!("{stem}.{what}.log"))
}

/// Runs `client` against `w`'s server: start, ready, client, stop. The client's
/// outcome is returned; a server that fails is an error.
pub fn run(w: &Workload, serve: &Serve, client: &Cmd, log: &Path, stderr_log: Option<&Path>) -> Result<Finished> {
    let port = client.env_value("PGO_BUILD_PORT").and_then(|p| p.parse::<u16>().ok()).unwrap_or(0);
    let server_log = server_log(log);
    let server_cmd = client.sibling("sh", ["-c", serve.command.as_str(), w.name.as_str()]);
    let mut server = server_cmd.start_logged(&server_log)?;
    let failed = |what: String| -> anyhow::Error {
        let tail = tail_of_file(&server_log, TAIL_LINES);
        let output = if tail.trim().is_empty() {
            "It printed nothing.".to_string()
        } else {
            format!("--- last lines of its output (full log: {}) ---\n{}", server_log.display(), tail.trim_end())
        };
        anyhow::anyhow!("workload `{}`: its server (`serve = {:?}`) {what}.\n{output}", w.name, serve.command)
    };

    // Ready? Every probe is bounded by what is left of `ready-timeout`.
    let deadline = Instant::now() + serve.ready_timeout;
    let not_ready = || {
        failed(format!(
            "was not ready after {} ({}); raise `ready-timeout`, or check that it listens on $PGO_BUILD_PORT",
            crate::util::human_duration(serve.ready_timeout),
            describe(&serve.ready, port)
        ))
    };
    loop {
        crate::process::check_interrupted()?;
        if let Some(outcome) = server.ended()? {
            return Err(failed(format!("ended with {outcome} before it was ready")));
        }
        let ready = match &serve.ready {
            Ready::Command(line) => {
                let probe = server_cmd.sibling("sh", ["-c", line.as_str(), w.name.as_str()]);
                command_succeeds(&probe, &ready_log(log), deadline)?
            }
            other => is_ready(other, port),
        };
        if ready {
            break;
        }
        if Instant::now() >= deadline {
            return Err(not_ready());
        }
        std::thread::sleep(Duration::from_millis(25));
    }

    // The client, with the server watched while it runs: a server that dies
    // ends the client at once rather than when it gives up.
    let mut died = None;
    let finished = client.run_logged_until(log, stderr_log, Some(w.timeout), || {
        died = server.ended().ok().flatten();
        died.is_some()
    })?;
    if let Some(outcome) = died.or(server.ended()?) {
        return Err(failed(format!("ended with {outcome} while the client ran")));
    }
    server.stop(serve.signal(), serve.stop_timeout)?;
    Ok(finished)
}

/// Where a `ready` command's output goes: beside the server's log.
fn ready_log(log: &Path) -> PathBuf {
    beside(log, "ready")
}

/// Runs a `ready` command in a process group of its own until it exits, the
/// deadline passes, or the user interrupts: then its whole group is killed at
/// once. True when it exited 0 in time.
fn command_succeeds(probe: &Cmd, log: &Path, deadline: Instant) -> Result<bool> {
    // Dropping `running` kills its group and reaps it.
    let mut running = probe.start_logged(log)?;
    loop {
        crate::process::check_interrupted()?;
        if let Some(outcome) = running.ended()? {
            return Ok(outcome.success());
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn describe(ready: &Ready, port: u16) -> String {
    match ready {
        Ready::Tcp => format!("nothing accepted connections on 127.0.0.1:{port}"),
        Ready::Http(path) => format!("GET http://127.0.0.1:{port}{path} never answered 2xx or 3xx"),
        Ready::Command(line) => format!("`{line}` never exited 0"),
    }
}

/// Whether the server answers a `tcp` or `http:` probe (a command is run by
/// [`command_succeeds`]).
fn is_ready(ready: &Ready, port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let connect = || TcpStream::connect_timeout(&addr, Duration::from_millis(250));
    match ready {
        Ready::Tcp => connect().is_ok(),
        Ready::Http(path) => connect().is_ok_and(|mut s| {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
            let mut head = [0u8; 16];
            s.write_all(request.as_bytes()).is_ok()
                && s.read(&mut head).is_ok_and(|n| {
                    let text = String::from_utf8_lossy(&head[..n]);
                    text.split_whitespace()
                        .nth(1)
                        .and_then(|c| c.parse::<u16>().ok())
                        .is_some_and(|c| (200..400).contains(&c))
                })
        }),
        Ready::Command(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_log_sits_beside_the_clients() {
        assert_eq!(server_log(Path::new("/l/bench/kv.pgo.log")), Path::new("/l/bench/kv.pgo.server.log"));
        assert_eq!(ready_log(Path::new("/l/bench/kv.pgo.log")), Path::new("/l/bench/kv.pgo.ready.log"));
    }
}
