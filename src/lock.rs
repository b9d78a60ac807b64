//! One pgo-build at a time per project: stages share the state record, the
//! profiles and the output directory, so a second run waits for the first
//! instead of interleaving with it.
//!
//! The lock is an advisory `flock` on `<target>/pgo-build/lock`, released by the
//! kernel when the process ends however it ends, so a crashed run never leaves
//! a stale lock behind. The file holds the holder's pid and command line, for
//! the message the waiting run prints.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::printer::Printer;
use crate::process::check_interrupted;

/// Held for as long as it lives.
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
}

/// Takes the project's lock, waiting (and saying so) while another pgo-build
/// holds it. Ctrl-C while waiting stops the wait.
pub fn acquire(root: &Path, printer: &Printer) -> Result<ProjectLock> {
    std::fs::create_dir_all(root).with_context(|| format!("could not create {}", root.display()))?;
    let path = root.join("lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("could not open the lock file {}", path.display()))?;
    let start = Instant::now();
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                if !told {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    printer.status(
                        "waiting",
                        format!(
                            "another pgo-build is working on this project ({}); waiting for it to finish",
                            if holder.trim().is_empty() {
                                "pid unknown".to_string()
                            } else {
                                holder.trim().to_string()
                            }
                        ),
                    );
                    told = true;
                }
                check_interrupted()?;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("could not lock {}", path.display()));
            }
        }
    }
    if told {
        printer
            .status("waiting", format!("the other run finished; went on after {:.1} s", start.elapsed().as_secs_f64()));
    }
    let me: Vec<String> = std::env::args().collect();
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "pid {}: {}", std::process::id(), me.join(" "))?;
    file.flush()?;
    Ok(ProjectLock { _file: file })
}

/// Who holds the project's lock, when another pgo-build does (`status` says so
/// rather than call stages "current" that a run is rebuilding). Never waits.
pub fn holder(root: &Path) -> Option<String> {
    let path = root.join("lock");
    let mut file = OpenOptions::new().read(true).write(true).open(&path).ok()?;
    match file.try_lock() {
        // Free: the lock goes with the file, closed here.
        Ok(()) => None,
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            Some(if text.trim().is_empty() { "pid unknown".to_string() } else { text.trim().to_string() })
        }
        Err(TryLockError::Error(_)) => None,
    }
}
