//! The hash cache never hands back the hash of content a file no longer has:
//! rewrites that keep size and mtime, files changed while being hashed, files
//! gone, and caches damaged or unwritable.

use std::fs::{self, File};
use std::time::Duration;

use super::*;

const LATER: Duration = Duration::from_secs(3600);

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
}

#[test]
fn a_settled_file_is_read_once_then_taken_from_its_entry() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    write(&a, "one");
    let cache = HashCache::in_memory();
    assert_eq!(cache.digest(&a), Some(sha(b"one")));
    assert_eq!(cache.hashed(), 1);
    cache.as_if_hashed_later(LATER);
    assert_eq!(cache.digest(&a), Some(sha(b"one")));
    assert_eq!(cache.digest(&a), Some(sha(b"one")));
    assert_eq!(cache.hashed(), 1, "unchanged and settled: not read again");
}

#[test]
fn a_rewrite_of_the_same_size_with_its_mtime_restored_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    write(&a, "one");
    let cache = HashCache::in_memory();
    cache.digest(&a);
    cache.as_if_hashed_later(LATER);
    let mtime = fs::metadata(&a).unwrap().modified().unwrap();
    let inode = fs::metadata(&a).unwrap().ino();
    // In place, so the inode stays; the mtime set back, so only ctime moves.
    write(&a, "two");
    File::options().write(true).open(&a).unwrap().set_modified(mtime).unwrap();
    let meta = fs::metadata(&a).unwrap();
    assert_eq!((meta.len(), meta.modified().unwrap(), meta.ino()), (3, mtime, inode), "same size, mtime, inode");
    assert_eq!(cache.digest(&a), Some(sha(b"two")));
}

#[test]
fn a_file_replaced_by_a_rename_is_another_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    write(&a, "one");
    let cache = HashCache::in_memory();
    cache.digest(&a);
    cache.as_if_hashed_later(LATER);
    let mtime = fs::metadata(&a).unwrap().modified().unwrap();
    let b = dir.path().join("b");
    write(&b, "two");
    File::options().write(true).open(&b).unwrap().set_modified(mtime).unwrap();
    fs::rename(&b, &a).unwrap();
    assert_eq!(cache.digest(&a), Some(sha(b"two")));
}

/// The racy case: metadata that matches the entry exactly, with content the
/// entry does not describe (a rewrite within one tick of the clock). Only the
/// rule that an entry must have been made well after the file's last change
/// keeps the wrong hash out.
#[test]
fn an_entry_made_within_the_margin_of_the_files_change_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    write(&a, "one");
    let cache = HashCache::in_memory();
    cache.digest(&a);
    let poison = |cache: &HashCache| {
        for e in cache.inner.borrow_mut().entries.iter_mut().flat_map(|m| m.values_mut()) {
            e.sha256 = hex(&sha(b"what the file held before"));
        }
    };
    poison(&cache);
    assert_eq!(cache.digest(&a), Some(sha(b"one")), "hashed just after it was written: hashed again");
    assert_eq!(cache.hashed(), 2);
    // The same entry made an hour later would be trusted: the stat matches.
    poison(&cache);
    cache.as_if_hashed_later(LATER);
    assert_eq!(cache.digest(&a), Some(sha(b"what the file held before")));
}

#[test]
fn an_entry_is_settled_only_when_made_the_margin_after_the_last_change() {
    let at = 1_700_000_000_000_000_000_i64;
    let entry = |mtime_ns: i64, ctime_ns: i64| Entry {
        stat: Stat { size: 1, mtime_ns, ctime_ns, dev: 1, ino: 1 },
        sha256: String::new(),
        hashed_at_ns: at,
    };
    let s = 1_000_000_000;
    assert!(entry(at - 4 * s, at - 4 * s).settled());
    // Timestamps in whole seconds: a change 1 s before the hash may be in its tick.
    assert!(!entry(at - s, at - 4 * s).settled());
    assert!(!entry(at - 4 * s, at - s).settled(), "ctime counts: the mtime can be set back");
    assert!(!entry(at + 10 * s, at + 10 * s).settled(), "a file from the future");
}

