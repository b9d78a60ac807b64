//! Content hashes of the files fingerprints watch, remembered between commands
//! by the files' metadata, as Cargo's fingerprints remember mtimes: a command
//! that finds nothing changed stats the sources and the raw profiles instead of
//! reading them (a merge can watch a gigabyte of raw profiles).
//!
//! An entry is `path → (size, mtime, ctime, device, inode, SHA-256, when it was
//! hashed)`, kept in `<target>/pgo-build/hash-cache.json`. A file's hash is taken
//! from its entry only when
//! - its metadata is all as recorded: ctime too, which no program can set back,
//!   so a rewrite that restores the mtime is still seen; the inode, so a file
//!   replaced by a rename is another file; and
//! - it had not changed for [`RACY_MARGIN`] when it was hashed. This is git's
//!   "racily clean" rule: a file rewritten, with the same size, within the same
//!   tick of the filesystem's clock as it was hashed would keep its timestamps.
//!   Such an entry is not trusted: the file is hashed again, and the new entry,
//!   made later, is. The margin covers timestamps in whole seconds (2 s on FAT)
//!   and the kernel's coarse clock running behind this process's.
//!
//! Like Cargo's and git's checks, it trusts the kernel to move a file's ctime
//! when its content changes. A file written through a shared memory map changes
//! its timestamps at the first write after each write-back, not at every write;
//! nothing writes a watched file that way once its stage has run (training stops
//! the processes that write raw profiles before its sets count).
//!
//! What goes into a fingerprint is the content's SHA-256 either way, so the
//! cache changes no fingerprint: with it, without it or with it damaged, a stage
//! is judged the same. A cache that cannot be read (damaged, another version,
//! not a file) is ignored; one that cannot be written is not written. It is
//! written only into a pipeline folder that exists, never in a dry run.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a file must have been unchanged when it was hashed for its entry
/// to be trusted (see the module documentation).
pub const RACY_MARGIN: Duration = Duration::from_secs(3);

/// The cache file's format; a file of another is ignored.
const VERSION: u32 = 1;

/// A file's metadata as far as it says whether the file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stat {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    dev: u64,
    ino: u64,
}

