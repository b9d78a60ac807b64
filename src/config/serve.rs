//! A workload's server keys (`serve`, `ready`, `ready-timeout`, `stop`,
//! `stop-timeout`), checked into a [`Serve`]. Running it is `workload::serve`'s.

use std::time::Duration;

use anyhow::{Result, bail};
use nix::sys::signal::Signal;
use serde::Serialize;

/// Default wait for a server to get ready.
pub const DEFAULT_READY_TIMEOUT_SECS: f64 = 30.0;
/// Default wait for a server to exit after its stop signal, before `SIGKILL`.
pub const DEFAULT_STOP_TIMEOUT_SECS: f64 = 10.0;

/// A workload's server, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Serve {
    /// The command line that starts it (`sh -c`).
    pub command: String,
    pub ready: Ready,
    pub ready_timeout: Duration,
    /// The signal that stops it (`SIGTERM`).
    pub stop: String,
    pub stop_timeout: Duration,
}

/// When a server is ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Ready {
    /// `PGO_BUILD_PORT` accepts a connection.
    Tcp,
    /// `GET <path>` on the port answers with a 2xx or 3xx status.
    Http(String),
    /// A command line (`sh -c`) exits 0.
    Command(String),
}

/// The signals a server may be stopped with.
const SIGNALS: [(&str, Signal); 7] = [
    ("SIGTERM", Signal::SIGTERM),
    ("SIGINT", Signal::SIGINT),
    ("SIGHUP", Signal::SIGHUP),
    ("SIGQUIT", Signal::SIGQUIT),
    ("SIGUSR1", Signal::SIGUSR1),
    ("SIGUSR2", Signal::SIGUSR2),
    ("SIGKILL", Signal::SIGKILL),
];

impl Serve {
    /// Checks the config's server keys; the error says which and why.
    pub fn parse(
        command: &str,
        ready: Option<&str>,
        ready_timeout: Option<f64>,
        stop: Option<&str>,
        stop_timeout: Option<f64>,
    ) -> Result<Serve> {
        if command.trim().is_empty() {
            bail!("`serve` is empty");
        }
        let ready = match ready.map(str::trim) {
            None | Some("tcp") => Ready::Tcp,
            Some(r) if r.starts_with("http:") => {
                let path = &r["http:".len()..];
                if !path.starts_with('/') {
                    bail!("`ready = \"{r}\"`: the path after `http:` must start with `/`, e.g. \"http:/health\"");
                }
                Ready::Http(path.to_string())
            }
            Some("") => bail!("`ready` is empty: say \"tcp\", \"http:/path\" or a command that exits 0 when ready"),
            Some(other) => Ready::Command(other.to_string()),
        };
        let stop = stop.unwrap_or("SIGTERM").trim().to_ascii_uppercase();
        let stop = if stop.starts_with("SIG") { stop } else { format!("SIG{stop}") };
        if !SIGNALS.iter().any(|(n, _)| *n == stop) {
            let known: Vec<&str> = SIGNALS.iter().map(|(n, _)| *n).collect();
            bail!("`stop = \"{stop}\"` is not a signal pgo-build stops servers with (one of {})", known.join(", "));
        }
        let seconds = |key: &str, v: Option<f64>, default: f64| -> Result<Duration> {
            let v = v.unwrap_or(default);
            if !(v > 0.0 && v.is_finite()) {
                bail!("`{key}` is {v}; it must be a positive number of seconds");
            }
            Ok(Duration::from_secs_f64(v))
        };
        Ok(Serve {
            command: command.to_string(),
            ready,
            ready_timeout: seconds("ready-timeout", ready_timeout, DEFAULT_READY_TIMEOUT_SECS)?,
            stop,
            stop_timeout: seconds("stop-timeout", stop_timeout, DEFAULT_STOP_TIMEOUT_SECS)?,
        })
    }

    /// The signal that stops it.
    pub fn signal(&self) -> Signal {
        SIGNALS.iter().find(|(n, _)| *n == self.stop).map_or(Signal::SIGTERM, |(_, s)| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_are_checked_and_defaulted() {
        let s = Serve::parse("x", None, None, None, None).unwrap();
        assert_eq!((s.ready, s.stop.as_str()), (Ready::Tcp, "SIGTERM"));
        assert_eq!(s.stop_timeout, Duration::from_secs(10));
        let s = Serve::parse("x", Some("http:/health"), Some(2.0), Some("int"), Some(0.5)).unwrap();
        assert_eq!((s.ready, s.stop.as_str()), (Ready::Http("/health".into()), "SIGINT"));
        assert_eq!(
            Serve::parse("x", Some("curl -sf localhost"), None, None, None).unwrap().ready,
            Ready::Command("curl -sf localhost".into())
        );
        assert!(
            Serve::parse("x", Some("http:health"), None, None, None)
                .unwrap_err()
                .to_string()
                .contains("must start with `/`")
        );
        assert!(
            Serve::parse("x", None, None, Some("SIGSTOP"), None).unwrap_err().to_string().contains("SIGTERM, SIGINT")
        );
        assert!(
            Serve::parse("x", None, Some(0.0), None, None).unwrap_err().to_string().contains("`ready-timeout` is 0")
        );
        assert!(Serve::parse(" ", None, None, None, None).is_err());
    }
}
