//! Finding and stopping the processes that run a given executable, or that
//! carry a given environment variable.
//!
//! A workload may start a program in the background and not stop it (a server it
//! forgot to shut down, a child of a script killed on timeout that escaped its
//! process group). Such a leftover keeps running the instrumented binary, and
//! writes its raw profile into the training set whenever it ends. The caller finds
//! them by executable with [`running_instances`] and ends them with [`stop`].
//!
//! Decisions that may surprise:
//! - Processes are matched by `/proc/<pid>/exe`, the file the kernel runs, not by
//!   name or command line, which any process can set. Both sides are canonical
//!   paths. A binary deleted or replaced since the process started (cargo rebuilds
//!   it in place) reads as `<path> (deleted)`; the suffix is dropped, so those
//!   processes are found too.
//! - A workload's background child may not run the binary yet: a shell that has
//!   forked and not yet exec'd still runs `/bin/sh`. It already carries the
//!   workload's environment, though, which it cannot lose by exec'ing:
//!   [`with_env`] finds it by a variable that only that workload's processes have
//!   (`/proc/<pid>/environ`, the environment the process started with).
//! - Processes whose `exe` cannot be read (other users', without privileges) and
//!   zombies (which have no `exe` and run nothing) are not reported.
//! - Linux only, like the rest of pgo-build.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The pids of the processes (other than this one) running `exe`, in order.
pub fn running_instances(exe: &Path) -> Vec<u32> {
    let target = canonical(exe);
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let own = std::process::id();
    let mut pids: Vec<u32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != own && exe_of(pid).is_some_and(|path| path == target))
        .collect();
    pids.sort_unstable();
    pids
}

/// The pids of the processes (other than this one, and not zombies) whose
/// environment sets `key` to exactly `value`, in order.
pub fn with_env(key: &str, value: &str) -> Vec<u32> {
    let mut wanted = Vec::with_capacity(key.len() + value.len() + 1);
    wanted.extend_from_slice(key.as_bytes());
    wanted.push(b'=');
    wanted.extend_from_slice(value.as_bytes());
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let own = std::process::id();
    let mut pids: Vec<u32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != own)
        .filter(|&pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == wanted))
        })
        .filter(|&pid| i32::try_from(pid).is_ok_and(|p| is_running(Pid::from_raw(p))))
        .collect();
    pids.sort_unstable();
    pids
}

