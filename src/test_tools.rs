//! For unit tests that run a tool beyond Rust (Chromium, valgrind): installs what
//! the tests need once per test binary, through `.ci/install-test-deps`, before
//! the first such test uses it. So `cargo test` works on a fresh machine, and a
//! missing tool fails the test (it is never skipped).

use std::sync::Once;

static INSTALLED: Once = Once::new();

/// Runs `.ci/install-test-deps` once (it installs only what is missing, and one
/// run at a time across processes).
pub fn ensure_installed() {
    INSTALLED.call_once(|| {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/install-test-deps");
        let status = std::process::Command::new("bash").arg(&script).status().expect("bash runs");
        assert!(status.success(), "{} failed: the tests need what it installs", script.display());
    });
}