#[test]
fn a_file_gone_is_missing_whatever_its_entry() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    write(&a, "one");
    let cache = HashCache::in_memory();
    cache.digest(&a);
    cache.as_if_hashed_later(LATER);
    fs::remove_file(&a).unwrap();
    assert_eq!(cache.digest(&a), None);
}

#[test]
fn entries_are_kept_for_the_next_command_and_files_gone_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    write(&a, "one");
    write(&b, "two");
    let path = dir.path().join("hash-cache.json");
    let first = HashCache::new(path.clone(), true);
    first.digest(&a);
    first.digest(&b);
    first.as_if_hashed_later(LATER);
    fs::remove_file(&b).unwrap();
    first.flush();
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"a\"") || text.contains("/a\""), "{text}");
    assert!(!text.contains("/b\""), "a file gone leaves the cache: {text}");

    let next = HashCache::new(path, true);
    assert_eq!(next.digest(&a), Some(sha(b"one")));
    assert_eq!(next.hashed(), 0, "the next command reads no file");
}

#[test]
fn a_damaged_cache_is_ignored_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    write(&a, "one");
    let path = dir.path().join("hash-cache.json");
    for damaged in ["{\"version\": 1, \"entries\": {\"", "null", "{\"version\": 99, \"entries\": {}}", "\u{0}\u{1}"] {
        fs::write(&path, damaged).unwrap();
        let cache = HashCache::new(path.clone(), true);
        assert_eq!(cache.digest(&a), Some(sha(b"one")), "{damaged:?}");
        assert_eq!(cache.hashed(), 1);
        cache.flush();
        assert_eq!(load(&path).len(), 1, "rewritten whole after {damaged:?}");
    }
    // An entry whose hash is not a hash is not one.
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replace(&hex(&sha(b"one")), &"zz".repeat(32))).unwrap();
    let cache = HashCache::new(path.clone(), true);
    cache.as_if_hashed_later(LATER);
    assert_eq!(cache.digest(&a), Some(sha(b"one")));
}

#[test]
fn a_cache_that_cannot_be_read_or_written_only_costs_the_hashing() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    write(&a, "one");
    // A folder where the file should be: neither readable nor replaceable.
    let path = dir.path().join("hash-cache.json");
    fs::create_dir(&path).unwrap();
    fs::write(path.join("keep"), "").unwrap();
    let cache = HashCache::new(path.clone(), true);
    assert_eq!(cache.digest(&a), Some(sha(b"one")));
    cache.flush();
    assert!(path.is_dir());
}

#[test]
fn nothing_is_written_in_a_dry_run_or_without_a_pipeline_folder() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    write(&a, "one");
    let dry = dir.path().join("hash-cache.json");
    let cache = HashCache::new(dry.clone(), false);
    cache.digest(&a);
    cache.flush();
    assert!(!dry.exists());
    let nowhere = dir.path().join("target/pgo-build/hash-cache.json");
    let cache = HashCache::new(nowhere.clone(), true);
    cache.digest(&a);
    cache.flush();
    assert!(!nowhere.exists() && !dir.path().join("target").exists());
}

/// What a stage made is judged through the cache too: a binary rewritten in
/// place, with its size and mtime kept, is not intact.
#[test]
fn a_binary_rewritten_with_its_size_and_mtime_kept_is_not_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app");
    write(&path, "build 1");
    let binary = crate::cargo::Binary { name: "app".into(), path: path.clone() };
    let record = crate::state::BinaryRecord::of(&binary).unwrap();
    let cache = HashCache::in_memory();
    assert_eq!(crate::state::binaries_intact(&cache, std::slice::from_ref(&record)), Ok(()));
    cache.as_if_hashed_later(LATER);
    assert_eq!(crate::state::binaries_intact(&cache, std::slice::from_ref(&record)), Ok(()));
    assert_eq!(cache.hashed(), 1, "settled: not read again");
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();
    write(&path, "build 2");
    File::options().write(true).open(&path).unwrap().set_modified(mtime).unwrap();
    let why = crate::state::binaries_intact(&cache, std::slice::from_ref(&record)).unwrap_err();
    assert!(why.contains("missing or changed"), "{why}");
}