impl Stat {
    fn of(m: &Metadata) -> Stat {
        let ns = |secs: i64, nsec: i64| secs.saturating_mul(1_000_000_000).saturating_add(nsec);
        Stat {
            size: m.len(),
            mtime_ns: ns(m.mtime(), m.mtime_nsec()),
            ctime_ns: ns(m.ctime(), m.ctime_nsec()),
            dev: m.dev(),
            ino: m.ino(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    #[serde(flatten)]
    stat: Stat,
    sha256: String,
    /// When the hash was taken (before the file was looked at), in ns since the epoch.
    hashed_at_ns: i64,
}

impl Entry {
    /// Whether the file had not changed for [`RACY_MARGIN`] when it was hashed.
    fn settled(&self) -> bool {
        let changed = self.stat.mtime_ns.max(self.stat.ctime_ns);
        changed < self.hashed_at_ns.saturating_sub(RACY_MARGIN.as_nanos() as i64)
    }

    fn digest(&self) -> Option<[u8; 32]> {
        let bytes = self.sha256.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            out[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(out)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    entries: BTreeMap<String, Entry>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Read from the cache file on first use.
    entries: Option<BTreeMap<String, Entry>>,
    dirty: bool,
    /// Files read and hashed by this cache, for tests.
    hashed: usize,
}

/// The cache of one command (see the module documentation).
#[derive(Debug)]
pub struct HashCache {
    /// The cache file; `None` keeps the hashes in this process only.
    path: Option<PathBuf>,
    /// Whether `flush` writes the cache file (not in a dry run).
    write: bool,
    inner: RefCell<Inner>,
}

impl HashCache {
    /// The cache kept in `path`, written back by [`HashCache::flush`] when `write`.
    pub fn new(path: PathBuf, write: bool) -> HashCache {
        HashCache { path: Some(path), write, inner: RefCell::default() }
    }

    /// A cache of this process only.
    #[cfg(test)]
    pub fn in_memory() -> HashCache {
        HashCache { path: None, write: false, inner: RefCell::default() }
    }

    /// How many files this cache has read and hashed.
    #[cfg(test)]
    pub fn hashed(&self) -> usize {
        self.inner.borrow().hashed
    }

    /// The SHA-256 of the file at `path`, from its entry when the file is
    /// unchanged since it was hashed, else read now; `None` when the file cannot
    /// be read.
    pub fn digest(&self, path: &Path) -> Option<[u8; 32]> {
        // Taken before the file is looked at: a change after this moment gets
        // a later ctime than an entry taken now could record as settled.
        let hashed_at_ns = now_ns();
        let Ok(meta) = std::fs::metadata(path) else { return None };
        let stat = Stat::of(&meta);
        // A path that is not UTF-8 is not cached (its key could be another's).
        let key = path.to_str();
        if let Some(key) = key
            && let Some(entry) = self.entries(|e| e.get(key).cloned())
            && entry.stat == stat
            && entry.settled()
            && let Some(digest) = entry.digest()
        {
            return Some(digest);
        }
        let digest = hash_file(path).ok()?;
        let mut inner = self.inner.borrow_mut();
        inner.hashed += 1;
        if let Some(key) = key {
            let entry = Entry { stat, sha256: hex(&digest), hashed_at_ns };
            inner.entries.get_or_insert_with(BTreeMap::new).insert(key.to_string(), entry);
            inner.dirty = true;
        }
        Some(digest)
    }

    /// [`HashCache::digest`] as lowercase hex, as records keep it.
    pub fn sha256_hex(&self, path: &Path) -> Option<String> {
        self.digest(path).map(|d| hex(&d))
    }

    /// Writes the cache file when entries were added since it was read, leaving
    /// out files that are gone. A failure leaves the file as it was: the next
    /// command hashes again.
    pub fn flush(&self) {
        let Some(path) = self.path.as_deref().filter(|_| self.write) else { return };
        if !path.parent().is_some_and(Path::is_dir) {
            return;
        }
        let mut inner = self.inner.borrow_mut();
        if !inner.dirty {
            return;
        }
        let Some(entries) = inner.entries.as_mut() else { return };
        entries.retain(|p, _| Path::new(p).exists());
        let file = CacheFile { version: VERSION, entries: std::mem::take(entries) };
        let written =
            serde_json::to_vec(&file).ok().is_some_and(|bytes| crate::util::write_atomic(path, &bytes).is_ok());
        inner.entries = Some(file.entries);
        inner.dirty = !written;
    }

    fn entries<T>(&self, f: impl FnOnce(&BTreeMap<String, Entry>) -> T) -> T {
        let mut inner = self.inner.borrow_mut();
        let entries = inner.entries.get_or_insert_with(|| self.path.as_deref().map(load).unwrap_or_default());
        f(entries)
    }

    /// As if every entry had been made `later` than it was: lets a test trust
    /// a file it has just written.
    #[cfg(test)]
    pub(crate) fn as_if_hashed_later(&self, later: Duration) {
        self.entries(|_| ());
        for e in self.inner.borrow_mut().entries.iter_mut().flat_map(|m| m.values_mut()) {
            e.hashed_at_ns += later.as_nanos() as i64;
        }
    }
}

/// The entries of the cache file at `path`; none when it cannot be read.
fn load(path: &Path) -> BTreeMap<String, Entry> {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
        .filter(|f| f.version == VERSION)
        .map(|f| f.entries)
        .unwrap_or_default()
}

fn hash_file(path: &Path) -> io::Result<[u8; 32]> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher)?;
    Ok(hasher.finalize().into())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(test)]
#[path = "hashes_tests.rs"]
mod tests;