/// Asks each process to end (SIGTERM), waits up to `grace` for all of them, then
/// kills the ones still running (SIGKILL). Processes already gone are skipped.
/// Call it right after [`running_instances`]: a pid names a process only while it
/// runs, and the system may give it to another one later.
pub fn stop(pids: &[u32], grace: Duration) {
    let pids: Vec<Pid> = pids.iter().filter_map(|&p| i32::try_from(p).ok()).map(Pid::from_raw).collect();
    for &pid in &pids {
        // Gone already, or not ours to signal: nothing more to do for it.
        let _ = kill(pid, Signal::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    loop {
        let running: Vec<Pid> = pids.iter().copied().filter(|&pid| is_running(pid)).collect();
        if running.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            for pid in running {
                let _ = kill(pid, Signal::SIGKILL);
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stops what `find` finds ([`stop`]), and looks again, up to `rounds` times:
/// a process may start another between a look and its stop (a shell forking its
/// next command). Returns every pid stopped, sorted.
pub fn stop_until_gone(find: impl Fn() -> Vec<u32>, grace: Duration, rounds: usize) -> Vec<u32> {
    let mut stopped: Vec<u32> = Vec::new();
    for _ in 0..rounds {
        let pids = find();
        if pids.is_empty() {
            break;
        }
        stop(&pids, grace);
        stopped.extend(pids);
    }
    stopped.sort_unstable();
    stopped.dedup();
    stopped
}

/// `exe` as `/proc/<pid>/exe` would name it: canonical, also when the file is gone
/// (then its folder is canonicalized).
fn canonical(exe: &Path) -> PathBuf {
    if let Ok(path) = exe.canonicalize() {
        return path;
    }
    match (exe.parent().and_then(|p| p.canonicalize().ok()), exe.file_name()) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => std::path::absolute(exe).unwrap_or_else(|_| exe.to_path_buf()),
    }
}

/// The executable a process runs, without the ` (deleted)` of a removed file.
fn exe_of(pid: u32) -> Option<PathBuf> {
    let link = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    match link.as_os_str().as_bytes().strip_suffix(b" (deleted)") {
        Some(path) => Some(PathBuf::from(OsStr::from_bytes(path))),
        None => Some(link),
    }
}

/// Whether the process exists and is not a zombie (which has ended, and only
/// waits for its parent to collect its status).
fn is_running(pid: Pid) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // `<pid> (<comm>) <state> …`; the name may hold spaces and parentheses.
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    state.is_some_and(|s| s != 'Z' && s != 'X')
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    use super::*;

    /// A private copy of a system program, so no other process runs the same file.
    fn copy_of(program: &str, dir: &Path) -> PathBuf {
        let copy = dir.join(format!("own-{}", Path::new(program).file_name().unwrap().to_string_lossy()));
        std::fs::copy(program, &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        copy
    }

    /// Spawns `cmd`, retrying while the fresh copy is "text file busy": another test
    /// thread may fork while the copy's write handle is open, and its child holds
    /// that handle until it execs.
    fn spawn(cmd: &mut Command) -> std::process::Child {
        for _ in 0..50 {
            match cmd.spawn() {
                Err(e) if e.raw_os_error() == Some(nix::libc::ETXTBSY) => std::thread::sleep(Duration::from_millis(20)),
                other => return other.unwrap(),
            }
        }
        panic!("the copy stayed busy");
    }

    #[test]
    fn finds_a_running_copy_by_any_path_even_deleted_and_stops_it() {
        let dir = tempfile::tempdir().unwrap();
        let sleep = copy_of("/bin/sleep", dir.path());
        let mut child = spawn(Command::new(&sleep).arg("30"));
        assert_eq!(running_instances(&sleep), [child.id()]);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&sleep, &link).unwrap();
        assert_eq!(running_instances(&link), [child.id()], "found through a symlink");
        std::fs::remove_file(&sleep).unwrap();
        assert_eq!(running_instances(&sleep), [child.id()], "found after its file was deleted");

        let started = Instant::now();
        stop(&running_instances(&sleep), Duration::from_secs(10));
        assert!(started.elapsed() < Duration::from_secs(5), "SIGTERM was enough: no need to wait out the grace");
        assert_eq!(child.wait().unwrap().signal(), Some(Signal::SIGTERM as i32));
        assert!(running_instances(&sleep).is_empty());
    }

    #[test]
    fn a_process_that_ignores_sigterm_is_killed_after_the_grace() {
        let dir = tempfile::tempdir().unwrap();
        let sh = copy_of("/bin/sh", dir.path());
        // `read` waits on the pipe without using the CPU; the trap ignores SIGTERM.
        let mut child = spawn(Command::new(&sh).args(["-c", "trap '' TERM; read x"]).stdin(Stdio::piped()));
        // Until the trap is set, SIGTERM would still end it: wait for its bit in SigIgn.
        let ignores_term = |status: &str| {
            let mask = status.lines().find_map(|l| l.strip_prefix("SigIgn:"));
            mask.and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
                .is_some_and(|m| m & (1 << (Signal::SIGTERM as u32 - 1)) != 0)
        };
        let set = Instant::now();
        while !std::fs::read_to_string(format!("/proc/{}/status", child.id())).is_ok_and(|s| ignores_term(&s)) {
            assert!(set.elapsed() < Duration::from_secs(10), "the shell never set its trap");
            std::thread::sleep(Duration::from_millis(10));
        }
        let grace = Duration::from_millis(300);
        let started = Instant::now();
        stop(&running_instances(&sh), grace);
        assert!(started.elapsed() >= grace);
        assert_eq!(child.wait().unwrap().signal(), Some(Signal::SIGKILL as i32));
    }

    /// The escape of issue 17: a script whose last line starts a child in the
    /// background and exits. The child has forked but may not have exec'd yet
    /// (it still runs `/bin/sh`), so only its environment gives it away. Twenty
    /// times in twenty.
    #[test]
    fn a_background_child_is_found_by_its_environment_before_it_execs() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..20 {
            let marker = format!("{}/round-{round}", dir.path().display());
            // The child sleeps before its exec, as a busy machine can delay it.
            let status = Command::new("sh")
                .args(["-c", "(sleep 0.3; exec sleep 30) &"])
                .env("PGO_BUILD_TEST_RUN", &marker)
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            // The forked subshell, and the `sleep 0.3` it may have started since.
            let stopped = stop_until_gone(|| with_env("PGO_BUILD_TEST_RUN", &marker), Duration::from_secs(5), 5);
            assert!(!stopped.is_empty(), "round {round}: the forked child escaped");
            assert!(with_env("PGO_BUILD_TEST_RUN", &marker).is_empty(), "round {round}: it was stopped");
        }
        assert!(with_env("PGO_BUILD_TEST_RUN", "no such value").is_empty());
    }

    #[test]
    fn nothing_runs_a_missing_file() {
        assert!(running_instances(Path::new("/nonexistent/pgo-build-test")).is_empty());
        stop(&[], Duration::from_secs(1));
    }
}
