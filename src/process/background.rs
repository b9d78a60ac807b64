//! A command left running while others run: a workload's server. It runs in a
//! process group of its own, its output in a log, and it never outlives its
//! owner: dropping a [`Background`] kills the whole group and reaps it.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::{Cmd, Outcome};

/// A running command in its own process group.
#[derive(Debug)]
pub struct Background {
    handle: Option<duct::Handle>,
    group: Option<i32>,
    ended: Option<Outcome>,
}

impl Cmd {
    /// Starts the command in a process group of its own, its standard output and
    /// error going to `log`, and returns at once.
    pub fn start_logged(&self, log: &Path) -> Result<Background> {
        let file = File::create(log).with_context(|| format!("could not create log file {}", log.display()))?;
        let handle = self.start_in_group(self.expression().stdin_null().stderr_to_stdout().stdout_file(file))?;
        let group = handle.pids().first().and_then(|p| i32::try_from(*p).ok());
        Ok(Background { handle: Some(handle), group, ended: None })
    }
}

impl Background {
    /// How it ended, if it has.
    pub fn ended(&mut self) -> Result<Option<Outcome>> {
        if self.ended.is_none()
            && let Some(h) = &self.handle
            && let Some(output) = h.try_wait()?
        {
            self.ended = Some(Outcome::from_status(output.status));
        }
        Ok(self.ended)
    }

    /// Sends `signal` to the whole process group (a shell and what it started).
    pub fn signal(&self, signal: Signal) {
        if let Some(g) = self.group {
            // The group may be gone already; nothing to do then.
            let _ = killpg(Pid::from_raw(g), signal);
        }
    }

    /// Stops it: `signal` to the group, then `SIGKILL` when the group (the leader
    /// and every process it started: a shell's server outlives the shell) has not
    /// ended within `grace`. Returns how the leader ended, and whether `SIGKILL`
    /// was needed.
    pub fn stop(&mut self, signal: Signal, grace: Duration) -> Result<(Outcome, bool)> {
        self.signal(signal);
        let deadline = Instant::now() + grace;
        loop {
            let leader = self.ended()?;
            if let (Some(o), false) = (leader, self.group_alive()) {
                self.group = None;
                return Ok((o, false));
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.signal(Signal::SIGKILL);
        let outcome = match self.handle.take() {
            Some(h) => Outcome::from_status(h.wait()?.status),
            None => self.ended.unwrap_or(Outcome::Signalled(Signal::SIGKILL as i32)),
        };
        self.ended = Some(outcome);
        self.group = None;
        Ok((outcome, true))
    }

    /// Whether any process of the group is left (a signal 0 reaches one).
    fn group_alive(&self) -> bool {
        self.group.is_some_and(|g| killpg(Pid::from_raw(g), None).is_ok())
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
        if let Some(h) = self.handle.take() {
            let _ = h.wait();
        }
    }
}
