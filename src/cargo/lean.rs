//! The lean instrumented build: the instrumented binary only has to count, and
//! its counters are placed before LTO, so the instrumented build skips LTO
//! (`-Clto=off` appended to the rustflags). Cargo's profile is left as it is, so
//! Cargo's `-C metadata` hash, and with it every symbol name the profile is
//! keyed by, stays the same as in the optimized build; a change to the profile
//! itself (`--config profile.X.lto=…`) or to the codegen units would rename the
//! functions, and is never made.
//!
//! Skipped, saying why: with `lean-instrument = false`; when the profile has no
//! LTO to skip (`lto = false` or `"off"`); when the user's rustflags set LTO
//! themselves (`-Clto`, `-Clinker-plugin-lto`), since theirs then decide.

use std::path::Path;

use super::cargo_config::{Lto, config_files};

/// The flag that makes the instrumented build lean.
pub const LEAN_FLAG: &str = "-Clto=off";

/// Whether the instrumented build is lean: `Ok(())`, or why not.
pub fn lean(enabled: bool, lto: &Lto, user_sets_lto: bool) -> Result<(), String> {
    if !enabled {
        return Err("lean-instrument = false".into());
    }
    if !matches!(lto, Lto::Fat | Lto::Thin) {
        return Err("the profile does not use LTO, so there is none to skip".into());
    }
    if user_sets_lto {
        return Err("your rustflags set LTO themselves".into());
    }
    Ok(())
}

/// Whether the user's rustflags (from the environment, `env_flags`, or a Cargo
/// config file of `project_dir`) set LTO: `-Clto…`, `-C lto…` or
/// `-Clinker-plugin-lto`.
pub fn user_sets_lto(project_dir: &Path, env_flags: Option<&str>) -> bool {
    let sets = |text: &str| {
        let t = text.replace(['"', '\'', ',', '\x1f'], " ").split_whitespace().collect::<Vec<_>>().join(" ");
        t.contains("-Clto") || t.contains("-C lto") || t.contains("linker-plugin-lto")
    };
    env_flags.is_some_and(sets)
        || config_files(project_dir)
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .any(|text| text.lines().any(|l| l.contains("rustflags") && sets(l)) || sets(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lean_only_where_there_is_lto_to_skip_and_the_user_left_it_to_cargo() {
        assert_eq!(lean(true, &Lto::Fat, false), Ok(()));
        assert_eq!(lean(true, &Lto::Thin, false), Ok(()));
        assert!(lean(true, &Lto::ThinLocal, false).unwrap_err().contains("does not use LTO"));
        assert!(lean(true, &Lto::Off, false).is_err());
        assert_eq!(lean(false, &Lto::Fat, false), Err("lean-instrument = false".into()));
        assert!(lean(true, &Lto::Fat, true).unwrap_err().contains("rustflags"));
    }

    #[test]
    fn the_users_lto_flags_are_found_in_the_environment_and_config_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!user_sets_lto(dir.path(), Some("-Ctarget-cpu=native")));
        assert!(user_sets_lto(dir.path(), Some("-Clinker-plugin-lto")));
        assert!(user_sets_lto(dir.path(), Some("-C\x1flto=thin")));
        std::fs::create_dir_all(dir.path().join(".cargo")).unwrap();
        std::fs::write(dir.path().join(".cargo/config.toml"), "[build]\nrustflags = [\"-C\", \"lto=fat\"]\n").unwrap();
        assert!(user_sets_lto(dir.path(), None));
    }
}
